"""Server-rendered SVG charts: small pure functions, no JavaScript, no CDN.

Why our own templates and not pygal: every chart must be accessible (a <title> and
<desc> named by aria-labelledby, direct text labels on bars and lines, a table
alternative) and must pass a Content-Security-Policy without unsafe-inline. pygal
writes inline <style> blocks and relies on its JavaScript for labels and tooltips;
switching that off leaves an unlabelled picture. These few functions produce exactly
the markup we need: colours as SVG presentation attributes (allowed by the CSP; a
stylesheet can still override them, e.g. for print), CSS classes as hooks, and text
labels so that no value depends on colour alone.

Each function takes already-loaded values and returns a `Chart`: the SVG plus the
caption, a one-sentence summary and the rows of its table alternative. The wrapper
template `includes/chart.html` puts these in a <figure>.
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from nupportal.formats import format_number
from scoring.distribution import Spread

# Colour-blind-safe palettes whose members also differ in lightness, so they stay
# distinguishable in grey print.
# Sequential (ColorBrewer "Blues"): light = little, dark = much.
BLUES = ("#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c")
BAR_FILL = "#3182bd"
BAR_STROKE = "#08306b"
# Ordinal status scale (viridis samples), from met (light) to overdue (dark).
STATUS_FILLS = {
    "met": "#fde725",
    "on_track": "#35b779",
    "at_risk": "#31688e",
    "overdue": "#440154",
    # Outside the ordinal scale: the agreement does not apply.
    "not_applicable": "#d9d9d9",
}
# Text colour that keeps 4.5:1 contrast on each status fill.
STATUS_TEXT = {
    "met": "#000",
    "on_track": "#000",
    "at_risk": "#fff",
    "overdue": "#fff",
    "not_applicable": "#000",
}
# Lines: dark enough for 3:1 against white, told apart by dash pattern and by a
# label at the end of each line as well.
LINE_STYLES = (
    ("#000000", "", 3.0),
    ("#d55e00", "2 3", 2.0),
    ("#aa3377", "8 3", 2.0),
    ("#228833", "8 3 2 3", 2.0),
    ("#0072b2", "14 4", 2.0),
    ("#332288", "", 1.5),
)

WIDTH = 640
# The second rendering for narrow screens (WCAG 1.4.10 reflow): drawn for about the
# content width of a 360 px phone, so text keeps its size instead of shrinking to
# half; includes/chart.html and charts.css show the one that fits.
NARROW_WIDTH = 340
FONT_PX = 13  # also in charts.css; used here to estimate label widths
# Characters of a label that fit on its own line above a narrow chart's bar.
NARROW_LABEL_CHARS = 44

Drawing = Callable[[int, bool], tuple[float, list[str]]]


@dataclass
class Chart:
    """An SVG chart with everything the <figure> around it needs."""

    id: str
    caption: str
    summary: str
    svg: SafeString
    svg_narrow: SafeString = mark_safe("")  # noqa: S308 - empty
    headers: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    # Optional link per table row (its first cell), e.g. to a province's page.
    row_links: list[str] = field(default_factory=list)

    @property
    def linked_rows(self) -> list[tuple[str, list[tuple[str, str]]]]:
        """(link or '', [(column header, cell), …]) per table row, for
        includes/chart.html: on a phone each cell shows under its header."""
        links = self.row_links or [""] * len(self.rows)
        return [
            (link, list(itertools.zip_longest(self.headers, row, fillvalue="")))
            for link, row in zip(links, self.rows, strict=True)
        ]


@dataclass
class Bar:
    label: str
    value: float | None
    value_text: str = ""
    # Its own colour (e.g. a status); the default bar colour otherwise.
    fill: str = ""

    @property
    def text(self) -> str:
        """The value as the chart writes it: its own text, else the number."""
        return self.value_text or number(self.value)


@dataclass
class Group:
    label: str
    values: list[float | None]


@dataclass
class Series:
    label: str
    points: list[tuple[datetime.date, float]]


@dataclass
class Projection:
    """A forecast continuing one series: (month, value, band low, band high)."""

    label: str
    points: list[tuple[datetime.date, float, float, float]]
    series_index: int = 0


@dataclass
class Marker:
    """A vertical line at a date (a deadline), labelled at the top."""

    when: datetime.date
    label: str
    # The one that counts now is drawn solid, the others (superseded) dotted.
    current: bool = True


@dataclass
class Box:
    label: str
    spread: Spread | None
    # The group the page is about: drawn in the darker fill.
    emphasis: bool = False
    # Where the table row links to ('' for no link).
    url: str = ""


@dataclass
class StackRow:
    label: str
    # (status key, count) in the order of the legend.
    parts: list[tuple[str, int]]


def percent(value: float | None, decimals: int = 0) -> str:
    """A percentage as text in the current language ('75 %'), '–' when unknown."""
    if value is None:
        return "–"
    return _("%(value)s %%") % {"value": format_number(value, decimals)}


def number(value: float | None, decimals: int = 0) -> str:
    if value is None:
        return "–"
    return format_number(value, decimals)


def _truncate(text: str, max_chars: int) -> str:
    return text if len(text) <= max_chars else text[: max_chars - 1] + "…"


def _chart(
    chart_id: str,
    caption: str,
    summary: str,
    draw: Drawing,
    *,
    headers: list,
    rows: list,
) -> Chart:
    """A chart drawn wide and narrow, and the table that says the same in text."""
    wide_height, wide_body = draw(WIDTH, False)
    narrow_height, narrow_body = draw(NARROW_WIDTH, True)
    return Chart(
        id=chart_id,
        caption=caption,
        summary=summary,
        svg=_svg(chart_id, WIDTH, wide_height, caption, summary, wide_body),
        svg_narrow=_svg(
            f"{chart_id}-narrow",
            NARROW_WIDTH,
            narrow_height,
            caption,
            summary,
            narrow_body,
            variant="chart--narrow",
        ),
        headers=headers,
        rows=rows,
    )


def _bars_chart(
    chart_id: str,
    caption: str,
    summary: str,
    draw: Drawing,
    bars: Sequence[Bar],
    label_header: str,
    value_header: str,
) -> Chart:
    """A chart of bars whose table lists each label with its value as written."""
    return _chart(
        chart_id,
        caption,
        summary,
        draw,
        headers=[label_header, value_header],
        rows=[[b.label, b.text] for b in bars],
    )


def _svg(
    chart_id: str,
    width: int,
    height: float,
    title: str,
    desc: str,
    body: list[str],
    variant: str = "chart--wide",
) -> SafeString:
    head = format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="chart {}" viewBox="0 0 {} {}" '
        'role="img" aria-labelledby="{}-title {}-desc" focusable="false">'
        '<title id="{}-title">{}</title><desc id="{}-desc">{}</desc>',
        variant,
        width,
        round(height),
        chart_id,
        chart_id,
        chart_id,
        title,
        chart_id,
        desc,
    )
    return mark_safe(head + "".join(body) + "</svg>")  # noqa: S308 - parts escaped


def _axis(x1: float, y1: float, x2: float, y2: float) -> str:
    """An axis line of a chart."""
    return format_html(
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#333" class="chart-axis"/>',
        x1,
        y1,
        x2,
        y2,
    )


def _legend(items: Sequence[tuple[str, str]], y: float, x0: float = 8) -> list[str]:
    """Swatch + label pairs in a row; returns SVG parts."""
    parts = []
    x = x0
    for fill, label in items:
        parts.append(
            format_html(
                '<rect x="{}" y="{}" width="12" height="12" fill="{}" stroke="{}" '
                'stroke-width="0.75"/><text x="{}" y="{}" class="chart-legend">{}</text>',
                x,
                y,
                fill,
                BAR_STROKE,
                x + 17,
                y + 10.5,
                label,
            )
        )
        x += _legend_item_width(label)
    return parts


def _legend_item_width(label: str) -> float:
    return 17 + len(label) * FONT_PX * 0.55 + 16


def _wrapped_legend(
    items: Sequence[tuple[str, str]], width: int
) -> tuple[list[str], float]:
    """A legend in as many rows as `width` needs; (SVG parts, its height)."""
    rows: list[list[tuple[str, str]]] = [[]]
    used = 8.0
    for item in items:
        item_w = _legend_item_width(item[1])
        if rows[-1] and used + item_w > width:
            rows.append([])
            used = 8.0
        rows[-1].append(item)
        used += item_w
    parts: list[str] = []
    for line, row_items in enumerate(rows):
        parts += _legend(row_items, 4 + line * 18)
    return parts, 8 + 18 * len(rows)


def _row_label(x: float, y: float, label: str, max_chars: int, anchor: str) -> str:
    """A bar's label, cut to fit, with the full text as its SVG <title>."""
    return format_html(
        '<text x="{}" y="{}" text-anchor="{}" class="chart-label">{}<title>{}</title>'
        "</text>",
        x,
        y,
        anchor,
        _truncate(label, max_chars),
        label,
    )


