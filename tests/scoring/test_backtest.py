"""manage.py backtest_forecast (scoring.backtest) on a small known history."""

from __future__ import annotations

import datetime

from django.core.management import call_command

import pytest

from scoring.backtest import evaluate
from scoring.forecast import NINETY, CrossingKind, add_months, logistic
from scoring.models import Measure, Scope, Snapshot
from tests.factories import BuildingBlockFactory

pytestmark = pytest.mark.django_db
START = datetime.date(2011, 1, 1)
CUTOFF = datetime.date(2013, 1, 1)
OUTCOME = datetime.date(2015, 12, 1)


def s_curve(months, ceiling, rate, midpoint):
    return [
        (add_months(START, i), float(logistic(i, ceiling, rate, midpoint)))
        for i in range(months)
    ]


def test_a_known_curve_is_forecast_from_its_first_two_years():
    # Midpoint 2012-07, 90 % in 2014-01: both after the cut-off 2013-01.
    series = s_curve(72, 1.0, 0.2, 18)
    case = evaluate("digid", "", series, cutoff=CUTOFF, outcome=OUTCOME)
    assert case.at_cutoff == pytest.approx(dict(series)[CUTOFF])
    assert case.error == pytest.approx(0, abs=0.005)
    assert case.ninety_kind == CrossingKind.FORECAST
    assert abs(case.ninety_error_months) <= 1
    assert case.ninety_actual == next(m for m, v in series if v >= NINETY)


def test_a_series_without_history_before_the_cutoff_is_not_scored():
    late = [(add_months(CUTOFF, i + 1), 0.5) for i in range(40)]
    case = evaluate("bgt", "xs", late, cutoff=CUTOFF, outcome=OUTCOME)
    assert case.error is None
    assert case.projected is None


def test_command_writes_the_markdown_report(tmp_path):
    block = BuildingBlockFactory(code="digid", name="DigiD")
    flat = BuildingBlockFactory(code="bag", name="BAG")
    rows = []
    for scope, key, series in (
        (Scope.NATIONAL, "", s_curve(72, 1.0, 0.2, 18)),
        (Scope.SIZE_CLASS, "xs", s_curve(72, 0.8, 0.15, 22)),
    ):
        rows += [
            Snapshot(
                month=month,
                scope=scope,
                key=key,
                measure=Measure.IN_USE_SHARE,
                block=block,
                value=value,
                computed_at=datetime.datetime(2016, 1, 1, tzinfo=datetime.UTC),
            )
            for month, value in series
        ]
    rows += [
        Snapshot(
            month=add_months(START, i),
            scope=Scope.NATIONAL,
            key="",
            measure=Measure.IN_USE_SHARE,
            block=flat,
            value=1.0,
            computed_at=datetime.datetime(2016, 1, 1, tzinfo=datetime.UTC),
        )
        for i in range(72)
    ]
    Snapshot.objects.bulk_create(rows)
    output = tmp_path / "backtest.md"
    call_command("backtest_forecast", output=str(output), label="test data")
    text = output.read_text(encoding="utf-8")
    assert "**Computed on test data.**" in text
    assert "Cases (block × scope): 3; with a fitted curve: 2." in text
    assert "Mean absolute error of the share in 2015-12:" in text
    assert "| digid | Netherlands |" in text
    assert "| digid | < 10,000 |" in text
    # The flat block reached 90 % before the cut-off: no forecast, said so.
    assert "| bag | Netherlands | 100.0 % | no forecast (flat) |" in text
    assert "reached by 2013-01" in text
