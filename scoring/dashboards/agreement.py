"""The figures of a result agreement's page (statuses, trend, burn-up, map) and
the blocks its laggards still lack."""

from __future__ import annotations

import datetime

from django.db.models import Count, Max
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from agreements.models import ResultAgreement
from buildingblocks.levels import Level
from buildingblocks.models import AdoptionStatus
from nupportal.templatetags.portal import localized_attr
from scoring import charts, maps, projections, timetravel
from scoring.charts import Bar, number, percent
from scoring.dashboards.labels import count_share, line_labels
from scoring.dashboards.trends import snapshot_trend, trend_lines, trend_summary
from scoring.models import (
    LAGGING_STATUSES,
    AgreementCompliance,
    ComplianceStatus,
    Measure,
)
from scoring.rules import meets_minimum


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
            count_share(counts.get(s.value, 0), total),
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
    trend_series = trend_lines(snapshot_rows, scale=100.0)
    trend_chart = charts.line_chart(
        chart_id="chart-agreement-trend",
        caption=_("Share of municipalities meeting the agreement over time"),
        summary=trend_summary(trend_series, percent),
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
