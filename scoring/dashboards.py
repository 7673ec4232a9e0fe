"""What the overview, block and agreement pages show: figures read, charts built.

Each `*_context` function reads the stored scores, aggregates and snapshots in a
fixed handful of queries (whatever the number of municipalities) and turns them
into `Chart`/`MapFigure` objects and headline numbers for the templates. Shares are
stored as fractions (0–1) by scoring.figures and shown here as percentages.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db.models import Count, Max, OuterRef, Subquery
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from agreements.models import ResultAgreement
from buildingblocks.levels import Level
from buildingblocks.models import AdoptionStatus, BuildingBlock
from municipalities.models import Municipality, Province
from municipalities.sizeclasses import SizeClass
from nupportal.formats import round_half_up
from nupportal.templatetags.portal import localized_attr
from scoring import charts, history, maps, projections, queries, timetravel
from scoring.charts import Bar, Group, Series, StackRow, number, percent
from scoring.distribution import Spread, spread, spreads_by
from scoring.models import (
    LAGGING_STATUSES,
    Aggregate,
    AgreementCompliance,
    ComplianceStatus,
    Measure,
    MunicipalityScore,
    Scope,
)
from scoring.rules import meets_minimum

# The blocks whose reach the overview headlines (share of inhabitants covered), with
# the short official names the headline uses (the full name is on the block's page).
KEY_BLOCKS = {
    "digid": "DigiD",
    "eherkenning": "eHerkenning",
    "mijnoverheid_berichtenbox": "Berichtenbox",
    "brp": "BRP",
    "bag": "BAG",
}
SIZE_CLASS_ORDER = [c.value for c in SizeClass]
STATUS_ORDER = [s.value for s in ComplianceStatus]


def size_class_label(code: str) -> str:
    """A short label for charts: '< 10,000', '10,000–20,000', …, '≥ 100,000'."""
    bounds = {
        SizeClass.XS: (None, 10_000),
        SizeClass.S: (10_000, 20_000),
        SizeClass.M: (20_000, 50_000),
        SizeClass.L: (50_000, 100_000),
        SizeClass.XL: (100_000, None),
    }
    low, high = bounds[SizeClass(code)]
    if low is None:
        return f"< {number(high)}"
    if high is None:
        return f"≥ {number(low)}"
    return f"{number(low)}–{number(high)}"


def as_percent(share: float | None) -> float | None:
    return None if share is None else 100.0 * share


def line_labels() -> dict[str, str]:
    """The national line ("") and each size class, as the trend charts name them."""
    return {"": _("Netherlands")} | {c: size_class_label(c) for c in SIZE_CLASS_ORDER}


def _series_labels() -> list[str]:
    return [size_class_label(c) for c in SIZE_CLASS_ORDER]


@dataclass
class Headline:
    label: str
    value: str
    note: str = ""
    # The change since the "compare with" date ("+3"), with its unit.
    change: str = ""


def snapshot_trend(
    measure: str, *, block=None, agreement=None, until: datetime.date | None = None
) -> list[tuple[str, str, datetime.date, float | None]]:
    """(scope, key, month, value) of one figure, national and per size class.

    One query, through scoring.queries (which knows how snapshots are stored).
    With `until`, only the months that had ended by then.
    """
    rows = queries.national_and_size_class_series(
        measure, block=block, agreement=agreement
    )
    if until is not None:
        rows = [row for row in rows if history.month_end(row[2]) <= until]
    return rows


def _trend(
    rows: Iterable[tuple[str, str, datetime.date, float | None]], *, scale: float
) -> list[Series]:
    """National + one line per size class from (scope, key, month, value) rows."""
    by_line: dict[str, list[tuple[datetime.date, float]]] = defaultdict(list)
    for scope, key, month, value in rows:
        if value is None:
            continue
        line = "" if scope == Scope.NATIONAL else key
        by_line[line].append((month, value * scale))
    series = [Series(_("Netherlands"), sorted(by_line.get("", [])))]
    series += [
        Series(size_class_label(code), sorted(by_line.get(code, [])))
        for code in SIZE_CLASS_ORDER
    ]
    return series


def _trend_summary(series: list[Series], fmt) -> str:
    national = series[0].points
    if not national:
        return _("No monthly snapshots yet.")
    (first_month, first), (last_month, last) = national[0], national[-1]
    return _(
        "Nationally the figure went from %(first)s in %(first_year)s to %(last)s in "
        "%(last_year)s."
    ) % {
        "first": fmt(first),
        "first_year": first_month.year,
        "last": fmt(last),
        "last_year": last_month.year,
    }


def _status_counts(rows) -> dict[int, dict[str, int]]:
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for agreement_id, status, value in rows:
        counts[agreement_id][status] = int(value or 0)
    return counts


def _status_legend() -> list[tuple[str, str]]:
    return [(s.value, str(s.label)) for s in ComplianceStatus]


# --- overview ---------------------------------------------------------------------


def _overview_figures(
    rows: Iterable[tuple],
) -> tuple[dict, dict, dict[int, dict[str, int]], float]:
    """(national, by size class, status counts per agreement, exempted pairs)."""
    national: dict[tuple[str, int | None], float | None] = {}
    by_class: dict[tuple[str, int | None, str], float | None] = {}
    status_rows = []
    exempted_pairs = 0.0
    for scope, key, measure, block_id, agreement_id, status, value in rows:
        if scope not in (Scope.NATIONAL, Scope.SIZE_CLASS):
            continue
        if measure == Measure.COMPLIANCE_SHARE:
            continue
        if measure == Measure.EXEMPTED:
            if scope == Scope.NATIONAL:
                exempted_pairs += value or 0
        elif measure == Measure.STATUS_COUNT:
            if scope == Scope.NATIONAL:
                status_rows.append((agreement_id, status, value))
        elif scope == Scope.NATIONAL:
            national[(measure, block_id)] = value
        else:
            by_class[(measure, block_id, key)] = value
    return national, by_class, _status_counts(status_rows), exempted_pairs


@dataclass(frozen=True)
class Compared:
    """The headline figures of the "compare with" date."""

    on: datetime.date
    national: dict
    status_counts: dict[int, dict[str, int]]


def compared_figures(on: datetime.date | None, today: datetime.date) -> Compared:
    """The overview's figures on the comparison date (today's when it is today)."""
    rows = timetravel.figures(None if on is None or on >= today else on)
    national, _by_class, status_counts, _exempted = _overview_figures(rows)
    return Compared(on or today, national, status_counts)


def overview_context(
    on: datetime.date | None = None, compare: Compared | None = None
) -> dict:
    """Everything `/` shows; about ten queries, whatever the number of municipalities.

    With `on`, the figures at the end of that day (scoring.timetravel: month ends
    from the snapshots, other days replayed from the history); with `compare`,
    the change of the headline figures since that date.
    """
    deadlines: dict[int, datetime.date] = {}
    if on is None:
        scores = list(
            MunicipalityScore.objects.filter(municipality__active=True).values_list(
                "score", "computed_at"
            )
        )
        if not scores:
            return {"empty": True}
        computed_at = max(at for _s, at in scores)
        aggregates = list(
            Aggregate.objects.filter(scope__in=[Scope.NATIONAL, Scope.SIZE_CLASS])
            .exclude(measure=Measure.COMPLIANCE_SHARE)
            .values_list(
                "scope", "key", "measure", "block_id", "agreement_id", "status", "value"
            )
        )
        aggregates_at = Aggregate.objects.aggregate(at=Max("computed_at"))["at"]
        score_map = maps.score_map()
    else:
        reconstruction = timetravel.standings_on(on)
        past_scores = {m: s.score for m, s in reconstruction.standings.items()}
        if not past_scores:
            return {"empty": True}
        scores = [(score, None) for score in past_scores.values()]
        # The banner says which day; no computation time belongs to it.
        computed_at = aggregates_at = None
        aggregates = timetravel.figures(on)
        score_map = maps.score_map_on(on, past_scores)
        deadlines = reconstruction.deadlines
    national, by_class, status_counts, exempted_pairs = _overview_figures(aggregates)

    blocks = list(BuildingBlock.objects.filter(active=True))
    agreements = list(ResultAgreement.objects.order_by("deadline", "number"))

    # Headline figures.
    mean_score = national.get((Measure.MEAN_SCORE, None))
    all_met = national.get((Measure.ALL_MET, None))
    municipality_count = len(scores)
    overdue_pairs = sum(
        c.get(ComplianceStatus.OVERDUE, 0) for c in status_counts.values()
    )
    overdue_agreements = [
        a
        for a in agreements
        if status_counts.get(a.pk, {}).get(ComplianceStatus.OVERDUE)
    ]
    headlines = [
        Headline(_("Mean adoption score"), number(mean_score), _("out of 100")),
        Headline(
            _("Municipalities meeting every agreement"),
            number(all_met),
            _(
                "of %(total)s (agreements that do not apply left out); "
                "%(exempted)s agreements met rest on an exemption"
            )
            % {"total": number(municipality_count), "exempted": number(exempted_pairs)},
        ),
        Headline(
            _("Agreements overdue"),
            number(overdue_pairs),
            _("municipality × agreement pairs, in %(count)s of %(total)s agreements")
            % {
                "count": number(len(overdue_agreements)),
                "total": number(len(agreements)),
            },
        ),
    ]
    by_code = {b.code: b for b in blocks}
    coverage = [
        (by_code[code], as_percent(national.get((Measure.COVERAGE, by_code[code].pk))))
        for code in KEY_BLOCKS
        if code in by_code
    ]
    coverage_changes: dict[int, str] = {}
    if compare is not None:
        then = compare.national
        then_overdue = sum(
            c.get(ComplianceStatus.OVERDUE, 0) for c in compare.status_counts.values()
        )
        headlines[0].change = _("%(change)s points") % {
            "change": timetravel.change(
                mean_score, then.get((Measure.MEAN_SCORE, None))
            )
        }
        headlines[1].change = timetravel.change(
            all_met, then.get((Measure.ALL_MET, None))
        )
        headlines[2].change = timetravel.change(overdue_pairs, then_overdue)
        coverage_changes = {
            block.pk: _("%(change)s pp")
            % {
                "change": timetravel.change(
                    share, as_percent(then.get((Measure.COVERAGE, block.pk)))
                )
            }
            for block, share in coverage
            if share is not None and then.get((Measure.COVERAGE, block.pk)) is not None
        }

    # Size-class gap: the mean score per size class.
    gap_bars = [
        Bar(size_class_label(c), by_class.get((Measure.MEAN_SCORE, None, c)))
        for c in SIZE_CLASS_ORDER
    ]
    gap_summary = _size_class_comparison(
        _(
            "Municipalities with %(small)s inhabitants score %(small_value)s on average, "
            "those with %(large)s inhabitants %(large_value)s."
        ),
        [(b.label, number(b.value)) for b in gap_bars if b.value is not None],
    )
    gap_chart = charts.bar_chart(
        chart_id="chart-gap",
        caption=_("Mean adoption score by size class (inhabitants)"),
        summary=gap_summary,
        bars=gap_bars,
        label_header=_("Size class (inhabitants)"),
        value_header=_("Mean adoption score"),
    )

    # Key blocks in use per size class.
    key_blocks = [by_code[c] for c in KEY_BLOCKS if c in by_code]
    groups = [
        Group(
            KEY_BLOCKS[b.code],
            [
                as_percent(by_class.get((Measure.IN_USE_SHARE, b.pk, c)))
                for c in SIZE_CLASS_ORDER
            ],
        )
        for b in key_blocks
    ]
    size_chart = charts.grouped_bar_chart(
        chart_id="chart-size-blocks",
        caption=_("Key building blocks in use, by size class (inhabitants)"),
        summary=_size_block_summary(groups),
        groups=groups,
        series=_series_labels(),
        label_header=_("Building block"),
    )

    # Adoption per block, nationally.
    block_bars = [
        Bar(
            localized_attr(b, "name"),
            as_percent(national.get((Measure.IN_USE_SHARE, b.pk))),
            percent(as_percent(national.get((Measure.IN_USE_SHARE, b.pk)))),
        )
        for b in blocks
    ]
    ranked = sorted(
        (b for b in block_bars if b.value is not None), key=lambda b: b.value
    )
    block_chart = charts.bar_chart(
        chart_id="chart-blocks",
        caption=_("Share of municipalities using each building block"),
        summary=(
            _(
                "Most used: %(top)s (%(top_share)s); least used: %(bottom)s (%(bottom_share)s)."
            )
            % {
                "top": ranked[-1].label,
                "top_share": ranked[-1].value_text,
                "bottom": ranked[0].label,
                "bottom_share": ranked[0].value_text,
            }
            if ranked
            else _("No building blocks yet.")
        ),
        bars=block_bars,
        label_header=_("Building block"),
        value_header=_("Municipalities in use"),
    )

    # Score distribution.
    bins = [0] * 10
    for score, _at in scores:
        if score is not None:
            # Binned as shown (a whole number): a score shown as 90 is in 90–100.
            bins[min(int(round_half_up(score) // 10), 9)] += 1
    histogram = charts.histogram(
        chart_id="chart-distribution",
        caption=_("Distribution of adoption scores"),
        summary=_("The median municipality scores %(median)s.")
        % {"median": number(national.get((Measure.MEDIAN_SCORE, None)))},
        bins=[Bar(f"{i * 10}–{i * 10 + 10}", count) for i, count in enumerate(bins)],
        label_header=_("Adoption score"),
        value_header=_("Municipalities"),
    )

    # Trend since the first snapshot.
    snapshot_rows = snapshot_trend(Measure.MEAN_SCORE, until=on)
    trend_series = _trend(snapshot_rows, scale=1.0)
    trend_chart = charts.line_chart(
        chart_id="chart-trend",
        caption=_("Mean adoption score over time, nationally and by size class"),
        summary=_trend_summary(trend_series, number),
        series=trend_series,
    )
    snapshot_month = snapshot_rows[-1][2] if snapshot_rows else None

    # Agreements by status, nearest deadline first.
    status_chart = charts.stacked_bar_chart(
        chart_id="chart-agreements",
        caption=_("Agreements by status, ordered by deadline"),
        summary=_(
            "%(count)s of %(total)s agreements have overdue municipalities; "
            "%(pairs)s municipality × agreement pairs are overdue."
        )
        % {
            "count": number(len(overdue_agreements)),
            "total": number(len(agreements)),
            "pairs": number(overdue_pairs),
        },
        rows=[
            StackRow(
                f"{a.number}. {localized_attr(a, 'title')}",
                [(s, status_counts.get(a.pk, {}).get(s, 0)) for s in STATUS_ORDER],
            )
            for a in agreements
        ],
        legend=_status_legend(),
        label_header=_("Agreement"),
    )
    most_overdue = sorted(
        overdue_agreements,
        key=lambda a: (-status_counts[a.pk].get(ComplianceStatus.OVERDUE, 0), a.number),
    )
    agreement_rows = [
        {
            "agreement": a,
            "counts": [status_counts.get(a.pk, {}).get(s, 0) for s in STATUS_ORDER],
            "overdue": status_counts.get(a.pk, {}).get(ComplianceStatus.OVERDUE, 0),
            # The deadline in force on the date shown.
            "deadline": deadlines.get(a.pk, a.deadline),
        }
        for a in agreements
    ]
    return {
        "empty": False,
        "computed_at": computed_at,
        "aggregates_at": aggregates_at or computed_at,
        "snapshot_month": snapshot_month,
        "headlines": headlines,
        "coverage": [
            (b, KEY_BLOCKS[b.code], percent(v), coverage_changes.get(b.pk, ""))
            for b, v in coverage
        ],
        "score_map": score_map,
        "on": on,
        "compare": compare,
        "deadlines": deadlines,
        "gap_chart": gap_chart,
        "size_chart": size_chart,
        "block_chart": block_chart,
        "histogram": histogram,
        "trend_chart": trend_chart,
        "status_chart": status_chart,
        "most_overdue": [
            (a, status_counts[a.pk].get(ComplianceStatus.OVERDUE, 0))
            for a in most_overdue[:5]
        ],
        "agreement_rows": agreement_rows,
        "status_labels": [str(s.label) for s in ComplianceStatus],
    }


def _size_block_summary(groups: list[Group]) -> str:
    gaps = [
        (g.values[-1] - g.values[0], g.label)
        for g in groups
        if g.values and g.values[0] is not None and g.values[-1] is not None
    ]
    if not gaps:
        return _("No figures per size class yet.")
    gap, label = max(gaps)
    return _(
        "The largest gap between the smallest and the largest municipalities is for "
        "%(block)s: %(gap)s percentage points."
    ) % {"block": label, "gap": number(gap)}


# --- building block ---------------------------------------------------------------


def block_context(
    block: BuildingBlock,
    on: datetime.date | None = None,
    past: timetravel.Reconstruction | None = None,
) -> dict:
    """The figures of one building block's page; with `on` (and that day's
    `past` standings), as they stood at the end of that day."""
    wanted = (Measure.IN_USE_SHARE, Measure.COVERAGE)
    if on is None:
        figures = list(
            Aggregate.objects.filter(
                block=block,
                scope__in=[Scope.NATIONAL, Scope.SIZE_CLASS],
                measure__in=wanted,
            ).values_list("scope", "key", "measure", "value", "computed_at")
        )
    else:
        figures = [
            (scope, key, measure, value, None)
            for scope, key, measure, block_id, _a, _s, value in timetravel.figures(on)
            if block_id == block.pk
            and measure in wanted
            and scope in (Scope.NATIONAL, Scope.SIZE_CLASS)
        ]
    national = {m: v for s, _k, m, v, _a in figures if s == Scope.NATIONAL}
    per_class = {
        k: v
        for s, k, m, v, _a in figures
        if s == Scope.SIZE_CLASS and m == Measure.IN_USE_SHARE
    }
    aggregates_at = max((a for *_r, a in figures if a is not None), default=None)

    # The map (cached) already counts the active municipalities per level.
    if on is None or past is None:
        block_map = maps.block_map(block)
    else:
        levels = {
            m: standing.states[block.pk].level
            for m, standing in past.standings.items()
            if block.pk in standing.states
        }
        block_map = maps.block_map_on(block, maps.municipalities_on(on), levels)
    level_counts = {c.key: n for c, n in block_map.legend}
    total = sum(level_counts.values())
    recorded = total - level_counts.get(maps.NO_DATA, 0)
    level_bars = [
        Bar(
            str(level.label),
            level_counts.get(level.value, 0),
            _count_share(level_counts.get(level.value, 0), total),
            maps.LEVEL_FILLS.get(level.value, "url(#map-dots)"),
        )
        for level in Level
    ]
    if total > recorded:
        level_bars.append(
            Bar(
                _("no status recorded"),
                total - recorded,
                _count_share(total - recorded, total),
                maps.NO_DATA_FILL,
            )
        )
    in_use = level_counts.get(Level.IN_USE, 0)
    level_chart = charts.bar_chart(
        chart_id="chart-levels",
        caption=_("Municipalities by level of %(block)s") % {"block": block.name},
        summary=_("%(count)s of %(total)s municipalities use %(block)s.")
        % {"count": number(in_use), "total": number(total), "block": block.name},
        bars=level_bars,
        label_header=_("Level"),
        value_header=_("Municipalities"),
        max_value=max(total, 1),
    )
    class_bars = [
        Bar(
            size_class_label(c),
            as_percent(per_class.get(c)),
            percent(as_percent(per_class.get(c))),
        )
        for c in SIZE_CLASS_ORDER
    ]
    class_chart = charts.bar_chart(
        chart_id="chart-block-size",
        caption=_("Share in use by size class (inhabitants)"),
        summary=_size_class_comparison(
            _(
                "%(small_value)s of municipalities with %(small)s inhabitants use it, "
                "%(large_value)s of those with %(large)s."
            ),
            [(b.label, b.value_text) for b in class_bars if b.value is not None],
        ),
        bars=class_bars,
        label_header=_("Size class (inhabitants)"),
        value_header=_("Municipalities in use"),
    )
    snapshot_rows = snapshot_trend(Measure.IN_USE_SHARE, block=block, until=on)
    trend_series = _trend(snapshot_rows, scale=100.0)
    forecasts = projections.forecasts_for(snapshot_rows)
    national_forecast = forecasts.get(projections.NATIONAL)
    projection = projections.projection_for(national_forecast)
    trend_chart = charts.line_chart(
        chart_id="chart-block-trend",
        caption=_("Share of municipalities using %(block)s over time")
        % {"block": block.name},
        summary=" ".join(
            part
            for part in (
                _trend_summary(trend_series, percent),
                projections.projection_summary(national_forecast) if projection else "",
            )
            if part
        ),
        series=trend_series,
        value_format=percent,
        projection=projection,
    )
    requirements = list(
        block.requirements.current()
        .select_related("agreement")
        .order_by("agreement__number")
    )
    return block_province_charts(block, national.get(Measure.IN_USE_SHARE)) | {
        "in_use_share": percent(as_percent(national.get(Measure.IN_USE_SHARE))),
        "coverage": percent(as_percent(national.get(Measure.COVERAGE))),
        "aggregates_at": aggregates_at,
        "level_chart": level_chart,
        "class_chart": class_chart,
        "trend_chart": trend_chart,
        "forecast_rows": projections.forecast_rows(forecasts, line_labels()),
        "block_map": block_map,
        "requirements": requirements,
    }


def _count_share(count: int, total: int) -> str:
    if not total:
        return number(count)
    return f"{number(count)} ({percent(100.0 * count / total)})"


# --- agreement --------------------------------------------------------------------


def agreement_context(
    agreement: ResultAgreement,
    on: datetime.date | None = None,
    past: timetravel.Reconstruction | None = None,
    *,
    revisions: list | None = None,
    snapshot_rows: list | None = None,
) -> dict:
    """The figures of one agreement's page; with `on` and that day's `past`
    standings, as they stood at the end of that day.

    `revisions` (the deadline's, in order, decided by `on`) and `snapshot_rows`
    (its compliance snapshots up to `on`, `snapshot_trend`) when the caller has
    them already.
    """
    counts: dict[str, int] = {}
    exempted = 0
    computed_at = None
    if on is None or past is None:
        rows = (
            AgreementCompliance.objects.filter(
                agreement=agreement, municipality__active=True
            )
            .order_by()
            .values_list("status", "exempted")
            .annotate(n=Count("pk"), at=Max("computed_at"))
        )
        agreement_map = maps.agreement_map(agreement)
    else:
        statuses = {
            m: standing.statuses[agreement.pk]
            for m, standing in past.standings.items()
            if agreement.pk in standing.statuses
        }
        counted: dict[str, int] = {}
        for status in statuses.values():
            counted[status] = counted.get(status, 0) + 1
        rows = [(status, False, n, None) for status, n in counted.items()]
        exempted = sum(
            agreement.pk in standing.exempted for standing in past.standings.values()
        )
        agreement_map = maps.agreement_map_on(
            agreement, maps.municipalities_on(on), statuses
        )
    for status, on_exemption, n, at in rows:
        counts[status] = counts.get(status, 0) + n
        exempted += n if on_exemption else 0
        if at is not None:
            computed_at = max(at, computed_at or at)
    total = sum(counts.values())
    applicable = total - counts.get(ComplianceStatus.NOT_APPLICABLE, 0)
    status_bars = [
        Bar(
            str(s.label),
            counts.get(s.value, 0),
            _count_share(counts.get(s.value, 0), total),
            charts.STATUS_FILLS[s.value],
        )
        for s in ComplianceStatus
    ]
    status_chart = charts.bar_chart(
        chart_id="chart-agreement-status",
        caption=_("Municipalities by status"),
        summary=_(
            "%(met)s of the %(applicable)s municipalities to which it applies meet "
            "this agreement, %(exempted)s of them on an exemption; %(overdue)s are "
            "overdue. It does not apply to %(not_applicable)s."
        )
        % {
            "met": number(counts.get(ComplianceStatus.MET, 0)),
            "applicable": number(applicable),
            "exempted": number(exempted),
            "overdue": number(counts.get(ComplianceStatus.OVERDUE, 0)),
            "not_applicable": number(counts.get(ComplianceStatus.NOT_APPLICABLE, 0)),
        },
        bars=status_bars,
        label_header=_("Status"),
        value_header=_("Municipalities"),
        max_value=max(total, 1),
    )
    if snapshot_rows is None:
        snapshot_rows = snapshot_trend(
            Measure.COMPLIANCE_SHARE, agreement=agreement, until=on
        )
    if revisions is None:
        revisions = [
            r
            for r in agreement.revisions.order_by("decided_on", "id")
            if on is None or r.decided_on <= on
        ]
    trend_series = _trend(snapshot_rows, scale=100.0)
    trend_chart = charts.line_chart(
        chart_id="chart-agreement-trend",
        caption=_("Share of municipalities meeting the agreement over time"),
        summary=_trend_summary(trend_series, percent),
        series=trend_series,
        value_format=percent,
    )
    forecasts = projections.forecasts_for(snapshot_rows)
    national_series = projections.lines(snapshot_rows).get(projections.NATIONAL, [])
    return {
        "burnup_chart": projections.burnup_chart(
            agreement,
            revisions,
            national_series,
            forecasts.get(projections.NATIONAL),
        ),
        "forecast_rows": projections.forecast_rows(forecasts, line_labels()),
        "computed_at": computed_at,
        "exempted": exempted,
        "applicable": applicable,
        "status_chart": status_chart,
        "trend_chart": trend_chart,
        "agreement_map": agreement_map,
    }


class MissingBlocks:
    """Which required blocks an overdue or at-risk municipality lacks, as text.

    One query loads the laggards' states of the required blocks — only those of
    `municipality_ids` when given (the page being shown: at 10,000 municipalities
    loading every laggard's states cost ~0.5 s) — and `get(id)` builds the text
    for one municipality ("DigiD (Preparing, planned 1-6-2015); BAG (Not
    started)"). A block without a status counts as not started.
    """

    def __init__(
        self,
        agreement: ResultAgreement,
        requirements: list,
        municipality_ids: list[int] | None = None,
    ) -> None:
        laggards = (
            AgreementCompliance.objects.filter(
                agreement=agreement,
                status__in=LAGGING_STATUSES,
                municipality__active=True,
            ).values("municipality_id")
            if municipality_ids is None
            else municipality_ids
        )
        self.requirements = [r for r in requirements if r.block.active]
        self.states = {
            (s.municipality_id, s.block_id): s
            for s in AdoptionStatus.objects.filter(
                municipality_id__in=laggards,
                block__in=[r.block_id for r in self.requirements],
            ).only("municipality_id", "block_id", "level", "planned_date")
        }
        self.labels = dict(Level.choices)

    @classmethod
    def on_date(
        cls,
        requirements: list,
        standings: dict[int, timetravel.Standing],
    ) -> MissingBlocks:
        """The same text from the block states of a past date (no query)."""
        missing = cls.__new__(cls)
        missing.requirements = [r for r in requirements if r.block.active]
        missing.states = {
            (m, requirement.block_id): standing.states[requirement.block_id]
            for m, standing in standings.items()
            for requirement in missing.requirements
            if requirement.block_id in standing.states
        }
        missing.labels = dict(Level.choices)
        return missing

    def get(self, municipality_id: int) -> str:
        parts = []
        for requirement in self.requirements:
            state = self.states.get((municipality_id, requirement.block_id))
            level = state.level if state else Level.NOT_STARTED
            if meets_minimum(level, requirement.minimum_level):
                continue
            text = f"{localized_attr(requirement.block, 'name')} ({self.labels[level]}"
            if state and state.planned_date:
                text += ", " + _("planned %(date)s") % {
                    "date": date_format(state.planned_date, "SHORT_DATE_FORMAT")
                }
            parts.append(text + ")")
        return "; ".join(parts)


# --- spread: the scores of a group, not only their mean ----------------------------


def _middle_half(s: Spread | None) -> str:
    if s is None:
        return "–"
    return _("%(q1)s to %(q3)s") % {"q1": number(s.q1, 1), "q3": number(s.q3, 1)}


def _size_class_comparison(message: str, known: Sequence[tuple[str, str]]) -> str:
    """`message` about the smallest and the largest size class that have a figure.

    `known` holds (label, figure as written) from small to large; `message` names
    them %(small)s, %(small_value)s, %(large)s and %(large_value)s.
    """
    if len(known) < 2:
        return _("Not enough municipalities to compare size classes.")
    (small, small_value), (large, large_value) = known[0], known[-1]
    return message % {
        "small": small,
        "small_value": small_value,
        "large": large,
        "large_value": large_value,
    }


def size_class_spread_chart(
    rows: Sequence[queries.GroupedScore],
    *,
    chart_id: str = "chart-spread-size",
    province: Province | None = None,
    with_national: bool = False,
) -> charts.Chart:
    """Box plots of the scores per size class (of one province when given)."""
    if province is not None:
        rows = [r for r in rows if r.province == province.slug]
    spreads = spreads_by((r.size_class, r.score) for r in rows)
    boxes = [charts.Box(size_class_label(c), spreads.get(c)) for c in SIZE_CLASS_ORDER]
    if with_national:
        boxes.append(charts.Box(_("Netherlands"), spread(r.score for r in rows)))
    summary = _size_class_comparison(
        _(
            "The middle half of the municipalities with %(small)s inhabitants scores "
            "%(small_value)s, of those with %(large)s inhabitants %(large_value)s."
        ),
        [
            (b.label, _middle_half(b.spread))
            for b in boxes[: len(SIZE_CLASS_ORDER)]
            if b.spread is not None
        ],
    )
    caption = (
        _("Spread of adoption scores by size class (inhabitants) in %(province)s")
        % {"province": province.name}
        if province is not None
        else _("Spread of adoption scores by size class (inhabitants)")
    )
    return charts.box_plot(
        chart_id=chart_id,
        caption=caption,
        summary=summary,
        boxes=boxes,
        label_header=_("Size class (inhabitants)"),
    )


def province_spread_chart(
    rows: Sequence[queries.GroupedScore],
    provinces: Sequence[Province],
    *,
    chart_id: str = "chart-spread-province",
    emphasis: str = "",
) -> charts.Chart:
    """Box plots of the scores per province, each row linked to its province page."""
    spreads = spreads_by((r.province, r.score) for r in rows)
    boxes = [
        charts.Box(
            p.name,
            spreads.get(p.slug),
            emphasis=p.slug == emphasis,
            url=reverse("municipalities:province", kwargs={"slug": p.slug}),
        )
        for p in provinces
    ]
    ranked = sorted(
        (b for b in boxes if b.spread is not None), key=lambda b: b.spread.median
    )
    summary = (
        _(
            "Highest median score: %(top)s (%(top_median)s); lowest: %(bottom)s "
            "(%(bottom_median)s)."
        )
        % {
            "top": ranked[-1].label,
            "top_median": number(ranked[-1].spread.median, 1),
            "bottom": ranked[0].label,
            "bottom_median": number(ranked[0].spread.median, 1),
        }
        if len(ranked) >= 2
        else _("Not enough municipalities to compare provinces.")
    )
    return charts.box_plot(
        chart_id=chart_id,
        caption=_("Spread of adoption scores by province"),
        summary=summary,
        boxes=boxes,
        label_header=_("Province"),
    )


def grouped_scores(on: datetime.date | None = None) -> list[queries.GroupedScore]:
    """Every counted municipality's score with its size class and province: today's
    (one query), or replayed for the end of `on` (a fixed number of queries)."""
    if on is None:
        return queries.scores_with_groups()
    scores = timetravel.scores_on(on)
    return [
        queries.GroupedScore(scores[m.pk], m.size_class, m.province.slug)
        for m in timetravel.municipalities_on(on)
        if scores.get(m.pk) is not None
    ]


def overview_spread_context(on: datetime.date | None = None) -> dict:
    """The overview's spread charts, in a fixed number of queries."""
    rows = grouped_scores(on)
    provinces = list(Province.objects.all())
    return {
        "size_spread_chart": size_class_spread_chart(rows),
        "province_spread_chart": province_spread_chart(rows, provinces),
    }


def benchmark_spread_chart(
    municipality: Municipality,
    score: float | None,
    rows: Sequence[queries.GroupedScore],
) -> charts.Chart:
    """The scores of the municipality's size class, province and country, its own marked."""
    size_class = spread(
        r.score for r in rows if r.size_class == municipality.size_class
    )
    province = spread(r.score for r in rows if r.province == municipality.province.slug)
    national = spread(r.score for r in rows)
    boxes = [
        charts.Box(municipality.get_size_class_display(), size_class),
        charts.Box(
            municipality.province.name,
            province,
            url=reverse(
                "municipalities:province", kwargs={"slug": municipality.province.slug}
            ),
        ),
        charts.Box(_("Netherlands"), national),
    ]
    summary = _(
        "The middle half of the municipalities scores %(size_range)s in the same "
        "size class, %(province_range)s in %(province)s and %(national_range)s "
        "nationally."
    ) % {
        "size_range": _middle_half(size_class),
        "province_range": _middle_half(province),
        "province": municipality.province.name,
        "national_range": _middle_half(national),
    }
    if score is not None:
        summary = (
            _("%(name)s scores %(score)s.")
            % {"name": municipality.name, "score": number(score, 1)}
            + " "
            + summary
        )
    return charts.box_plot(
        chart_id="chart-spread-benchmark",
        caption=_("Spread of adoption scores: size class, province and country"),
        summary=summary,
        boxes=boxes,
        label_header=_("Compared with"),
        marker=(municipality.name, score) if score is not None else None,
    )


def block_province_charts(block: BuildingBlock, national_share: float | None) -> dict:
    """The block's share in use per province and its spread over the provinces.

    One query: the provinces, each with this block's share as a subquery.
    """
    provinces = list(
        Province.objects.annotate(
            share=Subquery(
                Aggregate.objects.filter(
                    block=block,
                    scope=Scope.PROVINCE,
                    measure=Measure.IN_USE_SHARE,
                    key=OuterRef("slug"),
                ).values("value")[:1]
            )
        )
    )
    values = [(p, as_percent(p.share)) for p in provinces]
    over_provinces = spread(v for _p, v in values)
    known = sorted(
        ((v, p.name) for p, v in values if v is not None), key=lambda pair: pair[0]
    )
    national = as_percent(national_share)
    summary = (
        _(
            "From %(low)s in %(low_province)s to %(high)s in %(high_province)s; the "
            "middle half of the provinces lies between %(q1)s and %(q3)s."
        )
        % {
            "low": percent(known[0][0]),
            "low_province": known[0][1],
            "high": percent(known[-1][0]),
            "high_province": known[-1][1],
            "q1": percent(over_provinces.q1),
            "q3": percent(over_provinces.q3),
        }
        if len(known) >= 2 and over_provinces is not None
        else _("Not enough municipalities to compare provinces.")
    )
    spread_chart = charts.box_plot(
        chart_id="chart-block-province-spread",
        caption=_("Spread of the share in use over the provinces"),
        summary=summary,
        boxes=[charts.Box(_("Provinces"), over_provinces)],
        label_header=_("Area"),
        marker=(_("Netherlands"), national) if national is not None else None,
        value_format=percent,
        count_header=_("Provinces"),
    )
    ranked = sorted(values, key=lambda pair: (pair[1] is None, -(pair[1] or 0)))
    province_chart = charts.bar_chart(
        chart_id="chart-block-provinces",
        caption=_("Share in use by province"),
        summary=_(
            "The share of municipalities using %(block)s in each province, highest "
            "first."
        )
        % {"block": localized_attr(block, "name")},
        bars=[Bar(p.name, v, percent(v)) for p, v in ranked],
        label_header=_("Province"),
        value_header=_("Municipalities in use"),
    )
    province_chart.row_links = [
        reverse("municipalities:province", kwargs={"slug": p.slug}) for p, _v in ranked
    ]
    return {
        "province_spread_chart": spread_chart,
        "province_chart": province_chart,
    }
