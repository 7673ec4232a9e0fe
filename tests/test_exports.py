"""CSV/XLSX exports: the filtered rows, a header, and formulas made harmless."""

from __future__ import annotations

import csv
import io

from django.urls import reverse

import openpyxl
import pytest

from nupportal.exports import escape_cell
from tests.factories import MunicipalityFactory
from tests.municipalities.portal_world import build_world


@pytest.mark.parametrize(
    ("value", "escaped"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+31 20", "'+31 20"),
        ("-1+1", "'-1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        # A tab or carriage return is also a cell break: escaped after it too.
        ("\t=1", "'\t'=1"),
        ("\r=1", "'\r'=1"),
        ("Utrecht", "Utrecht"),
        ("", ""),
        ("—", "—"),
        (-5, -5),
        (12.5, 12.5),
        (None, None),
    ],
)
def test_escape_cell(value, escaped):
    assert escape_cell(value) == escaped


def read_csv(response) -> list[list[str]]:
    content = (
        b"".join(response.streaming_content) if response.streaming else response.content
    )
    return read_csv_bytes(content)


def read_csv_bytes(content: bytes) -> list[list[str]]:
    """As Dutch Excel opens it: UTF-8 with BOM, ';' between fields (also sniffed)."""
    assert content.startswith(b"\xef\xbb\xbf")
    text = content.decode("utf-8-sig")
    dialect = csv.Sniffer().sniff(text[:4096])
    assert dialect.delimiter == ";"
    return list(csv.reader(io.StringIO(text, newline=""), dialect))


def read_xlsx(response) -> list[tuple]:
    content = (
        b"".join(response.streaming_content) if response.streaming else response.content
    )
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    return list(workbook.active.iter_rows(values_only=True))


@pytest.fixture
def world(db):
    return build_world(20)


def test_csv_export_contains_exactly_the_filtered_rows(client, world):
    response = client.get(
        "/en/gemeenten/",
        {"province": "gelderland", "size_class": "s", "_export": "csv"},
    )

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = read_csv(response)
    # The columns of the view: the default ones (tests/municipalities/test_column_choice.py).
    assert rows[0][:2] == ["Municipality", "Province"]
    # Gelderland (even) and 10,000–20,000 (i % 5 == 1) among 0 … 19: 6 and 16.
    assert [row[0] for row in rows[1:]] == ["Plaats 006", "Plaats 016"]


def test_export_ignores_pagination(client, world):
    rows = read_csv(
        client.get("/gemeenten/", {"per_page": 25, "page": 2, "_export": "csv"})
    )

    assert len(rows) == 1 + 20


def test_export_of_invalid_filters_is_empty_with_header(client, world):
    rows = read_csv(client.get("/gemeenten/", {"size_class": "zz", "_export": "csv"}))

    assert len(rows) == 1


def test_xlsx_export_opens_in_openpyxl(client, world):
    response = client.get(
        "/en/gemeenten/",
        {"province": "utrecht", "kolommen": "name,population", "_export": "xlsx"},
    )

    assert response.status_code == 200
    rows = read_xlsx(response)
    assert rows[0][0] == "Municipality"
    assert len(rows) == 1 + 10
    population = rows[0].index("Population")
    assert isinstance(rows[1][population], int)  # numbers stay numbers


def test_formulas_are_escaped_in_csv_and_xlsx(client, world):
    MunicipalityFactory(name='=HYPERLINK("http://evil.example","klik")', slug="evil")

    csv_rows = read_csv(client.get("/gemeenten/", {"q": "HYPERLINK", "_export": "csv"}))
    xlsx_rows = read_xlsx(
        client.get("/gemeenten/", {"q": "HYPERLINK", "_export": "xlsx"})
    )

    assert csv_rows[1][0] == '\'=HYPERLINK("http://evil.example","klik")'
    assert xlsx_rows[1][0] == '\'=HYPERLINK("http://evil.example","klik")'


@pytest.mark.parametrize("name", ["buildingblocks:list", "agreements:list"])
@pytest.mark.parametrize("export_format", ["csv", "xlsx"])
def test_block_and_agreement_exports(client, world, name, export_format):
    response = client.get(reverse(name), {"_export": export_format})

    assert response.status_code == 200
    rows = read_csv(response) if export_format == "csv" else read_xlsx(response)
    expected = 3 if name == "buildingblocks:list" else 2
    assert len(rows) == 1 + expected


def test_agreement_export_lists_required_blocks_as_text(client, world):
    rows = read_csv(client.get("/en/resultaatafspraken/", {"_export": "csv"}))

    header = rows[0]
    first = dict(zip(header, rows[1], strict=True))
    assert first["Required building blocks"] == "DigiD"
    assert first["Municipalities that meet it"] == "25"  # as shown: "25 %"
    assert first["Municipalities that meet it (exact)"] == "25,0"
