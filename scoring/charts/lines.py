"""Line charts over time, with an optional forecast band, deadlines and a target."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from scoring.charts.drawing import (
    LINE_STYLES,
    Chart,
    _axis,
    _chart,
    _legend_item_width,
    _ticks,
    _truncate,
    number,
)


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
