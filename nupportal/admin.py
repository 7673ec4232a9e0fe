"""Users and groups in the admin: KING staff manage accounts, never privileges (issue 19).

Only a superuser may grant superuser or staff status, model permissions or the
king_staff group, edit groups, or touch an account that already holds any of these
(changing a superuser's password is taking over the superuser).
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet

from municipalities.roles import KING_STAFF

User = get_user_model()

PRIVILEGE_FIELDS = ("is_superuser", "is_staff", "user_permissions")


def is_privileged(user) -> bool:
    """Whether an account holds a privilege only a superuser may hand out."""
    return (
        user.is_superuser
        or user.is_staff
        or user.user_permissions.exists()
        or user.groups.filter(name=KING_STAFF).exists()
    )


def privileged(users: QuerySet) -> QuerySet:
    """The accounts among `users` that `is_privileged`, in one query."""
    return users.filter(
        Q(is_superuser=True)
        | Q(is_staff=True)
        | Q(user_permissions__isnull=False)
        | Q(groups__name=KING_STAFF)
    )


admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(User)
class PortalUserAdmin(UserAdmin):
    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        if request.user.is_superuser:
            return fields
        return (*fields, *PRIVILEGE_FIELDS)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "groups" and not request.user.is_superuser:
            kwargs["queryset"] = Group.objects.exclude(name=KING_STAFF)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def has_change_permission(self, request, obj=None):
        if obj is not None and not request.user.is_superuser and is_privileged(obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and not request.user.is_superuser and is_privileged(obj):
            return False
        return super().has_delete_permission(request, obj)

    def delete_queryset(self, request, queryset):
        # The bulk "delete selected" action asks no per-row permission.
        if not request.user.is_superuser and privileged(queryset).exists():
            raise PermissionDenied
        super().delete_queryset(request, queryset)


@admin.register(Group)
class PortalGroupAdmin(GroupAdmin):
    """A group's permissions are privileges: staff may read them, not change them."""

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser
