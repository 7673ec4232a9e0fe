"""scoring.timetravel's pure parts: reading a date, ranks, changes, keeping the date."""

from __future__ import annotations

import datetime

from django.utils import translation

import pytest

from scoring import timetravel

TODAY = datetime.date(2026, 12, 4)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2014-12-31", datetime.date(2014, 12, 31)),
        ("31-12-2014", datetime.date(2014, 12, 31)),
        (" 2013-06-15 ", datetime.date(2013, 6, 15)),
        ("2011-01-01", datetime.date(2011, 1, 1)),
        ("", None),
        (None, None),
        ("2026-12-04", None),  # today: the current figures
    ],
)
def test_parse_accepts_both_spellings(value, expected):
    parsed = timetravel.parse(value, today=TODAY)
    assert parsed.on == expected
    assert parsed.error == ""


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2026-12-05", "in the future"),
        ("2010-12-31", "before the programme started (2011-01-01)"),
        ("2014-02-30", "is not a date"),
        ("14-12-31x", "is not a date"),
        ("x" * 200, "x" * 40 + "” is not a date"),
    ],
)
def test_parse_refuses_with_a_reason(value, message):
    with translation.override("en"):
        parsed = timetravel.parse(value, today=TODAY)
    assert parsed.on is None
    assert message in parsed.error
    assert "today's figures" in parsed.error


def test_compare_date_may_be_today():
    assert timetravel.parse("2026-12-04", today=TODAY, keep_today=True).on == TODAY


def test_ranks_are_competition_ranks_and_skip_the_unscored():
    assert timetravel.ranks({1: 50.0, 2: 80.0, 3: 50.0, 4: None, 5: 10.0}) == {
        2: 1,
        1: 2,
        3: 2,
        5: 4,
    }


@pytest.mark.parametrize(
    ("now", "then", "scale", "expected"),
    [
        (75.0, 50.0, 1, "+25"),
        (50.0, 75.0, 1, "−25"),
        (50.4, 50.0, 1, "0"),
        (50.5, 50.0, 1, "+1"),  # half-up, never to even
        (0.625, 0.6, 100, "+3"),  # shares in percentage points, half-up
        (None, 50.0, 1, ""),
        (50.0, None, 1, ""),
    ],
)
def test_change_rounds_half_up(now, then, scale, expected):
    assert timetravel.change(now, then, scale=scale) == expected


ON = datetime.date(2014, 12, 31)


def dated(path: str) -> bool:
    return path in {"/", "/gemeenten/", "/gemeenten/utrecht/"}


def test_keep_date_adds_the_date_to_links_of_dated_pages():
    html = (
        '<a href="/gemeenten/">list</a>'
        '<a class="x" href="/gemeenten/utrecht/?vergelijk=2013-01-01#trend">card</a>'
        '<a href="?sort=name&amp;page=2">sort</a>'
        '<a href="/methode/">method</a>'
        '<a href="https://example.org/gemeenten/">out</a>'
        '<a href="/gemeenten/?peildatum=2013-01-01">own date</a>'
        '<a href="/" data-today>today</a>'
        '<a name="anchor">no href</a>'
    )
    kept = timetravel.keep_date(html, ON, "/gemeenten/", dated)
    assert '<a href="/gemeenten/?peildatum=2014-12-31">list</a>' in kept
    assert (
        'href="/gemeenten/utrecht/?vergelijk=2013-01-01&amp;peildatum=2014-12-31#trend"'
        in kept
    )
    assert 'href="?sort=name&amp;page=2&amp;peildatum=2014-12-31"' in kept
    assert 'href="/methode/"' in kept
    assert 'href="https://example.org/gemeenten/"' in kept
    assert 'href="/gemeenten/?peildatum=2013-01-01"' in kept
    assert '<a href="/" data-today>' in kept
    assert '<a name="anchor">' in kept


def test_keep_date_adds_a_hidden_field_to_get_forms_of_dated_pages():
    html = (
        '<form method="get"><input name="q"></form>'
        '<form action="/gemeenten/utrecht/"><input name="vergelijk"></form>'
        '<form method="post" action="/gemeenten/"><input name="x"></form>'
        '<form method="get" action="/methode/"></form>'
        '<form method="get" action="/"><input name="peildatum" value=""></form>'
    )
    kept = timetravel.keep_date(html, ON, "/gemeenten/", dated)
    hidden = '<input type="hidden" name="peildatum" value="2014-12-31">'
    assert kept.count(hidden) == 2
    assert f'<form method="get">{hidden}<input name="q">' in kept
    assert f'<form action="/gemeenten/utrecht/">{hidden}' in kept
    assert '<form method="post" action="/gemeenten/"><input name="x">' in kept
    assert '<form method="get" action="/methode/"></form>' in kept


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("/methode/", "Cijfers op een eerdere datum"),
        ("/en/methode/", "Figures on a past date"),
    ],
)
def test_the_method_page_explains_time_travel(client, path, text):
    html = client.get(path).content.decode()
    assert f'<h2 id="time-travel">{text}</h2>' in html
    assert "peildatum=2014-12-31" in html


@pytest.mark.django_db
def test_one_request_reads_the_reference_data_once(django_assert_num_queries):
    from scoring.history import _Reference, one_reference_load

    with one_reference_load():
        first = _Reference.load()
        with django_assert_num_queries(0):
            assert _Reference.load() is first
    # Outside a request every call reads afresh: an edit is seen at once.
    assert _Reference.load() is not first


@pytest.mark.django_db
def test_one_request_replays_a_day_once(django_assert_num_queries):
    from scoring.history import one_reference_load, standings_on

    day = datetime.date(2014, 12, 30)
    with one_reference_load():
        first = standings_on(day)
        with django_assert_num_queries(0):
            assert standings_on(day) is first
        assert standings_on(day, [1]) is not first
    assert standings_on(day) is not first
