"""NUP_REQUIRE_LOGIN: when set, every page but login, health and static needs a login."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse

_OPEN_PREFIXES = ("/healthz", "/static/", "/accounts/login/", "/en/accounts/login/")


class RequireLoginMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            settings.NUP_REQUIRE_LOGIN
            and not request.user.is_authenticated
            and not request.path.startswith(_OPEN_PREFIXES)
        ):
            return redirect_to_login(request.get_full_path())
        return self.get_response(request)
