"""Admin for building blocks, adoption statuses, their (read-only) history and the
uploaded import files."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.http import HttpResponseRedirect
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from buildingblocks.models import (
    AdoptionStatus,
    BlockVersion,
    BuildingBlock,
    ImportBatch,
    StatusChange,
)
from buildingblocks.services import (
    InvalidStatusEdit,
    StatusConflict,
    StatusEdit,
    StatusValidationError,
    save_statuses,
)
from buildingblocks.validation import StatusValues, validate_status
from buildingblocks.versions import initial_versions, new_block_version
from nupportal.admin_mixins import (
    KingStaffAdminMixin,
    ReadOnlyAdminMixin,
    ReadOnlyInlineMixin,
    VersionStartFormMixin,
    ViewAndDeleteAdminMixin,
    version_start_field,
)
from scoring.tasks import enqueue_recompute_all


class BlockVersionInline(ReadOnlyInlineMixin, admin.TabularInline):
    """The block's weight and flag over time; a change makes a new version (below)."""

    model = BlockVersion
    fields = ("valid_from", "valid_until", "weight", "active")
    ordering = ("valid_from",)


class BuildingBlockAdminForm(VersionStartFormMixin, forms.ModelForm):
    """Weight and active flag are versioned: a change applies from a chosen date."""

    start_field = "versions_from"
    versions_from = version_start_field(
        _("Weight and active flag apply from"),
        _(
            "A changed weight or active flag becomes a new version from this date "
            "(empty: today). Figures of earlier dates keep the previous version."
        ),
    )

    class Meta:
        model = BuildingBlock
        fields = (
            "code",
            "name",
            "name_en",
            "category",
            "owner",
            "description",
            "description_en",
            "weight",
            "active",
            "order",
            "source",
            "confidence",
        )

    def clean(self) -> dict:
        data = super().clean()
        if not self.versioned_change():
            return data
        versions = []
        if self.instance.pk:
            versions = list(
                self.instance.versions.values_list("valid_from", "valid_until")
            )
        self.check_version_start(versions)
        return data

    def versioned_change(self) -> bool:
        return self.instance.pk is None or bool(
            {"weight", "active"} & set(self.changed_data)
        )


@admin.register(BuildingBlock)
class BuildingBlockAdmin(KingStaffAdminMixin, admin.ModelAdmin):
    form = BuildingBlockAdminForm
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
    # Weight and flag are edited on the block's page, where the date is chosen.
    list_editable = ("order",)
    search_fields = ("code", "name", "name_en", "owner")
    fieldsets = (
        (None, {"fields": ("code", "name", "name_en", "category", "owner")}),
        (_("Description"), {"fields": ("description", "description_en")}),
        (_("Scoring"), {"fields": ("weight", "active", "versions_from", "order")}),
        (_("Provenance"), {"fields": ("source", "confidence")}),
    )
    inlines = [BlockVersionInline]

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(
            objs, request
        )
        # A block's versions are its own rows and go with it (a block with a
        # history cannot be deleted: StatusChange protects it).
        perms_needed.discard(str(BlockVersion._meta.verbose_name))
        return deleted, counts, perms_needed, protected

    def save_model(self, request, obj, form, change) -> None:
        start = form.version_start()
        if not change:
            super().save_model(request, obj, form, change)
            initial_versions([obj], start)
            transaction.on_commit(enqueue_recompute_all)
            return
        weight, active = obj.weight, obj.active
        # The block row keeps today's version until new_block_version writes both.
        current = BuildingBlock.objects.get(pk=obj.pk)
        obj.weight, obj.active = current.weight, current.active
        super().save_model(request, obj, form, change)
        if form.versioned_change():
            new_block_version(
                block=obj,
                weight=weight,
                active=active,
                valid_from=start,
                user=request.user,
            )


@admin.register(BlockVersion)
class BlockVersionAdmin(ReadOnlyAdminMixin, KingStaffAdminMixin, admin.ModelAdmin):
    """Every version of every block, read-only: versions are made on the block's page."""

    list_display = ("block", "valid_from", "valid_until", "weight", "active")
    list_filter = ("active", "valid_from")
    list_select_related = ("block",)
    search_fields = ("block__code", "block__name")


