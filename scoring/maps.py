"""The choropleth map of municipalities: server-rendered SVG, cached per data version.

The outlines (`Municipality.map_path`) are prepared once when the reference data is
loaded. A map is one `<a><path>` per active municipality, coloured by a classed
scale, with a `<title>` ("name: value") and a link to the scorecard. Building the
SVG for 342 municipalities is the expensive part of a page, so the finished
`MapFigure` is cached under a key that contains a fingerprint of the data it shows
(when the scores were computed, how many rows there are, the statuses' versions):
any recompute or status change gives a new key, so the cache needs no explicit
invalidation and never serves a stale map.

Three variants: the adoption score (overview), one block's level (block page) and
one agreement's compliance status (agreement page).
"""

from __future__ import annotations

import datetime
import hashlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db.models import Count, Max, Sum
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from buildingblocks.levels import Level
from municipalities.geography import MAP_VIEW_BOX
from municipalities.models import Municipality
from nupportal.formats import round_half_up
from scoring.charts import BLUES, STATUS_FILLS, number
from scoring.models import ComplianceStatus

CACHE_SECONDS = 24 * 60 * 60
# Bump when the rendering changes, so cached maps of the old code are not served.
RENDER_VERSION = 2
NO_DATA = "nodata"
NO_DATA_FILL = "url(#map-hatch)"
# Level colours: a sequential ramp (dark = further), hatched for not applicable.
LEVEL_FILLS = {
    Level.NOT_STARTED: BLUES[0],
    Level.PREPARING: BLUES[1],
    Level.IMPLEMENTING: BLUES[2],
    Level.IN_USE: BLUES[4],
}


@dataclass(frozen=True)
class MapClass:
    """One class of the legend: its key (CSS class suffix), label and fill."""

    key: str
    label: str
    fill: str


@dataclass
class MapArea:
    name: str
    url: str
    path: str
    class_key: str
    value_text: str


@dataclass
class MapFigure:
    """A rendered map with its legend, summary and table alternative."""

    id: str
    caption: str
    summary: str
    svg: SafeString
    value_header: str
    legend: list[tuple[MapClass, int]] = field(default_factory=list)
    rows: list[tuple[str, str, str, str]] = field(default_factory=list)


# --- classes ----------------------------------------------------------------------

# Lower bounds of classes c1…c6. Fixed (not quantiles) so maps of different dates
# compare; finer at the top, where most municipalities are once a programme
# matures: in steps of 5 from 80, so a mature country is not one dark mass.
SCORE_BOUNDS = (40, 60, 80, 85, 90, 95)
# The map's summary counts municipalities at or above this score.
SUMMARY_HIGH_SCORE = 80
# ColorBrewer "YlGnBu", 7 classes: sequential (light = low, dark = high), marked
# colour-blind safe and print friendly by ColorBrewer; its hue runs from yellow
# through green to blue, so neighbouring top classes differ in hue as well as in
# lightness, which one-hue blues do not manage at seven steps.
SCORE_FILLS = (
    "#ffffcc",
    "#c7e9b4",
    "#7fcdbb",
    "#41b6c4",
    "#1d91c0",
    "#225ea8",
    "#0c2c84",
)


def score_classes() -> list[MapClass]:
    """Seven classes of the adoption score (0–40 … 95–100) and 'no data'."""
    edges = (0, *SCORE_BOUNDS, 100)
    classes = [
        MapClass(
            key=f"c{i}",
            label=_("%(low)s to %(high)s") % {"low": low, "high": high}
            if i < len(SCORE_BOUNDS)
            else _("%(low)s or more") % {"low": low},
            fill=SCORE_FILLS[i],
        )
        for i, (low, high) in enumerate(zip(edges, edges[1:], strict=False))
    ]
    return [*classes, MapClass(NO_DATA, _("no score yet"), NO_DATA_FILL)]


def score_class(score: float | None) -> str:
    """The class key of a score: c0 (under 40) … c6 (95 or more)."""
    if score is None:
        return NO_DATA
    # Classed as the map labels it (a whole number), so "80" is never in "60 to 80".
    shown = round_half_up(score)
    return f"c{sum(shown >= bound for bound in SCORE_BOUNDS)}"


def level_classes() -> list[MapClass]:
    classes = [
        MapClass(level.value, str(level.label), LEVEL_FILLS[level])
        for level in (Level.NOT_STARTED, Level.PREPARING, Level.IMPLEMENTING)
    ]
    classes.append(
        MapClass(Level.IN_USE, str(Level.IN_USE.label), LEVEL_FILLS[Level.IN_USE])
    )
    classes.append(
        MapClass(
            Level.NOT_APPLICABLE, str(Level.NOT_APPLICABLE.label), "url(#map-dots)"
        )
    )
    return [*classes, MapClass(NO_DATA, _("no status recorded"), NO_DATA_FILL)]


