"""The list of earlier reports."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

import django_tables2 as tables

from municipalities.tables import NumberColumn
from reports.models import Report


class ReportTable(tables.Table):
    kind = tables.Column(verbose_name=_("Report"), linkify=True)
    parameters = tables.TemplateColumn(
        template_name="reports/includes/parameters_cell.html",
        verbose_name=_("Parameters"),
        orderable=False,
    )
    state = tables.TemplateColumn(
        template_name="reports/includes/state_cell.html", verbose_name=_("State")
    )
    requested_by = tables.Column(verbose_name=_("Requested by"))
    requested_at = tables.DateTimeColumn(verbose_name=_("Requested at"))
    actions = tables.TemplateColumn(
        template_name="reports/includes/actions_cell.html",
        verbose_name=_("Actions"),
        orderable=False,
        empty_values=(),
    )

    class Meta:
        model = Report
        fields = ("kind", "parameters", "state", "requested_by", "requested_at")
        sequence = (*fields, "actions")
        order_by = ("-requested_at",)
        empty_text = _("No reports have been requested yet.")


class PlannedReminderTable(tables.Table):
    """This week's reminder mails, one row per municipality (agreements.reminders)."""

    name = tables.Column(
        verbose_name=_("Municipality"),
        linkify=lambda record: reverse(
            "reports:reminder-preview", kwargs={"slug": record.municipality.slug}
        ),
    )
    item_count = NumberColumn(verbose_name=_("Agreements at risk or overdue"))
    recipient_count = NumberColumn(verbose_name=_("Recipients"))
    earliest_deadline = tables.DateColumn(
        verbose_name=_("Earliest deadline"), short=False
    )

    class Meta:
        order_by = ("name",)
        empty_text = _("No reminder mails are planned this week.")
