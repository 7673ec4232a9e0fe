"""Views of the agreements app."""

from __future__ import annotations

import datetime

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from django_tables2 import SingleTableView

from agreements.models import DeadlineRevision, ResultAgreement
from agreements.tables import LaggardTable, ResultAgreementTable
from municipalities.queries import agreement_rows
from nupportal.exports import SafeExportMixin
from nupportal.pagination import pagination
from scoring import projections, timetravel
from scoring.dashboards import MissingBlocks, agreement_context, snapshot_trend
from scoring.models import (
    LAGGING_STATUSES,
    AgreementCompliance,
    ComplianceStatus,
    Measure,
    Scope,
)
from scoring.projections import MissRule
from scoring.rules import deadline_in_force


class ResultAgreementListView(
    SafeExportMixin, timetravel.PastDateTableMixin, SingleTableView
):
    """/resultaatafspraken/: every agreement with its deadline and compliance."""

    table_class = ResultAgreementTable
    table_pagination = False
    export_name = _("result agreements")

    def get_queryset(self):
        return agreement_rows()

    def rows_on(self, on: datetime.date) -> list[ResultAgreement]:
        return agreements_on(on)


class ResultAgreementDetailView(
    SafeExportMixin, timetravel.PastDateTableMixin, SingleTableView
):
    """/resultaatafspraken/<number>/: what was agreed, the deadline and its
    postponements, compliance (trend and map) and the laggards (exportable)."""

    table_class = LaggardTable
    template_name = "agreements/resultagreement_detail.html"
    table_pagination = pagination(per_page=50)

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        self.object = get_object_or_404(
            ResultAgreement.objects.with_deadline_source(), number=kwargs["number"]
        )
        self.requirements = list(
            self.object.requirements.current()
            .select_related("block")
            .order_by("block__order", "block__code")
        )
        return super().dispatch(request, *args, **kwargs)

    @property
    def export_name(self) -> str:
        return f"{_('agreement')}-{self.object.number}-{_('laggards')}"

    def get_queryset(self):
        return AgreementCompliance.objects.filter(
            agreement=self.object,
            status__in=LAGGING_STATUSES,
            municipality__active=True,
        ).select_related("municipality__province")

    @cached_property
    def compliance_rows(self) -> list:
        """The agreement's monthly compliance snapshots up to the reference date:
        for the charts and the "will miss the deadline" column (two queries, once)."""
        return snapshot_trend(
            Measure.COMPLIANCE_SHARE,
            agreement=self.object,
            until=timetravel.requested(self.request),
        )

    def _past(self) -> timetravel.Reconstruction | None:
        past = timetravel.standings_of_request(self.request)
        if past is not None:
            # The deadline in force on that day.
            self.object.deadline = past.deadlines.get(
                self.object.pk, self.object.deadline
            )
        return past

    def rows_on(self, on: datetime.date) -> list[AgreementCompliance]:
        # That day's laggards, as unsaved compliance rows (the municipality's id
        # as pk: the "what is missing" column reads it).
        past = self._past()
        return [
            AgreementCompliance(
                id=municipality.pk,
                municipality=municipality,
                agreement=self.object,
                status=past.standings[municipality.pk].statuses[self.object.pk],
            )
            for municipality in timetravel.municipalities_on(on).order_by("name")
            if municipality.pk in past.standings
            and past.standings[municipality.pk].statuses.get(self.object.pk)
            in LAGGING_STATUSES
        ]

    def get_table(self, **kwargs):
        past = self._past()
        if past is not None:
            table = super().get_table(**kwargs)
            table.missing_by_municipality = MissingBlocks.on_date(
                self.requirements, past.standings
            )
            return table
        table = super().get_table(**kwargs)
        table.miss_rule = MissRule(
            self.object.deadline,
            timezone.localdate(),
            projections.class_crossings(
                projections.forecasts_for(self.compliance_rows)
            ),
        )
        # The page shows 50 laggards: load what they miss, not what all miss
        # (an export has every row).
        page = getattr(table, "page", None)
        shown = (
            None
            if page is None or self.is_export_request()
            else [row.record.municipality_id for row in page.object_list]
        )
        table.missing_by_municipality = MissingBlocks(
            self.object, self.requirements, shown
        )
        return table

    def get_context_data(self, **kwargs) -> dict:
        context = super().get_context_data(**kwargs)
        context["object"] = context["resultagreement"] = self.object
        context["requirements"] = self.requirements
        if not self.is_export_request():
            on = timetravel.requested(self.request)
            revisions = self.object.revisions.order_by("decided_on", "id")
            if on is not None:
                # Only the postponements decided by then.
                revisions = revisions.filter(decided_on__lte=on)
            context["revisions"] = list(revisions)
            context.update(
                agreement_context(
                    self.object,
                    on,
                    self._past(),
                    revisions=context["revisions"],
                    snapshot_rows=self.compliance_rows,
                )
            )
        return context


def agreements_on(on: datetime.date) -> list[ResultAgreement]:
    """The agreements with the columns agreement_rows() annotates, on a past date.

    Deadline in force, postponements decided by then, and that day's national
    compliance share, denominator, exemptions and overdue count (the figures of
    scoring.timetravel).
    """
    national = {
        (measure, agreement_id, status or ""): value
        for scope, _k, measure, _b, agreement_id, status, value in (
            timetravel.figures(on)
        )
        if scope == Scope.NATIONAL and agreement_id is not None
    }
    postponed: dict[int, int] = {}
    decided: dict[int, list[tuple[datetime.date, datetime.date]]] = {}
    for agreement_id, decided_on, old, new in (
        DeadlineRevision.objects.filter(decided_on__lte=on)
        .order_by("decided_on", "id")
        .values_list("agreement_id", "decided_on", "old_deadline", "new_deadline")
    ):
        decided.setdefault(agreement_id, []).append((decided_on, new))
        postponed[agreement_id] = postponed.get(agreement_id, 0) + (new > old)
    agreements = list(
        ResultAgreement.objects.with_deadline_source()
        .prefetch_related("requirements__block")
        .order_by("number")
    )
    for a in agreements:
        a.deadline = deadline_in_force(a.original_deadline, decided.get(a.pk, []), on)
        a.times_postponed = postponed.get(a.pk, 0)
        a.compliance_share = national.get((Measure.COMPLIANCE_SHARE, a.pk, ""))
        a.applicable = national.get((Measure.APPLICABLE, a.pk, ""))
        a.exempted = national.get((Measure.EXEMPTED, a.pk, ""))
        a.overdue_count = int(
            national.get((Measure.STATUS_COUNT, a.pk, ComplianceStatus.OVERDUE)) or 0
        )
    return agreements
