"""The report files as a spreadsheet user opens them: typed cells, rounded and
exact scores, Dutch Excel CSV, and the synthetic-data notice in the file."""

from __future__ import annotations

import datetime

import pytest

from reports.models import Report
from scoring.models import MunicipalityScore
from tests.reports.test_reports import _in_process, _media, make, pdf_text, read_xlsx
from tests.test_exports import read_csv_bytes

pytestmark = pytest.mark.django_db
__all__ = ["_in_process", "_media"]  # autouse fixtures of the report tests

NOTICE = "Synthetic demo data: the statuses are invented, not real figures."


def test_full_xlsx_has_real_dates_and_the_notice(report_data):
    statuses, history = read_xlsx(make(Report.Kind.FULL_XLSX)).worksheets

    header = [c.value for c in statuses[1]]
    assert header[-1] == "Data"
    achieved = header.index("achieved_date") + 1
    dated = [
        row[achieved - 1]
        for row in statuses.iter_rows(min_row=2)
        if row[achieved - 1].value is not None
    ]
    assert dated
    assert all(isinstance(c.value, datetime.datetime) for c in dated)
    assert all(c.number_format == "yyyy-mm-dd" for c in dated)
    changed_at = [c.value for c in history[1]].index("changed_at")
    moments = [row[changed_at] for row in history.iter_rows(min_row=2)]
    assert all(isinstance(c.value, datetime.datetime) for c in moments)
    assert all(
        row[-1] == NOTICE for row in statuses.iter_rows(min_row=2, values_only=True)
    )


def test_full_csv_opens_in_dutch_excel_with_the_notice(report_data):
    report = make(Report.Kind.FULL_CSV)
    with report.file.open("rb") as handle:
        rows = read_csv_bytes(handle.read())

    assert rows[0][0] == "record_type" and rows[0][-1] == "data"
    assert all(row[-1] == NOTICE for row in rows[1:])


def test_compliance_workbook_has_the_score_as_shown_and_exact(report_data):
    MunicipalityScore.objects.filter(municipality__cbs_code="GM0344").update(
        score=92.25
    )
    sheet = read_xlsx(make(Report.Kind.COMPLIANCE))["Netherlands"]
    header = [c.value for c in sheet[1]]
    shown, exact = (
        header.index("Adoption score"),
        header.index("Adoption score (exact)"),
    )
    row = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == "GM0344")

    assert row[shown].value == 92.3  # half-up, not banker's 92.2
    assert row[shown].number_format == "0.0"
    assert row[exact].value == 92.25
    assert header[-1] == "Data" and row[-1].value == NOTICE


def test_reports_of_real_data_carry_no_notice(report_data, settings):
    settings.NUP_DEMO_NOTICE = False
    sheet = read_xlsx(make(Report.Kind.LAGGARDS)).worksheets[0]

    assert "Data" not in [c.value for c in sheet[1]]


def test_the_pdf_says_its_statuses_are_synthetic(report_data):
    text, _pages = pdf_text(
        make(
            Report.Kind.PROGRESS,
            reference_date="2014-12-31",
            comparison_date="2012-12-31",
        )
    )

    assert "synthetic demonstration data" in text


def test_compliance_workbook_carries_the_method_version(report_data):
    from scoring.method_version import METHOD_VERSION

    sheet = read_xlsx(make(Report.Kind.COMPLIANCE))["Netherlands"]
    header = [c.value for c in sheet[1]]
    column = header.index("Method version")
    values = {r[column].value for r in sheet.iter_rows(min_row=2)}
    assert values == {METHOD_VERSION}
