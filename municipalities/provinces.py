"""The province dashboard: /provincies/ and /provincies/<slug>/. Reads and rows.

Every figure of a province is either computed from the scores with their group
keys (scoring.queries.scores_with_groups, one query, then the pure
scoring.distribution) or read from the stored aggregates (shares in use and
compliance shares, one query for the province and the country together), so
both pages take a fixed number of queries whatever the number of
municipalities. The rows are plain dictionaries for the tables in
municipalities.tables (sortable, exported through nupportal.exports).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from typing import Any

from django.db.models import Count, F, Q
from django.urls import reverse
from django.utils.translation import gettext as _

from agreements.models import ResultAgreement
from buildingblocks.models import BuildingBlock
from municipalities.models import Municipality, Province
from nupportal.templatetags.portal import localized_attr
from scoring import charts, queries
from scoring.charts import number
from scoring.dashboards import (
    SIZE_CLASS_ORDER,
    as_percent,
    size_class_label,
    size_class_spread_chart,
)
from scoring.distribution import Spread, spread, spreads_by
from scoring.explain import rank
from scoring.models import Aggregate, Measure, Scope


def province_url(province: Province) -> str:
    return reverse("municipalities:province", kwargs={"slug": province.slug})


def _spread_columns(s: Spread | None) -> dict[str, Any]:
    """The columns every spread row has; None where a group has no score."""
    if s is None:
        return dict.fromkeys(
            ("scored", "mean", "minimum", "q1", "median", "q3", "maximum")
        ) | {"scored": 0}
    return {
        "scored": s.count,
        "mean": s.mean,
        "minimum": s.minimum,
        "q1": s.q1,
        "median": s.median,
        "q3": s.q3,
        "maximum": s.maximum,
    }


def provinces_with_counts() -> list[Province]:
    """The provinces with their number of active municipalities. One query."""
    return list(
        Province.objects.annotate(
            municipality_count=Count(
                "municipalities", filter=Q(municipalities__active=True)
            )
        ).order_by("name")
    )


def province_rows(
    provinces: Sequence[Province], scores: Sequence[queries.GroupedScore]
) -> list[dict[str, Any]]:
    """One row per province: municipalities, mean, median and the spread of scores."""
    spreads = spreads_by((s.province, s.score) for s in scores)
    return [
        {
            "province": p.name,
            "url": province_url(p),
            "municipalities": p.municipality_count,
            **_spread_columns(spreads.get(p.slug)),
        }
        for p in provinces
    ]


def municipality_rows(province: Province) -> list[dict[str, Any]]:
    """The province's active municipalities, ranked by score within it. One query.

    Rank as nationally (scoring.explain.rank): one more than the number of
    municipalities in the province with a higher score, so ties share a rank.
    """
    records = list(
        Municipality.objects.active()
        .filter(province=province)
        .annotate(
            adoption_score=F("score__score"),
            national_rank=F("score__rank"),
            agreements_met=F("score__agreements_met"),
            agreements_overdue=F("score__agreements_overdue"),
        )
        .values(
            "name",
            "slug",
            "size_class",
            "population",
            "adoption_score",
            "national_rank",
            "agreements_met",
            "agreements_overdue",
        )
    )
    scored = sorted(
        r["adoption_score"] for r in records if r["adoption_score"] is not None
    )
    rows = []
    for record in records:
        score = record["adoption_score"]
        higher = 0 if score is None else len(scored) - bisect_right(scored, score)
        rows.append(
            record
            | {
                "rank": rank(score, higher),
                "url": reverse(
                    "municipalities:detail", kwargs={"slug": record["slug"]}
                ),
            }
        )
    # Ranked first, best first; unscored last, by name.
    rows.sort(key=lambda r: (r["rank"] is None, r["rank"] or 0, r["name"]))
    return rows


def _shares(province: Province) -> dict[tuple[str, str, int], float | None]:
    """{(scope, measure, block or agreement id): share} of the province and country."""
    rows = Aggregate.objects.filter(
        Q(scope=Scope.NATIONAL, key="") | Q(scope=Scope.PROVINCE, key=province.slug),
        measure__in=[Measure.IN_USE_SHARE, Measure.COMPLIANCE_SHARE],
    ).values_list("scope", "measure", "block_id", "agreement_id", "value")
    return {
        (scope, measure, block_id or agreement_id): value
        for scope, measure, block_id, agreement_id, value in rows
    }


def _province_and_national(shares: dict, measure: str, pk: int) -> dict[str, Any]:
    """The two share columns of ProvinceShareTable for one block or agreement."""
    return {
        "province_share": shares.get((Scope.PROVINCE, measure, pk)),
        "national_share": shares.get((Scope.NATIONAL, measure, pk)),
    }


def block_rows(blocks: Sequence[BuildingBlock], shares: dict) -> list[dict[str, Any]]:
    """Per active block: the share in use in the province and nationally."""
    return [
        {
            "block": localized_attr(block, "name"),
            "url": block.get_absolute_url(),
            **_province_and_national(shares, Measure.IN_USE_SHARE, block.pk),
        }
        for block in blocks
    ]


def agreement_rows(
    agreements: Sequence[ResultAgreement], shares: dict
) -> list[dict[str, Any]]:
    """Per agreement: the share of municipalities meeting it, province and country."""
    return [
        {
            "number": agreement.number,
            "agreement": f"{agreement.number}. {localized_attr(agreement, 'title')}",
            "url": agreement.get_absolute_url(),
            "deadline": agreement.deadline,
            **_province_and_national(shares, Measure.COMPLIANCE_SHARE, agreement.pk),
        }
        for agreement in agreements
    ]


def size_class_rows(
    province: Province, scores: Sequence[queries.GroupedScore]
) -> list[dict[str, Any]]:
    """Per size class: the spread of scores in the province, and the national median."""
    in_province = spreads_by(
        (s.size_class, s.score) for s in scores if s.province == province.slug
    )
    national = spreads_by((s.size_class, s.score) for s in scores)
    return [
        {
            "size_class": size_class_label(code),
            "order": i,
            **_spread_columns(in_province.get(code)),
            "national_median": national[code].median if code in national else None,
        }
        for i, code in enumerate(SIZE_CLASS_ORDER)
    ]


def province_spread(
    province: Province, scores: Sequence[queries.GroupedScore]
) -> tuple[Spread | None, Spread | None]:
    """(the province's spread, the country's spread) of the scores."""
    return (
        spread(s.score for s in scores if s.province == province.slug),
        spread(s.score for s in scores),
    )


def detail_rows(province: Province) -> dict[str, Any]:
    """Every table of a province's page. Five queries."""
    scores = queries.scores_with_groups()
    shares = _shares(province)
    blocks = list(BuildingBlock.objects.filter(active=True))
    agreements = list(ResultAgreement.objects.order_by("number"))
    return {
        "scores": scores,
        "blocks": blocks,
        "municipalities": municipality_rows(province),
        "block_rows": block_rows(blocks, shares),
        "agreement_rows": agreement_rows(agreements, shares),
        "size_class_rows": size_class_rows(province, scores),
    }


