"""Backtest of the forecast (scoring.forecast): fit on the past, compare with what came.

For every active building block, nationally and per size class, the S-curve is
fitted on the monthly share in use up to a cut-off month (2013-01) and its
projection for a later month (2015-12) and its projected 90 % month are
compared with what the snapshots show for them. Two naive forecasts are scored
alongside so the error has a yardstick: carrying the last share forward
("persistence"), and the straight line through the last twelve months.

`run_backtest` reads the snapshots in one query and returns plain values;
`render_markdown` writes them as docs/forecast-backtest.md
(`manage.py backtest_forecast`).
"""

from __future__ import annotations

import datetime
import math
from collections import defaultdict
from dataclasses import dataclass, field

from buildingblocks.models import BuildingBlock
from nupportal.formats import round_half_up
from scoring.forecast import (
    NINETY,
    CrossingKind,
    FitStatus,
    forecast,
    months_between,
)
from scoring.models import Measure, Scope, Snapshot

SCOPE_ORDER = ["", "xl", "l", "m", "s", "xs"]
SCOPE_LABELS = {
    "": "Netherlands",
    "xl": "≥ 100,000",
    "l": "50,000–100,000",
    "m": "20,000–50,000",
    "s": "10,000–20,000",
    "xs": "< 10,000",
}


@dataclass
class Case:
    """One block in one scope: what was forecast from the cut-off and what came."""

    block: str
    scope: str
    status: FitStatus
    at_cutoff: float | None
    actual: float | None
    projected: float | None = None
    low: float | None = None
    high: float | None = None
    persistence: float | None = None
    linear: float | None = None
    ninety_kind: CrossingKind = CrossingKind.UNKNOWN
    ninety_projected: datetime.date | None = None
    # The first month from the cut-off on whose share was at least 90 %.
    ninety_actual: datetime.date | None = None

    @property
    def error(self) -> float | None:
        if self.projected is None or self.actual is None:
            return None
        return self.projected - self.actual

    @property
    def inside_band(self) -> bool | None:
        if self.low is None or self.high is None or self.actual is None:
            return None
        return self.low <= self.actual <= self.high

    @property
    def ninety_error_months(self) -> int | None:
        if self.ninety_projected is None or self.ninety_actual is None:
            return None
        return months_between(self.ninety_actual, self.ninety_projected)


@dataclass
class Summary:
    cases: int = 0
    fitted: int = 0
    mae: float | None = None
    mae_national: float | None = None
    mae_classes: float | None = None
    persistence_mae: float | None = None
    linear_mae: float | None = None
    band_coverage: float | None = None
    band_cases: int = 0
    ninety_mae_months: float | None = None
    ninety_cases: int = 0
    # Forecast "not in sight" / a date, against reached or not by the last month.
    ninety_agreement: dict[str, int] = field(default_factory=dict)


def _mean(values: list[float]) -> float | None:
    return math.fsum(values) / len(values) if values else None


def _linear(points: list[tuple[datetime.date, float]], month: datetime.date) -> float:
    """The straight line through the last twelve months, clipped to 0…1."""
    recent = points[-12:]
    (m0, v0), (m1, v1) = recent[0], recent[-1]
    span = max(months_between(m0, m1), 1)
    slope = (v1 - v0) / span
    return min(1.0, max(0.0, v1 + slope * months_between(m1, month)))


def evaluate(
    block: str,
    scope: str,
    series: list[tuple[datetime.date, float]],
    *,
    cutoff: datetime.date,
    outcome: datetime.date,
) -> Case:
    """The backtest of one series (month → share, oldest first)."""
    history = [(m, v) for m, v in series if m <= cutoff]
    values = dict(series)
    case = Case(
        block=block,
        scope=scope,
        status=FitStatus.TOO_SHORT,
        at_cutoff=values.get(cutoff),
        actual=values.get(outcome),
    )
    case.ninety_actual = next(
        (m for m, v in series if m > cutoff and v >= NINETY - 1e-12), None
    )
    if not history:
        return case
    case.persistence = history[-1][1]
    case.linear = _linear(history, outcome)
    result = forecast(history)
    case.status = result.status
    point = result.value_at(outcome)
    if point is not None:
        case.projected, case.low, case.high = point.value, point.low, point.high
    ninety = result.crossing(NINETY)
    case.ninety_kind = ninety.kind
    if ninety.kind == CrossingKind.FORECAST:
        case.ninety_projected = ninety.month
    return case


