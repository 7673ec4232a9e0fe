"""Project-wide views: health check and the landing page after login."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from municipalities.roles import is_king_staff
from nupportal.health import collect_health, log_errors, public_report


@require_safe  # read-only: a POST/PUT/DELETE is 405 (tests/security)
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    report, healthy = collect_health()
    log_errors(report)
    # Who is asking needs the session, hence the database: without it, public.
    if not (healthy and _is_staff(request)):
        report = public_report(report)
    return JsonResponse(report, status=200 if healthy else 503)


def _is_staff(request: HttpRequest) -> bool:
    try:
        return request.user.is_staff or is_king_staff(request.user)
    except Exception:  # the session store is down as well: answer publicly
        return False


@require_safe
@login_required
def after_login(request: HttpRequest) -> HttpResponse:
    """CIOs land on their own municipality; everyone else on the overview."""
    if request.user.editor_memberships.exists():
        return redirect("buildingblocks:mine")
    return redirect("scoring:overview")
