"""Forms of the municipality pages that are not filters: the table options."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

# "All" is capped: the largest page still renders in one go (342 municipalities today).
ALL_ROWS = 400
PER_PAGE_CHOICES = [
    ("25", "25"),
    ("50", "50"),
    ("100", "100"),
    (str(ALL_ROWS), _("all")),
]


class TableOptionsForm(forms.Form):
    """Rows per page; a bad value is reported and the default is used."""

    per_page = forms.TypedChoiceField(
        label=_("Rows per page"),
        choices=PER_PAGE_CHOICES,
        coerce=int,
        required=False,
        empty_value=None,
    )

    def __init__(self, *args, default_per_page: int = 50, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.default_per_page = default_per_page
        self.fields["per_page"].initial = str(default_per_page)

    def rows_per_page_value(self) -> str:
        return str(self.rows_per_page())

    def rows_per_page(self) -> int:
        if self.is_bound and self.is_valid() and self.cleaned_data["per_page"]:
            return self.cleaned_data["per_page"]
        return self.default_per_page
