"""One rounding for every figure: half-up, never truncated, the same on every path."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.template import Context, Template
from django.utils import formats, translation

import pytest

from municipalities.tables import NumberColumn, PercentColumn
from nupportal.formats import (
    display_value,
    format_number,
    format_percent,
    round_half_up,
)
from reports.pdf import _fmt as pdf_number
from scoring import charts
from scoring.maps import score_class

CASES = [
    # value, decimals, Dutch text
    (92.5, 0, "93"),
    (92.72, 0, "93"),
    (92.49, 0, "92"),
    (0.5, 0, "1"),
    (1.5, 0, "2"),
    (2.5, 0, "3"),  # not to even
    (99.95, 1, "100,0"),
    (92.25, 1, "92,3"),
    (92.3076923076923, 1, "92,3"),
    (12345.678, 1, "12.345,7"),
    (-0.5, 0, "-1"),
    (20000, 0, "20.000"),
]


@pytest.mark.parametrize(("value", "decimals", "text"), CASES)
def test_format_number_rounds_half_up(value, decimals, text):
    with translation.override("nl"):
        assert format_number(value, decimals) == text


@pytest.mark.parametrize(("value", "decimals", "text"), CASES)
def test_every_display_path_shows_the_same_digits(value, decimals, text):
    """Page tables, template filter, charts and maps, PDF: one function behind all."""
    with translation.override("nl"):
        assert NumberColumn(decimal_pos=decimals).render(value) == text
        template = Template("{% load portal %}{{ v|number:d }}")
        assert template.render(Context({"v": value, "d": decimals})) == text
        assert charts.number(value, decimals) == text
        if decimals == 0:
            assert pdf_number(value) == text


def test_english_uses_a_decimal_point_and_comma_grouping():
    with translation.override("en"):
        assert format_number(12345.678, 1) == "12,345.7"
        assert format_number(92.72, 0) == "93"


@pytest.mark.parametrize(
    ("share", "decimals", "text"),
    [(0.925, 0, "93 %"), (0.145, 0, "15 %"), (0.9995, 1, "100,0 %"), (0.005, 0, "1 %")],
)
def test_percentages_round_half_up(share, decimals, text):
    with translation.override("nl"):
        assert format_percent(share, decimals) == text
        assert PercentColumn(decimal_pos=decimals).render(share) == text
        template = Template("{% load portal %}{{ v|percentage:d }}")
        assert template.render(Context({"v": share, "d": decimals})) == text


def test_display_value_is_the_rounded_number_for_spreadsheets():
    assert display_value(92.72) == 93
    assert isinstance(display_value(92.72), int)
    assert display_value(99.95, 1) == 100.0
    assert display_value(92.25, 1) == 92.3
    assert display_value(None, 1) is None
    assert round_half_up(Decimal("0.5")) == Decimal("1")


def test_percent_column_exports_the_shown_and_the_exact_percentage():
    column = PercentColumn()
    assert column.value(0.145) == 15
    assert column.exact(0.145) == 14.5


def test_a_score_shown_as_80_is_in_the_80_class_of_the_map():
    assert score_class(79.5) == score_class(80) == "c3"
    assert score_class(79.49) == "c2"


def test_english_dates_are_unambiguous_and_have_no_am_pm():
    moment = datetime.datetime(2015, 1, 1, 17, 30)
    with translation.override("en"):
        assert formats.date_format(moment, "DATE_FORMAT") == "1 January 2015"
        assert formats.date_format(moment, "SHORT_DATE_FORMAT") == "1 Jan 2015"
        assert formats.date_format(moment, "DATETIME_FORMAT") == "1 January 2015, 17:30"
        assert "m." not in formats.date_format(moment, "SHORT_DATETIME_FORMAT")
        assert formats.time_format(moment, "TIME_FORMAT") == "17:30"


def test_dutch_dates_and_numbers():
    moment = datetime.datetime(2015, 1, 1, 17, 30)
    with translation.override("nl"):
        assert formats.date_format(moment, "DATE_FORMAT") == "1 januari 2015"
        assert formats.date_format(moment, "DATETIME_FORMAT") == "1 januari 2015 17:30"
        assert formats.date_format(moment, "SHORT_DATE_FORMAT") == "1 jan 2015"
        template = Template("{% load portal %}{{ v|number }} rijen")
        assert template.render(Context({"v": 20000})) == "20.000 rijen"
