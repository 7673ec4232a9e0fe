"""Admin for provinces, municipalities, mergers and editor memberships (KING staff)."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _

from municipalities.models import (
    ColumnPreference,
    EditorMembership,
    Merger,
    Municipality,
    Province,
)
from nupportal.admin_mixins import KingStaffAdminMixin, ReadOnlyAdminMixin


@admin.register(Province)
class ProvinceAdmin(KingStaffAdminMixin, admin.ModelAdmin):
    list_display = ("name", "slug")
    search_fields = ("name",)
    prepopulated_fields = {"slug": ("name",)}


class EditorMembershipInline(admin.TabularInline):
    model = EditorMembership
    fields = ("user", "created_at")
    readonly_fields = ("created_at",)
    autocomplete_fields = ("user",)
    extra = 0


@admin.register(Municipality)
class MunicipalityAdmin(KingStaffAdminMixin, admin.ModelAdmin):
    list_display = (
        "name",
        "cbs_code",
        "province",
        "population",
        "size_class",
        "active",
        "successor",
    )
    list_filter = ("province", "size_class", "active")
    list_select_related = ("province", "successor")
    search_fields = ("name", "cbs_code", "slug")
    ordering = ("name",)
    prepopulated_fields = {"slug": ("name",)}
    autocomplete_fields = ("province", "successor")
    readonly_fields = ("size_class", "map_path")
    inlines = [EditorMembershipInline]
    fieldsets = (
        (None, {"fields": ("cbs_code", "name", "slug", "province")}),
        (
            _("Population"),
            {"fields": ("population", "population_date", "size_class")},
        ),
        (
            _("Validity and mergers"),
            {"fields": ("active", "valid_from", "valid_until", "successor")},
        ),
        (_("Provenance and map"), {"fields": ("source", "map_path")}),
    )


@admin.register(Merger)
class MergerAdmin(KingStaffAdminMixin, admin.ModelAdmin):
    list_display = ("successor", "date", "merged_names", "applied_at")
    list_filter = ("date", ("applied_at", admin.EmptyFieldListFilter))
    list_select_related = ("successor",)
    search_fields = ("successor__name", "successor__cbs_code", "merged__name")
    date_hierarchy = "date"
    autocomplete_fields = ("successor", "merged")
    readonly_fields = ("applied_at",)

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("merged")

    @admin.display(description=_("merged municipalities"))
    def merged_names(self, obj: Merger) -> str:
        return ", ".join(m.name for m in obj.merged.all())

    # Applying a merger: review the carry-over per block, adjust, apply
    # (buildingblocks.mergers, imported when used: buildingblocks imports this app).
    actions = ["review_and_apply"]

    @admin.action(description=_("Review and apply the selected merger"))
    def review_and_apply(self, request, queryset):
        merger = queryset.first()
        if queryset.count() != 1 or merger is None:
            self.message_user(
                request, _("Select exactly one merger to apply."), level="warning"
            )
            return None
        return redirect("admin:municipalities_merger_apply", merger.pk)

    def get_urls(self):
        return [
            path(
                "<int:pk>/toepassen/",
                self.admin_site.admin_view(self.apply_view),
                name="municipalities_merger_apply",
            ),
            *super().get_urls(),
        ]

    def apply_view(self, request, pk: int):
        from buildingblocks.mergers import MergerError, apply_merger, plan_merger

        merger = get_object_or_404(
            Merger.objects.select_related("successor").prefetch_related("merged"),
            pk=pk,
        )
        if not self.has_change_permission(request, merger):
            raise PermissionDenied
        proposals = plan_merger(merger)
        form = MergerReviewForm(proposals, request.POST or None)
        if request.method == "POST" and merger.applied_at is None and form.is_valid():
            try:
                count = apply_merger(
                    merger=merger, user=request.user, statuses=form.statuses()
                )
            except (MergerError, ValidationError) as exc:
                self.message_user(request, "; ".join(_messages(exc)), level="error")
            else:
                self.message_user(
                    request,
                    _("Merger applied: %(count)s statuses of %(successor)s set.")
                    % {"count": count, "successor": merger.successor},
                )
                return redirect("admin:municipalities_merger_changelist")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Apply merger: %(merger)s") % {"merger": merger},
            "merger": merger,
            "rows": form.rows(),
            "form": form,
        }
        return TemplateResponse(
            request, "admin/municipalities/merger_apply.html", context
        )


@admin.register(EditorMembership)
class EditorMembershipAdmin(KingStaffAdminMixin, admin.ModelAdmin):
    list_display = ("user", "municipality", "created_at")
    list_filter = ("municipality__province",)
    list_select_related = ("user", "municipality")
    search_fields = ("user__username", "user__email", "municipality__name")
    autocomplete_fields = ("user", "municipality")


@admin.register(ColumnPreference)
class ColumnPreferenceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The users' column choices: set on the pages themselves, shown here for support."""

    list_display = ("user", "table", "updated_at")
    list_filter = ("table",)
    list_select_related = ("user",)
    search_fields = ("user__username",)
    fields = ("user", "table", "columns", "updated_at")


def _messages(exc: Exception) -> list[str]:
    if isinstance(exc, ValidationError):
        return [str(m) for m in exc.messages]
    return [str(exc)]


class MergerReviewForm(forms.Form):
    """One row per building block: the proposed carry-over, editable before applying."""

    def __init__(self, proposals, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from buildingblocks.levels import Level

        self.proposals = proposals
        for p in proposals:
            key = p.block.pk
            self.fields[f"level_{key}"] = forms.ChoiceField(
                label=_("Level"), choices=Level.choices, initial=p.values.level
            )
            self.fields[f"planned_{key}"] = forms.DateField(
                label=_("Planned date"),
                required=False,
                initial=p.values.planned_date,
                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            )
            self.fields[f"achieved_{key}"] = forms.DateField(
                label=_("Achieved date"),
                required=False,
                initial=p.values.achieved_date,
                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            )
            self.fields[f"note_{key}"] = forms.CharField(
                label=_("Note"),
                required=False,
                initial=p.values.note,
                widget=forms.Textarea(attrs={"rows": 2, "cols": 40}),
            )

    def rows(self):
        return [
            (
                p,
                self[f"level_{p.block.pk}"],
                self[f"planned_{p.block.pk}"],
                self[f"achieved_{p.block.pk}"],
                self[f"note_{p.block.pk}"],
            )
            for p in self.proposals
        ]

    def statuses(self):
        from buildingblocks.validation import StatusValues

        data = self.cleaned_data
        return {
            p.block.pk: StatusValues(
                level=data[f"level_{p.block.pk}"],
                planned_date=data[f"planned_{p.block.pk}"],
                achieved_date=data[f"achieved_{p.block.pk}"],
                note=data[f"note_{p.block.pk}"],
                evidence_url=p.values.evidence_url,
            )
            for p in self.proposals
        }
