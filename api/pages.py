"""The portal's "Open data" page: how to use the API, the licence, the demo notice."""

from __future__ import annotations

from django.views.generic import TemplateView

from api.middleware import api_version


class OpenDataView(TemplateView):
    template_name = "api/open_data.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            api_base=self.request.build_absolute_uri("/api/v1"),
            api_version=api_version(),
        )
        return context
