"""Time travel: the figures of the whole portal as they stood at the end of a day.

One module for the pages, the exports, the reports and the API (`peildatum`),
built on the public functions of scoring.history (the one replay of the
history), in a fixed number of queries whatever the number of municipalities:
- aggregate figures: today's `Aggregate` rows; for a month end the monthly
  `Snapshot`; for any other day `history.figures_on`;
- per municipality score, agreement statuses and block states:
  `history.standings_on`;
- which municipalities counted: `existing_on` (history.exists_on in SQL).

The reference date of a request is read and validated here too (`parse`), so
that every page says the same about a bad date.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from municipalities.models import Municipality
from nupportal.formats import format_number, round_half_up
from scoring import history
from scoring.figures import FigureRow
from scoring.history import Reconstruction, Standing
from scoring.method_version import METHOD_VERSION
from scoring.models import Aggregate, Snapshot

__all__ = [
    "PARAMETER",
    "PROGRAMME_START",
    "REPLAY_METHOD_VERSION",
    "Reconstruction",
    "Standing",
    "change",
    "existing_on",
    "figures",
    "municipalities_on",
    "parse",
    "ranks",
    "standings_on",
    "versioned_figures",
]

# The query parameter of every dashboard page, export and API resource.
PARAMETER = "peildatum"
# The start of i-NUP: the history begins with a baseline on this day.
PROGRAMME_START = datetime.date(2011, 1, 1)
# Accepted spellings: ISO (what <input type=date> sends) and the Dutch dd-mm-jjjj.
_FORMATS = ("%Y-%m-%d", "%d-%m-%Y")

_FIGURE_FIELDS = ("scope", "key", "measure", "block_id", "agreement_id", "status")

standings_on = history.standings_on
# The scoring method of what the replay (standings_on, history.figures_on)
# rebuilds: it runs today's code.
REPLAY_METHOD_VERSION = METHOD_VERSION


@dataclass(frozen=True)
class Parsed:
    """A requested reference date: the date, or None with the reason it was refused."""

    on: datetime.date | None
    error: str = ""


def parse(
    value: str | None,
    *,
    today: datetime.date | None = None,
    keep_today: bool = False,
) -> Parsed:
    """`?peildatum=` → a past date, or None (today) with a message for the visitor.

    Today itself means the current figures (None): nothing to travel to; with
    `keep_today` (a "compare with" date) today is kept as a date.
    """
    value = (value or "").strip()
    if not value:
        return Parsed(None)
    today = today or timezone.localdate()
    for fmt in _FORMATS:
        try:
            on = datetime.datetime.strptime(value, fmt).date()
            break
        except ValueError:
            continue
    else:
        return Parsed(
            None,
            str(
                _(
                    "“%(value)s” is not a date: give it as YYYY-MM-DD or DD-MM-YYYY. "
                    "You are viewing today's figures."
                )
                % {"value": value[:40]}
            ),
        )
    if on > today:
        return Parsed(
            None,
            str(
                _(
                    "The date %(date)s is in the future. You are viewing today's figures."
                )
                % {"date": on.isoformat()}
            ),
        )
    if on < PROGRAMME_START:
        return Parsed(
            None,
            str(
                _(
                    "The date %(date)s is before the programme started (%(start)s), "
                    "so there are no figures for it. You are viewing today's figures."
                )
                % {"date": on.isoformat(), "start": PROGRAMME_START.isoformat()}
            ),
        )
    if on == today and not keep_today:
        return Parsed(None)
    return Parsed(on)


def compare_of_request(request: HttpRequest) -> Parsed:
    """The "compare with" date (`?vergelijk=`): any day from the programme start to today."""
    return parse(request.GET.get(COMPARE_PARAMETER), keep_today=True)


def figures(on: datetime.date | None) -> list[FigureRow]:
    """Every aggregate figure: current when `on` is None, else at the end of `on`."""
    return versioned_figures(on)[0]


def versioned_figures(
    on: datetime.date | None,
) -> tuple[list[FigureRow], str | None]:
    """`figures(on)` and the scoring method that made them (None: no figures yet).

    The stored rows' version for today and a month end; a replay runs the
    current method. In the same query as the figures.
    """
    if on is None:
        return _split(
            Aggregate.objects.values_list(*_FIGURE_FIELDS, "value", "method_version")
        )
    if on == history.month_end(on):
        rows, version = _split(
            Snapshot.objects.filter(month=history.month_start(on)).values_list(
                *_FIGURE_FIELDS, "value", "method_version"
            )
        )
        if rows:
            return rows, version
    return history.figures_on(on), REPLAY_METHOD_VERSION


def _split(rows: Iterable[tuple]) -> tuple[list[FigureRow], str | None]:
    # A recompute rewrites every aggregate, a rebuild every row of a month: the
    # rows of one answer share one version.
    rows = list(rows)
    return [row[:-1] for row in rows], rows[0][-1] if rows else None


def existing_on(on: datetime.date) -> Q:
    """The municipalities that counted on `on` (scoring.history.exists_on, in SQL)."""
    return (Q(valid_from__isnull=True) | Q(valid_from__lte=on)) & (
        Q(valid_until__gte=on) | Q(valid_until__isnull=True, active=True)
    )


def municipalities_on(on: datetime.date) -> QuerySet[Municipality]:
    return Municipality.objects.filter(existing_on(on)).select_related("province")


def ranks(scores: Mapping[int, float | None]) -> dict[int, int]:
    """Competition ranks (1, 2, 2, 4) by score, highest first; unscored have none.

    The same ranking as scoring.recompute's RANK() OVER (ORDER BY score DESC).
    """
    ordered = sorted((s, m) for m, s in scores.items() if s is not None)
    ordered.reverse()
    result: dict[int, int] = {}
    previous: float | None = None
    rank = 0
    for position, (score, municipality_id) in enumerate(ordered, start=1):
        if score != previous:
            rank, previous = position, score
        result[municipality_id] = rank
    return result


def change(now: float | None, then: float | None, *, scale: float = 1.0) -> str:
    """ "+3", "−2", "0" between two figures (shares: scale 100 gives points), or ""."""
    if now is None or then is None:
        return ""
    difference = round_half_up((now - then) * scale)
    if difference > 0:
        return f"+{format_number(difference)}"
    if difference < 0:
        return f"−{format_number(-difference)}"
    return "0"


def scores_on(
    on: datetime.date, municipality_ids: Iterable[int] | None = None
) -> dict[int, float | None]:
    """Score per municipality at the end of `on` (only those that counted)."""
    return {
        m: standing.score
        for m, standing in standings_on(on, municipality_ids).standings.items()
    }


# --- the reference date of a request ---------------------------------------------------

# The views that show figures on a reference date; their links keep it.
VIEWS = frozenset(
    {
        "scoring:overview",
        "municipalities:list",
        "municipalities:detail",
        "municipalities:matrix",
        "buildingblocks:list",
        "buildingblocks:detail",
        "agreements:list",
        "agreements:detail",
    }
)
# The "compare with" date of the overview and the scorecard.
COMPARE_PARAMETER = "vergelijk"


def of_request(request: HttpRequest) -> Parsed:
    """The request's reference date, parsed once (ReferenceDateMiddleware sets it)."""
    parsed = getattr(request, "reference_date", None)
    if parsed is None:
        parsed = parse(request.GET.get(PARAMETER))
        request.reference_date = parsed
    return parsed


