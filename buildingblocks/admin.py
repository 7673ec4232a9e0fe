"""Admin for building blocks, adoption statuses and their (read-only) history."""

from __future__ import annotations

from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from buildingblocks.models import AdoptionStatus, BuildingBlock, StatusChange
from buildingblocks.services import StatusEdit, save_statuses
from buildingblocks.validation import StatusValues, validate_status
from municipalities.admin import KingStaffAdminMixin, ReadOnlyAdminMixin


@admin.register(BuildingBlock)
class BuildingBlockAdmin(KingStaffAdminMixin, admin.ModelAdmin):
    list_display = (
        "name",
        "code",
        "category",
        "owner",
        "weight",
        "order",
        "active",
        "confidence",
        "source",
    )
    list_filter = ("category", "confidence", "active")
    list_editable = ("order", "weight", "active")
    search_fields = ("code", "name", "name_en", "owner")
    fieldsets = (
        (None, {"fields": ("code", "name", "name_en", "category", "owner")}),
        (_("Description"), {"fields": ("description", "description_en")}),
        (_("Scoring"), {"fields": ("weight", "active", "order")}),
        (_("Provenance"), {"fields": ("source", "confidence")}),
    )


@admin.register(AdoptionStatus)
class AdoptionStatusAdmin(KingStaffAdminMixin, admin.ModelAdmin):
    """Corrections by KING staff; saved through the status service, so they enter the history."""

    list_display = (
        "municipality",
        "block",
        "level",
        "planned_date",
        "achieved_date",
        "updated_at",
        "updated_by",
    )
    list_filter = (
        "level",
        "block",
        "municipality__province",
        "municipality__size_class",
    )
    list_select_related = ("municipality", "block", "updated_by")
    search_fields = ("municipality__name", "municipality__cbs_code", "block__code")
    autocomplete_fields = ("municipality", "block")
    raw_id_fields = ("updated_by",)
    date_hierarchy = "updated_at"

    def get_readonly_fields(self, request, obj=None):
        fixed = ("updated_by", "updated_at", "version")
        # A status belongs to one municipality × block for good.
        return ("municipality", "block", *fixed) if obj else fixed

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        base_clean = form.clean

        def clean(form_self):
            # The same rules as the status editor and the import.
            data = base_clean(form_self)
            block = data.get("block") or (obj.block if obj else None)
            if block is not None and not block.active:
                form_self.add_error(None, _("This building block is not active."))
            if data.get("level"):
                errors = validate_status(_values(data), today=timezone.localdate())
                for field, messages in errors.items():
                    form_self.add_error(field or None, messages)
            return data

        form.clean = clean
        return form

    def save_model(self, request, obj: AdoptionStatus, form, change: bool) -> None:
        # Through the service: validation, locking, a StatusChange (source "admin")
        # and a score recompute, exactly as for the status editor.
        save_statuses(
            user=request.user,
            municipality=obj.municipality,
            changes=[
                StatusEdit(
                    block_code=obj.block.code,
                    version=obj.version if change else 0,
                    values=_values(form.cleaned_data),
                )
            ],
            source=StatusChange.Source.ADMIN,
        )
        saved = AdoptionStatus.objects.get(
            municipality_id=obj.municipality_id, block_id=obj.block_id
        )
        obj.pk = saved.pk
        obj.version = saved.version


def _values(data: dict) -> StatusValues:
    return StatusValues(
        level=data["level"],
        planned_date=data.get("planned_date"),
        achieved_date=data.get("achieved_date"),
        note=data.get("note") or "",
        evidence_url=data.get("evidence_url") or "",
    )


@admin.register(StatusChange)
class StatusChangeAdmin(ReadOnlyAdminMixin, KingStaffAdminMixin, admin.ModelAdmin):
    """Append-only history: nobody adds, changes or deletes it here, superusers neither."""

    list_display = (
        "changed_at",
        "municipality",
        "block",
        "from_level",
        "to_level",
        "source",
        "changed_by",
    )
    list_filter = ("source", "to_level", "block")
    list_select_related = ("municipality", "block", "changed_by")
    search_fields = (
        "municipality__name",
        "municipality__cbs_code",
        "block__code",
        "batch_id",
    )
    date_hierarchy = "changed_at"
    actions = None
