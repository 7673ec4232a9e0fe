"""Hostile and random input everywhere a user can type (DESIGN §8, issue #10).

Property-based (hypothesis): filter parameters of every list page, the status
editor, the login form, the report request form and the import file's cells
and headers get very long strings, unicode (right-to-left marks, emoji), null
bytes, SQL and HTML/JS payloads, huge and negative numbers and impossible
dates. Whatever comes in, the answer is a page (200, with a message where the
input was wrong), a redirect or a 4xx — never a 5xx — and no payload is ever
rendered unescaped. Fixed cases cover the import's file-level traps (wrong
encodings, BOM, semicolons, a zip bomb, a renamed text file, empty, only a
header, too many rows, too large) and check that the limits are enforced
before any parsing.
"""

from __future__ import annotations

import io
import zipfile
from unittest import mock

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from buildingblocks.levels import Level
from buildingblocks.models import ImportBatch
from tests.buildingblocks.editing import form_data, prefix_of
from tests.security.conftest import Portal

# Markup that must never come back verbatim: each has a distinctive escaped form.
MARKUP = (
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "<svg/onload=alert(1)>",
    "'><iframe src=javascript:alert(1)>",
)
HOSTILE = (
    *MARKUP,
    "",
    " ",
    "x" * 5000,
    "' OR 1=1--",
    "1; DROP TABLE municipalities_municipality;--",
    '" OR ""="',
    "\x00",
    "gemeente\x00a",
    "%00",
    "\u202eevil\u202c",  # right-to-left override
    "עברית العربية",
    "🙂🏳️‍🌈👩🏽‍💻",
    "\ufeffbom",
    "\r\nSet-Cookie: pwned=1",
    "{{ 7|add:7 }}{% debug %}",
    "${7*7}",
    "../../etc/passwd",
    "-1",
    "0",
    "-99999999999999999999",
    "99999999999999999999999999",
    "9223372036854775808",
    "1e309",
    "NaN",
    "-inf",
    "2023-02-30",
    "9999-99-99",
    "9999-12-31",
    "0001-01-01",
    "0000-00-00",
    "30-02-2023",
    "GM0901",
    "gemeente-a",
    "digid",
    Level.IN_USE,
    "name",
    "-name",
    "score",
    "csv",
    "xlsx",
    "json",
    "all",
)

hostile = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=60),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.lists(st.sampled_from(HOSTILE), min_size=2, max_size=3).map("".join),
)

# One budget for the whole file (< 2 minutes on 2 cores, both databases).
FAST = settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SLOW = settings(FAST, max_examples=20)


def rev(name: str, **kwargs) -> str:
    with translation.override("nl"):
        return reverse(name, kwargs=kwargs or None)


def assert_safe(response, sent=()) -> None:
    """Never a 5xx; no markup payload verbatim in an HTML answer."""
    assert response.status_code < 500, response.status_code
    content_type = response.get("Content-Type", "")
    if "html" not in content_type or getattr(response, "streaming", False):
        return
    body = response.content.decode("utf-8", errors="replace")
    for payload in (*MARKUP, *(value for value in sent if _is_markup(value))):
        assert payload not in body, f"unescaped payload in the page: {payload!r}"
    assert "<script>alert(1)" not in body
    assert "<img src=x onerror" not in body


def _is_markup(value: str) -> bool:
    return "<" in value and ">" in value and len(value) > 6


def _values(params: dict) -> list[str]:
    return [value for value in params.values() if isinstance(value, str)]


# --- filters, sorting, pagination and export parameters of the list pages ---------