STALE_MESSAGE = _(
    "Someone else saved this status after you opened the page; nothing was saved. "
    "Check the current values below, then make your change again."
)


WITHDRAW_HINT = _(
    "A status cannot be deleted, because the history would no longer match it. "
    "To withdraw a status, set its level to “Not started”: that change enters "
    "the history and the scores."
)


class AdoptionStatusAdminForm(forms.ModelForm):
    """The admin's status form, carrying the version it was loaded with.

    `loaded_version` goes through the POST, so the save compares it with the row
    as it stands: a correction made on a stale page is refused instead of
    silently overwriting someone else's newer save.
    """

    loaded_version = forms.IntegerField(
        widget=forms.HiddenInput, min_value=0, required=False
    )

    class Meta:
        model = AdoptionStatus
        fields = (
            "municipality",
            "block",
            "level",
            "planned_date",
            "achieved_date",
            "note",
            "evidence_url",
        )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "level" in self.fields:
            self.fields["level"].help_text = WITHDRAW_HINT
        if self.instance.pk:
            self.fields["loaded_version"].initial = self.instance.version
            self.fields["loaded_version"].required = True
        else:
            self.fields["loaded_version"].initial = 0

    def clean(self) -> dict:
        data = super().clean()
        loaded = data.get("loaded_version")
        # The instance was read on this request: its version is the current one.
        # A form-wide error, because the admin does not show a hidden field's own.
        if self.instance.pk and loaded is not None and loaded != self.instance.version:
            raise forms.ValidationError(STALE_MESSAGE, code="stale")
        return data


class _RefusedSave(Exception):
    """The status service refused the admin's save; carries the message to show."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


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
    form = AdoptionStatusAdminForm

    def has_delete_permission(self, request, obj=None) -> bool:
        # A deleted row would leave the history saying otherwise, without a
        # recompute: withdrawing is a change to "not started" (WITHDRAW_HINT).
        return False

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

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except _RefusedSave as refused:
            # The admin's own transaction has rolled back (no log entry); the
            # service wrote nothing. Back to the page with the current values.
            self.message_user(request, refused.message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def save_model(self, request, obj: AdoptionStatus, form, change: bool) -> None:
        # Through the service: validation, locking, a StatusChange (source "admin")
        # and a score recompute, exactly as for the status editor. The version
        # is the one the page was loaded with, so a save made in between wins.
        loaded_version = (form.cleaned_data.get("loaded_version") or 0) if change else 0
        try:
            save_statuses(
                user=request.user,
                municipality=obj.municipality,
                changes=[
                    StatusEdit(
                        block_code=obj.block.code,
                        version=loaded_version,
                        values=_values(form.cleaned_data),
                    )
                ],
                source=StatusChange.Source.ADMIN,
            )
        except StatusConflict:
            # Someone saved between the form's check and this save.
            raise _RefusedSave(STALE_MESSAGE) from None
        except InvalidStatusEdit:
            # The form refuses inactive blocks; this one was deactivated in between.
            raise _RefusedSave(
                _("Nothing was saved: this building block is no longer active.")
            ) from None
        except StatusValidationError as error:
            # The form applies the same rules, so this is rare; name the rule.
            reasons = " ".join(
                str(message)
                for fields in error.errors.values()
                for messages in fields.values()
                for message in messages
            )
            raise _RefusedSave(
                _("Nothing was saved: %(reasons)s") % {"reasons": reasons}
            ) from None
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


@admin.register(ImportBatch)
class ImportBatchAdmin(ViewAndDeleteAdminMixin, KingStaffAdminMixin, admin.ModelAdmin):
    """Uploaded import files; previewed and applied on /import/, only looked at here."""

    list_display = (
        "filename",
        "row_count",
        "uploaded_by",
        "created_at",
        "applied_at",
        "applied_by",
        "changed_count",
    )
    list_filter = (("applied_at", admin.EmptyFieldListFilter), "created_at")
    list_select_related = ("uploaded_by", "applied_by")
    search_fields = ("filename", "checksum", "uploaded_by__username")
    date_hierarchy = "created_at"
    # The list's columns plus the ids; the uploaded rows themselves can be long,
    # the import preview shows them.
    fields = ("uid", "filename", "checksum", *list_display[1:])
    readonly_fields = fields
