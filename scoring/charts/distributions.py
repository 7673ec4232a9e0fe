"""Box plots: the spread of scores per group, from scoring.distribution."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from scoring.charts.drawing import (
    BAR_STROKE,
    BLUES,
    FONT_PX,
    Chart,
    _axis,
    _chart,
    _label_column,
    _row_label,
    _ticks,
    _truncate,
    number,
)
from scoring.distribution import Spread


@dataclass
class Box:
    label: str
    spread: Spread | None
    # The group the page is about: drawn in the darker fill.
    emphasis: bool = False
    # Where the table row links to ('' for no link).
    url: str = ""


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
