"""Tables of the buildingblocks app."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

import django_tables2 as tables

from buildingblocks.models import AdoptionStatus, BuildingBlock, StatusChange
from municipalities.tables import MunicipalityRowTable, NumberColumn, PercentColumn
from nupportal.templatetags.portal import level_badge, localized_attr


class StatusChangeTable(tables.Table):
    """The history of one municipality (/gemeenten/<slug>/geschiedenis/); read-only."""

    changed_at = tables.DateTimeColumn(
        verbose_name=_("When"), format="SHORT_DATETIME_FORMAT", orderable=True
    )
    block = tables.Column(verbose_name=_("Building block"), orderable=False)
    level = tables.Column(verbose_name=_("Level"), accessor="to_level", orderable=False)
    planned = tables.Column(
        verbose_name=_("Planned date"), accessor="to_planned_date", orderable=False
    )
    achieved = tables.Column(
        verbose_name=_("Achieved date"), accessor="to_achieved_date", orderable=False
    )
    changed_by = tables.Column(verbose_name=_("By"), orderable=False, default="—")
    source = tables.Column(verbose_name=_("Source"), orderable=False)
    note = tables.Column(verbose_name=_("Note"), orderable=False, default="")

    class Meta:
        model = StatusChange
        fields = (
            "changed_at",
            "block",
            "level",
            "planned",
            "achieved",
            "changed_by",
            "source",
            "note",
        )
        order_by = ("-changed_at",)
        empty_text = _("No changes recorded yet.")

    def render_block(self, value) -> str:
        return localized_attr(value, "name")

    def render_level(self, record: StatusChange) -> str:
        return _change(
            _badge(record.from_level) if record.from_level else "—",
            _badge(record.to_level),
            changed=record.from_level != record.to_level,
        )

    def render_planned(self, record: StatusChange) -> str:
        return _date_change(record.from_planned_date, record.to_planned_date)

    def render_achieved(self, record: StatusChange) -> str:
        return _date_change(record.from_achieved_date, record.to_achieved_date)

    def render_changed_by(self, value) -> str:
        return value.get_username()


def _badge(level: str) -> str:
    return render_to_string("includes/level.html", level_badge(level))


def _change(before, after, *, changed: bool) -> str:
    if not changed:
        return after
    return format_html(
        '{} <span aria-hidden="true">→</span><span class="visually-hidden"> {} </span>{}',
        before,
        _("changed to"),
        after,
    )


def _date_change(before, after) -> str:
    def show(value):
        return date_format(value, "SHORT_DATE_FORMAT") if value else "—"

    if before == after:
        return show(after) if after else ""
    return _change(show(before), show(after), changed=True)


class BuildingBlockTable(tables.Table):
    """/bouwstenen/: the national figures per building block."""

    name = tables.Column(verbose_name=_("Building block"), linkify=True)
    category = tables.Column(verbose_name=_("Category"))
    owner = tables.Column(verbose_name=_("Owner"))
    in_use_share = PercentColumn(verbose_name=_("Municipalities in use"))
    applicable = NumberColumn(
        verbose_name=_("Of municipalities (applicable)"), count=True
    )
    coverage = PercentColumn(verbose_name=_("Inhabitants covered"))
    confidence = tables.Column(verbose_name=_("Confidence of the source"))

    class Meta:
        model = BuildingBlock
        fields = (
            "name",
            "category",
            "owner",
            "in_use_share",
            "applicable",
            "coverage",
            "confidence",
        )
        order_by = ("category", "name")
        default = "—"
        empty_text = _("No building blocks have been loaded.")

    def render_name(self, record: BuildingBlock) -> str:
        return localized_attr(record, "name")

    def value_name(self, record: BuildingBlock) -> str:
        return localized_attr(record, "name")


class BlockStatusTable(MunicipalityRowTable):
    """/bouwstenen/<code>/: the municipalities and their level of this block."""

    level = tables.Column(verbose_name=_("Level"))
    planned_date = tables.DateColumn(verbose_name=_("Planned date"), short=True)
    achieved_date = tables.DateColumn(verbose_name=_("Achieved date"), short=True)

    class Meta:
        model = AdoptionStatus
        fields = (
            "municipality",
            "province",
            "size_class",
            "level",
            "planned_date",
            "achieved_date",
        )
        order_by = ("municipality",)
        default = "—"
        empty_text = _("No municipality matches these filters.")

    def render_level(self, record: AdoptionStatus) -> str:
        return _badge(record.level)

    def value_level(self, record: AdoptionStatus) -> str:
        return str(record.get_level_display())
