"""The admin site: every admin action goes to the structured audit log (issue 19).

One mechanism for every admin: the site mixes `AuditedAdmin` into each ModelAdmin
registered with it, the portal's, Django's users and groups and third-party ones
alike, so a new admin cannot forget it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib import admin
from django.db.models import Model
from django.forms import BaseForm
from django.http import HttpRequest

from nupportal.audit import audit

# Never written to the log, not even as a hash.
SECRET_FIELDS = frozenset({"password", "key", "token", "secret"})


def _plain(value: Any) -> Any:
    if isinstance(value, Model):
        return value.pk
    if isinstance(value, Iterable) and not isinstance(value, str | bytes | dict):
        return sorted(str(_plain(item)) for item in value)
    return value


def form_changes(form: BaseForm) -> dict[str, list[Any]]:
    """Old → new of every changed field of an admin form, secrets left out."""
    changes = {}
    for name in form.changed_data:
        if name in SECRET_FIELDS or name not in form.cleaned_data:
            continue
        field = form.fields[name]
        old = form.get_initial_for_field(field, name)
        changes[name] = [_plain(old), _plain(form.cleaned_data[name])]
    return changes


class AuditedAdmin(admin.ModelAdmin):
    """Logs who added, changed or deleted which row, with old → new values."""

    def construct_change_message(self, request, form, formsets, add=False):
        request._audit_changes = {} if add else form_changes(form)  # noqa: SLF001
        return super().construct_change_message(request, form, formsets, add)

    def _audit(self, request: HttpRequest, event: str, obj: Model, **extra) -> None:
        audit(
            event,
            request=request,
            model=obj._meta.label_lower,
            object=str(obj.pk),
            object_repr=str(obj)[:200],
            **extra,
        )

    def log_addition(self, request, obj, message):
        entry = super().log_addition(request, obj, message)
        self._audit(request, "admin_add", obj)
        return entry

    def log_change(self, request, obj, message):
        entry = super().log_change(request, obj, message)
        changes = getattr(request, "_audit_changes", None)
        self._audit(request, "admin_change", obj, changes=changes or None)
        return entry

    def log_deletions(self, request, queryset):
        entries = super().log_deletions(request, queryset)
        for obj in queryset:
            self._audit(request, "admin_delete", obj)
        return entries


class PortalAdminSite(admin.AdminSite):
    """Django's admin site whose every ModelAdmin is audited."""

    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, AuditedAdmin):
            admin_class = type(admin_class.__name__, (AuditedAdmin, admin_class), {})
        return super().register(model_or_iterable, admin_class, **options)
