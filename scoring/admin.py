"""Admin views of the derived figures: read-only, since only scoring.compute writes them."""

from __future__ import annotations

from django.contrib import admin

from nupportal.admin_mixins import KingStaffAdminMixin, ReadOnlyAdminMixin
from scoring.models import Aggregate, AgreementCompliance, MunicipalityScore, Snapshot


@admin.register(MunicipalityScore)
class MunicipalityScoreAdmin(ReadOnlyAdminMixin, KingStaffAdminMixin, admin.ModelAdmin):
    list_display = (
        "municipality",
        "score",
        "rank",
        *MunicipalityScore.agreement_count_fields().values(),
        "computed_at",
        "method_version",
    )
    list_filter = (
        "municipality__province",
        "municipality__size_class",
        "method_version",
    )
    list_select_related = ("municipality",)
    search_fields = ("municipality__name", "municipality__cbs_code")


@admin.register(AgreementCompliance)
class AgreementComplianceAdmin(
    ReadOnlyAdminMixin, KingStaffAdminMixin, admin.ModelAdmin
):
    list_display = ("municipality", "agreement", "status", "computed_at")
    list_filter = ("status", "agreement", "municipality__province")
    list_select_related = ("municipality", "agreement")
    search_fields = ("municipality__name", "municipality__cbs_code", "agreement__title")


class FigureAdmin(ReadOnlyAdminMixin, KingStaffAdminMixin, admin.ModelAdmin):
    list_display = ("measure", "scope", "key", "block", "agreement", "status", "value")
    list_filter = ("measure", "scope")
    list_select_related = ("block", "agreement")
    search_fields = ("key", "block__code", "agreement__title")


@admin.register(Aggregate)
class AggregateAdmin(FigureAdmin):
    list_display = (*FigureAdmin.list_display, "computed_at")


@admin.register(Snapshot)
class SnapshotAdmin(FigureAdmin):
    list_display = ("month", *FigureAdmin.list_display, "method_version")
    list_filter = ("month", *FigureAdmin.list_filter, "method_version")
    date_hierarchy = "month"