LIST_PARAMS = ["page", "per_page", "sort", "_export"]
PAGES = {
    "municipalities:list": (
        {},
        [
            "q",
            "province",
            "size_class",
            "score_min",
            "score_max",
            "block",
            "level",
            "agreement",
            "compliance",
            *LIST_PARAMS,
        ],
    ),
    "municipalities:matrix": ({}, ["province", "size_class", *LIST_PARAMS]),
    # The what-if: a level per block code, straight from the URL.
    "municipalities:whatif": ({"slug": "gemeente-a"}, ["digid", "eherkenning", "brp"]),
    "buildingblocks:detail": ({"code": "digid"}, ["level", "size_class", *LIST_PARAMS]),
    "agreements:detail": ({"number": 1}, LIST_PARAMS),
    "buildingblocks:list": ({}, ["sort", "_export"]),
    "agreements:list": ({}, ["sort", "_export"]),
    "scoring:overview": ({}, ["page", "q", "sort"]),
}
LOGGED_IN_PAGES = {
    "buildingblocks:history": (
        "vdp",
        {"slug": "gemeente-a"},
        ["q", "block", "source", "date_from", "date_to", *LIST_PARAMS],
    ),
    "buildingblocks:mine": ("editor_a", {}, ["gemeente", "page"]),
    "reports:list": ("king", {}, ["page", "sort", "per_page"]),
    "buildingblocks:import": ("king", {}, ["page"]),
}


def _query(names):
    return st.dictionaries(st.sampled_from(names), hostile, max_size=len(names))


@pytest.mark.parametrize("name", sorted(PAGES))
def test_public_pages_survive_any_query(portal, name):
    kwargs, names = PAGES[name]
    url = rev(name, **kwargs)
    client = portal.client("anonymous")

    @FAST
    @given(params=_query(names), english=st.booleans())
    def check(params, english):
        with translation.override("en" if english else "nl"):
            target = reverse(name, kwargs=kwargs or None)
        response = client.get(target if english else url, params)
        assert_safe(response, _values(params))

    check()


@pytest.mark.parametrize("name", sorted(LOGGED_IN_PAGES))
def test_logged_in_pages_survive_any_query(portal, name):
    role, kwargs, names = LOGGED_IN_PAGES[name]
    url = rev(name, **kwargs)
    client = portal.client(role)

    @FAST
    @given(params=_query(names))
    def check(params):
        assert_safe(client.get(url, params), _values(params))

    check()


def test_path_parameters_survive_anything(portal):
    client = portal.client("king")

    @FAST
    @given(value=st.one_of(st.sampled_from(HOSTILE), st.text(min_size=1, max_size=40)))
    def check(value):
        from urllib.parse import quote

        part = quote(value, safe="")
        for prefix in ("/gemeenten/", "/bouwstenen/", "/resultaatafspraken/"):
            assert_safe(client.get(f"{prefix}{part}/"), [value])
        assert_safe(client.get(f"/gemeenten/{part}/bewerken/"), [value])

    check()


# --- the status editor ------------------------------------------------------------

EDITOR_FIELDS = ("level", "planned_date", "achieved_date", "note", "evidence_url")


def test_the_status_editor_survives_any_value(portal):
    client = portal.client("editor_a")
    url = rev("buildingblocks:edit", slug="gemeente-a")
    pages = [
        rev("municipalities:detail", slug="gemeente-a"),
        rev("buildingblocks:history", slug="gemeente-a"),
        rev("buildingblocks:mine"),
        rev("buildingblocks:detail", code="digid"),
        rev("scoring:overview"),
    ]
    readers = {"vdp": portal.client("vdp"), "editor_a": client}

    @SLOW
    @given(
        code=st.sampled_from(["digid", "eherkenning", "brp"]),
        values=st.fixed_dictionaries(
            {},
            optional={name: hostile for name in EDITOR_FIELDS},
        ),
        level=st.sampled_from(Level.values),
        tamper=st.sampled_from(["", "version", "total", "initial", "block"]),
        junk=hostile,
    )
    def check(code, values, level, tamper, junk):
        data = form_data(client.get(url))
        prefix = prefix_of(data, code)
        data[f"{prefix}-level"] = level
        for name, value in values.items():
            data[f"{prefix}-{name}"] = value
        if tamper == "version":
            data[f"{prefix}-version"] = junk
        elif tamper == "total":
            data["form-TOTAL_FORMS"] = junk
        elif tamper == "initial":
            data[f"initial-{prefix}-level"] = junk
        elif tamper == "block":
            data[f"{prefix}-block"] = junk
        response = client.post(url, data)
        assert_safe(response, _values(values) + [junk])
        assert response.status_code in (200, 302, 400, 409), response.status_code
        # Whatever was stored renders safely everywhere it is shown.
        for page in pages:
            for reader in readers.values():
                assert_safe(reader.get(page), _values(values))

    check()


