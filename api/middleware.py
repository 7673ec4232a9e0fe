"""Headers and errors that every /api/ response has, whatever produced it."""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from api.problems import PROBLEM_JSON, problem

API_PREFIX = "/api/"
logger = logging.getLogger(__name__)


def api_version() -> str:
    return settings.SPECTACULAR_SETTINGS["VERSION"]


class ApiResponseMiddleware:
    """The API-Version header on every API response; errors as problem+json.

    Sits outermost so that errors raised outside the API views (an unknown
    path, a path with a trailing slash, a bug) are answered the same way.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        response = self.get_response(request)
        if response.status_code == 302 and settings.NUP_REQUIRE_LOGIN:
            # RequireLoginMiddleware sends browsers to the login page; an API
            # client gets the 401 problem instead.
            response = problem(401)
        if response.status_code >= 400 and not response.get(
            "Content-Type", ""
        ).startswith(PROBLEM_JSON):
            replacement = problem(response.status_code)
            for header in ("Allow", "Retry-After", "WWW-Authenticate"):
                if header in response:
                    replacement[header] = response[header]
            response = replacement
        response["API-Version"] = api_version()
        if settings.NUP_DEMO_NOTICE:
            response["Synthetic-Data"] = SYNTHETIC_NOTICE
        return response

    def process_exception(self, request: HttpRequest, exception: Exception):
        if request.path.startswith(API_PREFIX):
            logger.exception("API error on %s", request.path)
            return problem(500)
        return None


# A header value is ASCII: the notice stays in English here and is Dutch on the page.
SYNTHETIC_NOTICE = (
    "true; the statuses, their history and the postponed deadlines marked "
    "synthetic are invented demo data"
)
