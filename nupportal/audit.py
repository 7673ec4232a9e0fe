"""Structured audit log: who did what, when and from where (DESIGN §8, issue 10).

Records go to the `nupportal.audit` logger as one JSON object per line. Only the user
name identifies a person; no e-mail addresses, names or passwords are logged.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.contrib.auth.signals import (
    user_logged_in,
    user_logged_out,
    user_login_failed,
)
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.http import HttpRequest
from django.utils import timezone

logger = logging.getLogger("nupportal.audit")


def client_address(request: HttpRequest | None) -> str:
    if request is None:
        return ""
    from nupportal.throttling import client_ip

    return client_ip(request)


def audit(
    event: str, *, user: Any = None, request: HttpRequest | None = None, **details: Any
) -> None:
    """Log one audit event; `user` may be a User, a user name or None."""
    if user is None and request is not None:
        user = getattr(request, "user", None)
    username = getattr(user, "username", user) or ""
    if not isinstance(username, str):
        username = ""
    record = {
        "event": event,
        "user": username,
        "at": timezone.now().isoformat(),
        "from": client_address(request),
        **{key: value for key, value in details.items() if value is not None},
    }
    logger.info(json.dumps(record, default=str, ensure_ascii=False, sort_keys=True))


def _logged_in(sender, request, user, **kwargs) -> None:
    audit("login", user=user, request=request)


def _logged_out(sender, request, user, **kwargs) -> None:
    audit("logout", user=user, request=request)


def _login_failed(sender, credentials, request=None, **kwargs) -> None:
    # Only the attempted user name; never the password.
    audit(
        "login_failed", user=str(credentials.get("username", ""))[:150], request=request
    )


def _groups_changed(sender, instance, action, pk_set, **kwargs) -> None:
    if action in ("post_add", "post_remove", "post_clear"):
        from django.contrib.auth.models import Group

        names = sorted(
            Group.objects.filter(pk__in=pk_set or ()).values_list("name", flat=True)
        )
        audit(
            "permissions_changed",
            user=None,
            subject=getattr(instance, "username", str(instance)),
            change=action.removeprefix("post_"),
            groups=names,
        )


def _membership_saved(sender, instance, created, **kwargs) -> None:
    if created:
        audit(
            "membership_added",
            subject=instance.user.username,
            municipality=instance.municipality.cbs_code,
        )


def _membership_deleted(sender, instance, **kwargs) -> None:
    audit(
        "membership_removed",
        subject=instance.user.username,
        municipality=instance.municipality.cbs_code,
    )


def connect() -> None:
    from django.contrib.auth import get_user_model

    from municipalities.models import EditorMembership

    user_logged_in.connect(_logged_in, dispatch_uid="audit-login")
    user_logged_out.connect(_logged_out, dispatch_uid="audit-logout")
    user_login_failed.connect(_login_failed, dispatch_uid="audit-login-failed")
    m2m_changed.connect(
        _groups_changed,
        sender=get_user_model().groups.through,
        dispatch_uid="audit-groups",
    )
    post_save.connect(
        _membership_saved, sender=EditorMembership, dispatch_uid="audit-membership-add"
    )
    post_delete.connect(
        _membership_deleted,
        sender=EditorMembership,
        dispatch_uid="audit-membership-remove",
    )