def run_backtest(
    cutoff: datetime.date, outcome: datetime.date
) -> tuple[list[Case], datetime.date | None]:
    """Every active block × (country, size classes); and the last month with data."""
    codes = dict(BuildingBlock.objects.filter(active=True).values_list("id", "code"))
    series: dict[tuple[int, str], list[tuple[datetime.date, float]]] = defaultdict(list)
    last: datetime.date | None = None
    for block_id, scope, key, month, value in (
        Snapshot.objects.filter(
            measure=Measure.IN_USE_SHARE,
            scope__in=[Scope.NATIONAL, Scope.SIZE_CLASS],
            block_id__in=list(codes),
        )
        .order_by("block_id", "key", "month")
        .values_list("block_id", "scope", "key", "month", "value")
    ):
        if value is None:
            continue
        line = "" if scope == Scope.NATIONAL else key
        series[(block_id, line)].append((month, value))
        last = month if last is None else max(last, month)
    cases = [
        evaluate(codes[block_id], line, points, cutoff=cutoff, outcome=outcome)
        for (block_id, line), points in series.items()
    ]
    cases.sort(key=lambda c: (c.block, SCOPE_ORDER.index(c.scope)))
    return cases, last


def summarise(cases: list[Case], last: datetime.date | None) -> Summary:
    summary = Summary(cases=len(cases))
    scored = [c for c in cases if c.error is not None]
    summary.fitted = len(scored)
    summary.mae = _mean([abs(c.error) for c in scored])
    summary.mae_national = _mean([abs(c.error) for c in scored if c.scope == ""])
    summary.mae_classes = _mean([abs(c.error) for c in scored if c.scope != ""])
    # The naive forecasts on the same cases, so the comparison is fair.
    summary.persistence_mae = _mean(
        [abs(c.persistence - c.actual) for c in scored if c.persistence is not None]
    )
    summary.linear_mae = _mean(
        [abs(c.linear - c.actual) for c in scored if c.linear is not None]
    )
    banded = [c.inside_band for c in scored if c.inside_band is not None]
    summary.band_cases = len(banded)
    summary.band_coverage = sum(banded) / len(banded) if banded else None
    dated = [c.ninety_error_months for c in cases if c.ninety_error_months is not None]
    summary.ninety_cases = len(dated)
    summary.ninety_mae_months = _mean([abs(e) for e in dated])
    agreement: dict[str, int] = defaultdict(int)
    for c in cases:
        if c.ninety_kind not in (CrossingKind.FORECAST, CrossingKind.NOT_IN_SIGHT):
            continue
        said = "date" if c.ninety_kind == CrossingKind.FORECAST else "not in sight"
        came = "reached" if c.ninety_actual else "not reached"
        agreement[f"{said} / {came}"] += 1
    summary.ninety_agreement = dict(sorted(agreement.items()))
    return summary


# --- markdown -----------------------------------------------------------------------


def _pct(share: float | None, decimals: int = 1) -> str:
    if share is None:
        return "–"
    return f"{round_half_up(100 * share, decimals)} %"


