"""The national overview."""

from __future__ import annotations

from django.views.generic import TemplateView

from scoring.dashboards import overview_context


class OverviewView(TemplateView):
    """`/`: headline figures, the map, the size-class gap, trends and agreements."""

    template_name = "scoring/overview.html"

    def get_context_data(self, **kwargs) -> dict:
        return super().get_context_data(**kwargs) | overview_context()
