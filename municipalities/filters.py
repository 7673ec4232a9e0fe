"""Filters of the municipality list and the matrix; every value lives in the URL."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

import django_filters

from agreements.models import ResultAgreement
from buildingblocks.levels import Category, Level
from buildingblocks.models import BuildingBlock
from municipalities.models import Municipality, Province
from municipalities.queries import NOT_IN_USE, filter_block_level, filter_compliance
from municipalities.sizeclasses import SizeClass
from scoring.history import Standing
from scoring.models import ComplianceStatus

LEVEL_FILTER_CHOICES = [*Level.choices, (NOT_IN_USE, _("Not yet in use"))]


class PairedFilterForm(forms.Form):
    """Block and level (and agreement and status) only mean something together."""

    def clean(self):
        cleaned = super().clean()
        if bool(cleaned.get("block")) != bool(cleaned.get("level")) and not (
            self.has_error("block") or self.has_error("level")
        ):
            raise forms.ValidationError(
                _("Choose both a building block and a level."), code="pair"
            )
        if (
            cleaned.get("agreement")
            and not cleaned.get("compliance")
            and not self.has_error("compliance")
        ):
            self.add_error(
                "compliance", _("Choose the status the agreement should have.")
            )
        score_min, score_max = cleaned.get("score_min"), cleaned.get("score_max")
        if score_min is not None and score_max is not None and score_min > score_max:
            self.add_error(
                "score_max", _("The highest score must not be below the lowest.")
            )
        return cleaned


# The filters that need no figures: applied in SQL on any date.
PLACE_FILTERS = ("q", "province", "size_class")


def _score_bound(label: str, lookup_expr: str) -> django_filters.NumberFilter:
    """One end of the adoption score range, a number from 0 to 100."""
    return django_filters.NumberFilter(
        label=label,
        field_name="adoption_score",
        lookup_expr=lookup_expr,
        min_value=0,
        max_value=100,
    )


class PlaceAndLevelFilterSet(django_filters.FilterSet):
    """The filters the list and the matrix share: place, size class, a block's level.

    Each subclass lists its own `Meta.fields`; that list, not the class
    hierarchy, gives the order of the form's fields.
    """

    province = django_filters.ModelChoiceFilter(
        label=_("Province"),
        queryset=Province.objects.all(),
        to_field_name="slug",
        empty_label=_("All provinces"),
    )
    size_class = django_filters.ChoiceFilter(
        label=_("Size class"),
        choices=SizeClass.choices,
        empty_label=_("All size classes"),
    )
    block = django_filters.ModelChoiceFilter(
        label=_("Building block"),
        queryset=BuildingBlock.objects.filter(active=True),
        to_field_name="code",
        empty_label=_("Any building block"),
        method="filter_paired",
    )
    level = django_filters.ChoiceFilter(
        label=_("Level"),
        choices=LEVEL_FILTER_CHOICES,
        empty_label=_("Any level"),
        method="filter_paired",
    )

    class Meta:
        model = Municipality
        fields = ["province", "size_class", "block", "level"]
        form = PairedFilterForm

    def filter_paired(self, queryset: QuerySet, name: str, value) -> QuerySet:
        # Applied once, in filter_queryset, where both halves of a pair are known.
        return queryset

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        queryset = super().filter_queryset(queryset)
        data = self.form.cleaned_data
        if data.get("block") and data.get("level"):
            queryset = filter_block_level(queryset, data["block"], data["level"])
        return queryset


class MunicipalityFilterSet(PlaceAndLevelFilterSet):
    """Filters of /gemeenten/: search, place, size, score, block level and agreements.

    With a reference date `on` the score, level and agreement filters apply to
    the figures rebuilt from the history (`matches`), not to today's columns;
    the form, its validation and the place filters stay the same.
    """

    q = django_filters.CharFilter(
        label=_("Name or CBS code"), method="search", max_length=100
    )
    score_min = _score_bound(_("Score at least"), "gte")
    score_max = _score_bound(_("Score at most"), "lte")
    agreement = django_filters.ModelChoiceFilter(
        label=_("Result agreement"),
        queryset=ResultAgreement.objects.all(),
        to_field_name="number",
        empty_label=_("Any agreement"),
        method="filter_paired",
    )
    compliance = django_filters.ChoiceFilter(
        label=_("Agreement status"),
        choices=ComplianceStatus.choices,
        empty_label=_("Any status"),
        method="filter_paired",
    )

    class Meta(PlaceAndLevelFilterSet.Meta):
        fields = [
            "q",
            "province",
            "size_class",
            "score_min",
            "score_max",
            "block",
            "level",
            "agreement",
            "compliance",
        ]

    def __init__(self, *args, on: datetime.date | None = None, **kwargs) -> None:
        self.on = on
        super().__init__(*args, **kwargs)

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(cbs_code__iexact=value))

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        if self.on is not None:
            for name in PLACE_FILTERS:
                value = self.form.cleaned_data.get(name)
                queryset = self.filters[name].filter(queryset, value)
            return queryset
        queryset = super().filter_queryset(queryset)
        data = self.form.cleaned_data
        if data.get("compliance"):
            queryset = filter_compliance(
                queryset, data.get("agreement"), data["compliance"]
            )
        return queryset

    def matches(
        self, municipalities: Iterable[Municipality], standings: dict[int, Standing]
    ) -> list[tuple[Municipality, Standing]]:
        """The municipalities whose figures on the reference date pass the filters.

        Municipalities without a standing did not exist on that date.
        """
        data = self.form.cleaned_data
        low, high = data.get("score_min"), data.get("score_max")
        block, level = data.get("block"), data.get("level")
        agreement, compliance = data.get("agreement"), data.get("compliance")
        kept = []
        for municipality in municipalities:
            standing = standings.get(municipality.pk)
            if standing is None:
                continue
            score = standing.score
            if low is not None and (score is None or score < low):
                continue
            if high is not None and (score is None or score > high):
                continue
            if block and level and not _has_level(standing, block.pk, level):
                continue
            if compliance and not _has_status(standing, agreement, compliance):
                continue
            kept.append((municipality, standing))
        return kept


def _has_level(standing: Standing, block_id: int, level: str) -> bool:
    # The same meaning as municipalities.queries.filter_block_level.
    current = standing.states.get(block_id)
    actual = current.level if current else Level.NOT_STARTED
    if level == NOT_IN_USE:
        return actual not in (Level.IN_USE, Level.NOT_APPLICABLE)
    return actual == level


def _has_status(standing: Standing, agreement, status: str) -> bool:
    # The same meaning as municipalities.queries.filter_compliance.
    if agreement is not None:
        return standing.statuses.get(agreement.pk) == status
    return status in standing.statuses.values()


class MatrixFilterSet(PlaceAndLevelFilterSet):
    """Filters of /matrix/: province, size class, a block's level (rows) and a category.

    The category narrows the columns, not the rows: the view reads it from
    `block_category()`.
    """

    category = django_filters.ChoiceFilter(
        label=_("Building block category"),
        choices=Category.choices,
        empty_label=_("All categories"),
        method="filter_columns",
    )

    class Meta(PlaceAndLevelFilterSet.Meta):
        fields = ["province", "size_class", "category", "block", "level"]

    def filter_columns(self, queryset: QuerySet, name: str, value) -> QuerySet:
        return queryset

    def block_category(self) -> str:
        """The chosen category ("" for all); valid only after the form validated."""
        if self.is_bound and self.form.is_valid():
            return self.form.cleaned_data.get("category") or ""
        return ""