def _label_column(width: int, narrow: bool, wide_label_w: int) -> tuple[int, int]:
    """(x where bars start, label height above each bar).

    Wide: labels in a column left of the bars. Narrow: each label on its own
    line above its bar, which then can use the whole width.
    """
    if narrow:
        return 8, FONT_PX + 4
    return wide_label_w + 8, 0


def bar_chart(
    *,
    chart_id: str,
    caption: str,
    summary: str,
    bars: Sequence[Bar],
    label_header: str,
    value_header: str,
    max_value: float = 100.0,
) -> Chart:
    """Horizontal bars, one per label, with the value written at the end of each bar."""
    # Room right of the longest bar for its value text.
    longest = max((len(b.text) for b in bars), default=4)
    scale = max(max_value, 1e-9)

    def draw(width: int, narrow: bool) -> tuple[float, list[str]]:
        row_gap, bar_h, top = 7, 15, 4
        bar_x, label_h = _label_column(width, narrow, 210)
        row_h = label_h + bar_h + row_gap
        area = width - bar_x - max(64, longest * 7.5 + 12)
        body = []
        for i, bar in enumerate(bars):
            y = top + i * row_h + label_h
            bar_w = 0 if bar.value is None else area * min(bar.value, scale) / scale
            text = bar.text
            label = (
                _row_label(bar_x, y - 4, bar.label, NARROW_LABEL_CHARS, "start")
                if narrow
                else _row_label(bar_x - 8, y + bar_h - 3, bar.label, 27, "end")
            )
            body.append(
                format_html(
                    '<g class="chart-row">{}'
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="{}" stroke="{}" '
                    'stroke-width="0.75" class="chart-bar"/>'
                    '<text x="{}" y="{}" class="chart-value">{}</text></g>',
                    label,
                    bar_x,
                    y,
                    round(bar_w, 1),
                    bar_h,
                    bar.fill or BAR_FILL,
                    BAR_STROKE,
                    round(bar_x + bar_w + 5, 1),
                    y + bar_h - 3,
                    text,
                )
            )
        height = top + len(bars) * row_h + 4
        body.append(_axis(bar_x, top - 3, bar_x, height - 4))
        return height, body

    return _bars_chart(
        chart_id, caption, summary, draw, bars, label_header, value_header
    )


