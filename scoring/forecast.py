"""When will a share reach 90 % and 100 %? A logistic (S-curve) forecast.

Pure: a monthly series of shares (0…1) in, a `Forecast` out; no queries, no
settings, no clock. Used for the share of municipalities with a block in use
(block pages) and the share meeting an agreement (burn-up charts, the "will miss
the deadline" flag), nationally and per size class.

The model is the three-parameter logistic

    share(t) = ceiling / (1 + exp(−rate · (t − midpoint)))

with t in months, fitted by least squares (scipy.optimize.curve_fit, bounded
trust-region): adoption of a building block by municipalities is the textbook
S-curve, and the ceiling (at most 100 %, at least today's share) lets the curve
level off below 100 % where part of the municipalities never follows — a curve
forced to 100 % would promise a date that the history does not support. scipy because it is the
maintained standard for this fit; statsmodels has no nonlinear least squares.

Targets. "90 %" is the month the fitted curve first reaches 90 %. "100 %" is
asymptotic (a logistic never gets there), so it is defined as the month the
curve passes 99.5 % (`FULL`): for the 342 municipalities of the country, all but
one. A target the observed series has already reached is not forecast: the
first month it was reached is shown instead.

Uncertainty band. The fitted parameters' covariance matrix (from the Jacobian
at the optimum) describes how well the history pins the curve down; `SAMPLES`
parameter sets are drawn from that normal distribution (fixed seed, so a page
shows the same band on every visit), each gives a curve and crossing dates, and
the band is their 10th to 90th percentile (an 80 % band). Monthly residuals of a
cumulative series are correlated, so the covariance is widened by the AR(1)
factor (1 + ρ)/(1 − ρ) of their lag-1 autocorrelation ρ; the band still ignores
the error of the model itself, and the backtest (docs/forecast-backtest.md)
reports how often the outcome fell inside it.

No forecast for a series with fewer than `MIN_POINTS` months, for one whose
share moved less than `MIN_RISE` over its whole period (flat: nothing to fit a
curve to) or when the fit does not converge.
"""

from __future__ import annotations

import datetime
import enum
import functools
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import models
from django.utils.translation import gettext_lazy as _

import numpy as np
from scipy.optimize import OptimizeWarning, curve_fit

from scoring.models import ComplianceReason, ComplianceStatus

NINETY = 0.9
# "100 %": the fitted curve passes 99.5 % (a logistic only approaches 100 %).
FULL = 0.995
TARGETS = (NINETY, FULL)

MIN_POINTS = 12  # a year of months
MIN_RISE = 0.02  # two percentage points over the whole series
SAMPLES = 400
BAND_PERCENTILES = (10.0, 90.0)  # an 80 % band
# Crossings further out than this are "not in sight": a curve that creeps
# towards its ceiling can put a date centuries away.
HORIZON_MONTHS = 30 * 12
SEED = 20110101
MAX_AUTOCORRELATION = 0.95


class FitStatus(enum.StrEnum):
    FITTED = "fitted"
    TOO_SHORT = "too_short"
    FLAT = "flat"
    NO_FIT = "no_fit"


class CrossingKind(enum.StrEnum):
    REACHED = "reached"  # the history reached it: `month` is the real month
    FORECAST = "forecast"  # the curve reaches it in `month` (band low…high)
    NOT_IN_SIGHT = "not_in_sight"  # levels off below it, or beyond the horizon
    UNKNOWN = "unknown"  # no curve (see Forecast.status)


@dataclass(frozen=True)
class Crossing:
    """When a share reaches one target.

    For FORECAST `low`/`high` bound the 80 % band; `high` None means the later
    end of the band is not in sight.
    """

    target: float
    kind: CrossingKind
    month: datetime.date | None = None
    low: datetime.date | None = None
    high: datetime.date | None = None


@dataclass(frozen=True)
class ProjectedPoint:
    month: datetime.date
    value: float
    low: float
    high: float


