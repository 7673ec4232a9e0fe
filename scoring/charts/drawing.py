"""What every chart shares: the palettes and sizes, the `Chart` itself, number
formats, and the SVG parts (frame, axes, legends, row labels, ticks).

A chart is drawn twice, wide and narrow (`_chart`); the chart modules (bars,
lines, distributions) only say where their marks go.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.utils.html import format_html
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
