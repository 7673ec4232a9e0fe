"""Template tags of the portal's look: main navigation, level badges, local names."""

from __future__ import annotations

from dataclasses import dataclass

from django import template
from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from buildingblocks.levels import Level
from municipalities.roles import is_editor, is_king_staff
from nupportal.formats import format_number, format_percent

register = template.Library()


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    current: bool


# (label, URL name, who may see it); None = everyone.
_NAV = (
    (_("Overview"), "scoring:overview", None),
    (_("Municipalities"), "municipalities:list", None),
    (_("Provinces"), "municipalities:provinces", None),
    (_("Building blocks"), "buildingblocks:list", None),
    (_("Result agreements"), "agreements:list", None),
    (_("Matrix"), "municipalities:matrix", None),
    (_("My municipality"), "buildingblocks:mine", is_editor),
    (_("Reports"), "reports:list", is_king_staff),
    (_("Import"), "buildingblocks:import", is_king_staff),
    (_("Administration"), "admin:index", lambda user: user.is_staff),
    (_("Two-step verification"), "mfa-setup", lambda user: user.is_authenticated),
)

# Short labels for the matrix cells; the full label is always beside them for
# screen readers.
SHORT_LEVEL_LABELS = {
    Level.NOT_STARTED: _("Not st."),
    Level.PREPARING: _("Prep."),
    Level.IMPLEMENTING: _("Impl."),
    Level.IN_USE: _("In use"),
    Level.NOT_APPLICABLE: _("n/a"),
}


def nav_items(user, path: str) -> list[NavItem]:
    """The main navigation for this user; pages not (yet) routed are left out."""
    entries = []
    for label, url_name, allowed in _NAV:
        if allowed is not None and not allowed(user):
            continue
        try:
            entries.append((label, reverse(url_name)))
        except NoReverseMatch:
            continue
    # The current item is the one with the longest URL that prefixes the path.
    home = reverse("scoring:overview") if entries else "/"
    best = max(
        (url for _label, url in entries if url != home and path.startswith(url)),
        key=len,
        default=home if path == home else None,
    )
    return [NavItem(str(label), url, url == best) for label, url in entries]


@register.simple_tag(takes_context=True)
def main_nav(context) -> list[NavItem]:
    request = context["request"]
    return nav_items(request.user, request.path)


@register.inclusion_tag("includes/level.html")
def level_badge(level: str, short: bool = False) -> dict:
    """A level as text and colour: `level level--<value>`, never colour alone."""
    try:
        label = Level(level).label
    except ValueError:
        label = level
    return {
        "level": level,
        "label": label,
        "short_label": SHORT_LEVEL_LABELS.get(level, label) if short else None,
    }


def localized_attr(obj, field: str) -> str:
    """`obj.<field>_en` on English pages when it is filled in, else `obj.<field>`."""
    if get_language() == "en":
        english = getattr(obj, f"{field}_en", "")
        if english:
            return english
    return getattr(obj, field)


@register.filter
def localized(obj, field: str) -> str:
    return localized_attr(obj, field)


@register.filter
def localized_lang(obj, field: str) -> str:
    """The language of the text `localized` shows, for a `lang` attribute.

    An English page falls back to the Dutch text where no English one is filled
    in; that part must then say it is Dutch (WCAG 3.1.2).
    """
    if get_language() == "en" and getattr(obj, f"{field}_en", ""):
        return "en"
    return settings.LANGUAGE_CODE


@register.filter
def percentage(value, decimal_pos: int = 0) -> str:
    """A share 0–1 as a percentage in the current language; '—' when unknown."""
    if value is None or value == "":
        return "—"
    return format_percent(value, int(decimal_pos))


@register.filter
def number(value, decimal_pos=None) -> str:
    """A number grouped per language; '—' when unknown."""
    if value is None or value == "":
        return "—"
    return format_number(value, None if decimal_pos is None else int(decimal_pos))


@register.filter
def elided_pages(paginator, number):
    """Page numbers around the current one, with the paginator's ELLIPSIS between."""
    return paginator.get_elided_page_range(number, on_each_side=2, on_ends=1)


@register.simple_tag
def compliance_badge(status: str) -> str:
    """An agreement status as text and colour: `status status--<value>`."""
    from scoring.models import ComplianceStatus

    try:
        label = ComplianceStatus(status).label
    except ValueError:
        label = status
    return format_html('<span class="status status--{}">{}</span>', status, label)


@register.simple_tag
def compliance_reason(reason: str | None, lapsed_on=None, today=None) -> str:
    """Why an agreement is at risk or overdue and, where a date lapsed, how long ago.

    "" for statuses without a reason (met, on track, not applicable).
    """
    import datetime

    from django.utils.formats import date_format
    from django.utils.timesince import timesince

    from scoring.models import ComplianceReason

    if not reason:
        return ""
    text = str(ComplianceReason(reason).label)
    if lapsed_on is not None:
        today = today or datetime.date.today()
        text = _("%(reason)s: %(date)s, %(ago)s ago") % {
            "reason": text,
            "date": date_format(lapsed_on, "j F Y"),
            "ago": timesince(lapsed_on, today, depth=1),
        }
    return format_html('<span class="status-reason">({})</span>', text)


@register.simple_tag
def deadline_note(agreement) -> str:
    """What kind of deadline an agreement's current one is, in brackets.

    A postponed deadline says so, with the original date, and never passes
    for the end of the programme; a synthetic (demo) postponement says that
    too (`deadline_synthetic`, see ResultAgreementQuerySet.with_deadline_source).
    """
    from django.utils.formats import date_format

    if agreement.is_postponed:
        label = (
            _("postponed (synthetic)")
            if getattr(agreement, "deadline_synthetic", False)
            else _("postponed")
        )
        text = _("%(label)s; originally %(date)s") % {
            "label": label,
            "date": date_format(agreement.original_deadline, "j F Y"),
        }
    elif agreement.deadline_is_reference:
        text = _("end of programme")
    else:
        return ""
    return format_html('<span class="meta">({})</span>', text)


@register.simple_tag
def level_label(level: str) -> str:
    try:
        return Level(level).label
    except ValueError:
        return level


@register.simple_tag
def level_short_label(level: str) -> str:
    return str(SHORT_LEVEL_LABELS.get(level, level))
