"""What the overview `/` shows: the headline figures, the size-class gap, the
blocks in use, the score distribution, the trend and the agreements by status.

`overview_context` reads the stored scores and aggregates (or a past date's, from
scoring.timetravel) in about ten queries, whatever the number of municipalities.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Max
from django.utils.translation import gettext as _

from agreements.models import ResultAgreement
from buildingblocks.models import BuildingBlock
from nupportal.formats import round_half_up
from nupportal.templatetags.portal import localized_attr
from scoring import charts, maps, timetravel
from scoring.charts import Bar, Group, StackRow, number, percent
from scoring.dashboards.labels import (
    SIZE_CLASS_ORDER,
    as_percent,
    series_labels,
    size_class_comparison,
    size_class_label,
)
from scoring.dashboards.trends import snapshot_trend, trend_lines, trend_summary
from scoring.models import (
    Aggregate,
    ComplianceStatus,
    Measure,
    MunicipalityScore,
    Scope,
)

# The blocks whose reach the overview headlines (share of inhabitants covered), with
# the short official names the headline uses (the full name is on the block's page).
KEY_BLOCKS = {
    "digid": "DigiD",
    "eherkenning": "eHerkenning",
    "mijnoverheid_berichtenbox": "Berichtenbox",
    "brp": "BRP",
    "bag": "BAG",
}
STATUS_ORDER = [s.value for s in ComplianceStatus]


@dataclass
class Headline:
    label: str
    value: str
    note: str = ""
    # The change since the "compare with" date ("+3"), with its unit.
    change: str = ""


def _status_counts(rows) -> dict[int, dict[str, int]]:
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for agreement_id, status, value in rows:
        counts[agreement_id][status] = int(value or 0)
    return counts


def _status_legend() -> list[tuple[str, str]]:
    return [(s.value, str(s.label)) for s in ComplianceStatus]


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
    gap_summary = size_class_comparison(
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
        series=series_labels(),
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
    trend_series = trend_lines(snapshot_rows, scale=1.0)
    trend_chart = charts.line_chart(
        chart_id="chart-trend",
        caption=_("Mean adoption score over time, nationally and by size class"),
        summary=trend_summary(trend_series, number),
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
