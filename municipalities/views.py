"""Views of the municipalities app."""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.views.generic import TemplateView


class MineView(LoginRequiredMixin, TemplateView):
    template_name = "municipalities/mine.html"
