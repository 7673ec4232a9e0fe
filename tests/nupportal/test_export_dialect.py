"""Every export opens right in Dutch Excel, escapes formulas in every cell piece,
keeps numbers and dates typed, and says so when its statuses are synthetic."""

from __future__ import annotations

import datetime
import io

from django.db import connection

import openpyxl
import pytest

from buildingblocks.levels import Level
from buildingblocks.streaming import export_values, status_csv_rows
from nupportal.exports import csv_cell, escape_text
from tests.factories import AdoptionStatusFactory, MunicipalityFactory
from tests.municipalities.portal_world import build_world
from tests.test_exports import read_csv_bytes

HOSTILE_TEXTS = [
    "veilig;=2*3",
    "veilig,=2*3",
    "eerste regel\n=2*3",
    "eerste regel\r\n+31 20",
    "a; @SUM(A1)",
    "a;\t=1",
    "=1;=2",
    "-1",
    "\t=1",
    "gewoon; tekst, zonder - formule",
    "Fryslân; één",
]


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("veilig;=2*3", "veilig;'=2*3"),
        ("veilig,=2*3", "veilig,'=2*3"),
        ("eerste regel\n=2*3", "eerste regel\n'=2*3"),
        ("a;  -1", "a;  '-1"),
        ("=1;=2", "'=1;'=2"),
        ("gewoon; tekst", "gewoon; tekst"),
        ("Fryslân", "Fryslân"),
    ],
)
def test_a_formula_after_a_cell_break_is_escaped(text, escaped):
    assert escape_text(text) == escaped


def _body(pieces) -> bytes:
    return b"".join(p if isinstance(p, bytes) else p.encode() for p in pieces)


@pytest.fixture
def hostile_notes(db):
    municipality = MunicipalityFactory(name="Súdwest-Fryslân", cbs_code="GM1900")
    for text in HOSTILE_TEXTS:
        AdoptionStatusFactory(
            municipality=municipality, level=Level.NOT_APPLICABLE, note=text
        )
    return municipality


def test_streamed_csv_escapes_every_cell_piece_and_keeps_fryslan(hostile_notes):
    rows = read_csv_bytes(_body(status_csv_rows(include_notes=True)))

    header, body = rows[0], rows[1:]
    notes = [row[header.index("note")] for row in body]
    assert sorted(notes) == sorted(escape_text(t) for t in HOSTILE_TEXTS)
    assert {row[1] for row in body} == {"Súdwest-Fryslân"}
    # Split as Dutch Excel or a naive program would: no piece starts a formula.
    for note in notes:
        for line in note.replace("\r", "\n").split("\n"):
            for piece in line.replace(",", ";").split(";"):
                assert not piece.lstrip(" ").startswith(("=", "+", "-", "@"))


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQL-side escaping")
def test_sql_side_escaping_equals_the_python_rule(hostile_notes):
    notes = [row[7] for row in export_values(include_notes=True)]

    assert sorted(notes) == sorted(escape_text(t) for t in HOSTILE_TEXTS)


def test_every_field_is_quoted_so_a_semicolon_stays_inside_its_cell(hostile_notes):
    body = _body(status_csv_rows(include_notes=True)).decode("utf-8-sig")

    assert body.startswith('"cbs_code";"municipality";')
    assert '"veilig;\'=2*3"' in body


@pytest.fixture
def world(db):
    return build_world(6)


def _get(client, url: str, params: dict) -> bytes:
    response = client.get(url, params)
    assert response.status_code == 200
    return (
        b"".join(response.streaming_content) if response.streaming else response.content
    )


def test_table_csv_has_rounded_and_exact_scores_with_decimal_comma(client, world):
    rows = read_csv_bytes(_get(client, "/en/gemeenten/", {"_export": "csv"}))

    header = rows[0]
    score, exact = (
        header.index("Adoption score"),
        header.index("Adoption score (exact)"),
    )
    assert exact == score + 1
    scored = [row for row in rows[1:] if row[exact]]
    assert scored
    for row in scored:
        exact_value = float(row[exact].replace(",", "."))
        shown = f"{exact_value:.2f}"  # never more than 1 decimal in the rounded column
        assert len(row[score].split(",")[-1]) == 1, row[score]
        assert abs(float(row[score].replace(",", ".")) - exact_value) <= 0.05, shown


def test_table_xlsx_has_real_dates_and_numbers_with_formats(client, world):
    columns = "name,population,adoption_score,last_status_update"
    content = _get(client, "/en/gemeenten/", {"kolommen": columns, "_export": "xlsx"})
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    header = [c.value for c in sheet[1]]
    first = sheet[2]

    population = first[header.index("Population")]
    assert isinstance(population.value, int)
    assert population.number_format == "#,##0"
    score = first[header.index("Adoption score")]
    assert isinstance(score.value, float | int)
    assert score.number_format == "0.0"
    dates = [row[header.index("Last update")] for row in sheet.iter_rows(min_row=2)]
    dated = [cell for cell in dates if cell.value is not None]
    assert dated
    assert all(isinstance(cell.value, datetime.datetime) for cell in dated)
    assert all(cell.number_format == "yyyy-mm-dd" for cell in dated)


@pytest.mark.parametrize("export_format", ["csv", "xlsx"])
@pytest.mark.parametrize("url", ["/gemeenten/", "/bouwstenen/", "/resultaatafspraken/"])
def test_table_exports_say_the_statuses_are_synthetic(
    client, world, url, export_format
):
    content = _get(client, url, {"_export": export_format})

    if export_format == "csv":
        rows = read_csv_bytes(content)
    else:
        sheet = openpyxl.load_workbook(io.BytesIO(content)).active
        rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0][-1] == "Gegevens"
    assert rows[1][-1].startswith("Synthetische demodata")


def test_exports_of_real_data_carry_no_notice(client, world, settings):
    settings.NUP_DEMO_NOTICE = False
    rows = read_csv_bytes(_get(client, "/en/gemeenten/", {"_export": "csv"}))

    assert "Data" not in rows[0]


def test_streamed_status_csv_says_the_statuses_are_synthetic(
    client, vdp_user, hostile_notes
):
    client.force_login(vdp_user)
    rows = read_csv_bytes(_get(client, "/bouwstenen/statussen.csv", {}))

    assert rows[0][-1] == "data"
    assert all(row[-1].startswith("Synthetische demodata") for row in rows[1:])


def test_csv_cells_use_the_decimal_comma_and_iso_dates():
    assert csv_cell(92.5) == "92,5"
    assert csv_cell(92) == "92"
    assert csv_cell(datetime.date(2015, 1, 1)) == "2015-01-01"
    assert csv_cell(None) == ""
