"""Filters of the municipality list and the matrix; every value lives in the URL."""

from __future__ import annotations

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


class MunicipalityFilterSet(django_filters.FilterSet):
    """Filters of /gemeenten/: search, place, size, score, block level and agreements."""

    q = django_filters.CharFilter(
        label=_("Name or CBS code"), method="search", max_length=100
    )
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
    score_min = django_filters.NumberFilter(
        label=_("Score at least"),
        field_name="adoption_score",
        lookup_expr="gte",
        min_value=0,
        max_value=100,
    )
    score_max = django_filters.NumberFilter(
        label=_("Score at most"),
        field_name="adoption_score",
        lookup_expr="lte",
        min_value=0,
        max_value=100,
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

    class Meta:
        model = Municipality
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
        form = PairedFilterForm

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(cbs_code__iexact=value))

    def filter_paired(self, queryset: QuerySet, name: str, value) -> QuerySet:
        # Applied once, in filter_queryset, where both halves of a pair are known.
        return queryset

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        queryset = super().filter_queryset(queryset)
        data = self.form.cleaned_data
        if data.get("block") and data.get("level"):
            queryset = filter_block_level(queryset, data["block"], data["level"])
        if data.get("compliance"):
            queryset = filter_compliance(
                queryset, data.get("agreement"), data["compliance"]
            )
        return queryset


class MatrixFilterSet(django_filters.FilterSet):
    """Filters of /matrix/: province, size class, a block's level (rows) and a category.

    The category narrows the columns, not the rows: the view reads it from
    `block_category()`.
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
    category = django_filters.ChoiceFilter(
        label=_("Building block category"),
        choices=Category.choices,
        empty_label=_("All categories"),
        method="filter_columns",
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
        fields = ["province", "size_class", "category", "block", "level"]
        form = PairedFilterForm

    def filter_columns(self, queryset: QuerySet, name: str, value) -> QuerySet:
        return queryset

    def filter_paired(self, queryset: QuerySet, name: str, value) -> QuerySet:
        return queryset

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        queryset = super().filter_queryset(queryset)
        data = self.form.cleaned_data
        if data.get("block") and data.get("level"):
            queryset = filter_block_level(queryset, data["block"], data["level"])
        return queryset

    def block_category(self) -> str:
        """The chosen category ("" for all); valid only after the form validated."""
        if self.is_bound and self.form.is_valid():
            return self.form.cleaned_data.get("category") or ""
        return ""