def grouped_bar_chart(
    *,
    chart_id: str,
    caption: str,
    summary: str,
    groups: Sequence[Group],
    series: Sequence[str],
    label_header: str,
    value_format=percent,
    max_value: float = 100.0,
) -> Chart:
    """Horizontal bars grouped per label, one bar per series (e.g. size classes)."""
    fills = _ramp(len(series))
    scale = max(max_value, 1e-9)
    items = list(zip(fills, series, strict=True))

    def draw(width: int, narrow: bool) -> tuple[float, list[str]]:
        bar_h, bar_gap, group_gap = 11, 2, 12
        bar_x, label_h = _label_column(width, narrow, 190)
        area = width - bar_x - 64
        body, legend_h = _wrapped_legend(items, width)
        y = legend_h
        for group in groups:
            y += label_h
            block_h = len(series) * (bar_h + bar_gap)
            body.append(
                _row_label(bar_x, y - 4, group.label, NARROW_LABEL_CHARS, "start")
                if narrow
                else _row_label(bar_x - 8, y + block_h / 2 + 4, group.label, 24, "end")
            )
            for j, value in enumerate(group.values):
                bar_w = 0 if value is None else area * min(value, scale) / scale
                by = y + j * (bar_h + bar_gap)
                body.append(
                    format_html(
                        '<rect x="{}" y="{}" width="{}" height="{}" fill="{}" '
                        'stroke="{}" stroke-width="0.75" class="chart-bar '
                        'chart-series-{}"/><text x="{}" y="{}" '
                        'class="chart-value chart-value--small">{}</text>',
                        bar_x,
                        by,
                        round(bar_w, 1),
                        bar_h,
                        fills[j],
                        BAR_STROKE,
                        j,
                        round(bar_x + bar_w + 4, 1),
                        by + bar_h - 2,
                        value_format(value),
                    )
                )
            y += block_h + group_gap
        body.append(_axis(bar_x, legend_h - 4, bar_x, y - group_gap + 4))
        return y - group_gap + 8, body

    return _chart(
        chart_id,
        caption,
        summary,
        draw,
        headers=[label_header, *series],
        rows=[[g.label, *(value_format(v) for v in g.values)] for g in groups],
    )


