"""The OpenAPI document and its browsable docs, served by the portal (no CDN)."""

from __future__ import annotations

from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt

from drf_spectacular.renderers import OpenApiJsonRenderer
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView


class OpenApiView(SpectacularAPIView):
    """/api/v1/openapi.json (NL API Design Rules /core/publish-openapi)."""

    renderer_classes = [OpenApiJsonRenderer]
    http_method_names = ["get", "head", "options"]

    @extend_schema(
        operation_id="openapi_retrieve",
        summary="This OpenAPI document",
        responses={(200, "application/json"): OpenApiTypes.OBJECT},
    )
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        response["Content-Type"] = "application/json"
        return response


@method_decorator(csrf_exempt, name="dispatch")
class SwaggerView(SpectacularSwaggerSplitView):
    """Swagger UI from drf-spectacular-sidecar; its start script is a separate file.

    The split view serves the script at ?script, and the template here has no
    inline style, so the page stays within the Content-Security-Policy.
    """

    template_name = "api/swagger_ui.html"
    url_name = "api:openapi"
    http_method_names = ["get", "head", "options"]
