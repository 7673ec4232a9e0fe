"""Bulk import: reading files, the rules per row, dry run, apply, and the upload page."""

from __future__ import annotations

import datetime
import io
import zipfile

from django.urls import reverse
from django.utils import translation

import openpyxl
import pytest

from buildingblocks.import_service import (
    ImportAlreadyApplied,
    ImportHasErrors,
    apply_import,
    dry_run_with_versions,
)
from buildingblocks.imports import (
    COLUMNS,
    ImportFileError,
    MunicipalityRef,
    parse_date,
    plan_import,
    read_table,
    template_csv,
)
from buildingblocks.levels import Level
from buildingblocks.models import AdoptionStatus, ImportBatch, StatusChange
from buildingblocks.validation import StatusValues
from tests.factories import (
    AdoptionStatusFactory,
    BuildingBlockFactory,
    MunicipalityFactory,
)

TODAY = datetime.date(2026, 6, 1)


@pytest.fixture(autouse=True)
def _english():
    """Messages are asserted on in English (the Dutch catalogue may change)."""
    with translation.override("en"):
        yield


HEADER = ",".join(COLUMNS)
LIMITS = {"max_bytes": 5 * 1024 * 1024, "max_rows": 20_000}


def csv_bytes(*lines: str, header: str = HEADER, delimiter: str = ",") -> bytes:
    text = "\n".join([header.replace(",", delimiter), *lines]) + "\n"
    return text.encode()


def xlsx_bytes(rows: list[list[object]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(list(COLUMNS))
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- pure: dates, reading, rules --------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-01", datetime.date(2024, 3, 1)),
        ("01-03-2024", datetime.date(2024, 3, 1)),
        ("1-3-2024", datetime.date(2024, 3, 1)),
        ("01/03/2024", datetime.date(2024, 3, 1)),
        ("2024-03-01 00:00:00", datetime.date(2024, 3, 1)),
        ("", None),
    ],
)
def test_dates_in_iso_and_dutch_order_are_accepted(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["2024-02-30", "03/2024", "yesterday", "2024-13-01"])
def test_bad_dates_are_refused(text):
    with pytest.raises(ValueError):
        parse_date(text)


def test_csv_with_bom_and_semicolons_is_read():
    data = "\ufeff".encode() + csv_bytes(
        "GM0363;digid;in_use;;2012-03-01;Klaar;", delimiter=";"
    )
    rows = read_table(data, "updates.csv", **LIMITS)
    assert rows == [
        (
            2,
            {
                "cbs_code": "GM0363",
                "building_block": "digid",
                "level": "in_use",
                "planned_date": "",
                "achieved_date": "2012-03-01",
                "note": "Klaar",
                "evidence_url": "",
            },
        )
    ]


def test_columns_may_come_in_any_order_and_blank_lines_are_skipped():
    header = ",".join(reversed(COLUMNS))
    data = csv_bytes("", ",,,,in_use,digid,GM0363", "", header=header)
    rows = read_table(data, "x.csv", **LIMITS)
    assert [(n, r["cbs_code"], r["level"]) for n, r in rows] == [
        (3, "GM0363", "in_use")
    ]


def test_wrong_header_names_the_expected_columns():
    data = csv_bytes("GM0363,digid", header="gemeente,bouwsteen")
    with pytest.raises(ImportFileError) as excinfo:
        read_table(data, "x.csv", **LIMITS)
    assert "cbs_code, building_block, level" in str(excinfo.value)


def test_oversized_file_is_refused_before_parsing():
    with pytest.raises(ImportFileError, match="limit"):
        read_table(b"x" * 101, "x.csv", max_bytes=100, max_rows=10)


def test_too_many_rows_is_refused():
    data = csv_bytes(*["GM0363,digid,in_use,,,,"] * 11)
    with pytest.raises(ImportFileError, match="10"):
        read_table(data, "x.csv", max_bytes=10_000, max_rows=10)


@pytest.mark.parametrize("filename", ["statuses.txt", "statuses.xls", "statuses"])
def test_other_file_types_are_refused(filename):
    with pytest.raises(ImportFileError):
        read_table(csv_bytes(), filename, **LIMITS)


def test_text_file_renamed_to_xlsx_is_refused():
    with pytest.raises(ImportFileError, match="Excel"):
        read_table(csv_bytes("GM0363,digid,in_use,,,,"), "fake.xlsx", **LIMITS)


def test_zip_that_is_not_a_workbook_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hi")
    with pytest.raises(ImportFileError, match="Excel"):
        read_table(buffer.getvalue(), "fake.xlsx", **LIMITS)


