"""What drf-spectacular's generated document needs to follow the NL API Design Rules.

Per view, `ApiSchema` reads what an `api.views.ApiView` declares (operation id,
summary, parameters, response). A postprocessing hook (SPECTACULAR_SETTINGS)
adds what cannot be said per view: contact and licence, the server URL with the
major version, the API-Version header on every response, and the problem+json
error responses.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter, OpenApiTypes

FORMAT_PARAMETER = OpenApiParameter(
    "format",
    OpenApiTypes.STR,
    enum=["json", "csv"],
    description="The representation; the same as Accept: application/json or text/csv.",
)


class ApiSchema(AutoSchema):
    """The operation of an ApiView, from its class attributes: one place, not a
    decorator per view."""

    def get_operation_id(self) -> str:
        return self.view.operation_id

    def get_summary(self) -> str:
        return self.view.summary

    def get_override_parameters(self) -> list:
        view = self.view
        csv = [FORMAT_PARAMETER] if view.csv_rows else []
        return [view.params_class, *view.path_parameters, *csv]

    def get_response_serializers(self):
        return self.view.response_class


PROBLEM = {
    "type": "object",
    "description": "RFC 9457 problem details.",
    "properties": {
        "status": {"type": "integer", "description": "The HTTP status code."},
        "title": {"type": "string", "description": "The HTTP reason phrase."},
        "detail": {"type": "string", "description": "What went wrong, for people."},
    },
    "required": ["status", "title", "detail"],
}

HEADERS = {
    "API-Version": {
        "description": "The full version of the API (semver).",
        "schema": {"type": "string", "example": "1.0.0"},
    },
    "Synthetic-Data": {
        "description": "Present while the portal holds synthetic demo statuses.",
        "schema": {"type": "string"},
    },
}

ERRORS = {
    "400": "Bad Request: a parameter is invalid (see invalidParams).",
    "401": "Unauthorized: the token is invalid.",
    "404": "Not Found.",
    "406": "Not Acceptable: ask for application/json (or text/csv where offered).",
    "429": "Too Many Requests: wait for Retry-After seconds.",
    "500": "Internal Server Error.",
}
CONDITIONAL = ("/cijfers", "/trends")


def server_url() -> str:
    url = settings.NUP_API_BASE_URL
    if not settings.DEBUG and url.startswith("http://"):
        # Production is served over HTTPS only (SECURE_SSL_REDIRECT).
        url = "https://" + url.removeprefix("http://")
    return url


def nl_api_design_rules(result: dict[str, Any], **kwargs) -> dict[str, Any]:
    result["info"].update(
        description=(
            "Read-only open data of NUP Portal: how Dutch municipalities adopt the "
            "NUP building blocks and meet the i-NUP result agreements. Every figure "
            "takes an optional reference date `peildatum` (YYYY-MM-DD). "
            "Municipality reference data: CBS, CC BY 4.0. The statuses and their "
            "history in a demo installation are synthetic (header Synthetic-Data)."
        ),
        contact={
            "name": "NUP Portal beheer",
            "url": f"{settings.NUP_BASE_URL}/open-data/",
            "email": settings.DEFAULT_FROM_EMAIL.rsplit("<", 1)[-1].rstrip(">"),
        },
        license={
            "name": "CC BY 4.0",
            "url": "https://creativecommons.org/licenses/by/4.0/",
        },
    )
    tags = sorted(
        {
            tag
            for ops in result.get("paths", {}).values()
            for op in ops.values()
            for tag in op.get("tags", [])
        }
    )
    result["tags"] = [{"name": tag} for tag in tags]
    result["servers"] = [{"url": server_url(), "description": "NUP Portal"}]
    components = result.setdefault("components", {})
    components.setdefault("schemas", {})["Problem"] = PROBLEM
    problem_content = {
        "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
    }
    for path, operations in result.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for code, description in ERRORS.items():
                responses.setdefault(
                    code, {"description": description, "content": problem_content}
                )
            if path in CONDITIONAL:
                responses["304"] = {"description": "Not Modified (If-None-Match)."}
                operation.setdefault("parameters", []).append(
                    {
                        "name": "If-None-Match",
                        "in": "header",
                        "required": False,
                        "schema": {"type": "string"},
                        "description": "An ETag of an earlier response.",
                    }
                )
            for code, response in responses.items():
                headers = response.setdefault("headers", {})
                headers.update(HEADERS)
                if path in CONDITIONAL and code in ("200", "304"):
                    headers["ETag"] = {"schema": {"type": "string"}}
                if code.startswith("2"):
                    headers["Access-Control-Allow-Origin"] = {
                        "description": "CORS: every origin may read.",
                        "schema": {"type": "string", "example": "*"},
                    }
    return result
