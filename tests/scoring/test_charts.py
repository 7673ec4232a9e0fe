"""The SVG charts: accessible markup, the values as text, a table alternative."""

from __future__ import annotations

import datetime
import re

from django.utils import translation

import pytest

from scoring import charts
from scoring.charts import Bar, Group, Series, StackRow


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def block_bars():
    return charts.bar_chart(
        chart_id="chart-test",
        caption="Share in use",
        summary="DigiD is used most.",
        bars=[Bar("DigiD", 75.0, charts.percent(75.0)), Bar("BAG", 50.0, "50 %")],
        label_header="Block",
        value_header="Share",
    )


def test_bar_chart_labels_each_bar_with_its_value():
    chart = block_bars()
    assert ">DigiD<" in chart.svg
    assert ">75 %</text>" in chart.svg
    assert chart.rows == [["DigiD", "75 %"], ["BAG", "50 %"]]
    assert chart.headers == ["Block", "Share"]


def test_bar_lengths_are_proportional_to_the_values():
    widths = re.findall(r'width="([\d.]+)" height="15"', block_bars().svg)
    assert float(widths[0]) == pytest.approx(1.5 * float(widths[1]), rel=0.01)


def test_chart_is_an_image_named_by_its_title_and_description():
    svg = block_bars().svg
    assert 'role="img"' in svg
    assert 'aria-labelledby="chart-test-title chart-test-desc"' in svg
    assert '<title id="chart-test-title">Share in use</title>' in svg
    assert '<desc id="chart-test-desc">DigiD is used most.</desc>' in svg


def test_chart_has_no_inline_style():
    svg = block_bars().svg
    assert "style=" not in svg
    assert "<style" not in svg
    assert "<script" not in svg


def test_labels_are_escaped():
    chart = charts.bar_chart(
        chart_id="c",
        caption="<b>caption</b>",
        summary="s",
        bars=[Bar("<script>alert(1)</script>", 10.0)],
        label_header="l",
        value_header="v",
    )
    assert "<script>" not in chart.svg
    assert "&lt;script&gt;" in chart.svg
    assert "<b>" not in chart.svg


def test_long_labels_are_shortened_with_the_full_text_in_a_title():
    name = "Basisregistratie Personen (BRP, voorheen GBA)"
    chart = charts.bar_chart(
        chart_id="c",
        caption="c",
        summary="s",
        bars=[Bar(name, 1.0)],
        label_header="l",
        value_header="v",
    )
    assert f"<title>{name}</title>" in chart.svg
    assert "…" in chart.svg


def test_numbers_follow_the_language():
    with translation.override("nl"):
        assert charts.number(12345) == "12.345"
        assert charts.percent(12.5, 1) == "12,5 %"
    assert charts.number(12345) == "12,345"
    assert charts.percent(None) == "–"


def test_grouped_bars_one_bar_per_series_with_values_and_legend():
    chart = charts.grouped_bar_chart(
        chart_id="g",
        caption="By size class",
        summary="s",
        groups=[Group("DigiD", [40.0, 90.0]), Group("BAG", [100.0, None])],
        series=["small", "large"],
        label_header="Block",
    )
    assert chart.svg.count("chart-series-0") == 2
    assert chart.svg.count("chart-series-1") == 2
    assert ">small</text>" in chart.svg and ">large</text>" in chart.svg
    assert chart.headers == ["Block", "small", "large"]
    assert chart.rows == [["DigiD", "40 %", "90 %"], ["BAG", "100 %", "–"]]


def test_histogram_writes_each_count():
    chart = charts.histogram(
        chart_id="h",
        caption="Distribution",
        summary="s",
        bins=[Bar("0–10", 3), Bar("10–20", 12)],
        label_header="Score",
        value_header="Municipalities",
    )
    assert ">12</text>" in chart.svg and ">3</text>" in chart.svg
    assert chart.rows == [["0–10", "3"], ["10–20", "12"]]


def test_line_chart_one_line_per_series_labelled_at_its_end_and_yearly_table():
    months = [
        datetime.date(2011, 12, 1),
        datetime.date(2012, 6, 1),
        datetime.date(2012, 12, 1),
    ]
    chart = charts.line_chart(
        chart_id="t",
        caption="Trend",
        summary="s",
        series=[
            Series("Netherlands", list(zip(months, [10.0, 20.0, 30.0], strict=True))),
            Series("small", list(zip(months, [5.0, 6.0, 7.0], strict=True))),
        ],
    )
    assert chart.svg.count("<polyline") == 2
    assert "Netherlands 30</text>" in chart.svg
    assert "small 7</text>" in chart.svg
    assert ">2012</text>" in chart.svg
    # One row per year: the last month of that year.
    assert chart.rows == [["December 2011", "10", "5"], ["December 2012", "30", "7"]]