def histogram(
    *,
    chart_id: str,
    caption: str,
    summary: str,
    bins: Sequence[Bar],
    label_header: str,
    value_header: str,
) -> Chart:
    """Vertical bars (counts per bin), the count written above each bar."""
    top_value = max([b.value or 0 for b in bins] + [1])

    def draw(width: int, narrow: bool) -> tuple[float, list[str]]:
        left, bottom, top = 40, 34, 22
        height = 240
        plot_h = height - top - bottom
        slot = (width - left - 8) / max(len(bins), 1)
        body = []
        for tick in _ticks(top_value):
            ty = top + plot_h - plot_h * tick / top_value
            body.append(
                format_html(
                    '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#ccc" '
                    'class="chart-grid"/><text x="{}" y="{}" text-anchor="end" '
                    'class="chart-tick">{}</text>',
                    left,
                    round(ty, 1),
                    width - 8,
                    round(ty, 1),
                    left - 4,
                    round(ty + 4, 1),
                    number(tick),
                )
            )
        for i, b in enumerate(bins):
            h = plot_h * (b.value or 0) / top_value
            x = left + i * slot + 3
            # A bin label that does not fit under a narrow bar keeps its lower
            # bound ("90" for "90–100"); the table gives the full ranges.
            label = b.label
            if narrow and len(label) * 6 > slot:
                label = label.split("–")[0]
            body.append(
                format_html(
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="{}" stroke="{}" '
                    'stroke-width="0.75" class="chart-bar"/>'
                    '<text x="{}" y="{}" text-anchor="middle" class="chart-value">{}'
                    '</text><text x="{}" y="{}" text-anchor="middle" '
                    'class="chart-tick">{}</text>',
                    round(x, 1),
                    round(top + plot_h - h, 1),
                    round(slot - 6, 1),
                    round(h, 1),
                    BAR_FILL,
                    BAR_STROKE,
                    round(x + (slot - 6) / 2, 1),
                    round(top + plot_h - h - 4, 1),
                    b.text,
                    round(x + (slot - 6) / 2, 1),
                    height - bottom + 16,
                    label,
                )
            )
        body.append(_axis(left, top + plot_h, width - 8, top + plot_h))
        return height, body

    return _bars_chart(
        chart_id, caption, summary, draw, bins, label_header, value_header
    )


