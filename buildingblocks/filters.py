"""Filters of the buildingblocks app."""

from __future__ import annotations

from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

import django_filters

from buildingblocks.levels import Level
from buildingblocks.models import AdoptionStatus, BuildingBlock, StatusChange
from municipalities.sizeclasses import SizeClass


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class StatusChangeFilterSet(django_filters.FilterSet):
    """Filters of a municipality's history: text, block, source and a date range.

    The range is two separate, separately labelled dates (not one range widget),
    so each input has its own label.
    """

    q = django_filters.CharFilter(label=_("Search"), method="search")
    block = django_filters.ModelChoiceFilter(
        label=_("Building block"),
        queryset=BuildingBlock.objects.order_by("order", "code"),
        to_field_name="code",
        empty_label=_("All building blocks"),
    )
    source = django_filters.ChoiceFilter(
        label=_("Source"),
        choices=StatusChange.Source.choices,
        empty_label=_("All sources"),
    )
    date_from = django_filters.DateFilter(
        label=_("From"),
        field_name="changed_at",
        lookup_expr="date__gte",
        widget=DateInput,
    )
    date_to = django_filters.DateFilter(
        label=_("Up to and including"),
        field_name="changed_at",
        lookup_expr="date__lte",
        widget=DateInput,
    )

    class Meta:
        model = StatusChange
        fields = ["q", "block", "source", "date_from", "date_to"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """Words in the note, the block's name or code, or the user name."""
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(note__icontains=value)
            | Q(block__name__icontains=value)
            | Q(block__name_en__icontains=value)
            | Q(block__code__icontains=value)
            | Q(changed_by__username__icontains=value)
        )


class BlockStatusFilterSet(django_filters.FilterSet):
    """Filters of the municipalities on a building block's page: level and size class."""

    level = django_filters.ChoiceFilter(
        label=_("Level"), choices=Level.choices, empty_label=_("All levels")
    )
    size_class = django_filters.ChoiceFilter(
        label=_("Size class"),
        field_name="municipality__size_class",
        choices=SizeClass.choices,
        empty_label=_("All size classes"),
    )

    class Meta:
        model = AdoptionStatus
        fields = ("level", "size_class")
