"""Forms of the reports app: requesting a report, searching the reminder preview."""

from __future__ import annotations

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from municipalities.models import Municipality
from reports.models import Report


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class ReportRequestForm(forms.Form):
    """Which report, with the parameters that kind needs."""

    kind = forms.ChoiceField(label=_("Report"), choices=Report.Kind.choices)
    reference_date = forms.DateField(
        label=_("Reference date"),
        required=False,
        widget=DateInput(),
        help_text=_("Progress report: the date the figures describe (default: today)."),
    )
    comparison_date = forms.DateField(
        label=_("Comparison date"),
        required=False,
        widget=DateInput(),
        help_text=_(
            "Progress report: the earlier date to compare with (default: one year before the reference date)."
        ),
    )
    municipality = forms.ModelChoiceField(
        label=_("Municipality"),
        required=False,
        queryset=Municipality.objects.active().order_by("name"),
        help_text=_("Scorecard: the municipality it is about."),
    )

    def clean(self) -> dict:
        data = super().clean()
        kind = data.get("kind")
        today = timezone.localdate()
        if kind == Report.Kind.PROGRESS:
            reference = data.get("reference_date") or today
            comparison = data.get("comparison_date") or _one_year_before(reference)
            if reference > today:
                self.add_error(
                    "reference_date", _("The reference date cannot lie in the future.")
                )
            if comparison >= reference:
                self.add_error(
                    "comparison_date",
                    _("The comparison date must lie before the reference date."),
                )
            data["reference_date"], data["comparison_date"] = reference, comparison
        if kind == Report.Kind.SCORECARD and not data.get("municipality"):
            self.add_error("municipality", _("Choose the municipality."))
        return data

    def parameters(self) -> dict:
        """The JSON parameters stored on the Report for its kind."""
        data = self.cleaned_data
        kind = data["kind"]
        if kind == Report.Kind.PROGRESS:
            return {
                "reference_date": data["reference_date"].isoformat(),
                "comparison_date": data["comparison_date"].isoformat(),
            }
        if kind == Report.Kind.SCORECARD:
            municipality = data["municipality"]
            return {
                "municipality": municipality.pk,
                "municipality_name": municipality.name,
            }
        return {}


def _one_year_before(day: datetime.date) -> datetime.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


class ReminderFilterForm(forms.Form):
    """The search of the reminder preview list (GET, so a filtered list is a link)."""

    q = forms.CharField(
        label=_("Municipality name"), required=False, max_length=100, strip=True
    )
