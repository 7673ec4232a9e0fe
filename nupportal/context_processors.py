from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.urls import translate_url
from django.utils.translation import get_language_from_path


def other_language_url(path: str, language: str) -> str:
    """`path` in `language`; also for a path no view answers (a 404 page).

    translate_url gives an unknown path back unchanged, which would leave the
    language switch of a 404 page pointing at the language already shown. Dutch
    has no prefix (prefix_default_language=False), every other language has one.
    """
    translated = translate_url(path, language)
    current = get_language_from_path(path) or settings.LANGUAGE_CODE
    if translated != path or current == language:
        return translated
    bare = path[len(current) + 1 :] if current != settings.LANGUAGE_CODE else path
    if language == settings.LANGUAGE_CODE:
        return bare
    return f"/{language}{bare}"


def portal(request: HttpRequest) -> dict:
    """Values every page needs: the demo notice and the other language's URL."""
    path = request.get_full_path()
    return {
        "demo_notice": settings.NUP_DEMO_NOTICE,
        "url_nl": other_language_url(path, "nl"),
        "url_en": other_language_url(path, "en"),
    }
