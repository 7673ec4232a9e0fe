"""Answers cached overview hits before the rest of the middleware stack runs (issue 9).

The overview's one page cache. The overview view (`scoring.views.OverviewView`)
gives anonymous visitors an ETag made of the data version, the language and the
path. Caching only the view's HTML still paid, per hit, for sessions, locale,
CSRF, auth, messages, CSP, the login requirement and axes: about 2 ms of Python
per request, so under load the page reached 0.15 of the throughput of a static
file of the same size.

This middleware sits right after WhiteNoise. The first anonymous request for an
overview path goes through the whole stack; on the way out the *complete* final
response (status, every header the inner middlewares added, body) is stored
under the response's ETag. Later requests compute the same ETag from the data
version (scoring.version: read from the shared cache, no database query) and
get that response replayed, including a 304 for a matching If-None-Match.
Because the key holds the data version, a recompute or snapshot rebuild simply
makes a new key: nothing is ever invalidated or served stale.

Only requests whose answer cannot depend on who asks take the fast path: GET or
HEAD, exactly `/` or `/en/` without a query string, no session cookie, no
messages cookie, `NUP_REQUIRE_LOGIN` off. The language is decided by the URL
prefix alone (i18n_patterns with prefix_default_language=False makes
LocaleMiddleware use LANGUAGE_CODE for unprefixed paths whatever Accept-Language
or the language cookie say), so path → language is exact. A response is stored
only if it is a 200 with an ETag, sets no cookie, and did not use a CSP nonce
(a replayed nonce would be no nonce at all).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.urls import reverse
from django.utils import translation
from django.utils.cache import get_conditional_response
from django.utils.http import parse_http_date_safe

from scoring.version import current_version
from scoring.views import CACHE_SECONDS, overview_etag

KEY_PREFIX = "pagecache:overview:"
# Two languages × a version or two in flight; a page is ~0.4 MB at 342 municipalities.
MEMO_SIZE = 4
# Headers a replayed 304/412 must not carry: they describe a body it does not have.
_BODY_HEADERS = frozenset({"content-type", "content-length"})


class OverviewPageCacheMiddleware:
    """Replays the full-stack response of the anonymous overview for its data version."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]):
        self.get_response = get_response
        self._paths: dict[str, str] | None = None
        # Recently replayed responses of this process, by cache key (see _lookup).
        self._memo: dict[tuple[str, str], dict[str, Any]] = {}

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        language = self._shared_page_language(request)
        if language is None:
            return self.get_response(request)
        version = current_version()
        etag = overview_etag(version.stamps, language, request.get_full_path())
        key = KEY_PREFIX + etag.strip('"')
        entry = self._lookup(key, version.generation)
        if entry is not None:
            return replay(request, entry)
        response = self.get_response(request)
        if _storable(request, response):
            stored = _entry(response)
            cache.set(KEY_PREFIX + response["ETag"].strip('"'), stored, CACHE_SECONDS)
            if response["ETag"] == etag:
                self._remember((key, version.generation), stored)
        return response

    def _lookup(self, key: str, generation: str) -> dict[str, Any] | None:
        """The stored response for `key`, from this process's memo when it has it.

        A page is a function of its ETag, so the memo needs no invalidation; it
        is keyed on the version's generation as well, so that clearing the
        shared cache (which drops the version) reaches every process.
        """
        memo = self._memo.get((key, generation))
        if memo is not None:
            return memo
        entry = cache.get(key)
        if entry is None:
            return None
        self._remember((key, generation), entry)
        return entry

    def _remember(self, key: tuple[str, str], entry: dict[str, Any]) -> None:
        self._memo[key] = entry
        while len(self._memo) > MEMO_SIZE:  # oldest first (dicts keep order)
            try:
                self._memo.pop(next(iter(self._memo)), None)
            except (RuntimeError, StopIteration):  # another thread changed it
                break

    def overview_paths(self) -> dict[str, str]:
        """`{"/": "nl", "/en/": "en"}`, from the URLconf (resolved on first use)."""
        if self._paths is None:
            paths = {}
            for code, _name in settings.LANGUAGES:
                with translation.override(code):
                    paths[reverse("scoring:overview")] = code
            self._paths = paths
        return self._paths

    def _shared_page_language(self, request: HttpRequest) -> str | None:
        """The page's language when the request may get the shared page, else None."""
        if request.method not in ("GET", "HEAD") or request.META.get("QUERY_STRING"):
            return None
        language = self.overview_paths().get(request.path_info)
        if language is None or settings.NUP_REQUIRE_LOGIN or settings.PREPEND_WWW:
            return None
        cookies = request.COOKIES
        if (
            settings.SESSION_COOKIE_NAME in cookies
            or CookieStorage.cookie_name in cookies
        ):
            return None
        # What CommonMiddleware would refuse (a bad Host, a denied user agent) goes
        # through the stack, so that it is refused exactly the same way.
        try:
            request.get_host()
        except DisallowedHost:
            return None
        user_agent = request.META.get("HTTP_USER_AGENT")
        if user_agent is not None and any(
            pattern.search(user_agent) for pattern in settings.DISALLOWED_USER_AGENTS
        ):
            return None
        return language


def replay(request: HttpRequest, entry: dict[str, Any]) -> HttpResponseBase:
    """The stored response, or the 304/412 its validators give for this request."""
    response = HttpResponse(entry["body"], status=entry["status"])
    for name, value in entry["headers"]:
        response.headers[name] = value
    conditional = get_conditional_response(
        request,
        etag=response["ETag"],
        last_modified=parse_http_date_safe(response.get("Last-Modified", "")),
        response=response,
    )
    if conditional is None:
        return response
    # The full stack would have added its security headers (CSP, X-Frame-Options …)
    # to the 304 as well; the stored ones are exactly those.
    for name, value in entry["headers"]:
        if name.lower() not in _BODY_HEADERS:
            conditional.headers[name] = value
    return conditional


def _storable(request: HttpRequest, response: HttpResponseBase) -> bool:
    """Whether this full-stack response may be replayed to every anonymous visitor."""
    return (
        response.status_code == 200
        and isinstance(response, HttpResponse)
        and not response.streaming
        and response.has_header("ETag")
        and not response.cookies
        and not isinstance(getattr(request, "_csp_nonce", None), str)
        and not request.user.is_authenticated
    )


def _entry(response: HttpResponse) -> dict[str, Any]:
    return {
        "status": response.status_code,
        "headers": list(response.items()),
        "body": bytes(response.content),
    }
