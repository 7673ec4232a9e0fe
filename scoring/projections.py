"""The forecasts the block, agreement and scorecard pages show (scoring.forecast).

Series come from the monthly snapshots the pages load anyway (see
scoring.dashboards.snapshot_trend), so the forecasts add no query to the block
and agreement pages; the scorecard's "will miss the deadline" flags add one
(`size_class_crossings`). Fits are remembered per process by the data they were
made from (scoring.forecast.remembered_forecast).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.utils.formats import date_format
from django.utils.translation import gettext as _

from municipalities.sizeclasses import SizeClass
from scoring import charts
from scoring.charts import Marker, Projection, Series, percent
from scoring.forecast import (
    FULL,
    NINETY,
    Crossing,
    CrossingKind,
    FitStatus,
    Forecast,
    MissReason,
    add_months,
    miss_reason,
    remembered_forecast,
)
from scoring.models import Measure, Scope, Snapshot

NATIONAL = ""
SIZE_CLASS_ORDER = [c.value for c in SizeClass]
# How far the dashed projection runs: until the curve passes 99.5 % (plus a
# little), at least two and at most ten years past the last month.
MIN_PROJECTION_MONTHS = 24
MAX_PROJECTION_MONTHS = 120


def lines(
    rows: Iterable[tuple[str, str, datetime.date, float | None]],
) -> dict[str, list[tuple[datetime.date, float | None]]]:
    """(scope, key, month, value) snapshot rows → {"" national / size class: series}."""
    by_line: dict[str, list[tuple[datetime.date, float | None]]] = defaultdict(list)
    for scope, key, month, value in rows:
        if scope == Scope.NATIONAL:
            by_line[NATIONAL].append((month, value))
        elif scope == Scope.SIZE_CLASS and key:
            by_line[key].append((month, value))
    return {line: sorted(points) for line, points in by_line.items()}


def forecasts_for(
    rows: Iterable[tuple[str, str, datetime.date, float | None]],
) -> dict[str, Forecast]:
    """The forecast of the national line and of each size class."""
    return {line: remembered_forecast(points) for line, points in lines(rows).items()}


# --- text -------------------------------------------------------------------------


def month_text(month: datetime.date | None) -> str:
    return "–" if month is None else date_format(month, "YEAR_MONTH_FORMAT")


def no_forecast_text(result: Forecast) -> str:
    """Why a series has no forecast."""
    if result.status == FitStatus.TOO_SHORT:
        return _("no forecast: less than a year of monthly figures")
    if result.status == FitStatus.FLAT:
        return _("no forecast: the share hardly changed")
    return _("no forecast: no S-curve fits the history")


def crossing_text(result: Forecast, crossing: Crossing) -> tuple[str, str]:
    """(when, its 80 % band) as text for one target."""
    if crossing.kind == CrossingKind.REACHED:
        return _("reached in %(month)s") % {"month": month_text(crossing.month)}, "–"
    if crossing.kind == CrossingKind.FORECAST:
        band = _("%(low)s to %(high)s") % {
            "low": month_text(crossing.low),
            "high": month_text(crossing.high) if crossing.high else _("not in sight"),
        }
        return month_text(crossing.month), band
    if crossing.kind == CrossingKind.NOT_IN_SIGHT:
        if result.ceiling is not None and result.ceiling < crossing.target:
            return (
                _("not in sight (the curve levels off below %(target)s)")
                % {
                    "target": percent(
                        100 * crossing.target, 1 if crossing.target == FULL else 0
                    )
                },
                "–",
            )
        return _("not in sight"), "–"
    return no_forecast_text(result), "–"


@dataclass
class ForecastRow:
    label: str
    now: str
    ninety: str
    ninety_band: str
    full: str
    full_band: str


def forecast_rows(
    forecasts: dict[str, Forecast], labels: dict[str, str]
) -> list[ForecastRow]:
    """One row per line (national first, then the size classes that have data)."""
    rows = []
    for line in [NATIONAL, *SIZE_CLASS_ORDER]:
        result = forecasts.get(line)
        if result is None or result.last_value is None:
            continue
        ninety = crossing_text(result, result.crossing(NINETY))
        full = crossing_text(result, result.crossing(FULL))
        rows.append(
            ForecastRow(
                label=labels[line],
                now=_("%(share)s in %(month)s")
                % {
                    "share": percent(100 * result.last_value),
                    "month": month_text(result.last_month),
                },
                ninety=ninety[0],
                ninety_band=ninety[1],
                full=full[0],
                full_band=full[1],
            )
        )
    return rows


# --- charts -----------------------------------------------------------------------


def projection_end(result: Forecast, *, at_least: datetime.date | None = None):
    """Where the dashed projection of a forecast stops."""
    assert result.last_month is not None
    end = add_months(result.last_month, MIN_PROJECTION_MONTHS)
    full = result.crossing(FULL)
    if full.kind == CrossingKind.FORECAST and full.month:
        end = max(end, add_months(full.month, 6))
    else:
        end = add_months(result.last_month, 60)
    if at_least is not None:
        end = max(end, add_months(at_least.replace(day=1), 12))
    return min(end, add_months(result.last_month, MAX_PROJECTION_MONTHS))


def projection_for(
    result: Forecast | None, *, at_least: datetime.date | None = None
) -> Projection | None:
    """The dashed continuation (in percent) of a fitted series; None when there is
    nothing to project (no fit, or both targets already reached)."""
    if result is None or not result.fitted:
        return None
    if all(result.crossing(t).kind == CrossingKind.REACHED for t in (NINETY, FULL)):
        return None
    points = result.projection(projection_end(result, at_least=at_least))
    return Projection(
        _("Forecast, Netherlands (80 % band)"),
        [(p.month, 100 * p.value, 100 * p.low, 100 * p.high) for p in points],
    )


def projection_summary(result: Forecast | None) -> str:
    """One sentence on the national forecast for a chart summary."""
    if result is None or result.last_value is None:
        return ""
    when, band = crossing_text(result, result.crossing(NINETY))
    if result.crossing(NINETY).kind == CrossingKind.FORECAST:
        return _(
            "The dashed line is the forecast: 90 %% nationally in %(when)s "
            "(80 %% band %(band)s)."
        ) % {"when": when, "band": band}
    return _("Nationally 90 %%: %(when)s.") % {"when": when}


def burnup_chart(
    agreement,
    revisions: Sequence,
    national: list[tuple[datetime.date, float | None]],
    result: Forecast | None,
) -> charts.Chart:
    """Compliance month by month against the deadline, its revisions and the
    forecast: the agreement page's burn-up chart."""
    deadlines = [
        agreement.original_deadline,
        *(r.new_deadline for r in revisions),
        agreement.deadline,
    ]
    markers = []
    for when in dict.fromkeys(deadlines):  # each date once, in order
        markers.append(
            Marker(
                when,
                date_format(when, "SHORT_DATE_FORMAT"),
                current=when == agreement.deadline,
            )
        )
    points = [(m, 100 * v) for m, v in national if v is not None]
    projection = projection_for(result, at_least=agreement.deadline)
    # The share at the deadline: the last month ending on or before it.
    deadline_month = add_months(
        agreement.deadline.replace(day=1),
        0 if (agreement.deadline + datetime.timedelta(days=1)).day == 1 else -1,
    )
    observed = dict(points).get(deadline_month)
    deadline = date_format(agreement.deadline, "DATE_FORMAT")
    forecast_at = (
        result.value_at(deadline_month)
        if observed is None and result is not None and result.fitted
        else None
    )
    if observed is not None:
        deadline_text = _(
            "At the deadline (%(deadline)s) %(share)s of the municipalities to which "
            "it applies met it."
        ) % {"deadline": deadline, "share": percent(observed)}
    elif forecast_at is not None and deadline_month > (
        result.last_month or deadline_month
    ):
        deadline_text = _(
            "At the deadline (%(deadline)s) the forecast is %(share)s "
            "(80 %% band %(low)s to %(high)s)."
        ) % {
            "deadline": deadline,
            "share": percent(100 * forecast_at.value),
            "low": percent(100 * forecast_at.low),
            "high": percent(100 * forecast_at.high),
        }
    else:
        deadline_text = _("The deadline is %(deadline)s.") % {"deadline": deadline}
    if len(markers) > 1:
        deadline_text += " " + _(
            "The vertical lines are the original deadline and its revisions; the "
            "solid one is in force."
        )
    summary = " ".join(
        part
        for part in (
            _("%(share)s met it in %(month)s.")
            % {"share": percent(points[-1][1]), "month": month_text(points[-1][0])}
            if points
            else _("No monthly snapshots yet."),
            deadline_text,
            projection_summary(result) if projection else "",
        )
        if part
    )
    return charts.line_chart(
        chart_id="chart-agreement-burnup",
        caption=_("Burn-up: share of municipalities meeting it, against the deadline"),
        summary=summary,
        series=[Series(_("Netherlands"), points)],
        value_format=percent,
        projection=projection,
        markers=markers,
        target=100.0,
    )