def detail_charts(province: Province, rows: dict[str, Any]) -> dict[str, Any]:
    """The charts and headline figures of a province's page; no queries."""
    scores = rows["scores"]
    in_province, national = province_spread(province, scores)
    boxes = [
        charts.Box(province.name, in_province, emphasis=True),
        charts.Box(_("Netherlands"), national),
    ]
    summary = (
        _(
            "The median municipality in %(province)s scores %(median)s, nationally "
            "%(national)s; the middle half scores %(q1)s to %(q3)s (nationally "
            "%(national_q1)s to %(national_q3)s)."
        )
        % {
            "province": province.name,
            "median": number(in_province.median, 1),
            "national": number(national.median, 1),
            "q1": number(in_province.q1, 1),
            "q3": number(in_province.q3, 1),
            "national_q1": number(national.q1, 1),
            "national_q3": number(national.q3, 1),
        }
        if in_province is not None and national is not None
        else _("No scores in %(province)s yet.") % {"province": province.name}
    )
    spread_chart = charts.box_plot(
        chart_id="chart-province-spread",
        caption=_("Spread of adoption scores: %(province)s and the Netherlands")
        % {"province": province.name},
        summary=summary,
        boxes=boxes,
        label_header=_("Area"),
    )
    block_chart = charts.grouped_bar_chart(
        chart_id="chart-province-blocks",
        caption=_("Building blocks in use: %(province)s and the Netherlands")
        % {"province": province.name},
        summary=_(
            "The share of municipalities using each building block, in %(province)s "
            "and nationally."
        )
        % {"province": province.name},
        groups=[
            charts.Group(
                row["block"],
                [as_percent(row["province_share"]), as_percent(row["national_share"])],
            )
            for row in rows["block_rows"]
        ],
        series=[province.name, _("Netherlands")],
        label_header=_("Building block"),
    )
    return {
        "in_province": in_province,
        "national": national,
        "spread_chart": spread_chart,
        "size_chart": size_class_spread_chart(
            scores, chart_id="chart-province-size", province=province
        ),
        "block_chart": block_chart,
    }