@dataclass
class Forecast:
    """The fitted curve of one series, its crossings and its band."""

    status: FitStatus
    last_month: datetime.date | None
    last_value: float | None
    crossings: dict[float, Crossing] = field(default_factory=dict)
    origin: datetime.date | None = None
    # (ceiling, rate per month, midpoint in months since `origin`)
    params: tuple[float, float, float] | None = None
    # SAMPLES × 3 parameter sets for the band; None when the fit has no covariance.
    samples: np.ndarray | None = field(default=None, repr=False)

    @property
    def fitted(self) -> bool:
        return self.params is not None

    @property
    def ceiling(self) -> float | None:
        return None if self.params is None else self.params[0]

    def crossing(self, target: float) -> Crossing:
        return self.crossings.get(target, Crossing(target, CrossingKind.UNKNOWN))

    def value_at(self, month: datetime.date) -> ProjectedPoint | None:
        """The curve's value at the end of `month`, with its band; None without a fit."""
        if self.params is None or self.origin is None:
            return None
        t = float(months_between(self.origin, month))
        value = float(logistic(t, *self.params))
        if self.samples is None:
            return ProjectedPoint(month, value, value, value)
        values = logistic(t, *self.samples.T)
        low, high = np.percentile(values, BAND_PERCENTILES)
        return ProjectedPoint(month, value, float(low), float(high))

    def projection(self, until: datetime.date) -> list[ProjectedPoint]:
        """Monthly curve values (with band) from the last observed month to `until`."""
        if self.params is None or self.last_month is None:
            return []
        points = []
        month = self.last_month
        while month <= until:
            point = self.value_at(month)
            if point is not None:
                points.append(point)
            month = add_months(month, 1)
        return points


# --- months -----------------------------------------------------------------------


