"""The national overview."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.http import http_date
from django.utils.translation import get_language
from django.views.generic import TemplateView

from scoring import timetravel
from scoring.dashboards import (
    compared_figures,
    overview_context,
    overview_spread_context,
)
from scoring.method import method_context
from scoring.version import data_version

# Bump when the page's template or context changes shape, so old copies are not served.
PAGE_VERSION = 3
# How long nupportal.pagecache keeps a page: a new data version makes a new key.
CACHE_SECONDS = 24 * 60 * 60


class OverviewView(TemplateView):
    """`/`: headline figures, the map, the size-class gap, trends and agreements.

    For anonymous visitors the page carries ETag / Last-Modified made of the
    data version, the language and the path, so that browsers and proxies can
    revalidate with a 304. The page itself is cached once, as the complete
    response, by nupportal.pagecache under that ETag: the one overview cache.
    """

    template_name = "scoring/overview.html"

    def get_context_data(self, **kwargs) -> dict:
        on = timetravel.requested(self.request)
        compare = timetravel.compare_of_request(self.request)
        compared = (
            compared_figures(compare.on, timezone.localdate())
            if compare.on is not None
            else None
        )
        context = (
            super().get_context_data(**kwargs)
            | overview_context(on, compared)
            | {
                "date_form": {
                    "on": on,
                    "compare": compare.on,
                    "compare_error": compare.error,
                    "min": timetravel.PROGRAMME_START,
                    "max": timezone.localdate(),
                }
            }
        )
        if not context["empty"]:
            context |= overview_spread_context(on)
        return context

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not _cacheable(request):
            return super().get(request, *args, **kwargs)
        version = data_version()
        etag = overview_etag(version, get_language(), request.get_full_path())
        last_modified_ts = last_modified_of(version)
        not_modified = get_conditional_response(
            request, etag=etag, last_modified=last_modified_ts
        )
        if not_modified is not None:
            if not_modified.status_code == 304:
                # RFC 9110 §15.4.5: a 304 carries the validators and Vary a 200 would.
                _set_validators(not_modified, etag, last_modified_ts)
            return not_modified
        response = super().get(request, *args, **kwargs)
        _set_validators(response, etag, last_modified_ts)
        return response


def overview_etag(version: tuple, language: str, full_path: str) -> str:
    """The overview's ETag for a data version, language and path.

    Shared with nupportal.pagecache, which looks the finished page up under it
    before the middleware stack runs.
    """
    stamp = repr((PAGE_VERSION, version, language, full_path))
    return '"' + hashlib.sha1(stamp.encode(), usedforsecurity=False).hexdigest() + '"'


def last_modified_of(version: tuple) -> int | None:
    """The newest stamp of a data version as a Unix timestamp (Last-Modified)."""
    last_modified = max((at for at in version if at is not None), default=None)
    return int(last_modified.timestamp()) if last_modified else None


def _set_validators(
    response: HttpResponse, etag: str, last_modified_ts: int | None
) -> None:
    response["ETag"] = etag
    if last_modified_ts is not None:
        response["Last-Modified"] = http_date(last_modified_ts)
    patch_vary_headers(response, ["Cookie"])


def _cacheable(request: HttpRequest) -> bool:
    """Only the anonymous page without a session or pending messages is shared."""
    return (
        request.method in ("GET", "HEAD")
        and not request.user.is_authenticated
        and "messages" not in request.COOKIES
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
    )


class MethodView(TemplateView):
    """`/methode/`: how every figure is computed, with a worked example."""

    template_name = "scoring/method.html"

    def get_context_data(self, **kwargs) -> dict:
        return super().get_context_data(**kwargs) | method_context()