def test_line_chart_without_data_still_renders():
    chart = charts.line_chart(
        chart_id="t", caption="Trend", summary="none", series=[Series("x", [])]
    )
    assert "<polyline" not in chart.svg
    assert chart.rows == []


def test_stacked_bars_count_per_status_and_table():
    chart = charts.stacked_bar_chart(
        chart_id="s",
        caption="Agreements",
        summary="s",
        rows=[
            StackRow(
                "1. Websites",
                [("met", 30), ("on_track", 0), ("at_risk", 5), ("overdue", 65)],
            )
        ],
        legend=[
            ("met", "Met"),
            ("on_track", "On track"),
            ("at_risk", "At risk"),
            ("overdue", "Overdue"),
        ],
        label_header="Agreement",
    )
    assert ">65</text>" in chart.svg and ">30</text>" in chart.svg
    assert "chart-status--on_track" not in chart.svg  # empty segments are left out
    assert chart.rows == [["1. Websites", "30", "0", "5", "65"]]
    # Text on the dark status colours is white, on the light ones black.
    assert 'fill="#fff" class="chart-value chart-value--inside">65' in chart.svg
    assert 'fill="#000" class="chart-value chart-value--inside">30' in chart.svg


def test_every_chart_is_also_drawn_for_a_phone_with_its_own_ids():
    chart = block_bars()
    assert 'viewBox="0 0 640 ' in chart.svg and "chart--wide" in chart.svg
    assert 'viewBox="0 0 340 ' in chart.svg_narrow
    assert "chart--narrow" in chart.svg_narrow
    assert 'aria-labelledby="chart-test-narrow-title chart-test-narrow-desc"' in (
        chart.svg_narrow
    )
    assert ">75 %</text>" in chart.svg_narrow


def test_a_narrow_chart_puts_labels_above_the_bars_and_cuts_them_less():
    name = "Basisregistratie Personen (BRP)"  # 31 characters: cut when wide only
    chart = charts.bar_chart(
        chart_id="c",
        caption="c",
        summary="s",
        bars=[Bar(name, 1.0)],
        label_header="l",
        value_header="v",
    )
    assert f">{name}<title>" in chart.svg_narrow
    assert f">{name}<title>" not in chart.svg
    label = re.search(r'<text x="8" y="([\d.]+)" text-anchor="start"', chart.svg_narrow)
    label_y = float(label.group(1))
    bar_y = float(re.search(r'<rect x="8" y="([\d.]+)"', chart.svg_narrow).group(1))
    assert label_y < bar_y


def test_a_narrow_histogram_keeps_the_lower_bound_of_bins_that_do_not_fit():
    chart = charts.histogram(
        chart_id="h",
        caption="c",
        summary="s",
        bins=[Bar(f"{i * 10}–{i * 10 + 10}", i) for i in range(10)],
        label_header="l",
        value_header="v",
    )
    assert ">90–100</text>" in chart.svg
    assert ">90–100</text>" not in chart.svg_narrow
    assert 'class="chart-tick">90</text>' in chart.svg_narrow


def test_line_chart_draws_a_projection_with_band_markers_and_a_target():
    observed = [(datetime.date(2014, m, 1), 10.0 * m / 12) for m in range(1, 13)]
    projected = [
        (datetime.date(2014, 12, 1), 10.0, 10.0, 10.0),
        (datetime.date(2015, 6, 1), 20.0, 15.0, 25.0),
        (datetime.date(2015, 12, 1), 30.0, 20.0, 40.0),
    ]
    with translation.override("en"):
        chart = charts.line_chart(
            chart_id="c",
            caption="Burn-up",
            summary="s",
            series=[Series("Netherlands", observed)],
            value_format=charts.percent,
            projection=charts.Projection("Forecast (80 % band)", projected),
            markers=[
                charts.Marker(datetime.date(2015, 1, 1), "1 Jan 2015", current=False),
                charts.Marker(datetime.date(2016, 1, 1), "1 Jan 2016"),
            ],
            target=100.0,
        )
    svg = str(chart.svg)
    assert svg.count('class="chart-band"') == 1
    assert svg.count('class="chart-line chart-projection"') == 1
    assert svg.count('class="chart-marker"') == 2
    # The superseded deadline dotted, the one in force solid.
    assert svg.count('stroke-dasharray="2 2" class="chart-marker"') == 1
    assert 'class="chart-target"' in svg
    assert ">forecast</text>" in svg and ">deadline</text>" in svg
    # The table: the observed year, then the projected year with its band (the
    # projection's first point is the last observed month, not repeated).
    assert chart.headers == ["Month", "Netherlands", "Forecast (80 % band)"]
    assert chart.rows == [
        ["December 2014", "10 %", "–"],
        ["December 2015", "–", "30 % (20 % to 40 %)"],
    ]


