"""The national overview."""

from django.views.generic import TemplateView


class OverviewView(TemplateView):
    template_name = "scoring/overview.html"
