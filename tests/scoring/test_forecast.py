"""scoring.forecast: the S-curve forecast and the "will miss the deadline" rule."""

from __future__ import annotations

import datetime

import numpy as np
import pytest

from scoring.forecast import (
    FULL,
    MIN_POINTS,
    NINETY,
    Crossing,
    CrossingKind,
    FitStatus,
    MissReason,
    add_months,
    after_deadline,
    crossing_time,
    forecast,
    logistic,
    miss_reason,
    months_between,
    remembered_forecast,
)
from scoring.models import ComplianceReason, ComplianceStatus

START = datetime.date(2011, 1, 1)


def curve(ceiling, rate, midpoint, months, *, noise=0.0, seed=1):
    """A monthly series from START of a known logistic, optionally with noise."""
    rng = np.random.default_rng(seed)
    return [
        (
            add_months(START, i),
            float(
                np.clip(
                    logistic(i, ceiling, rate, midpoint) + rng.normal(0, noise), 0, 1
                )
            ),
        )
        for i in range(months)
    ]


def true_month(ceiling, rate, midpoint, target):
    t = float(crossing_time(ceiling, rate, midpoint, target))
    return add_months(START, int(np.ceil(t)))


def month_gap(a: datetime.date, b: datetime.date) -> int:
    return abs(months_between(a, b))


@pytest.mark.parametrize(
    ("ceiling", "rate", "midpoint", "months"),
    [
        (1.0, 0.10, 60, 55),  # past the midpoint, below 90 %
        (0.98, 0.08, 70, 80),  # a ceiling just above 90 %
        (1.0, 0.05, 48, 60),  # slow
        (0.96, 0.15, 40, 45),  # fast
    ],
)
def test_known_curves_are_recovered(ceiling, rate, midpoint, months):
    result = forecast(curve(ceiling, rate, midpoint, months))
    assert result.status == FitStatus.FITTED
    assert result.ceiling == pytest.approx(ceiling, abs=0.01)
    assert abs(result.params[2] - midpoint) < 1
    ninety = result.crossing(NINETY)
    assert ninety.kind == CrossingKind.FORECAST
    assert month_gap(ninety.month, true_month(ceiling, rate, midpoint, NINETY)) <= 2
    assert ninety.low <= ninety.month <= ninety.high


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_noise_does_not_throw_the_forecast_off(seed):
    # Half a percentage point of noise per month: a couple of municipalities
    # moving back and forth around a smooth curve.
    result = forecast(curve(1.0, 0.08, 60, 66, noise=0.005, seed=seed))
    assert result.status == FitStatus.FITTED
    assert abs(result.params[2] - 60) <= 1
    ninety = result.crossing(NINETY)
    truth = true_month(1.0, 0.08, 60, NINETY)
    assert month_gap(ninety.month, truth) <= 3
    # The band brackets the central month, and the truth within a month.
    assert ninety.low <= ninety.month <= ninety.high
    assert add_months(ninety.low, -1) <= truth <= add_months(ninety.high, 1)


def test_band_widens_with_noise():
    quiet = forecast(curve(1.0, 0.08, 60, 50, noise=0.002)).crossing(NINETY)
    noisy = forecast(curve(1.0, 0.08, 60, 50, noise=0.02)).crossing(NINETY)
    assert months_between(quiet.low, quiet.high) < months_between(noisy.low, noisy.high)


def test_full_is_the_curve_passing_99_5_percent():
    result = forecast(curve(1.0, 0.1, 60, 60))
    full = result.crossing(FULL)
    assert full.kind == CrossingKind.FORECAST
    assert month_gap(full.month, true_month(1.0, 0.1, 60, 0.995)) <= 1
    assert full.month > result.crossing(NINETY).month


def test_reached_targets_show_the_real_month():
    series = curve(1.0, 0.1, 30, 120)
    result = forecast(series)
    ninety = result.crossing(NINETY)
    assert ninety.kind == CrossingKind.REACHED
    assert ninety.month == next(m for m, v in series if v >= 0.9)
    assert result.crossing(FULL).kind == CrossingKind.REACHED


def test_a_curve_levelling_off_below_the_target_is_not_in_sight():
    result = forecast(curve(0.85, 0.1, 50, 120, noise=0.003))
    assert result.ceiling == pytest.approx(0.85, abs=0.01)
    assert result.crossing(NINETY).kind == CrossingKind.NOT_IN_SIGHT
    assert result.crossing(FULL).kind == CrossingKind.NOT_IN_SIGHT


def test_flat_series_get_no_forecast():
    series = [(add_months(START, i), 0.4 + 0.001 * (i % 3)) for i in range(60)]
    result = forecast(series)
    assert result.status == FitStatus.FLAT
    assert not result.fitted
    assert result.crossing(NINETY).kind == CrossingKind.UNKNOWN
    assert result.projection(add_months(START, 80)) == []


def test_a_flat_series_at_100_percent_has_reached_both_targets():
    series = [(add_months(START, i), 1.0) for i in range(60)]
    result = forecast(series)
    assert result.status == FitStatus.FLAT
    assert result.crossing(NINETY) == Crossing(NINETY, CrossingKind.REACHED, START)
    assert result.crossing(FULL).kind == CrossingKind.REACHED


