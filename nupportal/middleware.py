"""The portal's own middleware: response headers, session timeouts, NUP_REQUIRE_LOGIN."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext_lazy as _

from municipalities.roles import is_king_staff

_OPEN_PREFIXES = (
    "/healthz",
    "/static/",
    "/accounts/login/",
    "/en/accounts/login/",
    # A user who forgot their password must be able to reset it.
    "/accounts/wachtwoord-vergeten/",
    "/en/accounts/wachtwoord-vergeten/",
)

# The portal uses no camera, microphone, location, payment or other device
# features: deny them all, also to anything a future page might embed.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "encrypted-media",
        "fullscreen",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "picture-in-picture",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
)


class SecurityHeadersMiddleware:
    """Permissions-Policy on every response; no shared caching of personal pages.

    A response to a request that carries (or receives) a session cookie may show
    notes, evidence or a user name: it is `private, no-store`, so neither a proxy
    nor the browser's disk cache keeps it. Deciding by the cookie costs no query.
    Static files keep their long public caching.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        cookie = settings.SESSION_COOKIE_NAME
        personal = cookie in request.COOKIES or cookie in response.cookies
        if personal and not request.path.startswith(settings.STATIC_URL):
            response.headers.pop("Expires", None)
            patch_cache_control(response, private=True, no_store=True)
        return response


# Session keys: when the user was last seen, and when they logged in (epoch seconds).
LAST_SEEN = "_nup_last_seen"
LOGGED_IN_AT = "_nup_logged_in_at"
# Write "last seen" at most this often, not on every request.
LAST_SEEN_RESOLUTION = 60


def start_session_clock(sender, request: HttpRequest, user, **kwargs) -> None:
    """On login (user_logged_in): the clocks start, saved with the new session."""
    now = int(time.time())
    request.session[LOGGED_IN_AT] = now
    request.session[LAST_SEEN] = now


def idle_limit_seconds(user) -> int:
    """How long `user` may be idle before the session ends (shorter for KING staff)."""
    if user.is_staff or is_king_staff(user):
        return settings.NUP_STAFF_SESSION_IDLE_SECONDS
    return settings.NUP_SESSION_IDLE_SECONDS


def _shortest_idle_limit() -> int:
    return min(
        settings.NUP_STAFF_SESSION_IDLE_SECONDS, settings.NUP_SESSION_IDLE_SECONDS
    )


class SessionTimeoutMiddleware:
    """Logs a user out after a period without requests, and after a maximum age.

    Django's session age alone is a fixed lifetime that a forgotten browser keeps
    alive. This middleware ends a session after `idle_limit_seconds` without a
    request, and in any case `NUP_SESSION_MAX_SECONDS` after the login. The
    request that finds the session expired continues as anonymous, with a
    message, so the page it asked for decides (public page, or the login).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        user = request.user
        if user.is_authenticated:
            now = int(time.time())
            session = request.session
            last_seen = session.get(LAST_SEEN, now)
            logged_in_at = session.get(LOGGED_IN_AT, now)
            idle = now - last_seen
            # The role lookup only when the shorter limit has passed.
            if idle > _shortest_idle_limit() and idle > idle_limit_seconds(user):
                self._end(
                    request, _("You were logged out after a period of inactivity.")
                )
            elif now - logged_in_at > settings.NUP_SESSION_MAX_SECONDS:
                self._end(
                    request,
                    _("You were logged out: your session reached its maximum age."),
                )
            else:
                # Sessions from before this middleware start their clocks now.
                if LOGGED_IN_AT not in session:
                    session[LOGGED_IN_AT] = now
                if LAST_SEEN not in session or idle >= LAST_SEEN_RESOLUTION:
                    session[LAST_SEEN] = now
        return self.get_response(request)

    @staticmethod
    def _end(request: HttpRequest, message) -> None:
        logout(request)
        messages.info(request, message)


class RequireLoginMiddleware:
    """NUP_REQUIRE_LOGIN: when set, every page but login, health and static needs a login."""

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


class ReferenceDateMiddleware:
    """`?peildatum=`: parsed once per request, and kept in every link of a dated page.

    The pages read the date through scoring.timetravel.requested(request); on the
    way out, the HTML of a page shown on a past date gets the date added to its
    links and GET forms to other dated pages (scoring.timetravel.keep_date), so
    navigation, sorting, pagination, filters and exports stay on that date.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        from scoring import history, timetravel

        parsed = timetravel.of_request(request)
        with history.one_reference_load():
            response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        if (
            parsed.on is None
            or match is None
            or not timetravel.is_time_travel_view(match.view_name)
            or getattr(response, "streaming", False)
            or not response.get("Content-Type", "").startswith("text/html")
        ):
            return response
        charset = response.charset or "utf-8"
        html = response.content.decode(charset)
        response.content = timetravel.keep_date(
            html, parsed.on, request.path, _takes_date
        ).encode(charset)
        if response.has_header("Content-Length"):
            response["Content-Length"] = str(len(response.content))
        return response


def _takes_date(path: str) -> bool:
    from django.urls import Resolver404, resolve

    from scoring import timetravel

    try:
        return timetravel.is_time_travel_view(resolve(path).view_name)
    except Resolver404:
        return False