def test_a_stored_script_is_shown_escaped_to_readers_of_notes(portal):
    client = portal.client("editor_a")
    url = rev("buildingblocks:edit", slug="gemeente-a")
    data = form_data(client.get(url))
    prefix = prefix_of(data, "digid")
    data[f"{prefix}-level"] = Level.NOT_APPLICABLE
    data[f"{prefix}-note"] = MARKUP[0]
    assert client.post(url, data).status_code == 302
    for role in ("vdp", "editor_a", "king"):
        pages = [
            rev("municipalities:detail", slug="gemeente-a"),
            rev("buildingblocks:history", slug="gemeente-a"),
        ]
        if role != "vdp":
            pages.append(url)
        for page in pages:
            response = portal.client(role).get(page)
            assert response.status_code == 200
            assert_safe(response)
    response = portal.client("vdp").get(
        rev("buildingblocks:history", slug="gemeente-a")
    )
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.content.decode()


# --- login ----------------------------------------------------------------------------


def test_the_login_form_survives_any_value(portal):
    client = portal.client("anonymous")
    url = rev("login")

    @FAST
    @given(
        username=hostile,
        password=hostile,
        next_url=st.one_of(st.none(), hostile, st.just("https://evil.example/")),
        # REMOTE_ADDR comes from the server socket: always a valid address.
        address=st.sampled_from(["192.0.2.1", "2001:db8::1", ""]),
    )
    def check(username, password, next_url, address):
        data = {"username": username, "password": password}
        if next_url is not None:
            data["next"] = next_url
        response = client.post(url, data, REMOTE_ADDR=address or "192.0.2.9")
        assert_safe(response, [username, password, next_url or ""])
        assert response.status_code in (200, 400, 403, 429)
        assert "_auth_user_id" not in client.session

    check()


def test_login_never_redirects_off_site(portal):
    client = portal.client("anonymous")
    response = client.post(
        rev("login"),
        {"username": "cio-a", "password": "demo", "next": "https://evil.example/"},
    )
    assert response.status_code == 302
    assert not response["Location"].startswith(("http://", "https://", "//"))


# --- the report request form ------------------------------------------------------------


def test_the_report_request_form_survives_any_value(portal):
    client = portal.client("king")
    url = rev("reports:list")

    @FAST
    @given(
        data=st.fixed_dictionaries(
            {},
            optional={
                "kind": st.one_of(
                    st.sampled_from(["progress", "scorecard", "full_csv"]), hostile
                ),
                "reference_date": hostile,
                "comparison_date": hostile,
                "municipality": st.one_of(st.just(str(portal.a.pk)), hostile),
            },
        )
    )
    def check(data):
        response = client.post(url, data)
        assert_safe(response, _values(data))
        assert response.status_code in (302, 400)

    check()


def test_scorecard_request_and_report_ids_survive_anything(portal):
    client = portal.client("king")
    for value in ("0", "-1", "99999999999999999999", "9223372036854775808"):
        for name in ("reports:detail", "reports:status", "reports:download"):
            path = rev(name, pk=1).replace("/1/", f"/{value}/")
            assert_safe(client.get(path))


# --- the import: cells and headers -------------------------------------------------------

HEADER = [
    "cbs_code",
    "building_block",
    "level",
    "planned_date",
    "achieved_date",
    "note",
    "evidence_url",
]


def _csv(rows: list[list[str]], delimiter: str = ",") -> bytes:
    import csv

    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerows(rows)
    return out.getvalue().encode("utf-8", errors="surrogatepass")


def _xlsx(rows: list[list[object]]) -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _upload(client, content: bytes, name: str):
    upload = SimpleUploadedFile(name, content, content_type="application/octet-stream")
    return client.post(rev("buildingblocks:import"), {"file": upload})


def _follow_preview(client, response, sent) -> None:
    """After a successful upload, the dry run must render safely too."""
    assert_safe(response, sent)
    if response.status_code == 302:
        preview = client.get(response["Location"])
        assert preview.status_code == 200
        assert_safe(preview, sent)


cell = st.one_of(hostile, st.sampled_from(["GM0901", "digid", "in_use", "2014-01-01"]))
row = st.lists(cell, min_size=0, max_size=9)