def test_xlsx_as_csv_is_refused():
    with pytest.raises(ImportFileError):
        read_table(xlsx_bytes([]), "sneaky.csv", **LIMITS)


def test_zip_bomb_is_refused_before_inflating():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        # 60 MB of zeros compresses to about 60 KB.
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (60 * 1024 * 1024))
    data = buffer.getvalue()
    assert len(data) < 200_000
    with pytest.raises(ImportFileError, match="unpacks"):
        read_table(data, "bomb.xlsx", **LIMITS)


def test_xlsx_is_read_with_dates_and_numbers():
    data = xlsx_bytes(
        [["GM0363", "digid", "in_use", None, datetime.datetime(2012, 3, 1), None, None]]
    )
    rows = read_table(data, "x.xlsx", **LIMITS)
    assert rows[0][0] == 2
    assert rows[0][1]["achieved_date"] == "2012-03-01"
    assert rows[0][1]["planned_date"] == ""


def raw(**values: str) -> dict[str, str]:
    row = dict.fromkeys(COLUMNS, "")
    row.update(cbs_code="GM0001", building_block="digid", level="in_use")
    row.update(values)
    return row


LOOKUPS = {
    "municipalities": {
        "GM0001": MunicipalityRef("GM0001", True),
        "GM0002": MunicipalityRef("GM0002", False),
    },
    "blocks": {"digid": True, "old": False},
}


def plan(*rows: dict[str, str], current=None):
    return plan_import(
        list(enumerate(rows, start=2)), current=current or {}, today=TODAY, **LOOKUPS
    )


@pytest.mark.parametrize(
    ("values", "column"),
    [
        ({"cbs_code": "GM9999"}, "cbs_code"),
        ({"cbs_code": "GM0002"}, "cbs_code"),
        ({"cbs_code": ""}, "cbs_code"),
        ({"building_block": "nope"}, "building_block"),
        ({"building_block": "old"}, "building_block"),
        ({"level": "done"}, "level"),
        ({"level": "#leeg"}, "level"),
        ({"level": "in_use", "achieved_date": "31-31-2020"}, "achieved_date"),
        ({"level": "preparing", "planned_date": "soon"}, "planned_date"),
        ({"level": "preparing"}, "planned_date"),
        (
            {
                "level": "preparing",
                "achieved_date": "2020-01-01",
                "planned_date": "2027-01-01",
            },
            "achieved_date",
        ),
        ({"level": "in_use", "achieved_date": "2027-01-01"}, "achieved_date"),
        ({"level": "not_applicable"}, "note"),
        ({"evidence_url": "javascript:alert(1)"}, "evidence_url"),
    ],
)
def test_each_kind_of_row_error_names_row_and_column(values, column):
    result = plan(raw(**values))
    assert [(e.row, e.column) for e in result.errors][:1] == [(2, column)]
    assert result.changes == []
    assert all(e.message for e in result.errors)


def test_duplicate_municipality_and_block_is_an_error_naming_the_first_row():
    result = plan(raw(), raw(cbs_code="gm1"))
    assert [(e.row, e.column) for e in result.errors] == [(3, "")]
    assert "2" in result.errors[0].message


def test_codes_and_level_names_are_normalised():
    result = plan(raw(cbs_code="1", building_block="DigiD", level="In gebruik"))
    assert result.ok
    assert (result.changes[0].cbs_code, result.changes[0].block_code) == (
        "GM0001",
        "digid",
    )
    assert result.changes[0].values.level == Level.IN_USE


def test_plan_lists_each_changed_field_from_and_to():
    current = {
        ("GM0001", "digid"): StatusValues(
            Level.PREPARING, planned_date=datetime.date(2026, 9, 1), note="bezig"
        )
    }
    result = plan(
        raw(level="implementing", planned_date="01-09-2026", note="bijna"),
        current=current,
    )
    assert [(c.field, c.old, c.new) for c in result.changes[0].changes] == [
        ("level", "preparing", "implementing"),
        ("note", "bezig", "bijna"),
    ]


def test_rows_equal_to_the_current_status_are_unchanged():
    current = {("GM0001", "digid"): StatusValues(Level.IN_USE)}
    result = plan(raw(), current=current)
    assert result.ok and result.changes == [] and result.unchanged == 1


def test_template_has_the_columns_and_valid_example_rows():
    rows = read_table(template_csv(TODAY).encode(), "t.csv", **LIMITS)
    assert len(rows) == 2


# --- database: dry run and apply ---------------------------------------------


def make_batch(rows, user=None) -> ImportBatch:
    return ImportBatch.objects.create(
        filename="t.csv",
        checksum="x",
        rows=[[n, r] for n, r in rows],
        row_count=len(rows),
        uploaded_by=user,
    )