def requested(request: HttpRequest) -> datetime.date | None:
    """The valid past date the page should show, or None for today's figures."""
    return of_request(request).on


class PastDateTableMixin:
    """A table view that shows a past day's rows when the request asks for that day
    (?peildatum): `rows_on(on)` in place of today's queryset."""

    def get_table_data(self):
        on = requested(self.request)
        if on is None:
            return super().get_table_data()
        return self.rows_on(on)

    def rows_on(self, on: datetime.date) -> list:
        raise NotImplementedError


def standings_of_request(request: HttpRequest) -> Reconstruction | None:
    """That day's standings for a request on a past date, else None.

    Replayed once per request: `standings_on` keeps them for the request
    (history.one_reference_load, around every request).
    """
    on = requested(request)
    return None if on is None else standings_on(on)


def is_time_travel_view(view_name: str | None) -> bool:
    return view_name in VIEWS


_ANCHOR = re.compile(r"<a\b[^>]*>", re.IGNORECASE)
_HREF = re.compile(r'\bhref="([^"]*)"')
_FORM = re.compile(r"(<form\b[^>]*>)(.*?)(</form>)", re.IGNORECASE | re.DOTALL)
_ACTION = re.compile(r'\baction="([^"]*)"')
_METHOD = re.compile(r'\bmethod="([^"]*)"', re.IGNORECASE)
# Links that must leave the date behind: the banner's way back to today.
_LEAVES_DATE = "data-today"


def keep_date(html: str, on: datetime.date, path: str, takes_date) -> str:
    """`html` with `peildatum=on` added to every link and GET form to a dated page.

    One mechanism for nav, table links, sorting, pagination, filters and export
    links: whatever a template writes, a link to a page that shows figures on a
    date (`takes_date(path)`) keeps the date unless it names one itself or is
    marked `data-today`. `path` is the page's own, for "?…" links and forms
    without an action.
    """
    value = on.isoformat()
    known: dict[str, bool] = {}

    def dated(target: str) -> bool:
        if target not in known:
            known[target] = takes_date(target)
        return known[target]

    def link(match: re.Match) -> str:
        tag = match.group(0)
        if _LEAVES_DATE in tag:
            return tag
        href = _HREF.search(tag)
        if href is None:
            return tag
        url = href.group(1)
        if f"{PARAMETER}=" in url or not _internal(url):
            return tag
        target = path if url.startswith("?") else url.split("?")[0].split("#")[0]
        if not dated(target):
            return tag
        base, hash_mark, fragment = url.partition("#")
        joiner = "&amp;" if "?" in base else "?"
        new = f"{base}{joiner}{PARAMETER}={value}{hash_mark}{fragment}"
        return tag[: href.start(1)] + new + tag[href.end(1) :]

    def form(match: re.Match) -> str:
        opening, body, closing = match.groups()
        method = _METHOD.search(opening)
        if method and method.group(1).lower() != "get":
            return match.group(0)
        if f'name="{PARAMETER}"' in body:
            return match.group(0)
        action = _ACTION.search(opening)
        target = action.group(1).split("?")[0] if action and action.group(1) else path
        if not _internal(target) or not dated(target):
            return match.group(0)
        hidden = f'<input type="hidden" name="{PARAMETER}" value="{value}">'
        return f"{opening}{hidden}{body}{closing}"

    return _ANCHOR.sub(link, _FORM.sub(form, html))


def _internal(url: str) -> bool:
    return url.startswith("?") or (url.startswith("/") and not url.startswith("//"))
