"""The municipality table of /gemeenten/ (also its CSV/XLSX export)."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import F, QuerySet
from django.utils.translation import gettext_lazy as _

import django_tables2 as tables

from municipalities.models import Municipality
from municipalities.sizeclasses import SizeClass
from nupportal.formats import display_value, format_number, format_percent

__all__ = ["format_number"]  # imported from here by older callers


class NumberColumn(tables.Column):
    """Right-aligned number, grouped per language on the page.

    With `decimal_pos` it rounds (half-up): exports then hold the rounded value
    as shown and, beside it, the exact one (nupportal.exports). A `count` is a
    whole number that may be stored as a float (the aggregates): shown and
    exported as an int, with no "(exact)" column, since nothing is rounded away.
    """

    def __init__(
        self, *args, decimal_pos: int | None = None, count: bool = False, **kwargs
    ) -> None:
        self.decimal_pos = decimal_pos
        self.count = count
        attrs = kwargs.pop("attrs", {})
        attrs.setdefault("td", {"class": "num"})
        attrs.setdefault("th", {"class": "num"})
        super().__init__(*args, attrs=attrs, **kwargs)

    @property
    def rounds(self) -> bool:
        return self.decimal_pos is not None

    def render(self, value) -> str:
        if self.count:
            return format_number(display_value(value, 0))
        return format_number(value, self.decimal_pos)

    def value(self, value):
        if self.count:
            return display_value(value, 0)
        return display_value(value, self.decimal_pos) if self.rounds else value

    def exact(self, value):
        return value


# Population bounds of each size class, for a compact column.
SIZE_CLASS_BOUNDS = {
    SizeClass.XS: (None, 10_000),
    SizeClass.S: (10_000, 20_000),
    SizeClass.M: (20_000, 50_000),
    SizeClass.L: (50_000, 100_000),
    SizeClass.XL: (100_000, None),
}


def short_size_class(size_class: str) -> str:
    """'20.000–50.000' (per language) instead of the long label; '< 10.000', '≥ 100.000'."""
    lower, upper = SIZE_CLASS_BOUNDS.get(size_class, (None, None))
    if lower is None and upper is None:
        return size_class
    if lower is None:
        return f"< {format_number(upper)}"
    if upper is None:
        return f"≥ {format_number(lower)}"
    return f"{format_number(lower)}–{format_number(upper)}"


class MunicipalityTable(tables.Table):
    name = tables.Column(verbose_name=_("Municipality"), linkify=True)
    cbs_code = tables.Column(verbose_name=_("CBS code"))
    province = tables.Column(verbose_name=_("Province"), order_by="province__name")
    size_class = tables.Column(
        verbose_name=_("Size class"), attrs={"td": {"class": "nowrap"}}
    )
    population = NumberColumn(verbose_name=_("Population"))
    adoption_score = NumberColumn(verbose_name=_("Adoption score"), decimal_pos=1)
    agreements_met = NumberColumn(verbose_name=_("Agreements met"))
    agreements_at_risk = NumberColumn(verbose_name=_("At risk"))
    agreements_overdue = NumberColumn(verbose_name=_("Overdue"))
    last_status_update = tables.DateColumn(verbose_name=_("Last update"), short=True)
    # Not shown on the page (the method page explains it); exports carry it.
    method_version = tables.Column(verbose_name=_("Method version"), visible=False)

    class Meta:
        model = Municipality
        fields = (
            "name",
            "cbs_code",
            "province",
            "size_class",
            "population",
            "adoption_score",
            "agreements_met",
            "agreements_at_risk",
            "agreements_overdue",
            "last_status_update",
            "method_version",
        )
        order_by = ("name",)
        default = "—"
        empty_text = _("No municipality matches these filters.")
        attrs = {"class": "table table--municipalities"}

    def render_size_class(self, value, record: Municipality) -> str:
        return short_size_class(record.size_class)

    def value_size_class(self, record: Municipality) -> str:
        return record.get_size_class_display()

    @staticmethod
    def _nulls_last(queryset: QuerySet, field: str, is_descending: bool):
        expression = (
            F(field).desc(nulls_last=True)
            if is_descending
            else F(field).asc(nulls_last=True)
        )
        return queryset.order_by(expression, "name"), True

    def order_adoption_score(self, queryset, is_descending):
        return self._nulls_last(queryset, "adoption_score", is_descending)

    def order_last_status_update(self, queryset, is_descending):
        return self._nulls_last(queryset, "last_status_update", is_descending)


class PercentColumn(tables.Column):
    """A share 0–1 shown as a percentage; exported as the percentage, rounded and exact."""

    rounds = True

    def __init__(self, *args, decimal_pos: int = 0, **kwargs) -> None:
        self.decimal_pos = decimal_pos
        attrs = kwargs.pop("attrs", {})
        attrs.setdefault("td", {"class": "num"})
        attrs.setdefault("th", {"class": "num"})
        super().__init__(*args, attrs=attrs, **kwargs)

    def render(self, value) -> str:
        return format_percent(value, self.decimal_pos)

    def value(self, value):
        # The percentage as shown on the page, so the file and the page agree.
        return display_value(self.exact(value), self.decimal_pos)

    def exact(self, value) -> float:
        # Through Decimal: 0.145 * 100 is 14.499999999999998 in binary floats.
        return float(Decimal(repr(float(value))) * 100)

    def order(self, queryset, is_descending: bool):
        field = self.accessor.replace(".", "__")
        expression = (
            F(field).desc(nulls_last=True)
            if is_descending
            else F(field).asc(nulls_last=True)
        )
        return queryset.order_by(expression), True


class MunicipalityRowTable(tables.Table):
    """Base for tables of rows that belong to one municipality (status, compliance).

    Gives the municipality (linked), its province and its size class, sorted by
    population; subclasses add their own columns and list all of them in Meta.fields.
    """

    municipality = tables.Column(
        verbose_name=_("Municipality"),
        linkify=lambda record: record.municipality.get_absolute_url(),
        order_by="municipality__name",
    )
    province = tables.Column(
        verbose_name=_("Province"),
        accessor="municipality__province__name",
        order_by="municipality__province__name",
    )
    size_class = tables.Column(
        verbose_name=_("Size class"),
        accessor="municipality__size_class",
        order_by="municipality__population",
    )

    def render_size_class(self, record) -> str:
        return record.municipality.get_size_class_display()

    def value_size_class(self, record) -> str:
        return str(record.municipality.get_size_class_display())


# --- the province dashboard (rows from municipalities.provinces) ---------------


def _link(record) -> str:
    return record["url"]


class ScoreColumn(NumberColumn):
    """A score 0–100 with one decimal, as on the scorecard."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, decimal_pos=1, **kwargs)


