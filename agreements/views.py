"""Views of the agreements app."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from django_tables2 import SingleTableView

from agreements.models import ResultAgreement
from agreements.tables import LaggardTable, ResultAgreementTable
from municipalities.queries import agreement_rows
from nupportal.exports import SafeExportMixin
from nupportal.pagination import pagination
from scoring import projections
from scoring.dashboards import MissingBlocks, agreement_context, snapshot_trend
from scoring.models import LAGGING_STATUSES, AgreementCompliance, Measure
from scoring.projections import MissRule


class ResultAgreementListView(SafeExportMixin, SingleTableView):
    """/resultaatafspraken/: every agreement with its deadline and compliance."""

    table_class = ResultAgreementTable
    table_pagination = False
    export_name = _("result agreements")

    def get_queryset(self):
        return agreement_rows()


class ResultAgreementDetailView(SafeExportMixin, SingleTableView):
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
        """The agreement's monthly compliance snapshots: for the charts and the
        "will miss the deadline" column (two queries, once)."""
        return snapshot_trend(Measure.COMPLIANCE_SHARE, agreement=self.object)

    def get_table(self, **kwargs):
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
            context["revisions"] = list(
                self.object.revisions.order_by("decided_on", "id")
            )
            context.update(
                agreement_context(
                    self.object,
                    revisions=context["revisions"],
                    snapshot_rows=self.compliance_rows,
                )
            )
        return context
