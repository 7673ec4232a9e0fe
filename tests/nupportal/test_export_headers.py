"""Table exports escape their header row too, not only the cells (nupportal.exports).

No table of the portal has a header a spreadsheet would evaluate today, so a
table made for the test carries one: a translated verbose_name is data too, and
a translator's `=`, `+`, `-` or `@` must not become a formula.
"""

from __future__ import annotations

import io

from django.test import RequestFactory

import django_tables2 as tables
import openpyxl
import pytest
from django_tables2 import SingleTableView

from nupportal.exports import SafeExportMixin
from tests.csv_cells import csv_rows, response_bytes

HOSTILE_HEADERS = {
    "formula": '=HYPERLINK("http://evil.example")',
    "plus": "+31 20 000",
    "minus": "-1+1",
    "at": "@SUM(A1)",
}


class HostileHeaderTable(tables.Table):
    formula = tables.Column(verbose_name=HOSTILE_HEADERS["formula"])
    plus = tables.Column(verbose_name=HOSTILE_HEADERS["plus"])
    minus = tables.Column(verbose_name=HOSTILE_HEADERS["minus"])
    at = tables.Column(verbose_name=HOSTILE_HEADERS["at"])
    plain = tables.Column(verbose_name="Gemeente")


class HostileHeaderView(SafeExportMixin, SingleTableView):
    table_class = HostileHeaderTable
    export_name = "kopjes"

    def get_queryset(self):
        return [
            {"formula": "a", "plus": "b", "minus": "c", "at": "d", "plain": "Utrecht"}
        ]


def export(export_format: str):
    request = RequestFactory().get("/", {"_export": export_format})
    response = HostileHeaderView.as_view()(request)
    assert response.status_code == 200
    return response_bytes(response)


@pytest.mark.parametrize("export_format", ["csv", "xlsx"])
def test_export_headers_that_look_like_formulas_are_escaped(export_format, settings):
    settings.NUP_DEMO_NOTICE = False  # its extra column is tested in test_exports
    if export_format == "csv":
        header, row = csv_rows(export("csv"))
    else:
        sheet = openpyxl.load_workbook(io.BytesIO(export("xlsx"))).active
        header, row = sheet.iter_rows(values_only=True)

    assert list(header) == [
        "'" + HOSTILE_HEADERS["formula"],
        "'" + HOSTILE_HEADERS["plus"],
        "'" + HOSTILE_HEADERS["minus"],
        "'" + HOSTILE_HEADERS["at"],
        "Gemeente",
    ]
    assert list(row) == ["a", "b", "c", "d", "Utrecht"]  # the cells under them