def test_import_csv_cells_and_headers_survive_anything(portal):
    client = portal.client("king")

    @SLOW
    @given(
        rows=st.lists(row, min_size=1, max_size=6),
        header=st.one_of(
            st.just(HEADER),
            st.permutations(HEADER).map(list),
            st.lists(hostile, max_size=8),
            st.just([*HEADER, "<script>alert(1)</script>"]),
        ),
        delimiter=st.sampled_from([",", ";", "\t"]),
    )
    def check(rows, header, delimiter):
        content = _csv([header, *rows], delimiter)
        sent = [value for cells in [header, *rows] for value in cells]
        _follow_preview(client, _upload(client, content, "statuses.csv"), sent)

    check()


def _xlsx_safe(value: str) -> str:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE.sub("", value)


def test_import_xlsx_cells_survive_anything(portal):
    client = portal.client("king")

    @SLOW
    @given(
        rows=st.lists(
            st.lists(
                st.one_of(
                    cell.map(_xlsx_safe),
                    st.integers(min_value=-(10**15), max_value=10**15),
                    st.floats(allow_nan=True, allow_infinity=False),
                    st.dates(),
                ),
                max_size=8,
            ),
            min_size=1,
            max_size=5,
        )
    )
    def check(rows):
        content = _xlsx([HEADER, *rows])
        sent = [value for cells in rows for value in cells if isinstance(value, str)]
        _follow_preview(client, _upload(client, content, "statuses.xlsx"), sent)

    check()


# --- the import: whole files ------------------------------------------------------------

GOOD_ROW = ["GM0901", "digid", "in_use", "", "2014-01-01", "", ""]


