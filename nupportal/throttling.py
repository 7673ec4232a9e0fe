"""Login throttling with django-axes: the account, the address, password spraying."""

from __future__ import annotations

import ipaddress
from typing import Any

from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest
from django.utils import timezone

from axes.backends import AxesStandaloneBackend
from axes.exceptions import AxesBackendPermissionDenied
from axes.helpers import get_cool_off
from axes.models import AccessAttempt

# Django's user names are at most 150 characters; axes stores them in 255.
MAX_USERNAME_LENGTH = 150


def attempted_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    """The user name of a login attempt, cut to a length the database can store.

    A hostile form post can send a megabyte of user name: axes would fail to save the
    attempt (a 500 on PostgreSQL) instead of counting it.
    """
    if credentials and credentials.get("username") is not None:
        username = credentials["username"]
    else:
        username = request.POST.get("username", "") if request is not None else ""
    return str(username)[:MAX_USERNAME_LENGTH]


def client_ip(request: HttpRequest) -> str:
    """The address a login attempt came from, for throttling and the audit log.

    Behind a proxy (`DJANGO_BEHIND_PROXY=true`) REMOTE_ADDR is the proxy itself, so
    the address comes from the proxy's header: the entry the trusted proxy appended
    (`NUP_PROXY_COUNT` from the right), never one a client wrote in itself. Without a
    proxy the header is ignored: anyone can send it.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    if not settings.NUP_BEHIND_PROXY:
        return remote
    forwarded = request.META.get(settings.NUP_PROXY_CLIENT_IP_HEADER, "")
    entries = [entry.strip() for entry in forwarded.split(",") if entry.strip()]
    if len(entries) < settings.NUP_PROXY_COUNT:
        return remote
    candidate = entries[-settings.NUP_PROXY_COUNT]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


def address_is_spraying(ip_address: str) -> bool:
    """Whether one address failed too many logins across user names lately.

    axes locks a user name + address pair; a password sprayer tries one password on
    many user names and never trips that. Sum the failures of every user name from
    the address within the cool-off window.
    """
    since = timezone.now() - get_cool_off()
    failures = AccessAttempt.objects.filter(
        ip_address=ip_address, attempt_time__gte=since
    ).aggregate(total=Sum("failures_since_start"))["total"]
    return (failures or 0) >= settings.NUP_LOGIN_IP_FAILURE_LIMIT


class SprayingGuardBackend(AxesStandaloneBackend):
    """axes' backend plus a limit per address across user names (issue 22)."""

    def authenticate(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        if request is not None and address_is_spraying(client_ip(request)):
            request.axes_locked_out = True
            raise AxesBackendPermissionDenied(
                "Too many failed logins from this address"
            )
        return super().authenticate(request, *args, **kwargs)