@pytest.fixture
def grid(db):
    """40 municipalities × 25 blocks: room for a 1,000-row file."""
    municipalities = [
        MunicipalityFactory(cbs_code=f"GM{1000 + i:04d}") for i in range(40)
    ]
    blocks = [BuildingBlockFactory(code=f"b{i:02d}") for i in range(25)]
    return municipalities, blocks


def thousand_rows(municipalities, blocks, bad_row: int | None = None):
    rows = []
    number = 2
    for m in municipalities:
        for b in blocks:
            level = "not_a_level" if number == bad_row else "preparing"
            rows.append(
                (
                    number,
                    raw(
                        cbs_code=m.cbs_code,
                        building_block=b.code,
                        level=level,
                        planned_date="2026-12-31",
                    ),
                )
            )
            number += 1
    return rows


def test_a_file_with_one_bad_row_among_1000_applies_nothing_and_names_the_row(
    grid, king_user, recomputes
):
    rows = thousand_rows(*grid, bad_row=777)
    assert len(rows) == 1000
    batch = make_batch(rows, king_user)
    with pytest.raises(ImportHasErrors) as excinfo:
        apply_import(batch=batch, user=king_user, today=TODAY)
    assert [(e.row, e.column) for e in excinfo.value.plan.errors] == [(777, "level")]
    assert AdoptionStatus.objects.count() == 0
    assert StatusChange.objects.count() == 0
    batch.refresh_from_db()
    assert batch.applied_at is None
    assert recomputes == []


def test_a_clean_file_applies_exactly_its_changes_with_history(
    grid, king_user, recomputes, django_capture_on_commit_callbacks
):
    municipalities, blocks = grid
    kept = AdoptionStatusFactory(
        municipality=municipalities[0],
        block=blocks[0],
        level=Level.PREPARING,
        planned_date=datetime.date(2026, 12, 31),
    )
    changed = AdoptionStatusFactory(
        municipality=municipalities[0], block=blocks[1], level=Level.NOT_STARTED
    )
    untouched = AdoptionStatusFactory(
        municipality=municipalities[1], block=blocks[0], level=Level.IN_USE
    )
    rows = [
        (
            2,
            raw(
                cbs_code=municipalities[0].cbs_code,
                building_block=blocks[0].code,
                level="preparing",
                planned_date="31-12-2026",
            ),
        ),
        (
            3,
            raw(
                cbs_code=municipalities[0].cbs_code,
                building_block=blocks[1].code,
                level="implementing",
                planned_date="2026-10-01",
                note="Q4",
            ),
        ),
        (
            4,
            raw(
                cbs_code=municipalities[2].cbs_code,
                building_block=blocks[2].code,
                level="in_use",
                achieved_date="2026-05-01",
                evidence_url="https://example.nl/x",
            ),
        ),
    ]
    batch = make_batch(rows, king_user)
    plan, _versions = dry_run_with_versions(batch.rows, today=TODAY)
    assert len(plan.changes) == 2
    with django_capture_on_commit_callbacks(execute=True):
        result = apply_import(batch=batch, user=king_user, today=TODAY)
    assert (result.changed, result.unchanged) == (2, 1)
    assert recomputes == [None]

    kept.refresh_from_db()
    changed.refresh_from_db()
    untouched.refresh_from_db()
    assert kept.version == 1
    assert (changed.level, changed.planned_date, changed.note, changed.version) == (
        Level.IMPLEMENTING,
        datetime.date(2026, 10, 1),
        "Q4",
        2,
    )
    assert changed.updated_by == king_user
    assert untouched.level == Level.IN_USE
    new = AdoptionStatus.objects.get(municipality=municipalities[2], block=blocks[2])
    assert (new.level, new.achieved_date, new.evidence_url) == (
        Level.IN_USE,
        datetime.date(2026, 5, 1),
        "https://example.nl/x",
    )
    history = StatusChange.objects.order_by("id")
    assert [(h.block_id, h.from_level, h.to_level) for h in history] == [
        (blocks[1].id, Level.NOT_STARTED, Level.IMPLEMENTING),
        (blocks[2].id, "", Level.IN_USE),
    ]
    assert {h.source for h in history} == {StatusChange.Source.IMPORT}
    assert {h.batch_id for h in history} == {batch.batch_id}
    assert {h.changed_by for h in history} == {king_user}


