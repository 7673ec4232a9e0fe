"""Admin for the result agreements, their required blocks and deadline revisions."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from agreements.models import (
    DeadlineRevision,
    ReminderLog,
    Requirement,
    ResultAgreement,
)
from agreements.services import (
    end_requirement,
    record_revision,
    revision_errors,
    set_requirement,
)
from nupportal.admin_mixins import (
    KingStaffAdminMixin,
    ReadOnlyAdminMixin,
    ReadOnlyInlineMixin,
    VersionStartFormMixin,
    version_start_field,
)


class RequirementInline(ReadOnlyInlineMixin, admin.TabularInline):
    """Every version of the agreement's requirements, read-only here: a change is
    a new version from a date, made on the requirement's own page."""

    model = Requirement
    fields = ("block", "minimum_level", "min_population", "valid_from", "valid_until")
    ordering = ("block__order", "valid_from")
    show_change_link = True


class DeadlineRevisionInline(ReadOnlyInlineMixin, admin.TabularInline):
    # Read-only here: a new revision goes through the Deadline revision admin, which
    # uses agreements.services.record_revision (deadline follows, scores recompute).
    model = DeadlineRevision
    fields = ("old_deadline", "new_deadline", "decided_on", "reason", "synthetic")


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
                requirement_total=Count(
                    "requirements",
                    filter=Q(requirements__in=Requirement.objects.current()),
                    distinct=True,
                ),
                revision_total=Count("revisions", distinct=True),
            )
        )

    @admin.display(description=_("required blocks"), ordering="requirement_total")
    def requirement_count(self, obj: ResultAgreement) -> int:
        return obj.requirement_total

    @admin.display(description=_("revisions"), ordering="revision_total")
    def revision_count(self, obj: ResultAgreement) -> int:
        return obj.revision_total


class RequirementAdminForm(VersionStartFormMixin, forms.ModelForm):
    """A requirement is versioned: adding, changing or withdrawing one applies
    from a chosen date, and the figures of earlier dates keep what applied then."""

    start_field = "effective_from"
    effective_from = version_start_field(
        _("Applies from"),
        _(
            "The date from which this requirement (or its change) applies, or "
            "from which it is withdrawn (empty: today). Earlier dates keep the "
            "previous version."
        ),
    )
    withdraw = forms.BooleanField(
        label=_("Withdraw from that date"),
        required=False,
        help_text=_("The requirement no longer applies from the date above."),
    )

    class Meta:
        model = Requirement
        fields = ("agreement", "block", "minimum_level", "min_population")

    def clean(self) -> dict:
        data = super().clean()
        today = timezone.localdate()
        start = self.version_start()
        # On a saved version, agreement and block are read-only (not in the data).
        agreement = data.get("agreement") or getattr(self.instance, "agreement", None)
        block = data.get("block") or getattr(self.instance, "block", None)
        if agreement is None or block is None:
            return data
        if data.get("withdraw"):
            if self.instance.pk is None:
                self.add_error(
                    "withdraw", _("Only a saved requirement can be withdrawn.")
                )
            elif start > today or start <= self.instance.valid_from:
                self.add_error(
                    "effective_from",
                    _(
                        "A requirement is withdrawn after it began and not in the "
                        "future: choose a date after %(start)s, today or earlier."
                    )
                    % {
                        "start": date_format(
                            self.instance.valid_from, "SHORT_DATE_FORMAT"
                        )
                    },
                )
            return data
        versions = list(
            Requirement.objects.filter(agreement=agreement, block=block).values_list(
                "valid_from", "valid_until"
            )
        )
        if self.instance.pk is None:
            if any(until is None for _, until in versions):
                self.add_error(
                    "block",
                    _(
                        "This agreement already requires this block: change that "
                        "requirement on its own page."
                    ),
                )
                return data
            # The model's checks see the version that will be made.
            self.instance.valid_from = start
        self.check_version_start(versions)
        return data


@admin.register(Requirement)
class RequirementAdmin(KingStaffAdminMixin, admin.ModelAdmin):
    form = RequirementAdminForm
    list_display = (
        "agreement",
        "block",
        "minimum_level",
        "min_population",
        "valid_from",
        "valid_until",
    )
    list_filter = ("minimum_level", "block__category", "valid_from")
    list_select_related = ("agreement", "block")
    search_fields = ("agreement__title", "block__code", "block__name")
    autocomplete_fields = ("agreement", "block")

    def get_fields(self, request, obj=None):
        if obj is not None and obj.valid_until is not None:
            return (*RequirementAdminForm.Meta.fields, "valid_from", "valid_until")
        return (*RequirementAdminForm.Meta.fields, "effective_from", "withdraw")

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        # A version keeps its agreement and block; an ended one is history.
        if obj.valid_until is not None:
            return self.get_fields(request, obj)
        return ("agreement", "block")

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is not None and obj.valid_until is not None:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        # Withdraw instead: deleting would rewrite the figures of past dates.
        return False

    def save_model(self, request, obj, form, change) -> None:
        start = form.version_start()
        if change and form.cleaned_data.get("withdraw"):
            end_requirement(requirement=obj, valid_until=start, user=request.user)
            return
        saved = set_requirement(
            agreement=obj.agreement,
            block=obj.block,
            minimum_level=obj.minimum_level,
            min_population=obj.min_population,
            valid_from=start,
            user=request.user,
        )
        if saved is not None:
            # "Save and continue" opens the version now in force.
            obj.pk, obj.valid_from, obj.valid_until = saved.pk, saved.valid_from, None


class DeadlineRevisionAdminForm(forms.ModelForm):
    """Checks a new revision with the service's rules before it is recorded."""

    class Meta:
        model = DeadlineRevision
        fields = ("agreement", "new_deadline", "decided_on", "reason", "synthetic")

    def clean(self):
        data = super().clean()
        if self.instance.pk is None and data.get("agreement"):
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
