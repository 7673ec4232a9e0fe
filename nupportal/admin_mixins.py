"""Who may do what in the admin, shared by every app's ModelAdmins (issue 20.5:
the shared UI lives in nupportal, not in one of the apps that use it)."""

from __future__ import annotations

from municipalities.roles import is_king_staff


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
