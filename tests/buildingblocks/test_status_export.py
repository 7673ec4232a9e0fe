import io

from django.urls import reverse

import pytest

from buildingblocks.levels import Level
from tests.factories import AdoptionStatusFactory, MunicipalityFactory, UserFactory
from tests.test_exports import read_csv_bytes


@pytest.fixture
def statuses(db):
    hostile = MunicipalityFactory(name='=HYPERLINK("http://x")')
    rows = [
        AdoptionStatusFactory(municipality=hostile, level=Level.IN_USE, note="@SUM(1)"),
        AdoptionStatusFactory(level=Level.NOT_APPLICABLE, note="Geen, want:\n klein"),
        AdoptionStatusFactory(level=Level.PREPARING),
    ]
    AdoptionStatusFactory(municipality=MunicipalityFactory(active=False))
    return rows


def _xlsx_text(content: bytes) -> bytes:
    """Every cell of an XLSX file as bytes, for looking for text in it."""
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(content), read_only=True)
    cells = (
        str(cell)
        for sheet in workbook.worksheets
        for row in sheet.iter_rows(values_only=True)
        for cell in row
        if cell is not None
    )
    return "\n".join(cells).encode()


def _download(client) -> list[list[str]]:
    response = client.get(reverse("buildingblocks:status-export"))
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Disposition"].startswith(
        'attachment; filename="nup-statussen-'
    )
    body = b"".join(
        piece if isinstance(piece, bytes) else piece.encode()
        for piece in response.streaming_content
    )
    return read_csv_bytes(body)


def test_anonymous_users_are_sent_to_the_login(client, statuses):
    response = client.get(reverse("buildingblocks:status-export"))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_every_active_status_with_notes_and_escaped_formulas(
    client, vdp_user, statuses
):
    client.force_login(vdp_user)
    rows = _download(client)
    assert rows[0] == [
        "cbs_code", "municipality", "building_block", "level", "planned_date",
        "achieved_date", "updated_at", "note", "evidence_url", "data",
    ]  # fmt: skip
    assert len(rows) == 1 + 3  # the inactive municipality's status is left out
    by_note = {row[7]: row for row in rows[1:]}
    assert by_note["'@SUM(1)"][1] == '\'=HYPERLINK("http://x")'
    assert "Geen, want:\n klein" in by_note  # line breaks inside a note survive


@pytest.mark.parametrize("groups", [[], ["municipal_editor"]])
def test_roles_without_every_municipalitys_notes_get_403(client, statuses, groups):
    client.force_login(UserFactory(groups=groups))
    assert client.get(reverse("buildingblocks:status-export")).status_code == 403


def test_the_block_list_offers_the_export_only_to_vdp_and_king_staff(
    client, statuses, vdp_user, editor
):
    export = reverse("buildingblocks:status-export")
    assert export not in client.get(reverse("buildingblocks:list")).content.decode()
    client.force_login(editor)
    assert export not in client.get(reverse("buildingblocks:list")).content.decode()
    client.force_login(vdp_user)
    assert export in client.get(reverse("buildingblocks:list")).content.decode()


@pytest.mark.parametrize(
    "path",
    ["/gemeenten/", "/bouwstenen/", "/bouwstenen/{code}/"],
)
@pytest.mark.parametrize("export_format", ["csv", "xlsx"])
def test_public_table_exports_hold_no_notes_or_evidence(
    client, statuses, path, export_format
):
    """Anonymous users may download the public tables: figures only."""
    status = statuses[1]
    status.evidence_url = "https://intranet.example.nl/bewijs.pdf"
    status.save()
    url = path.format(code=status.block.code)
    response = client.get(url, {"_export": export_format})
    assert response.status_code == 200
    body = response.content
    if export_format == "xlsx":
        body = _xlsx_text(body)
    for secret in (b"Geen, want", b"intranet.example.nl", b"SUM(1)"):
        assert secret not in body
