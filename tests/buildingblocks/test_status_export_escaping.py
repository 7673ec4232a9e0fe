"""The streamed status export escapes every text column a spreadsheet would evaluate.

buildingblocks.streaming escapes in SQL, column by column, so each text column
needs its own check: a column left out of the escaping is a formula injection.
Cells are compared after parsing the CSV (any delimiter, BOM or not), on both
the Python writer (SQLite) and PostgreSQL's COPY.
"""

from __future__ import annotations

from django.urls import reverse

import pytest

from buildingblocks.levels import Level
from tests.csv_cells import csv_rows, response_bytes
from tests.factories import AdoptionStatusFactory, MunicipalityFactory

HOSTILE = [
    '=HYPERLINK("http://evil.example")',
    "+31 20 000",
    "-2+3",
    "@SUM(A1)",
]


@pytest.fixture
def hostile_statuses(db):
    municipality = MunicipalityFactory(name="Veilig")
    return [
        AdoptionStatusFactory(
            municipality=municipality,
            level=Level.IN_USE,
            note=f"noot {index}",
            evidence_url=value,
        )
        for index, value in enumerate(HOSTILE)
    ]


def test_evidence_urls_that_look_like_formulas_are_escaped(
    client, vdp_user, hostile_statuses
):
    client.force_login(vdp_user)
    response = client.get(reverse("buildingblocks:status-export"))
    assert response.status_code == 200

    rows = csv_rows(response_bytes(response))
    body = rows[1:]
    assert len(body) == len(HOSTILE)
    cells = {cell for row in body for cell in row}
    assert {"'" + value for value in HOSTILE} <= cells
    assert not set(HOSTILE) & cells  # no hostile value left as it was
    # Each status's escaped evidence is on that status's own row.
    for index, value in enumerate(HOSTILE):
        (row,) = [row for row in body if f"noot {index}" in row]
        assert "'" + value in row