# The order the spread columns stand in, after a table's own leading columns.
SPREAD_SEQUENCE = ("scored", "mean", "median", "minimum", "q1", "q3", "maximum")


class SpreadColumnsMixin(tables.Table):
    """Count, mean and five-number summary of a group's scores."""

    scored = NumberColumn(verbose_name=_("Municipalities with a score"))
    mean = ScoreColumn(verbose_name=_("Mean"))
    minimum = ScoreColumn(verbose_name=_("Minimum"))
    q1 = ScoreColumn(verbose_name=_("First quartile"))
    median = ScoreColumn(verbose_name=_("Median"))
    q3 = ScoreColumn(verbose_name=_("Third quartile"))
    maximum = ScoreColumn(verbose_name=_("Maximum"))


class ProvinceTable(SpreadColumnsMixin, tables.Table):
    """/provincies/: the twelve provinces with the spread of their scores."""

    province = tables.Column(verbose_name=_("Province"), linkify=_link)
    municipalities = NumberColumn(verbose_name=_("Municipalities"))

    class Meta:
        sequence = ("province", "municipalities", *SPREAD_SEQUENCE)
        order_by = ("province",)
        default = "—"
        attrs = {"class": "table table--provinces"}
        empty_text = _("No provinces have been loaded.")


class ProvinceMunicipalityTable(tables.Table):
    """The municipalities of one province, ranked by score within it."""

    rank = NumberColumn(verbose_name=_("Rank in the province"))
    name = tables.Column(verbose_name=_("Municipality"), linkify=_link)
    size_class = tables.Column(
        verbose_name=_("Size class"),
        attrs={"td": {"class": "nowrap"}},
        order_by=("population",),
    )
    population = NumberColumn(verbose_name=_("Population"))
    adoption_score = ScoreColumn(verbose_name=_("Adoption score"))
    national_rank = NumberColumn(verbose_name=_("Rank nationally"))
    agreements_met = NumberColumn(verbose_name=_("Agreements met"))
    agreements_overdue = NumberColumn(verbose_name=_("Overdue"))

    class Meta:
        sequence = (
            "name",
            "rank",
            "adoption_score",
            "national_rank",
            "size_class",
            "population",
            "agreements_met",
            "agreements_overdue",
        )
        default = "—"
        attrs = {"class": "table"}
        empty_text = _("This province has no municipalities.")

    def render_size_class(self, value) -> str:
        return short_size_class(value)

    def value_size_class(self, value) -> str:
        return str(SizeClass(value).label)


class ProvinceShareTable(tables.Table):
    """A share of the municipalities, in the province and nationally, per row."""

    province_share = PercentColumn(verbose_name=_("In the province"))
    national_share = PercentColumn(verbose_name=_("Nationally"))

    class Meta:
        # The subclass's own columns name the row; the two shares follow them.
        sequence = ("...", "province_share", "national_share")
        default = "—"
        attrs = {"class": "table"}


class ProvinceBlockTable(ProvinceShareTable):
    """Share of municipalities using each block, in the province and nationally."""

    block = tables.Column(verbose_name=_("Building block"), linkify=_link)

    class Meta(ProvinceShareTable.Meta):
        empty_text = _("No building blocks have been loaded.")


class ProvinceAgreementTable(ProvinceShareTable):
    """Share of municipalities meeting each agreement, in the province and nationally."""

    agreement = tables.Column(
        verbose_name=_("Agreement"), linkify=_link, order_by=("number",)
    )
    deadline = tables.DateColumn(verbose_name=_("Deadline"), short=True)

    class Meta(ProvinceShareTable.Meta):
        empty_text = _("No result agreements have been loaded.")


class ProvinceSizeClassTable(SpreadColumnsMixin, tables.Table):
    """The spread of scores per size class within the province."""

    size_class = tables.Column(
        verbose_name=_("Size class (inhabitants)"), order_by=("order",)
    )
    national_median = ScoreColumn(verbose_name=_("Median nationally"))

    class Meta:
        sequence = ("size_class", *SPREAD_SEQUENCE, "national_median")
        default = "—"
        attrs = {"class": "table"}
