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
    """Values every page needs: the demo notice, the other language's URL and,
    on a page that shows figures on a date, that date (`time_travel`)."""
    path = request.get_full_path()
    return {
        "demo_notice": settings.NUP_DEMO_NOTICE,
        "url_nl": other_language_url(path, "nl"),
        "url_en": other_language_url(path, "en"),
        "time_travel": time_travel(request),
    }


def time_travel(request: HttpRequest) -> dict | None:
    """The reference date of a dated page, a refused date's message, the way back."""
    from scoring import timetravel

    match = getattr(request, "resolver_match", None)
    if match is None or not timetravel.is_time_travel_view(match.view_name):
        return None
    parsed = timetravel.of_request(request)
    if parsed.on is None and not parsed.error:
        return None
    query = request.GET.copy()
    for name in (timetravel.PARAMETER, timetravel.COMPARE_PARAMETER, "page"):
        query.pop(name, None)
    today_url = request.path + (f"?{query.urlencode()}" if query else "")
    return {"on": parsed.on, "error": parsed.error, "today_url": today_url}
