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
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.utils.formats import date_format
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from nupportal.formats import format_number

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
FONT_PX = 13  # also in charts.css; used here to estimate label widths


@dataclass
class Chart:
    """An SVG chart with everything the <figure> around it needs."""

    id: str
    caption: str
    summary: str
    svg: SafeString
    headers: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)


@dataclass
class Bar:
    label: str
    value: float | None
    value_text: str = ""
    # Its own colour (e.g. a status); the default bar colour otherwise.
    fill: str = ""


@dataclass
class Group:
    label: str
    values: list[float | None]


@dataclass
class Series:
    label: str
    points: list[tuple[datetime.date, float]]


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
    height: float,
    body: str,
    *,
    headers: list,
    rows: list,
) -> Chart:
    """A chart with its accessible SVG and the table that says the same in text."""
    return Chart(
        id=chart_id,
        caption=caption,
        summary=summary,
        svg=_svg(chart_id, height, caption, summary, body),
        headers=headers,
        rows=rows,
    )


def _svg(
    chart_id: str, height: float, title: str, desc: str, body: list[str]
) -> SafeString:
    head = format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {} {}" '
        'role="img" aria-labelledby="{}-title {}-desc" focusable="false">'
        '<title id="{}-title">{}</title><desc id="{}-desc">{}</desc>',
        WIDTH,
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
        x += 17 + len(label) * FONT_PX * 0.55 + 16
    return parts


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
    label_w, gap, row_h, bar_h, top = 210, 8, 22, 15, 4
    # Room right of the longest bar for its value text.
    longest = max((len(b.value_text or number(b.value)) for b in bars), default=4)
    area = WIDTH - label_w - gap - max(64, longest * 7.5 + 12)
    scale = max(max_value, 1e-9)
    body = []
    for i, bar in enumerate(bars):
        y = top + i * row_h
        width = 0 if bar.value is None else area * min(bar.value, scale) / scale
        text = bar.value_text or number(bar.value)
        body.append(
            format_html(
                '<g class="chart-row"><text x="{}" y="{}" text-anchor="end" '
                'class="chart-label">{}<title>{}</title></text>'
                '<rect x="{}" y="{}" width="{}" height="{}" fill="{}" stroke="{}" '
                'stroke-width="0.75" class="chart-bar"/>'
                '<text x="{}" y="{}" class="chart-value">{}</text></g>',
                label_w,
                y + bar_h - 3,
                _truncate(bar.label, 27),
                bar.label,
                label_w + gap,
                y,
                round(width, 1),
                bar_h,
                bar.fill or BAR_FILL,
                BAR_STROKE,
                round(label_w + gap + width + 5, 1),
                y + bar_h - 3,
                text,
            )
        )
    height = top + len(bars) * row_h + 4
    body.append(_axis(label_w + gap, top - 3, label_w + gap, height - 4))
    return _chart(
        chart_id,
        caption,
        summary,
        height,
        body,
        headers=[label_header, value_header],
        rows=[[b.label, b.value_text or number(b.value)] for b in bars],
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
    label_w, gap, bar_h, bar_gap, group_gap = 190, 8, 11, 2, 12
    legend_h = 26 if len(series) <= 3 else 44
    area = WIDTH - label_w - gap - 64
    scale = max(max_value, 1e-9)
    body: list[str] = []
    # Legend in at most two rows.
    half = (len(series) + 1) // 2 if len(series) > 3 else len(series)
    items = list(zip(fills, series, strict=True))
    body += _legend(items[:half], 4)
    if len(series) > half:
        body += _legend(items[half:], 22)
    y = legend_h
    for group in groups:
        block_h = len(series) * (bar_h + bar_gap)
        body.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="end" class="chart-label">{}'
                "<title>{}</title></text>",
                label_w,
                y + block_h / 2 + 4,
                _truncate(group.label, 24),
                group.label,
            )
        )
        for j, value in enumerate(group.values):
            width = 0 if value is None else area * min(value, scale) / scale
            by = y + j * (bar_h + bar_gap)
            body.append(
                format_html(
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="{}" stroke="{}" '
                    'stroke-width="0.75" class="chart-bar chart-series-{}"/>'
                    '<text x="{}" y="{}" class="chart-value chart-value--small">{}</text>',
                    label_w + gap,
                    by,
                    round(width, 1),
                    bar_h,
                    fills[j],
                    BAR_STROKE,
                    j,
                    round(label_w + gap + width + 4, 1),
                    by + bar_h - 2,
                    value_format(value),
                )
            )
        y += block_h + group_gap
    body.append(_axis(label_w + gap, legend_h - 4, label_w + gap, y - group_gap + 4))
    height = y - group_gap + 8
    return _chart(
        chart_id,
        caption,
        summary,
        height,
        body,
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
    left, bottom, top = 40, 34, 22
    height = 240
    plot_h = height - top - bottom
    slot = (WIDTH - left - 8) / max(len(bins), 1)
    top_value = max([b.value or 0 for b in bins] + [1])
    body = []
    for tick in _ticks(top_value):
        ty = top + plot_h - plot_h * tick / top_value
        body.append(
            format_html(
                '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#ccc" class="chart-grid"/>'
                '<text x="{}" y="{}" text-anchor="end" class="chart-tick">{}</text>',
                left,
                round(ty, 1),
                WIDTH - 8,
                round(ty, 1),
                left - 4,
                round(ty + 4, 1),
                number(tick),
            )
        )
    for i, b in enumerate(bins):
        h = plot_h * (b.value or 0) / top_value
        x = left + i * slot + 3
        body.append(
            format_html(
                '<rect x="{}" y="{}" width="{}" height="{}" fill="{}" stroke="{}" '
                'stroke-width="0.75" class="chart-bar"/>'
                '<text x="{}" y="{}" text-anchor="middle" class="chart-value">{}</text>'
                '<text x="{}" y="{}" text-anchor="middle" class="chart-tick">{}</text>',
                round(x, 1),
                round(top + plot_h - h, 1),
                round(slot - 6, 1),
                round(h, 1),
                BAR_FILL,
                BAR_STROKE,
                round(x + (slot - 6) / 2, 1),
                round(top + plot_h - h - 4, 1),
                b.value_text or number(b.value),
                round(x + (slot - 6) / 2, 1),
                height - bottom + 16,
                b.label,
            )
        )
    body.append(_axis(left, top + plot_h, WIDTH - 8, top + plot_h))
    return _chart(
        chart_id,
        caption,
        summary,
        height,
        body,
        headers=[label_header, value_header],
        rows=[[b.label, b.value_text or number(b.value)] for b in bins],
    )


def line_chart(
    *,
    chart_id: str,
    caption: str,
    summary: str,
    series: Sequence[Series],
    max_value: float = 100.0,
    value_format=number,
) -> Chart:
    """Lines over time on a 0–max scale, labelled at their last point.

    The table alternative has one row per year: the value of the last month of
    that year that has data.
    """
    left, right, top, bottom = 40, 150, 10, 26
    height = 190
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    dates = sorted({d for s in series for d, _v in s.points})
    body: list[str] = []
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
        step = max(1, len(years) // 8)
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
        ends: list[tuple[float, int, str]] = []
        for i, s in enumerate(series):
            if not s.points:
                continue
            colour, dash, width = LINE_STYLES[i % len(LINE_STYLES)]
            pts = " ".join(f"{px(d):.1f},{py(v):.1f}" for d, v in s.points)
            body.append(
                format_html(
                    '<polyline points="{}" fill="none" stroke="{}" stroke-width="{}" '
                    '{} stroke-linejoin="round" class="chart-line chart-series-{}"/>',
                    pts,
                    colour,
                    width,
                    mark_safe(f'stroke-dasharray="{dash}"') if dash else "",  # noqa: S308
                    i,
                )
            )
            last_d, last_v = s.points[-1]
            ends.append((py(last_v), i, f"{s.label} {value_format(last_v)}"))
        # Direct labels at the right; push apart so they do not overlap.
        ends.sort()
        placed: list[float] = []
        for y, i, text in ends:
            y_label = max(y + 4, (placed[-1] + 13) if placed else top)
            placed.append(y_label)
            colour = LINE_STYLES[i % len(LINE_STYLES)][0]
            body.append(
                format_html(
                    '<text x="{}" y="{}" fill="{}" class="chart-line-label">{}</text>',
                    left + plot_w + 6,
                    round(y_label, 1),
                    colour,
                    _truncate(text, 24),
                )
            )
    body.append(_axis(left, top + plot_h, left + plot_w, top + plot_h))
    # Table: one row per year, last month with data.
    by_year: dict[int, dict[int, float]] = {}
    year_month: dict[int, datetime.date] = {}
    for i, s in enumerate(series):
        for d, v in s.points:
            by_year.setdefault(d.year, {})[i] = v
            year_month[d.year] = max(year_month.get(d.year, d), d)
    rows = [
        [date_format(year_month[y], "YEAR_MONTH_FORMAT")]
        + [value_format(by_year[y].get(i)) for i in range(len(series))]
        for y in sorted(by_year)
    ]
    return _chart(
        chart_id,
        caption,
        summary,
        height,
        body,
        headers=[_("Month"), *(s.label for s in series)],
        rows=rows,
    )


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
    label_w, gap, row_h, bar_h = 210, 8, 24, 17
    legend_h = 26
    area = WIDTH - label_w - gap - 10
    body: list[str] = _legend([(STATUS_FILLS[k], text) for k, text in legend], 4)
    for i, row in enumerate(rows):
        y = legend_h + i * row_h
        total = sum(c for _k, c in row.parts) or 1
        body.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="end" class="chart-label">{}'
                "<title>{}</title></text>",
                label_w,
                y + bar_h - 4,
                _truncate(row.label, 27),
                row.label,
            )
        )
        x = label_w + gap
        for key, count in row.parts:
            w = area * count / total
            if w <= 0:
                continue
            body.append(
                format_html(
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="{}" stroke="{}" '
                    'stroke-width="0.75" class="chart-bar chart-status--{}"/>',
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
    height = legend_h + len(rows) * row_h + 4
    keys = [k for k, _t in legend]
    table_rows = []
    for row in rows:
        counts = dict(row.parts)
        table_rows.append([row.label, *(number(counts.get(k, 0)) for k in keys)])
    return _chart(
        chart_id,
        caption,
        summary,
        height,
        body,
        headers=[label_header, *(t for _k, t in legend)],
        rows=table_rows,
    )


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


def svg_text(value: str) -> str:
    """Escape text for use inside SVG (exposed for the map module)."""
    return escape(value)
