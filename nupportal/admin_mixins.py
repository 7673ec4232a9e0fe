"""Admin pieces shared by every app's ModelAdmins: who may do what, read-only
inlines and the date a versioned change applies from (issue 20.5: the shared UI
lives in nupportal, not in one of the apps that use it)."""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from django import forms
from django.contrib.admin.widgets import AdminDateWidget
from django.utils import timezone

from municipalities.roles import is_king_staff
from nupportal.validity import version_start_errors


class KingStaffAdminMixin:
    """KING staff manage reference data in the admin (DESIGN §2) without per-model grants.

    Superusers and users with the model permissions keep Django's usual rules.
    """

    def has_module_permission(self, request) -> bool:
        return is_king_staff(request.user) or super().has_module_permission(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return is_king_staff(request.user) or super().has_view_permission(request, obj)

    def has_add_permission(self, request, *args) -> bool:
        return is_king_staff(request.user) or super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None) -> bool:
        return is_king_staff(request.user) or super().has_change_permission(
            request, obj
        )

    def has_delete_permission(self, request, obj=None) -> bool:
        return is_king_staff(request.user) or super().has_delete_permission(
            request, obj
        )


class ViewAndDeleteAdminMixin:
    """For rows a portal page makes (reports, import batches): looked at here, and
    old ones deleted, but made and changed only through that page."""

    def has_add_permission(self, request, *args) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyAdminMixin(ViewAndDeleteAdminMixin):
    """For rows the portal derives or appends itself: viewable, never edited by hand."""

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyInlineMixin:
    """An inline listing rows that are written elsewhere (a service, their own page):
    every field read-only, nothing added or deleted here."""

    fields: Sequence[str]
    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None) -> Sequence[str]:
        return self.fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


def version_start_field(label, help_text) -> forms.DateField:
    """The date from which a versioned change applies; empty means today."""
    return forms.DateField(
        label=label, required=False, widget=AdminDateWidget, help_text=help_text
    )


class VersionStartFormMixin:
    """A form whose save starts a new version (nupportal.validity) on the date in
    its `start_field` (a `version_start_field`)."""

    start_field: str

    def version_start(self) -> datetime.date:
        return self.cleaned_data.get(self.start_field) or timezone.localdate()

    def check_version_start(
        self, versions: list[tuple[datetime.date, datetime.date | None]]
    ) -> None:
        """Say on the date field why a new version cannot start there, if it cannot."""
        for message in version_start_errors(
            versions, self.version_start(), timezone.localdate()
        ):
            self.add_error(self.start_field, message)
