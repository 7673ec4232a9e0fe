from django.urls import reverse

import pytest

from buildingblocks.levels import Level
from tests.factories import AdoptionStatusFactory, MunicipalityFactory
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
