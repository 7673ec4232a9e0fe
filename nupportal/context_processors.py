from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.urls import translate_url


def portal(request: HttpRequest) -> dict:
    """Values every page needs: the demo notice and the other language's URL."""
    path = request.get_full_path()
    return {
        "demo_notice": settings.NUP_DEMO_NOTICE,
        "url_nl": translate_url(path, "nl"),
        "url_en": translate_url(path, "en"),
    }