def add_months(month: datetime.date, n: int) -> datetime.date:
    index = month.year * 12 + month.month - 1 + n
    return datetime.date(index // 12, index % 12 + 1, 1)


def months_between(start: datetime.date, end: datetime.date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month


# --- the model --------------------------------------------------------------------


def logistic(t, ceiling, rate, midpoint):
    """The S-curve; works on floats and numpy arrays alike."""
    # Clipped exponent: far from the midpoint exp() would overflow to inf.
    z = np.clip(-rate * (t - midpoint), -500.0, 500.0)
    return ceiling / (1.0 + np.exp(z))


def crossing_time(ceiling, rate, midpoint, target: float):
    """t at which the curve reaches `target`; inf where it never does (array-safe)."""
    ceiling = np.asarray(ceiling, dtype=float)
    rate = np.asarray(rate, dtype=float)
    midpoint = np.asarray(midpoint, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = midpoint - np.log(ceiling / target - 1.0) / rate
    return np.where((ceiling > target) & (rate > 0), t, np.inf)


def _initial_guess(t: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    ceiling = min(1.0, max(float(y.max()) * 1.05, 0.05))
    half = ceiling / 2
    above = np.nonzero(y >= half)[0]
    midpoint = float(t[above[0]]) if above.size else float(t[-1]) + 12.0
    span = max(float(t[-1] - t[0]), 12.0)
    return ceiling, 8.0 / span, midpoint


def ceiling_floor(y: np.ndarray) -> float:
    """The lowest ceiling the curve may have: where the share stands now.

    The share of municipalities using a block hardly ever falls back, so a
    curve levelling off below today's level (which least squares picks when the
    last years crept up slowly) would project a decline. The median of the
    last three months, so one odd month does not set it.
    """
    # Below 1: the upper bound of the ceiling is 100 %, bounds must differ.
    return min(max(float(np.median(y[-3:])), 1e-3), 0.999)


def fit_curve(
    t: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray | None] | None:
    """(ceiling, rate, midpoint) and their covariance; None when the fit fails."""
    low = [ceiling_floor(y), 1e-4, -1200.0]
    high = [1.0, 3.0, 1200.0]
    guess = np.clip(_initial_guess(t, y), low, high)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", OptimizeWarning)
            params, covariance = curve_fit(
                logistic,
                t,
                y,
                p0=guess,
                bounds=(low, high),
                method="trf",
                maxfev=10_000,
            )
    except (RuntimeError, ValueError):
        return None
    if not np.all(np.isfinite(params)):
        return None
    if covariance is None or not np.all(np.isfinite(covariance)):
        return params, None
    return params, covariance


def _draw(
    params: np.ndarray, covariance: np.ndarray | None, *, floor: float
) -> np.ndarray | None:
    if covariance is None:
        return None
    rng = np.random.default_rng(SEED)
    try:
        draws = rng.multivariate_normal(params, covariance, SAMPLES, method="eigh")
    except (np.linalg.LinAlgError, ValueError):
        return None
    # The parameters' own bounds: a ceiling between what was observed (about)
    # and 100 %, a rising curve.
    draws[:, 0] = np.clip(draws[:, 0], floor, 1.0)
    draws[:, 1] = np.clip(draws[:, 1], 1e-4, None)
    return draws


def correlation_inflation(residuals: np.ndarray) -> float:
    """How much to widen the covariance for residuals that follow one another.

    A month's share is last month's plus a little, so residuals come in runs;
    least squares assumes independent ones and so understates the uncertainty.
    With lag-1 autocorrelation ρ the variance of a mean grows by (1 + ρ)/(1 − ρ)
    (an AR(1) process); ρ is capped at 0.95 (a factor of 39).
    """
    if residuals.size < 3 or float(np.std(residuals)) == 0.0:
        return 1.0
    rho = float(np.corrcoef(residuals[:-1], residuals[1:])[0, 1])
    if not math.isfinite(rho):
        return 1.0
    rho = min(max(rho, 0.0), MAX_AUTOCORRELATION)
    return (1.0 + rho) / (1.0 - rho)


def _draw_at_full(
    t: np.ndarray, y: np.ndarray, params: np.ndarray, inflation: float = 1.0
) -> np.ndarray | None:
    """Parameter draws for a curve whose ceiling is 100 %: (1, rate, midpoint)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", OptimizeWarning)
            rest, covariance = curve_fit(
                lambda t, rate, midpoint: logistic(t, 1.0, rate, midpoint),
                t,
                y,
                p0=params[1:],
                bounds=([1e-4, -1200.0], [3.0, 1200.0]),
                method="trf",
                maxfev=10_000,
            )
    except (RuntimeError, ValueError):
        return None
    if covariance is None or not np.all(np.isfinite(covariance)):
        return None
    draws = _draw(np.array([1.0, *rest]), _pad(covariance) * inflation, floor=1.0)
    return draws


def _pad(covariance: np.ndarray) -> np.ndarray:
    """A 2 × 2 (rate, midpoint) covariance as 3 × 3, the ceiling fixed."""
    full = np.zeros((3, 3))
    full[1:, 1:] = covariance
    return full


def _month_of(origin: datetime.date, t: float) -> datetime.date:
    """The first month whose end-of-month value is at or above the target."""
    return add_months(origin, math.ceil(t - 1e-9))


# --- the forecast -----------------------------------------------------------------


def forecast(
    series: Sequence[tuple[datetime.date, float | None]],
    targets: Sequence[float] = TARGETS,
) -> Forecast:
    """Fit the S-curve to a monthly series (month → share 0…1) and project `targets`.

    `series` holds (first day of the month, share at its end); months without a
    value are left out, gaps are allowed.
    """
    points = sorted((m, float(v)) for m, v in series if v is not None)
    if not points:
        return Forecast(FitStatus.TOO_SHORT, None, None)
    last_month, last_value = points[-1]
    crossings: dict[float, Crossing] = {}
    for target in targets:
        reached = next((m for m, v in points if v >= target - 1e-12), None)
        if reached is not None and last_value >= target - 1e-12:
            crossings[target] = Crossing(target, CrossingKind.REACHED, reached)
    result = Forecast(FitStatus.FITTED, last_month, last_value, crossings)
    values = [v for _m, v in points]
    if len(points) < MIN_POINTS:
        result.status = FitStatus.TOO_SHORT
    elif max(values) - min(values) < MIN_RISE:
        result.status = FitStatus.FLAT
    if result.status != FitStatus.FITTED:
        return result

    origin = points[0][0]
    t = np.array([months_between(origin, m) for m, _v in points], dtype=float)
    y = np.array(values)
    fitted = fit_curve(t, y)
    if fitted is None:
        result.status = FitStatus.NO_FIT
        return result
    params, covariance = fitted
    floor = ceiling_floor(y)
    inflation = correlation_inflation(y - logistic(t, *params))
    if params[0] >= 1.0 - 1e-6:
        # The ceiling sits on its bound (the curve has not bent yet): its
        # covariance is meaningless there, so the band comes from the curve with
        # the ceiling held at 100 % and only rate and midpoint uncertain.
        samples = _draw_at_full(t, y, params, inflation)
    else:
        samples = _draw(
            params,
            None if covariance is None else covariance * inflation,
            floor=floor,
        )
    result.origin = origin
    result.params = (float(params[0]), float(params[1]), float(params[2]))
    result.samples = samples
    t_last = float(t[-1])
    for target in targets:
        if target in crossings:
            continue
        crossings[target] = _crossing(result, target, t_last)
    return result


@functools.lru_cache(maxsize=512)
def _remembered(points: tuple[tuple[datetime.date, float | None], ...]) -> Forecast:
    return forecast(points)


def remembered_forecast(
    series: Sequence[tuple[datetime.date, float | None]],
) -> Forecast:
    """`forecast(series)` kept per process, keyed on the values themselves.

    Pages fit the same few series over and over between two monthly snapshots;
    a key made of the data can never be stale. Callers must not change it.
    """
    return _remembered(tuple(series))


def _crossing(result: Forecast, target: float, t_last: float) -> Crossing:
    assert result.params is not None and result.origin is not None
    horizon = t_last + HORIZON_MONTHS
    central = float(crossing_time(*result.params, target))
    if not math.isfinite(central) or central > horizon:
        return Crossing(target, CrossingKind.NOT_IN_SIGHT)
    # Not observed yet, so not before the month after the last one observed.
    central = max(central, t_last + 1)
    low = high = None
    if result.samples is not None:
        times = np.sort(crossing_time(*result.samples.T, target))
        # Percentiles by rank: samples that never get there count as +inf.
        lo_t, hi_t = (
            times[min(len(times) - 1, int(len(times) * q / 100))]
            for q in BAND_PERCENTILES
        )
        low = _month_of(result.origin, max(lo_t, t_last + 1))
        if math.isfinite(hi_t) and hi_t <= horizon:
            high = _month_of(result.origin, max(hi_t, central))
        low = min(low, _month_of(result.origin, central))
    month = _month_of(result.origin, central)
    return Crossing(target, CrossingKind.FORECAST, month, low or month, high)


def after_deadline(crossing: Crossing, deadline: datetime.date) -> bool | None:
    """Whether a crossing comes after `deadline`: True/False, None when unknown.

    Not in sight counts as after. A month's value is the share at its end, so a
    crossing is on time when the end of its month is not after the deadline.
    """
    if crossing.kind == CrossingKind.NOT_IN_SIGHT:
        return True
    if crossing.month is None:
        return None
    return add_months(crossing.month, 1) - datetime.timedelta(days=1) > deadline


# --- "will miss the deadline" ----------------------------------------------------


class MissReason(models.TextChoices):
    """Why a municipality is expected to miss an agreement's deadline."""

    PLANNED_LATE = "planned_late", _("plan after the deadline")
    PLAN_EXPIRED = "plan_expired", _("plan expired")
    PACE = "pace", _("pace of comparable municipalities")


def miss_reason(
    status: str,
    reason: str,
    *,
    deadline: datetime.date,
    on: datetime.date,
    peers: Crossing | None,
) -> MissReason | None:
    """Whether (and why) a municipality will miss an agreement it has not met yet.

    `status`/`reason` are its compliance outcome on `on` (scoring.rules);
    `peers` is when its size class is forecast to reach 90 % compliance.
    Only an agreement still ahead can be missed: met, not applicable and
    overdue (already missed) are never flagged. In order:

    - plan after the deadline: a missing block is planned after it;
    - plan expired: a planned date of a missing block has passed;
    - pace of comparable municipalities: a missing block is not planned, and its
      size class reaches 90 % compliance only after the deadline (or not in
      sight). A municipality whose every missing block is planned in time is on
      track by its own plans and not flagged on pace.
    """
    if status not in (ComplianceStatus.ON_TRACK, ComplianceStatus.AT_RISK):
        return None
    if on > deadline:
        return None
    if reason == ComplianceReason.PLANNED_LATE:
        return MissReason.PLANNED_LATE
    if reason == ComplianceReason.PLAN_EXPIRED:
        return MissReason.PLAN_EXPIRED
    if (
        status == ComplianceStatus.AT_RISK
        and reason == ComplianceReason.UNPLANNED
        and peers is not None
        and after_deadline(peers, deadline)
    ):
        return MissReason.PACE
    return None
