"""Admin for the result agreements, their required blocks and deadline revisions."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from agreements.models import (
    DeadlineRevision,
    ReminderLog,
    Requirement,
    ResultAgreement,
)
from municipalities.admin import KingStaffAdminMixin, ReadOnlyAdminMixin


class RequirementInline(admin.TabularInline):
    model = Requirement
    fields = ("block", "minimum_level", "min_population")
    autocomplete_fields = ("block",)
    extra = 0


class DeadlineRevisionInline(admin.TabularInline):
    model = DeadlineRevision
    fields = ("old_deadline", "new_deadline", "decided_on", "reason", "synthetic")
    extra = 0
    # Read-only here: a new revision goes through the Deadline revision admin, which
    # uses agreements.services.record_revision (deadline follows, scores recompute).
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ResultAgreement)
class ResultAgreementAdmin(KingStaffAdminMixin, admin.ModelAdmin):
    list_display = (
        "number",
        "title",
        "deadline",
        "deadline_is_reference",
        "requirement_count",
        "revision_count",
        "confidence",
        "source",
    )
    list_display_links = ("number", "title")
    list_filter = ("confidence", "deadline_is_reference", "deadline")
    search_fields = ("title", "title_en", "description", "=number")
    inlines = [RequirementInline, DeadlineRevisionInline]
    fieldsets = (
        (None, {"fields": ("number", "title", "title_en")}),
        (_("Description"), {"fields": ("description", "description_en")}),
        (
            _("Deadline"),
            {"fields": ("original_deadline", "deadline", "deadline_is_reference")},
        ),
        (_("Provenance"), {"fields": ("source", "confidence", "source_note")}),
    )

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                requirement_total=Count("requirements", distinct=True),
                revision_total=Count("revisions", distinct=True),
            )
        )

    @admin.display(description=_("required blocks"), ordering="requirement_total")
    def requirement_count(self, obj: ResultAgreement) -> int:
        return obj.requirement_total

    @admin.display(description=_("revisions"), ordering="revision_total")
    def revision_count(self, obj: ResultAgreement) -> int:
        return obj.revision_total


@admin.register(Requirement)
class RequirementAdmin(KingStaffAdminMixin, admin.ModelAdmin):
    list_display = ("agreement", "block", "minimum_level")
    list_filter = ("minimum_level", "block__category")
    list_select_related = ("agreement", "block")
    search_fields = ("agreement__title", "block__code", "block__name")
    autocomplete_fields = ("agreement", "block")


class DeadlineRevisionAdminForm(forms.ModelForm):
    """Checks a new revision with the service's rules before it is recorded."""

    class Meta:
        model = DeadlineRevision
        fields = ("agreement", "new_deadline", "decided_on", "reason", "synthetic")

    def clean(self):
        data = super().clean()
        if self.instance.pk is None and data.get("agreement"):
            from agreements.services import revision_errors

            for field, messages in revision_errors(
                agreement=data["agreement"],
                new_deadline=data.get("new_deadline"),
                decided_on=data.get("decided_on"),
            ).items():
                for message in messages:
                    self.add_error(field, message)
        return data


@admin.register(DeadlineRevision)
class DeadlineRevisionAdmin(KingStaffAdminMixin, admin.ModelAdmin):
    list_display = (
        "agreement",
        "old_deadline",
        "new_deadline",
        "decided_on",
        "synthetic",
        "created_at",
    )
    list_filter = ("synthetic", "decided_on")
    list_select_related = ("agreement",)
    search_fields = ("agreement__title", "reason")
    autocomplete_fields = ("agreement",)
    date_hierarchy = "decided_on"
    form = DeadlineRevisionAdminForm

    # Recording goes through agreements.services.record_revision: it fills in the
    # old deadline, moves the agreement's current deadline and recomputes scores.
    # A recorded decision is then read-only apart from its reason.
    def get_fields(self, request, obj=None):
        if obj is None:
            return ("agreement", "new_deadline", "decided_on", "reason", "synthetic")
        return (
            "agreement",
            "old_deadline",
            "new_deadline",
            "decided_on",
            "reason",
            "synthetic",
            "created_at",
        )

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return ("agreement", "old_deadline", "new_deadline", "decided_on", "created_at")

    def save_model(self, request, obj, form, change) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        from agreements.services import record_revision

        saved = record_revision(
            agreement=obj.agreement,
            new_deadline=obj.new_deadline,
            decided_on=obj.decided_on,
            reason=obj.reason,
            user=request.user,
            synthetic=obj.synthetic,
        )
        obj.pk, obj.old_deadline, obj.created_at = (
            saved.pk,
            saved.old_deadline,
            saved.created_at,
        )


@admin.register(ReminderLog)
class ReminderLogAdmin(ReadOnlyAdminMixin, KingStaffAdminMixin, admin.ModelAdmin):
    """Weekly deadline reminders as sent (agreements.reminders); read-only."""

    list_display = ("municipality", "sent_at", "recipients", "agreements")
    list_select_related = ("municipality",)
    search_fields = ("municipality__name", "municipality__cbs_code")
    date_hierarchy = "sent_at"
