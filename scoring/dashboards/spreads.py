"""Spread: the scores of a group, not only their mean — box plots per size class,
per province and around one municipality (its scorecard)."""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from django.urls import reverse
from django.utils.translation import gettext as _

from municipalities.models import Municipality, Province
from scoring import charts, queries, timetravel
from scoring.charts import number
from scoring.dashboards.labels import (
    SIZE_CLASS_ORDER,
    size_class_comparison,
    size_class_label,
)
from scoring.distribution import Spread, spread, spreads_by


def _middle_half(s: Spread | None) -> str:
    if s is None:
        return "–"
    return _("%(q1)s to %(q3)s") % {"q1": number(s.q1, 1), "q3": number(s.q3, 1)}


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
    summary = size_class_comparison(
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