def line_chart(
    *,
    chart_id: str,
    caption: str,
    summary: str,
    series: Sequence[Series],
    max_value: float = 100.0,
    value_format=number,
    projection: Projection | None = None,
    markers: Sequence[Marker] = (),
    target: float | None = None,
) -> Chart:
    """Lines over time on a 0–max scale, labelled at their last point.

    Optionally a `projection` of one series (dashed, with its band shaded),
    vertical `markers` (deadlines) and a horizontal `target` line. The table
    alternative has one row per year: the value of the last month of that year
    that has data, and the forecast with its band for the projected years.
    """
    dates = sorted(
        {d for s in series for d, _v in s.points}
        | {p[0] for p in (projection.points if projection else [])}
        | {m.when for m in markers}
    )
    extras = bool(projection and projection.points) or bool(markers)

    def draw(width: int, narrow: bool) -> tuple[float, list[str]]:
        left, top, bottom = 40, 10, 26
        legend: list[str] = []
        if extras:
            legend, legend_h = _projection_legend(projection, markers, width)
            top += legend_h
        # Room at the right for the direct labels at each line's end.
        right = 100 if narrow else 150
        height = 190 + top - 10
        plot_w, plot_h = width - left - right, height - top - bottom
        body: list[str] = list(legend)
        for tick in _ticks(max_value):
            ty = top + plot_h - plot_h * tick / max_value
            body.append(
                format_html(
                    '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#ccc" class="chart-grid"/>'
                    '<text x="{}" y="{}" text-anchor="end" class="chart-tick">{}</text>',
                    left,
                    round(ty, 1),
                    left + plot_w,
                    round(ty, 1),
                    left - 4,
                    round(ty + 4, 1),
                    value_format(tick),
                )
            )
        if dates:
            start, end = dates[0], dates[-1]
            span = max((end - start).days, 1)

            def px(d: datetime.date) -> float:
                return left + plot_w * (d - start).days / span

            def py(v: float) -> float:
                return top + plot_h - plot_h * max(0.0, min(v, max_value)) / max_value

            years = range(start.year + (start.month > 1), end.year + 1)
            step = max(1, len(years) // (4 if narrow else 8))
            for year in list(years)[::step]:
                x = px(datetime.date(year, 1, 1))
                body.append(
                    format_html(
                        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#333" '
                        'class="chart-axis"/><text x="{}" y="{}" text-anchor="middle" '
                        'class="chart-tick">{}</text>',
                        round(x, 1),
                        top + plot_h,
                        round(x, 1),
                        top + plot_h + 4,
                        round(x, 1),
                        top + plot_h + 18,
                        year,
                    )
                )
            if projection and projection.points:
                body += _draw_projection(projection, px, py)
            if target is not None:
                ty = round(py(target), 1)
                body.append(
                    format_html(
                        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#333" '
                        'stroke-width="1" stroke-dasharray="1 3" class="chart-target"/>',
                        left,
                        ty,
                        left + plot_w,
                        ty,
                    )
                )
            for j, marker in enumerate(markers):
                body += _draw_marker(marker, j, px(marker.when), top, plot_h, width)
            ends: list[tuple[float, int, str, str]] = []
            for i, s in enumerate(series):
                if not s.points:
                    continue
                colour, dash, line_w = LINE_STYLES[i % len(LINE_STYLES)]
                pts = " ".join(f"{px(d):.1f},{py(v):.1f}" for d, v in s.points)
                body.append(
                    format_html(
                        '<polyline points="{}" fill="none" stroke="{}" stroke-width="{}" '
                        '{} stroke-linejoin="round" class="chart-line chart-series-{}"/>',
                        pts,
                        colour,
                        line_w,
                        mark_safe(f'stroke-dasharray="{dash}"') if dash else "",  # noqa: S308
                        i,
                    )
                )
                last_d, last_v = s.points[-1]
                ends.append((py(last_v), i, s.label, value_format(last_v)))
            # Direct labels at the right; push apart so they do not overlap.
            ends.sort()
            placed: list[float] = []
            for y, i, label, value_text in ends:
                y_label = max(y + 4, (placed[-1] + 13) if placed else top)
                placed.append(y_label)
                colour = LINE_STYLES[i % len(LINE_STYLES)][0]
                body.append(
                    format_html(
                        '<text x="{}" y="{}" fill="{}" class="chart-line-label">{}</text>',
                        left + plot_w + 6,
                        round(y_label, 1),
                        colour,
                        # The value is kept whole; only the name is cut.
                        f"{_truncate(label, 9 if narrow else 18)} {value_text}",
                    )
                )
        body.append(_axis(left, top + plot_h, left + plot_w, top + plot_h))
        return height, body

    # Table: one row per year, last month with data.
    by_year: dict[int, dict[int, float]] = {}
    year_month: dict[int, datetime.date] = {}
    for i, s in enumerate(series):
        for d, v in s.points:
            by_year.setdefault(d.year, {})[i] = v
            year_month[d.year] = max(year_month.get(d.year, d), d)
    projected: dict[int, tuple[datetime.date, float, float, float]] = {}
    if projection:
        # The first point is the last observed month: the table has it already.
        for point in projection.points[1:]:
            projected[point[0].year] = max(projected.get(point[0].year, point), point)
            year_month[point[0].year] = max(
                year_month.get(point[0].year, point[0]), point[0]
            )
    rows = [
        [date_format(year_month[y], "YEAR_MONTH_FORMAT")]
        + [value_format(by_year.get(y, {}).get(i)) for i in range(len(series))]
        + (
            [_band_text(projected[y], value_format) if y in projected else "–"]
            if projection
            else []
        )
        for y in sorted(set(by_year) | set(projected))
    ]
    headers = [_("Month"), *(s.label for s in series)]
    if projection:
        headers.append(projection.label)
    return _chart(chart_id, caption, summary, draw, headers=headers, rows=rows)


# The forecast's look: the series colour dashed, the band a light grey.
PROJECTION_DASH = "6 4"
BAND_FILL = "#d9d9d9"
MARKER_COLOUR = "#aa3377"


def _band_text(point: tuple, value_format) -> str:
    _month, value, low, high = point
    return _("%(value)s (%(low)s to %(high)s)") % {
        "value": value_format(value),
        "low": value_format(low),
        "high": value_format(high),
    }


def _projection_legend(
    projection: Projection | None, markers: Sequence[Marker], width: int
) -> tuple[list[str], float]:
    """What the dashes, the shading and the vertical lines mean, above the plot."""
    items: list[str] = []
    x = 8.0
    row = 0

    def place(item_w: float) -> tuple[float, float]:
        nonlocal x, row
        if x > 8 and x + item_w > width:
            x, row = 8.0, row + 1
        at = (x, 4 + row * 18)
        x += item_w
        return at

    if projection and projection.points:
        colour = LINE_STYLES[projection.series_index % len(LINE_STYLES)][0]
        label = _("forecast")
        lx, ly = place(_legend_item_width(label) + 10)
        items.append(
            format_html(
                '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="2" '
                'stroke-dasharray="{}"/><text x="{}" y="{}" class="chart-legend">{}</text>',
                lx,
                ly + 6,
                lx + 22,
                ly + 6,
                colour,
                PROJECTION_DASH,
                lx + 27,
                ly + 10.5,
                label,
            )
        )
        label = _("80 % band")
        lx, ly = place(_legend_item_width(label))
        items.append(
            format_html(
                '<rect x="{}" y="{}" width="12" height="12" fill="{}" stroke="#737373" '
                'stroke-width="0.75"/><text x="{}" y="{}" class="chart-legend">{}</text>',
                lx,
                ly,
                BAND_FILL,
                lx + 17,
                ly + 10.5,
                label,
            )
        )
    if markers:
        label = _("deadline")
        lx, ly = place(_legend_item_width(label))
        items.append(
            format_html(
                '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="2"/>'
                '<text x="{}" y="{}" class="chart-legend">{}</text>',
                lx + 6,
                ly,
                lx + 6,
                ly + 12,
                MARKER_COLOUR,
                lx + 17,
                ly + 10.5,
                label,
            )
        )
    return items, 8 + 18 * (row + 1)


def _draw_projection(projection: Projection, px, py) -> list[str]:
    points = projection.points
    band = [f"{px(d):.1f},{py(high):.1f}" for d, _v, _low, high in points] + [
        f"{px(d):.1f},{py(low):.1f}" for d, _v, low, _high in reversed(points)
    ]
    colour, _dash, _width = LINE_STYLES[projection.series_index % len(LINE_STYLES)]
    return [
        format_html(
            '<polygon points="{}" fill="{}" fill-opacity="0.7" stroke="none" '
            'class="chart-band"/>',
            " ".join(band),
            BAND_FILL,
        ),
        format_html(
            '<polyline points="{}" fill="none" stroke="{}" stroke-width="2" '
            'stroke-dasharray="{}" class="chart-line chart-projection"/>',
            " ".join(f"{px(d):.1f},{py(v):.1f}" for d, v, _low, _high in points),
            colour,
            PROJECTION_DASH,
        ),
    ]


def _draw_marker(
    marker: Marker, j: int, x: float, top: float, plot_h: float, width: int
) -> list[str]:
    # Labels of close deadlines would overlap: each one a line lower.
    y = top + 11 + 13 * j
    anchor = "end" if x > width / 2 else "start"
    return [
        format_html(
            '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="{}" '
            '{} class="chart-marker"/><text x="{}" y="{}" text-anchor="{}" fill="{}" '
            'class="chart-tick chart-marker-label">{}</text>',
            round(x, 1),
            top,
            round(x, 1),
            top + plot_h,
            MARKER_COLOUR,
            2 if marker.current else 1.25,
            mark_safe("") if marker.current else mark_safe('stroke-dasharray="2 2"'),  # noqa: S308
            round(x + (-4 if anchor == "end" else 4), 1),
            round(y, 1),
            anchor,
            MARKER_COLOUR,
            marker.label,
        )
    ]


def stacked_bar_chart(
    *,
    chart_id: str,
    caption: str,
    summary: str,
    rows: Sequence[StackRow],
    legend: Sequence[tuple[str, str]],
    label_header: str,
) -> Chart:
    """100 % stacked horizontal bars (status counts per row), counts written inside."""
    items = [(STATUS_FILLS[k], text) for k, text in legend]

    def draw(width: int, narrow: bool) -> tuple[float, list[str]]:
        row_gap, bar_h = 7, 17
        bar_x, label_h = _label_column(width, narrow, 210)
        row_h = label_h + bar_h + row_gap
        area = width - bar_x - 10
        body, legend_h = _wrapped_legend(items, width)
        for i, row in enumerate(rows):
            y = legend_h + i * row_h + label_h
            total = sum(c for _k, c in row.parts) or 1
            body.append(
                _row_label(bar_x, y - 4, row.label, NARROW_LABEL_CHARS, "start")
                if narrow
                else _row_label(bar_x - 8, y + bar_h - 4, row.label, 27, "end")
            )
            x = bar_x
            for key, count in row.parts:
                w = area * count / total
                if w <= 0:
                    continue
                body.append(
                    format_html(
                        '<rect x="{}" y="{}" width="{}" height="{}" fill="{}" '
                        'stroke="{}" stroke-width="0.75" '
                        'class="chart-bar chart-status--{}"/>',
                        round(x, 1),
                        y,
                        round(w, 1),
                        bar_h,
                        STATUS_FILLS[key],
                        BAR_STROKE,
                        key,
                    )
                )
                text = number(count)
                if w >= len(text) * 8 + 4:
                    body.append(
                        format_html(
                            '<text x="{}" y="{}" text-anchor="middle" fill="{}" '
                            'class="chart-value chart-value--inside">{}</text>',
                            round(x + w / 2, 1),
                            y + bar_h - 4,
                            STATUS_TEXT[key],
                            text,
                        )
                    )
                x += w
        return legend_h + len(rows) * row_h + 4, body

    keys = [k for k, _t in legend]
    table_rows = []
    for row in rows:
        counts = dict(row.parts)
        table_rows.append([row.label, *(number(counts.get(k, 0)) for k in keys)])
    return _chart(
        chart_id,
        caption,
        summary,
        draw,
        headers=[label_header, *(t for _k, t in legend)],
        rows=table_rows,
    )


def box_plot(
    *,
    chart_id: str,
    caption: str,
    summary: str,
    boxes: Sequence[Box],
    label_header: str,
    marker: tuple[str, float] | None = None,
    max_value: float = 100.0,
    decimals: int = 1,
    value_format: Callable[[float], str] | None = None,
    count_header: str = "",
) -> Chart:
    """Horizontal box plots on a 0–max scale, one per group, with count and median.

    Values are written with `decimals` decimals, or by `value_format` (e.g.
    `percent`); `count_header` names what is counted (default: municipalities).

    Each row draws the whiskers from the minimum to the maximum, the box from the
    first to the third quartile and a thick line at the median
    (scoring.distribution: inclusive quartiles). `marker` (label, value) draws a
    dashed line across all rows, e.g. one municipality's score. The table gives
    the count and the five numbers of every group.
    """
    scale = max(max_value, 1e-9)
    box_fill, emphasis_fill = BLUES[1], BLUES[3]

    def fmt(value: float) -> str:
        return value_format(value) if value_format else number(value, decimals)

    notes = [
        _("median %(median)s, n = %(count)s")
        % {"median": fmt(box.spread.median), "count": number(box.spread.count)}
        if box.spread is not None
        else _("no scores")
        for box in boxes
    ]
    # Room for the longest note right of the plot (estimated as bar_chart does).
    note_w = max((len(n) for n in notes), default=0) * FONT_PX * 0.58 + 16

    def draw(width: int, narrow: bool) -> tuple[float, list[str]]:
        box_h, row_gap, axis_h = 16, 10, 22
        bar_x, label_h = _label_column(width, narrow, 180)
        # Wide: the median and count right of the plot; narrow: on the label line.
        right = 20 if narrow else max(150, round(note_w))
        area = width - bar_x - right
        top = 6
        body: list[str] = []
        if marker is not None:
            top += 20

        def px(value: float) -> float:
            return round(bar_x + area * max(0.0, min(value, scale)) / scale, 1)

        row_h = label_h + box_h + row_gap
        plot_bottom = top + len(boxes) * row_h
        for tick in _ticks(max_value):
            x = px(tick)
            body.append(
                format_html(
                    '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#ccc" '
                    'class="chart-grid"/><text x="{}" y="{}" text-anchor="middle" '
                    'class="chart-tick">{}</text>',
                    x,
                    top - 2,
                    x,
                    plot_bottom,
                    x,
                    plot_bottom + 15,
                    value_format(tick) if value_format else number(tick),
                )
            )
        for i, box in enumerate(boxes):
            y = top + i * row_h + label_h
            mid = y + box_h / 2
            s = box.spread
            note = notes[i]
            parts = [
                _row_label(
                    bar_x,
                    y - 4,
                    box.label,
                    # What the note on the same line leaves.
                    max(8, int((width - 24) / (FONT_PX * 0.58)) - len(note)),
                    "start",
                )
                if narrow
                else _row_label(bar_x - 8, y + box_h - 3, box.label, 24, "end"),
                format_html(
                    '<text x="{}" y="{}" text-anchor="{}" class="chart-value">{}</text>',
                    width - 8 if narrow else width - right + 8,
                    y - 4 if narrow else y + box_h - 3,
                    "end" if narrow else "start",
                    note,
                ),
            ]
            if s is not None:
                x_min, x_q1, x_med, x_q3, x_max = (px(v) for v in s.five_numbers)
                fill = emphasis_fill if box.emphasis else box_fill
                median_colour = "#fff" if box.emphasis else "#000"
                parts.append(
                    format_html(
                        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#333" '
                        'stroke-width="1.5" class="chart-box-whisker"/>'
                        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#333" '
                        'stroke-width="1.5" class="chart-box-cap"/>'
                        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#333" '
                        'stroke-width="1.5" class="chart-box-cap"/>'
                        '<rect x="{}" y="{}" width="{}" height="{}" fill="{}" '
                        'stroke="{}" stroke-width="1" class="chart-box"/>'
                        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" '
                        'stroke-width="3" class="chart-box-median"/>',
                        x_min,
                        mid,
                        x_max,
                        mid,
                        x_min,
                        y + 3,
                        x_min,
                        y + box_h - 3,
                        x_max,
                        y + 3,
                        x_max,
                        y + box_h - 3,
                        x_q1,
                        y,
                        round(x_q3 - x_q1, 1),
                        box_h,
                        fill,
                        BAR_STROKE,
                        x_med,
                        y,
                        x_med,
                        y + box_h,
                        median_colour,
                    )
                )
            body.append(
                format_html(
                    '<g class="chart-row">{}</g>',
                    mark_safe("".join(parts)),  # noqa: S308 - parts escaped
                )
            )
        if marker is not None:
            label, value = marker
            x = px(value)
            text = f"{_truncate(label, 24 if narrow else 40)}: {fmt(value)}"
            # Keep the label inside the frame: right-anchored past the middle.
            anchor = "end" if x > bar_x + area / 2 else "start"
            body.append(
                format_html(
                    '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#d55e00" '
                    'stroke-width="2" stroke-dasharray="4 3" class="chart-marker"/>'
                    '<text x="{}" y="{}" text-anchor="{}" fill="#a04000" '
                    'class="chart-legend">{}</text>',
                    x,
                    top - 4,
                    x,
                    plot_bottom,
                    x,
                    top - 8,
                    anchor,
                    text,
                )
            )
        body.append(_axis(bar_x, plot_bottom, bar_x + area, plot_bottom))
        return plot_bottom + axis_h, body

    headers = [
        label_header,
        count_header or _("Municipalities"),
        _("Minimum"),
        _("First quartile"),
        _("Median"),
        _("Third quartile"),
        _("Maximum"),
    ]
    rows = [
        [
            box.label,
            number(box.spread.count),
            *(fmt(v) for v in box.spread.five_numbers),
        ]
        if box.spread is not None
        else [box.label, number(0), *(["–"] * 5)]
        for box in boxes
    ]
    chart = _chart(chart_id, caption, summary, draw, headers=headers, rows=rows)
    if any(box.url for box in boxes):
        chart.row_links = [box.url for box in boxes]
    return chart


def _ramp(n: int) -> list[str]:
    """n fills from the sequential palette, light to dark, skipping the lightest."""
    if n <= 1:
        return [BAR_FILL]
    palette = BLUES if n >= len(BLUES) else BLUES[1:]
    if n >= len(palette):
        return [palette[i % len(palette)] for i in range(n)]
    step = (len(palette) - 1) / (n - 1)
    return [palette[round(i * step)] for i in range(n)]


def _ticks(top: float) -> list[float]:
    """About five round tick values from 0 to `top`."""
    if top <= 0:
        return [0]
    raw = top / 5
    magnitude = 10 ** (len(str(int(raw))) - 1) if raw >= 1 else 1
    step = next(
        (m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw),
        10 * magnitude,
    )
    ticks = []
    value = 0.0
    while value <= top + 1e-9:
        ticks.append(value)
        value += step
    return ticks
