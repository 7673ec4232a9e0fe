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


class ReadOnlyAdminMixin:
    """For rows the portal derives or appends itself: viewable, never edited by hand."""

    def has_add_permission(self, request, *args) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