def test_line_chart_without_extras_is_unchanged_in_height():
    chart = charts.line_chart(
        chart_id="c",
        caption="c",
        summary="s",
        series=[Series("x", [(datetime.date(2014, 1, 1), 1.0)])],
    )
    assert 'viewBox="0 0 640 190"' in str(chart.svg)


# --- box plots ---------------------------------------------------------------------


def _boxes():
    from scoring.distribution import spread

    return [
        charts.Box("Small", spread([12.25, 30.0, 30.0, 47.5, 90.0])),
        charts.Box("Large", spread([55.0, 60.0]), emphasis=True, url="/x/"),
        charts.Box("One", spread([70.0])),
        charts.Box("Empty", None),
    ]


def _box_plot(**kwargs):
    return charts.box_plot(
        chart_id="chart-box",
        caption="Spread of scores",
        summary="Large municipalities score higher.",
        boxes=_boxes(),
        label_header="Size class",
        **kwargs,
    )


def _drawn_rows(svg: str) -> list[tuple[float, ...]]:
    """(min, q1, median, q3, max) x coordinates of each drawn box, in order."""
    rows = []
    for group in re.findall(r'<g class="chart-row">(.*?)</g>', svg):
        whisker = re.search(
            r'x1="([\d.]+)" y1="[\d.]+" x2="([\d.]+)"[^>]*chart-box-whisker', group
        )
        if not whisker:
            continue
        box = re.search(
            r'<rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)"[^>]*chart-box"', group
        )
        median = re.search(r'x1="([\d.]+)"[^>]*chart-box-median', group)
        q1, w = float(box.group(1)), float(box.group(2))
        rows.append(
            (
                float(whisker.group(1)),
                q1,
                float(median.group(1)),
                q1 + w,
                float(whisker.group(2)),
            )
        )
    return rows


@pytest.mark.parametrize("narrow", [False, True])
def test_box_plot_draws_min_q1_median_q3_max_in_order_and_to_scale(narrow):
    chart = _box_plot()
    svg = chart.svg_narrow if narrow else chart.svg
    rows = _drawn_rows(svg)
    assert len(rows) == 3  # the empty group draws no box
    for drawn in rows:
        assert list(drawn) == sorted(drawn)
    small = rows[0]
    # Linear: equal steps in value are equal steps in x (0.1 px rounding).
    per_point = (small[4] - small[0]) / (90.0 - 12.25)
    assert small[2] - small[1] == pytest.approx(0.0, abs=0.2)  # q1 = median = 30
    assert small[3] - small[2] == pytest.approx(per_point * 17.5, abs=0.3)
    one = rows[2]
    assert len(set(one)) == 1  # n = 1: everything on the one value


def test_box_plot_table_gives_count_and_five_numbers_rounded_half_up():
    chart = _box_plot()
    assert chart.headers == [
        "Size class",
        "Municipalities",
        "Minimum",
        "First quartile",
        "Median",
        "Third quartile",
        "Maximum",
    ]
    # 12.25 → 12.3 (half-up, not half-even's 12.2)
    assert chart.rows[0] == ["Small", "5", "12.3", "30.0", "30.0", "47.5", "90.0"]
    assert chart.rows[1] == ["Large", "2", "55.0", "56.3", "57.5", "58.8", "60.0"]
    assert chart.rows[2] == ["One", "1", *["70.0"] * 5]
    assert chart.rows[3] == ["Empty", "0", *["–"] * 5]
    assert chart.linked_rows[1] == (
        "/x/",
        list(zip(chart.headers, chart.rows[1], strict=True)),
    )
    assert chart.linked_rows[0][0] == ""
    assert ">median 30.0, n = 5</text>" in chart.svg
    assert ">no scores</text>" in chart.svg


def test_box_plot_is_accessible_and_marks_a_value():
    chart = _box_plot(marker=("Haarlemmermeer", 85.04))
    for svg in (chart.svg, chart.svg_narrow):
        assert 'role="img"' in svg
        assert "<title id=" in svg and "<desc id=" in svg
        assert "style=" not in svg
        assert "chart-marker" in svg
        assert ">Haarlemmermeer: 85.0</text>" in svg