def _pp(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{round_half_up(100 * value, 1)} pp"


def _month(month: datetime.date | None) -> str:
    return "–" if month is None else f"{month:%Y-%m}"


def _ninety_projected(case: Case, cutoff: datetime.date) -> str:
    if case.ninety_kind == CrossingKind.FORECAST:
        return _month(case.ninety_projected)
    if case.ninety_kind == CrossingKind.NOT_IN_SIGHT:
        return "not in sight"
    if case.ninety_kind == CrossingKind.REACHED:
        return f"reached by {cutoff:%Y-%m}"
    return f"no forecast ({case.status.value.replace('_', ' ')})"


def _ninety_actual(
    case: Case, cutoff: datetime.date, last: datetime.date | None
) -> str:
    if case.ninety_kind == CrossingKind.REACHED:
        return f"reached by {cutoff:%Y-%m}"
    if case.ninety_actual is None:
        return f"not reached by {_month(last)}"
    return _month(case.ninety_actual)


def render_markdown(
    cases: list[Case],
    summary: Summary,
    *,
    cutoff: datetime.date,
    outcome: datetime.date,
    last: datetime.date | None,
    label: str,
    generated: datetime.date,
) -> str:
    def num(value: float | None, decimals: int = 1) -> str:
        return "–" if value is None else str(round_half_up(value, decimals))

    lines = [
        "# Backtest of the adoption forecast",
        "",
        f"> **Computed on {label}.** These figures describe how the forecast method "
        "does on the invented demo history, not on real adoption by Dutch "
        "municipalities. Generated by `manage.py backtest_forecast` on "
        f"{generated:%Y-%m-%d}; re-run it to refresh this file.",
        "",
        "## Method",
        "",
        "For every active building block, nationally and for each size class, the "
        "forecast of `scoring/forecast.py` (a three-parameter logistic S-curve "
        "`ceiling / (1 + exp(−rate·(t − midpoint)))` fitted by least squares with "
        "`scipy.optimize.curve_fit`; the band is the 10th–90th percentile of "
        f"curves drawn from the parameters' covariance) is fitted on the monthly "
        f"share of municipalities with the block in use **up to {cutoff:%Y-%m}** "
        "(from the monthly snapshots). It is then compared with what the snapshots "
        f"show: the share **in {outcome:%Y-%m}**, and the first month the share "
        "reached **90 %**.",
        "",
        "Two naive forecasts are scored on the same cases as a yardstick: "
        f"*persistence* (the share of {cutoff:%Y-%m} carried forward) and a "
        "*straight line* through the last twelve months before the cut-off "
        "(clipped to 0–100 %).",
        "",
        "## Result",
        "",
        f"- Cases (block × scope): {summary.cases}; with a fitted curve: "
        f"{summary.fitted}.",
        f"- Mean absolute error of the share in {outcome:%Y-%m}: "
        f"**{num(summary.mae and 100 * summary.mae)} percentage points** "
        f"(persistence {num(summary.persistence_mae and 100 * summary.persistence_mae)}"
        f" pp, straight line {num(summary.linear_mae and 100 * summary.linear_mae)} "
        "pp).",
        f"- Of which nationally: {num(summary.mae_national and 100 * summary.mae_national)}"
        f" pp; per size class: {num(summary.mae_classes and 100 * summary.mae_classes)}"
        " pp (smaller groups, noisier shares).",
        f"- The outcome fell inside the 80 % band in "
        f"{_pct(summary.band_coverage, 0)} of {summary.band_cases} cases "
        "(a well-calibrated band would hold about 80 %).",
        f"- Mean absolute error of the projected 90 % month, where both a projected "
        f"and an actual month exist: **{num(summary.ninety_mae_months)} months** "
        f"over {summary.ninety_cases} cases.",
        "- 90 % forecast against outcome (forecast / outcome by "
        f"{_month(last)}): "
        + (", ".join(f"{k}: {v}" for k, v in summary.ninety_agreement.items()) or "–")
        + ".",
        "",
        "## Per block and scope",
        "",
        f"Share in use at the cut-off ({cutoff:%Y-%m}), projected for {outcome:%Y-%m} "
        "with its 80 % band, the actual share then and the error (projected − "
        "actual); the projected and actual 90 % months and the difference in "
        "months.",
        "",
        f"| Block | Scope | {cutoff:%Y-%m} | Projected {outcome:%Y-%m} (80 % band) "
        f"| Actual {outcome:%Y-%m} | Error | 90 % projected | 90 % actual "
        "| Error (months) |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for c in cases:
        projected = (
            f"{_pct(c.projected)} ({_pct(c.low)}–{_pct(c.high)})"
            if c.projected is not None
            else f"no forecast ({c.status.value.replace('_', ' ')})"
        )
        lines.append(
            f"| {c.block} | {SCOPE_LABELS.get(c.scope, c.scope)} | {_pct(c.at_cutoff)} "
            f"| {projected} | {_pct(c.actual)} | {_pp(c.error)} "
            f"| {_ninety_projected(c, cutoff)} | {_ninety_actual(c, cutoff, last)} "
            f"| {'–' if c.ninety_error_months is None else c.ninety_error_months} |"
        )
    lines += [
        "",
        "## Reading this honestly",
        "",
        "- Two years of history (2011-01 to 2013-01) is short. Where the curve had "
        "not bent yet, the ceiling is not identified: for a block still in its first "
        "few per cent the fit often levels off just above the share at the cut-off "
        "(the largest errors above, of −40 to −80 pp, and most of the “not in sight "
        "/ reached” cases); where growth was fast it may assume 100 %, which "
        "overstates blocks that level off lower. The pages fit the whole history, "
        "which pins the curve down far better than these two years.",
        "- The band comes from the fit's parameter covariance, widened for the "
        "residuals' lag-1 autocorrelation; it describes how well the history pins "
        "the curve down *if the S-curve is the right model*, not the error of the "
        "model itself, so it is too narrow where the curve is wrong. The coverage "
        "figure above measures by how much.",
        "- The demo history is itself drawn from logistic curves "
        "(`buildingblocks/demo.py`), which flatters an S-curve method; real adoption "
        "would have shocks (mandates, supplier migrations) that no curve foresees.",
        "",
    ]
    return "\n".join(lines)
