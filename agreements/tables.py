"""Tables of the agreements app."""

from __future__ import annotations

from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

import django_tables2 as tables

from agreements.models import ResultAgreement
from municipalities.tables import MunicipalityRowTable, NumberColumn, PercentColumn
from nupportal.templatetags.portal import compliance_badge, localized_attr
from scoring.models import AgreementCompliance


class ResultAgreementTable(tables.Table):
    """/resultaatafspraken/: deadlines and national compliance per agreement."""

    number = NumberColumn(verbose_name=_("No."))
    title = tables.Column(verbose_name=_("Result agreement"), linkify=True)
    required_blocks = tables.Column(
        verbose_name=_("Required building blocks"), accessor="pk", orderable=False
    )
    deadline = tables.DateColumn(verbose_name=_("Current deadline"), short=True)
    times_postponed = NumberColumn(verbose_name=_("Times postponed"))
    compliance_share = PercentColumn(verbose_name=_("Municipalities that meet it"))
    applicable = NumberColumn(
        verbose_name=_("Of municipalities (applicable)"), count=True
    )
    exempted = NumberColumn(verbose_name=_("Of which on an exemption"), count=True)
    overdue_count = NumberColumn(verbose_name=_("Municipalities overdue"))

    class Meta:
        model = ResultAgreement
        fields = (
            "number",
            "title",
            "required_blocks",
            "deadline",
            "times_postponed",
            "compliance_share",
            "applicable",
            "exempted",
            "overdue_count",
        )
        order_by = ("number",)
        default = "—"
        empty_text = _("No result agreements have been loaded.")

    def render_title(self, record: ResultAgreement) -> str:
        return localized_attr(record, "title")

    def value_title(self, record: ResultAgreement) -> str:
        return localized_attr(record, "title")

    def render_required_blocks(self, record: ResultAgreement) -> str:
        # requirements__block is prefetched: no query per row.
        return (
            format_html_join(
                ", ",
                "{}",
                ((localized_attr(r.block, "name"),) for r in record.requirements.all()),
            )
            or "—"
        )

    def value_required_blocks(self, record: ResultAgreement) -> str:
        return ", ".join(
            localized_attr(r.block, "name") for r in record.requirements.all()
        )


class LaggardTable(MunicipalityRowTable):
    """/resultaatafspraken/<number>/: overdue and at-risk municipalities.

    `missing_by_municipality` (municipality id → text, see
    scoring.dashboards.MissingBlocks) is set by the view from one query; the column
    says which required blocks are below their minimum level.
    """

    status = tables.Column(verbose_name=_("Status"))
    reason = tables.Column(verbose_name=_("Reason"))
    lapsed_on = tables.DateColumn(verbose_name=_("Date passed"), short=True)
    missing = tables.Column(
        verbose_name=_("What is missing"), accessor="pk", orderable=False
    )
    will_miss = tables.Column(
        verbose_name=_("Will miss the deadline"), accessor="pk", orderable=False
    )

    missing_by_municipality = {}
    # scoring.projections.MissRule, set by the view (no query per row).
    miss_rule = None

    class Meta:
        model = AgreementCompliance
        fields = (
            "municipality",
            "province",
            "size_class",
            "status",
            "reason",
            "lapsed_on",
            "missing",
            "will_miss",
        )
        order_by = ("-status", "municipality")
        default = "—"
        empty_text = _("No municipality is overdue or at risk.")

    def render_status(self, record: AgreementCompliance) -> str:
        return compliance_badge(record.status)

    def value_status(self, record: AgreementCompliance) -> str:
        return str(record.get_status_display())

    def render_reason(self, record: AgreementCompliance) -> str:
        return str(record.get_reason_display())

    def render_missing(self, record: AgreementCompliance) -> str:
        return self.missing_by_municipality.get(record.municipality_id) or "—"

    def value_missing(self, record: AgreementCompliance) -> str:
        return self.missing_by_municipality.get(record.municipality_id)

    def value_will_miss(self, record: AgreementCompliance) -> str:
        if self.miss_rule is None:
            return ""
        return self.miss_rule.text(
            record.status, record.reason, record.municipality.size_class
        )

    def render_will_miss(self, record: AgreementCompliance) -> str:
        text = self.value_will_miss(record)
        return _("Yes: %(reason)s") % {"reason": text} if text else "—"