def test_too_short_and_empty_series_get_no_forecast():
    short = curve(1.0, 0.1, 10, MIN_POINTS - 1)
    assert forecast(short).status == FitStatus.TOO_SHORT
    assert forecast([]).status == FitStatus.TOO_SHORT
    # Months without a value do not count.
    gappy = [
        (m, v if i % 2 else None) for i, (m, v) in enumerate(curve(1, 0.1, 10, 20))
    ]
    assert forecast(gappy).status == FitStatus.TOO_SHORT


def test_a_share_that_dipped_below_a_reached_target_is_forecast_again():
    series = curve(0.95, 0.1, 20, 60)
    series[-1] = (series[-1][0], 0.89)
    ninety = forecast(series).crossing(NINETY)
    # Not "reached" (the latest month is below it), and not in the past.
    assert ninety.kind != CrossingKind.REACHED
    if ninety.month is not None:
        assert ninety.month > series[-1][0]


def test_projection_starts_at_the_last_month_and_carries_a_band():
    series = curve(1.0, 0.08, 60, 50, noise=0.005)
    result = forecast(series)
    points = result.projection(add_months(series[-1][0], 24))
    assert points[0].month == series[-1][0]
    assert len(points) == 25
    assert all(p.low <= p.value <= p.high for p in points)
    assert points[-1].value > points[0].value
    assert points[-1].high - points[-1].low > points[0].high - points[0].low


def test_the_forecast_is_deterministic_and_remembered():
    series = curve(1.0, 0.08, 60, 50, noise=0.01)
    assert forecast(series).crossing(NINETY) == forecast(series).crossing(NINETY)
    assert remembered_forecast(series) is remembered_forecast(list(series))


def test_crossing_after_deadline():
    deadline = datetime.date(2016, 1, 1)
    on_time = Crossing(NINETY, CrossingKind.FORECAST, datetime.date(2015, 12, 1))
    late = Crossing(NINETY, CrossingKind.FORECAST, datetime.date(2016, 1, 1))
    assert after_deadline(on_time, deadline) is False
    # January's value is the share at 31 January: after 1 January.
    assert after_deadline(late, deadline) is True
    assert after_deadline(late, datetime.date(2016, 1, 31)) is False
    assert after_deadline(Crossing(NINETY, CrossingKind.NOT_IN_SIGHT), deadline)
    assert after_deadline(Crossing(NINETY, CrossingKind.UNKNOWN), deadline) is None


# --- will miss the deadline -------------------------------------------------------

DEADLINE = datetime.date(2027, 1, 1)
TODAY = datetime.date(2026, 6, 1)
SLOW = Crossing(NINETY, CrossingKind.FORECAST, datetime.date(2028, 3, 1))
FAST = Crossing(NINETY, CrossingKind.FORECAST, datetime.date(2026, 9, 1))
NEVER = Crossing(NINETY, CrossingKind.NOT_IN_SIGHT)
UNKNOWN = Crossing(NINETY, CrossingKind.UNKNOWN)
AT_RISK, ON_TRACK = ComplianceStatus.AT_RISK, ComplianceStatus.ON_TRACK


def miss(status, reason="", peers=SLOW, on=TODAY):
    return miss_reason(status, reason, deadline=DEADLINE, on=on, peers=peers)


def test_a_plan_after_the_deadline_will_miss_it():
    assert miss(AT_RISK, ComplianceReason.PLANNED_LATE, FAST) == MissReason.PLANNED_LATE


def test_an_expired_plan_will_miss_it():
    assert miss(AT_RISK, ComplianceReason.PLAN_EXPIRED, FAST) == MissReason.PLAN_EXPIRED


@pytest.mark.parametrize(
    ("peers", "expected"),
    [(SLOW, MissReason.PACE), (NEVER, MissReason.PACE), (FAST, None), (UNKNOWN, None)],
)
def test_unplanned_follows_the_pace_of_its_size_class(peers, expected):
    assert miss(AT_RISK, ComplianceReason.UNPLANNED, peers) == expected
    assert miss(AT_RISK, ComplianceReason.UNPLANNED, None) is None


def test_on_track_by_its_own_plans_is_not_flagged_on_pace():
    assert miss(ON_TRACK, "", NEVER) is None


@pytest.mark.parametrize(
    "status",
    [ComplianceStatus.MET, ComplianceStatus.NOT_APPLICABLE, ComplianceStatus.OVERDUE],
)
def test_met_not_applicable_and_overdue_are_never_flagged(status):
    assert miss(status, ComplianceReason.PLANNED_LATE, NEVER) is None


def test_nothing_is_flagged_once_the_deadline_has_passed():
    late = DEADLINE + datetime.timedelta(days=1)
    assert miss(AT_RISK, ComplianceReason.PLANNED_LATE, NEVER, on=late) is None
    assert miss(AT_RISK, ComplianceReason.PLANNED_LATE, NEVER, on=DEADLINE)


def test_the_curve_never_levels_off_below_todays_share():
    # An S-curve to 50 %, then five years of slow creep to 60 %: least squares
    # alone would level off near 55 % and project a fall.
    series = curve(0.5, 0.15, 30, 96)
    series += [(add_months(START, 96 + i), 0.5 + 0.1 * i / 59) for i in range(60)]
    result = forecast(series)
    # At least the median of the last three months.
    assert result.ceiling >= 0.5 + 0.1 * 58 / 59 - 1e-6
    first = result.projection(add_months(series[-1][0], 12))[0]
    assert first.value >= 0.59
    assert result.crossing(NINETY).kind == CrossingKind.NOT_IN_SIGHT
