"""The figures of a building block's page: levels, share in use per size class and
per province, the trend with its forecast, the map."""

from __future__ import annotations

import datetime

from django.db.models import OuterRef, Subquery
from django.urls import reverse
from django.utils.translation import gettext as _

from buildingblocks.levels import Level
from buildingblocks.models import BuildingBlock
from municipalities.models import Province
from nupportal.templatetags.portal import localized_attr
from scoring import charts, maps, projections, timetravel
from scoring.charts import Bar, number, percent
from scoring.dashboards.labels import (
    SIZE_CLASS_ORDER,
    as_percent,
    count_share,
    line_labels,
    size_class_comparison,
    size_class_label,
)
from scoring.dashboards.trends import snapshot_trend, trend_lines, trend_summary
from scoring.distribution import spread
from scoring.models import (
    Aggregate,
    Measure,
    Scope,
)


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
            count_share(level_counts.get(level.value, 0), total),
            maps.LEVEL_FILLS.get(level.value, "url(#map-dots)"),
        )
        for level in Level
    ]
    if total > recorded:
        level_bars.append(
            Bar(
                _("no status recorded"),
                total - recorded,
                count_share(total - recorded, total),
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
        summary=size_class_comparison(
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
    trend_series = trend_lines(snapshot_rows, scale=100.0)
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
                trend_summary(trend_series, percent),
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