def status_classes() -> list[MapClass]:
    classes = [
        MapClass(status.value, str(status.label), STATUS_FILLS[status.value])
        for status in ComplianceStatus
    ]
    return [*classes, MapClass(NO_DATA, _("not computed yet"), NO_DATA_FILL)]


# --- rendering (pure) -------------------------------------------------------------

_DEFS = (
    "<defs>"
    '<pattern id="map-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
    'patternTransform="rotate(45)"><rect width="6" height="6" fill="#fff"/>'
    '<line x1="0" y1="0" x2="0" y2="6" stroke="#767676" stroke-width="2"/></pattern>'
    '<pattern id="map-dots" width="6" height="6" patternUnits="userSpaceOnUse">'
    '<rect width="6" height="6" fill="#fff"/>'
    '<circle cx="3" cy="3" r="1.4" fill="#505050"/></pattern>'
    "</defs>"
)


def render_map(
    *,
    map_id: str,
    title: str,
    desc: str,
    areas: Sequence[MapArea],
    classes: Sequence[MapClass],
) -> SafeString:
    """The SVG: one linked, titled path per area, filled by its class."""
    fills = {c.key: c.fill for c in classes}
    paths = format_html_join(
        "",
        '<a href="{}" class="map-area" aria-label="{}: {}">'
        '<path d="{}" fill="{}" class="map-{}"><title>{}: {}</title></path></a>',
        (
            (
                a.url,
                a.name,
                a.value_text,
                a.path,
                fills[a.class_key],
                a.class_key,
                a.name,
                a.value_text,
            )
            for a in areas
            if a.path
        ),
    )
    head = format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="map" viewBox="{}" '
        'aria-labelledby="{}-title {}-desc"><title id="{}-title">{}</title>'
        '<desc id="{}-desc">{}</desc>',
        MAP_VIEW_BOX,
        map_id,
        map_id,
        map_id,
        title,
        map_id,
        desc,
    )
    return mark_safe(  # noqa: S308 - every part is escaped above
        head
        + _DEFS
        + '<g class="map-areas" fill-rule="evenodd" stroke="#fff" stroke-width="0.6" '
        'stroke-linejoin="round">' + paths + "</g></svg>"
    )


def build_figure(
    *,
    map_id: str,
    caption: str,
    summary: str,
    value_header: str,
    areas: Sequence[MapArea],
    classes: Sequence[MapClass],
) -> MapFigure:
    counts = Counter(a.class_key for a in areas)
    return MapFigure(
        id=map_id,
        caption=caption,
        summary=summary,
        svg=render_map(
            map_id=map_id, title=caption, desc=summary, areas=areas, classes=classes
        ),
        value_header=value_header,
        legend=[(c, counts.get(c.key, 0)) for c in classes],
        rows=[(a.name, a.url, a.value_text, a.class_key) for a in areas],
    )


# --- data and cache ---------------------------------------------------------------


def _cached(key: str, build: Callable[[], MapFigure]) -> MapFigure:
    figure = cache.get(key)
    if figure is None:
        figure = build()
        cache.set(key, figure, CACHE_SECONDS)
    return figure


def _fingerprint(values: dict) -> str:
    """A short, cache-key-safe digest of the data version."""
    text = "|".join(f"{k}={values[k]}" for k in sorted(values))
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()


def _municipality_version() -> dict:
    """Which municipalities there are and when their scores were last computed.

    Every change that matters to a map (a status saved, a merger, reloaded
    outlines) ends in a recompute, which moves `at`.
    """
    return Municipality.objects.active().aggregate(
        n=Count("pk"), scored=Count("score"), at=Max("score__computed_at")
    )


def _municipalities() -> list[dict]:
    return list(
        Municipality.objects.active()
        .order_by("name")
        .values("pk", "name", "slug", "map_path")
    )


def _scorecard(slug: str) -> str:
    return reverse("municipalities:detail", kwargs={"slug": slug})


def score_map() -> MapFigure:
    """The adoption score of every active municipality (one query when cached)."""
    version = _municipality_version()
    key = f"map:v{RENDER_VERSION}:score:{get_language()}:{_fingerprint(version)}"

    def build() -> MapFigure:
        rows = list(
            Municipality.objects.active()
            .order_by("name")
            .values("name", "slug", "map_path", "score__score")
        )
        return _score_figure([(r, r["score__score"]) for r in rows])

    return _cached(key, build)


def score_map_on(on: datetime.date, scores: dict[int, float | None]) -> MapFigure:
    """The adoption score of every municipality that existed on `on` (one query).

    `scores` are the scores of that day (scoring.timetravel.standings_on).
    """
    rows = list(
        Municipality.objects.filter(pk__in=list(scores))
        .order_by("name")
        .values("id", "name", "slug", "map_path")
    )
    return _score_figure([(r, scores[r["id"]]) for r in rows])