def _zip_bomb() -> bytes:
    """A small zip that says it unpacks to far more than the limit."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (60 * 1024 * 1024))
    return out.getvalue()


def _nested_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("inner.zip", _zip_bomb())
    return out.getvalue()


FILES = {
    "latin-1": (
        "statuses.csv",
        _csv([HEADER, GOOD_ROW[:5] + ["Zoë é à", ""]]).decode().encode("latin-1"),
    ),
    "utf-16": ("statuses.csv", ",".join(HEADER).encode("utf-16")),
    "bom": ("statuses.csv", b"\xef\xbb\xbf" + _csv([HEADER, GOOD_ROW])),
    "semicolons": ("statuses.csv", _csv([HEADER, GOOD_ROW], ";")),
    "empty": ("statuses.csv", b""),
    "empty-xlsx": ("statuses.xlsx", b""),
    "only-header": ("statuses.csv", _csv([HEADER])),
    "only-header-xlsx": ("statuses.xlsx", _xlsx([HEADER])),
    "text-as-xlsx": ("statuses.xlsx", _csv([HEADER, GOOD_ROW])),
    "xlsx-as-csv": ("statuses.csv", _xlsx([HEADER, GOOD_ROW])),
    "zip-bomb": ("statuses.xlsx", _zip_bomb()),
    "nested-zip": ("statuses.xlsx", _nested_zip()),
    "not-a-workbook": ("statuses.xlsx", b"PK\x03\x04" + b"\x00" * 200),
    "null-bytes": ("statuses.csv", _csv([HEADER, GOOD_ROW]) + b"\x00\x00"),
    "late-null-byte": (
        "statuses.csv",
        _csv(
            [HEADER] + [GOOD_ROW] * 300 + [["GM0901", "brp", "x\x00y", "", "", "", ""]]
        ),
    ),
    "wrong-extension": ("statuses.exe", _csv([HEADER, GOOD_ROW])),
    "no-extension": ("statuses", _csv([HEADER, GOOD_ROW])),
    "html": ("statuses.csv", b"<html><script>alert(1)</script></html>"),
    "unterminated-quote": (
        "statuses.csv",
        _csv([HEADER]) + b'"GM0901,digid,in_use\r\n',
    ),
    "cr-only": ("statuses.csv", _csv([HEADER, GOOD_ROW]).replace(b"\r\n", b"\r")),
    "huge-field": (
        "statuses.csv",
        _csv([HEADER, GOOD_ROW[:5] + ["n" * 200_000, ""]]),
    ),
}


@pytest.mark.parametrize("case", sorted(FILES))
def test_import_files_that_are_not_what_they_say(portal, case):
    client = portal.client("king")
    name, content = FILES[case]
    response = _upload(client, content, name)
    _follow_preview(client, response, [])
    assert response.status_code in (302, 400)
    if case in ("bom", "semicolons"):
        assert response.status_code == 302, case  # both are read as intended
        batch = ImportBatch.objects.latest("pk")
        assert batch.rows[0][1]["cbs_code"] == "GM0901"
    if case in ("zip-bomb", "nested-zip", "empty", "text-as-xlsx", "html"):
        assert response.status_code == 400, case


@pytest.mark.parametrize(
    "name",
    [
        "sta\x00tuses.csv",
        "<script>alert(1)</script>.csv",
        "../../../etc/passwd.csv",
        "\u202ecsv.exe",
        "🙂" * 300 + ".csv",
        "x" * 1000 + ".csv",
        ".csv",
    ],
)
def test_hostile_file_names(portal, name):
    client = portal.client("king")
    response = _upload(client, _csv([HEADER, GOOD_ROW]), name)
    _follow_preview(client, response, [name])
    import_page = client.get(rev("buildingblocks:import"))
    assert_safe(import_page, [name])


def test_an_oversized_upload_is_refused_before_it_is_parsed(portal, settings):
    settings.NUP_UPLOAD_MAX_BYTES = 10_000
    client = portal.client("king")
    content = _csv([HEADER] + [GOOD_ROW] * 1000)
    assert len(content) > 10_000
    with (
        mock.patch("buildingblocks.views.read_table") as read_table,
        mock.patch("buildingblocks.imports._read_csv") as read_csv,
        mock.patch("openpyxl.load_workbook") as load_workbook,
    ):
        response = _upload(client, content, "statuses.csv")
        xlsx = _upload(client, content, "statuses.xlsx")
    assert response.status_code == 400 and xlsx.status_code == 400
    read_table.assert_not_called()
    read_csv.assert_not_called()
    load_workbook.assert_not_called()
    assert not ImportBatch.objects.exclude(pk=portal.batch.pk).exists()


def test_too_many_rows_are_refused_before_the_csv_is_parsed(portal, settings):
    assert settings.NUP_IMPORT_MAX_ROWS == 20_000
    client = portal.client("king")
    content = _csv([HEADER] + [GOOD_ROW] * 20_001)
    assert len(content) < settings.NUP_UPLOAD_MAX_BYTES
    with mock.patch("buildingblocks.imports.csv.reader") as reader:
        response = _upload(client, content, "statuses.csv")
    assert response.status_code == 400
    reader.assert_not_called()
    assert not ImportBatch.objects.exclude(pk=portal.batch.pk).exists()


def test_exactly_the_row_limit_is_accepted(portal, settings):
    settings.NUP_IMPORT_MAX_ROWS = 300
    client = portal.client("king")
    ok = _upload(client, _csv([HEADER] + [GOOD_ROW] * 300), "statuses.csv")
    too_many = _upload(client, _csv([HEADER] + [GOOD_ROW] * 301), "statuses.csv")
    assert ok.status_code == 302
    assert too_many.status_code == 400


def test_a_zip_bomb_is_refused_before_the_workbook_is_opened(portal):
    client = portal.client("king")
    with mock.patch("openpyxl.load_workbook") as load_workbook:
        response = _upload(client, _zip_bomb(), "statuses.xlsx")
    assert response.status_code == 400
    load_workbook.assert_not_called()


def test_an_upload_larger_than_the_request_limit_is_a_4xx(portal, settings):
    """Above DATA_UPLOAD_MAX_MEMORY_SIZE Django itself refuses the body."""
    settings.NUP_UPLOAD_MAX_BYTES = 1_000
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1_000
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2_000
    client = portal.client("king")
    response = _upload(client, b"x" * 50_000, "statuses.csv")
    assert 400 <= response.status_code < 500


def test_portal_fixture_is_intact(portal: Portal):
    """Guard: the fixture's import batch is the only one before the import tests."""
    assert ImportBatch.objects.count() == 1
