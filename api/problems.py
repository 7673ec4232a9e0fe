"""Errors of the API as RFC 9457 problem details (NL API Design Rules /core/problem-details).

Every error the API gives, whether raised in a view (DRF), by the URL resolver
(404) or by a bug (500), leaves as `application/problem+json` with `status`,
`title` and `detail`; a 400 also names the offending parameters in
`invalidParams`.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from django.http import HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from rest_framework import exceptions
from rest_framework.views import set_rollback

PROBLEM_JSON = "application/problem+json"

# Marked with gettext_noop so makemessages finds them; translated per request below.
_DETAILS = {
    400: gettext_noop("The request has invalid parameters."),
    401: gettext_noop("Authentication is needed: log in or send a valid token."),
    403: gettext_noop("You may not read this resource."),
    404: gettext_noop("This resource does not exist."),
    405: gettext_noop("The API is read-only: use GET."),
    406: gettext_noop("The API answers in application/json or text/csv only."),
    429: gettext_noop("Too many requests: wait before you try again."),
    500: gettext_noop("Something went wrong on our side; it has been logged."),
}


def default_detail(status: int) -> str:
    return _(_DETAILS.get(status, HTTPStatus(status).phrase))


def problem(
    status: int,
    detail: str | None = None,
    *,
    invalid_params: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> HttpResponse:
    """A problem+json response; the title is the HTTP reason phrase."""
    body: dict[str, Any] = {
        "status": status,
        "title": HTTPStatus(status).phrase,
        "detail": detail or default_detail(status),
    }
    if invalid_params:
        body["invalidParams"] = invalid_params
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False),
        status=status,
        content_type=PROBLEM_JSON,
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _invalid_params(detail: Any, prefix: str = "") -> list[dict[str, str]]:
    """DRF's nested error detail as a flat [{name, reason}] list."""
    if isinstance(detail, dict):
        return [
            item
            for name, value in detail.items()
            for item in _invalid_params(value, name if name != "__all__" else prefix)
        ]
    if isinstance(detail, list):
        return [item for value in detail for item in _invalid_params(value, prefix)]
    return [{"name": prefix or "request", "reason": str(detail)}]


def exception_handler(exc: Exception, context: dict) -> HttpResponse | None:
    """REST_FRAMEWORK["EXCEPTION_HANDLER"]: DRF's exceptions as problem details."""
    if isinstance(exc, exceptions.ValidationError):
        set_rollback()
        return problem(400, invalid_params=_invalid_params(exc.detail))
    if isinstance(exc, exceptions.APIException):
        set_rollback()
        headers = {}
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            headers["Retry-After"] = str(int(exc.wait) + 1)
        status = exc.status_code
        if isinstance(
            exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed
        ):
            headers["WWW-Authenticate"] = 'Token realm="api"'
        detail = exc.detail if isinstance(exc.detail, str) else None
        if isinstance(exc, exceptions.MethodNotAllowed):
            headers["Allow"] = "GET, HEAD, OPTIONS"
            detail = None
        return problem(status, str(detail) if detail else None, headers=headers)
    from django.http import Http404

    if isinstance(exc, Http404):
        return problem(404)
    return None