def test_applying_the_same_file_twice_changes_nothing_the_second_time(
    grid, king_user, recomputes, django_capture_on_commit_callbacks
):
    rows = thousand_rows(*grid)[:50]
    with django_capture_on_commit_callbacks(execute=True):
        first = apply_import(batch=make_batch(rows), user=king_user, today=TODAY)
    versions = list(AdoptionStatus.objects.values_list("version", flat=True))
    with django_capture_on_commit_callbacks(execute=True):
        second = apply_import(batch=make_batch(rows), user=king_user, today=TODAY)
    assert (first.changed, second.changed, second.unchanged) == (50, 0, 50)
    assert StatusChange.objects.count() == 50
    assert list(AdoptionStatus.objects.values_list("version", flat=True)) == versions
    assert recomputes == [None]


def test_a_batch_cannot_be_applied_twice(grid, king_user, recomputes):
    batch = make_batch(thousand_rows(*grid)[:3])
    apply_import(batch=batch, user=king_user, today=TODAY)
    with pytest.raises(ImportAlreadyApplied):
        apply_import(batch=batch, user=king_user, today=TODAY)


def test_a_municipality_merged_after_upload_makes_apply_refuse(
    grid, king_user, recomputes
):
    municipalities, _ = grid
    batch = make_batch(thousand_rows(*grid)[:3])
    municipalities[0].active = False
    municipalities[0].save()
    with pytest.raises(ImportHasErrors):
        apply_import(batch=batch, user=king_user, today=TODAY)
    assert AdoptionStatus.objects.count() == 0


# --- the pages ---------------------------------------------------------------


def upload(client, name: str, data: bytes):
    return client.post(
        reverse("buildingblocks:import"), {"file": io.BytesIO(data) | _named(name)}
    )


def _named(name):
    class Named:
        def __ror__(self, other):
            other.name = name
            return other

    return Named()


def test_upload_dry_run_and_apply_from_the_browser(
    client, king_user, grid, recomputes, django_capture_on_commit_callbacks
):
    municipalities, blocks = grid
    client.force_login(king_user)
    data = "\ufeff".encode() + csv_bytes(
        f"{municipalities[0].cbs_code};{blocks[0].code};implementing;01-10-2026;;;",
        delimiter=";",
    )
    response = upload(client, "kwartaal.csv", data)
    batch = ImportBatch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "buildingblocks:import-preview", args=[batch.pk]
    )
    preview = client.get(response["Location"])
    assert preview.status_code == 200
    assert preview.context["plan"].ok
    assert len(preview.context["plan"].changes) == 1
    assert (
        reverse("buildingblocks:import-apply", args=[batch.pk]).encode()
        in preview.content
    )
    with django_capture_on_commit_callbacks(execute=True):
        applied = client.post(
            reverse("buildingblocks:import-apply", args=[batch.pk]),
            {"seen_versions": preview.context["seen_versions"]},
        )
    assert applied.status_code == 302
    assert AdoptionStatus.objects.get().level == Level.IMPLEMENTING
    assert recomputes == [None]


def test_preview_of_a_bad_file_lists_errors_and_offers_no_apply(
    client, king_user, grid
):
    municipalities, blocks = grid
    client.force_login(king_user)
    data = csv_bytes(
        f"{municipalities[0].cbs_code},{blocks[0].code},in_use,,,,",
        f"GM9876,{blocks[0].code},in_use,,,,",
    )
    response = client.get(upload(client, "x.csv", data)["Location"])
    assert [(e.row, e.column) for e in response.context["plan"].errors] == [
        (3, "cbs_code")
    ]
    assert b"GM9876" in response.content
    assert b"import-apply" not in response.content
    batch = ImportBatch.objects.get()
    assert (
        reverse("buildingblocks:import-apply", args=[batch.pk]).encode()
        not in response.content
    )
    # Posting anyway changes nothing.
    client.post(reverse("buildingblocks:import-apply", args=[batch.pk]))
    assert AdoptionStatus.objects.count() == 0


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("big.csv", b"a" * (5 * 1024 * 1024 + 1)),
        ("notes.txt", csv_bytes()),
        ("fake.xlsx", csv_bytes("GM0363,digid,in_use,,,,")),
        ("wrong.csv", csv_bytes(header="a,b,c")),
    ],
)
def test_bad_uploads_are_refused_with_a_message(client, king_user, name, data):
    client.force_login(king_user)
    response = upload(client, name, data)
    assert response.status_code == 400
    assert response.context["form"].errors["file"]
    assert ImportBatch.objects.count() == 0


def test_template_download(client, king_user):
    client.force_login(king_user)
    response = client.get(reverse("buildingblocks:import-template"))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    rows = read_table(response.content, "t.csv", **LIMITS)
    assert list(rows[0][1]) == list(COLUMNS)
