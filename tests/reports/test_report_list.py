"""The report list as a KING user sees it."""

from __future__ import annotations

import re

import pytest

from reports.models import Report

pytestmark = pytest.mark.django_db


def test_report_parameters_show_dates_per_language(client, king_user):
    Report.objects.create(
        kind=Report.Kind.PROGRESS,
        parameters={"reference_date": "2026-11-29", "comparison_date": "2025-11-29"},
        requested_by=king_user,
    )
    client.force_login(king_user)

    english = client.get("/en/rapportages/").content.decode()
    dutch = client.get("/rapportages/").content.decode()

    def parameters(html: str) -> str:
        return re.search(r'<p class="report-parameters">(.*?)</p>', html).group(1)

    assert parameters(english) == (
        "Reference date 29 November 2026, compared with 29 November 2025"
    )
    assert "29 november 2026" in parameters(dutch)
    assert "29 november 2025" in parameters(dutch)
    assert "2026-11-29" not in parameters(dutch)
