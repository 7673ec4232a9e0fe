"""Bar charts: horizontal bars (plain, grouped, 100 % stacked) and histograms."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import format_html

from scoring.charts.drawing import (
    BAR_FILL,
    BAR_STROKE,
    NARROW_LABEL_CHARS,
    STATUS_FILLS,
    STATUS_TEXT,
    Chart,
    Drawing,
    _axis,
    _chart,
    _label_column,
    _ramp,
    _row_label,
    _ticks,
    _wrapped_legend,
    number,
    percent,
)


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
class StackRow:
    label: str
    # (status key, count) in the order of the legend.
    parts: list[tuple[str, int]]


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
