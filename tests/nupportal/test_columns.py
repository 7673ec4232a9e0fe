"""Reading the column choice of a wide table (nupportal.columns): pure, no database."""

from __future__ import annotations

import pytest

from nupportal.columns import (
    Column,
    ColumnSet,
    choose_columns,
    format_columns,
    hidden_columns,
    parse_columns,
)

AVAILABLE = ("name", "province", "score", "population")
COLUMNS = ColumnSet(
    columns=tuple(Column(name, name.title()) for name in AVAILABLE),
    default=("name", "score"),
    required=("name",),
)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["score,province"], ["province", "score"]),  # the table's order
        (["score", "province"], ["province", "score"]),  # repeated, from the form
        (["score, province ,,"], ["province", "score"]),  # spaces, empty parts
        (["score,score", "score"], ["score"]),  # each once
        (["score,bogus,<script>"], ["score"]),  # unknown names are ignored
        (["bogus"], []),
        ([""], []),
        ([], []),
    ],
)
def test_parse_columns_keeps_known_names_in_table_order(values, expected):
    assert parse_columns(values, AVAILABLE) == expected


def test_the_url_choice_wins_over_the_remembered_one():
    shown, from_url = choose_columns(COLUMNS, ["population"], ["province"])
    assert (shown, from_url) == (["name", "population"], True)


def test_without_a_url_choice_the_remembered_one_is_used():
    assert choose_columns(COLUMNS, [], ["province"]) == (["name", "province"], False)


def test_an_unknown_url_choice_falls_back_as_if_there_were_none():
    assert choose_columns(COLUMNS, ["bogus"], ["province"]) == (
        ["name", "province"],
        False,
    )
    assert choose_columns(COLUMNS, ["bogus"]) == (["name", "score"], False)


def test_a_remembered_column_that_no_longer_exists_is_dropped():
    assert choose_columns(COLUMNS, [], ["retired"]) == (["name", "score"], False)


def test_required_columns_are_always_shown():
    assert choose_columns(COLUMNS, ["score"])[0] == ["name", "score"]
    assert choose_columns(COLUMNS, ["name"]) == (["name"], True)


def test_format_and_hidden_columns():
    assert format_columns(["name", "score"]) == "name,score"
    assert hidden_columns(COLUMNS, ["name", "score"]) == ["province", "population"]