def _score_figure(rows: list[tuple[dict, float | None]]) -> MapFigure:
    areas = [
        MapArea(
            name=r["name"],
            url=_scorecard(r["slug"]),
            path=r["map_path"],
            class_key=score_class(score),
            value_text=number(score) if score is not None else _("no score yet"),
        )
        for r, score in rows
    ]
    scores = [score for _r, score in rows if score is not None]
    high = sum(round_half_up(s) >= SUMMARY_HIGH_SCORE for s in scores)
    low = sum(round_half_up(s) < SCORE_BOUNDS[0] for s in scores)
    summary = _(
        "%(high)s of %(total)s municipalities score %(bound)s or more; "
        "%(low)s score less than %(low_bound)s."
    ) % {
        "high": number(high),
        "total": number(len(rows)),
        "bound": SUMMARY_HIGH_SCORE,
        "low": number(low),
        "low_bound": SCORE_BOUNDS[0],
    }
    return build_figure(
        map_id="map-score",
        caption=_("Adoption score per municipality"),
        summary=summary,
        value_header=_("Adoption score"),
        areas=areas,
        classes=score_classes(),
    )


def block_map(block) -> MapFigure:
    """One building block's level in every active municipality."""
    version = {
        **_municipality_version(),
        **block.statuses.aggregate(
            statuses=Count("pk"), versions=Sum("version"), updated=Max("updated_at")
        ),
    }
    key = f"map:v{RENDER_VERSION}:block:{block.pk}:{get_language()}:{_fingerprint(version)}"

    def build() -> MapFigure:
        levels = dict(
            block.statuses.filter(municipality__active=True).values_list(
                "municipality_id", "level"
            )
        )
        return _block_figure(block, _municipalities(), levels)

    return _cached(key, build)


def agreement_map(agreement) -> MapFigure:
    """One agreement's compliance status in every active municipality."""
    # Compliance rows exist for active municipalities only and are rewritten by
    # every recompute (after mergers and reloaded outlines too).
    version = agreement.compliance.filter(municipality__active=True).aggregate(
        rows=Count("pk"), computed=Max("computed_at")
    )
    key = f"map:v{RENDER_VERSION}:agreement:{agreement.pk}:{get_language()}:{_fingerprint(version)}"

    def build() -> MapFigure:
        statuses = dict(agreement.compliance.values_list("municipality_id", "status"))
        return _agreement_figure(agreement, _municipalities(), statuses)

    return _cached(key, build)


def municipalities_on(on: datetime.date) -> list[dict]:
    """The map rows of the municipalities that existed on `on` (one query)."""
    from scoring.timetravel import existing_on

    return list(
        Municipality.objects.filter(existing_on(on))
        .order_by("name")
        .values("pk", "name", "slug", "map_path")
    )


def block_map_on(block, rows: list[dict], levels: dict[int, str]) -> MapFigure:
    """One block's level per municipality on a past date (`rows`: municipalities_on)."""
    return _block_figure(block, rows, levels)


def agreement_map_on(
    agreement, rows: list[dict], statuses: dict[int, str]
) -> MapFigure:
    """One agreement's status per municipality on a past date."""
    return _agreement_figure(agreement, rows, statuses)


def _areas(
    rows: list[dict], values: dict[int, str], labels: dict[str, str], missing: str
) -> list[MapArea]:
    """One area per municipality row, classed by its value (NO_DATA without one)."""
    areas = []
    for r in rows:
        value = values.get(r["pk"])
        areas.append(
            MapArea(
                name=r["name"],
                url=_scorecard(r["slug"]),
                path=r["map_path"],
                class_key=value or NO_DATA,
                value_text=str(labels[value]) if value else missing,
            )
        )
    return areas


def _block_figure(block, rows: list[dict], levels: dict[int, str]) -> MapFigure:
    areas = _areas(rows, levels, dict(Level.choices), _("no status recorded"))
    in_use = sum(1 for v in levels.values() if v == Level.IN_USE)
    summary = _("%(count)s of %(total)s municipalities use %(block)s.") % {
        "count": number(in_use),
        "total": number(len(areas)),
        "block": block.name,
    }
    return build_figure(
        map_id="map-block",
        caption=_("Level of %(block)s per municipality") % {"block": block.name},
        summary=summary,
        value_header=_("Level"),
        areas=areas,
        classes=level_classes(),
    )


def _agreement_figure(
    agreement, rows: list[dict], statuses: dict[int, str]
) -> MapFigure:
    areas = _areas(
        rows, statuses, dict(ComplianceStatus.choices), _("not computed yet")
    )
    counts = Counter(a.class_key for a in areas)
    summary = _(
        "%(met)s of %(total)s municipalities meet this agreement; "
        "%(overdue)s are overdue."
    ) % {
        "met": number(counts.get(ComplianceStatus.MET, 0)),
        "total": number(len(areas)),
        "overdue": number(counts.get(ComplianceStatus.OVERDUE, 0)),
    }
    return build_figure(
        map_id="map-agreement",
        caption=_("Status of agreement %(number)s per municipality")
        % {"number": agreement.number},
        summary=summary,
        value_header=_("Status"),
        areas=areas,
        classes=status_classes(),
    )
