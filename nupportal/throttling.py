"""How django-axes names the account of a login attempt."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

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