# --- will miss the deadline ---------------------------------------------------------


def size_class_crossings(size_class: str) -> dict[int, Crossing]:
    """agreement id → when this size class is forecast to reach 90 % compliance.

    One query: the monthly compliance shares of every agreement in the class.
    """
    series: dict[int, list[tuple[datetime.date, float | None]]] = defaultdict(list)
    for agreement_id, month, value in (
        Snapshot.objects.filter(
            measure=Measure.COMPLIANCE_SHARE, scope=Scope.SIZE_CLASS, key=size_class
        )
        .order_by("agreement_id", "month")
        .values_list("agreement_id", "month", "value")
    ):
        series[agreement_id].append((month, value))
    return {
        agreement_id: remembered_forecast(points).crossing(NINETY)
        for agreement_id, points in series.items()
    }


def class_crossings(
    forecasts: dict[str, Forecast],
) -> dict[str, Crossing]:
    """size class → when it reaches 90 % (from an agreement page's forecasts)."""
    return {
        line: result.crossing(NINETY)
        for line, result in forecasts.items()
        if line != NATIONAL
    }


@dataclass
class MissRule:
    """`miss_reason` for the municipalities of one agreement, by size class."""

    deadline: datetime.date
    on: datetime.date
    crossings: dict[str, Crossing]

    def reason(self, status: str, reason: str, size_class: str) -> MissReason | None:
        return miss_reason(
            status,
            reason,
            deadline=self.deadline,
            on=self.on,
            peers=self.crossings.get(size_class),
        )

    def text(self, status: str, reason: str, size_class: str) -> str:
        """'' when not expected to miss it."""
        found = self.reason(status, reason, size_class)
        return "" if found is None else str(found.label)


def flag_misses(agreements: Iterable, size_class: str, on: datetime.date) -> None:
    """Set `will_miss` (a MissReason or None) on agreements annotated with one
    municipality's `status` and `reason` (municipalities.queries.agreements_for).

    One query, whatever the number of agreements.
    """
    crossings = size_class_crossings(size_class)
    for agreement in agreements:
        agreement.will_miss = miss_reason(
            agreement.status or "",
            agreement.reason or "",
            deadline=agreement.deadline,
            on=on,
            peers=crossings.get(agreement.pk),
        )
