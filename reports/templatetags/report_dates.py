"""Report parameters keep their dates as ISO text (JSON); turn them back into dates."""

from __future__ import annotations

import datetime

from django import template

register = template.Library()


@register.filter
def to_date(value: str | datetime.date | None) -> datetime.date | str:
    """An ISO date text ("2026-11-29") as a date, for `|date:"DATE_FORMAT"`.

    Anything that is not an ISO date comes back unchanged.
    """
    if isinstance(value, str) and value:
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            return value
    return value
