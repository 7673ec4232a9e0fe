"""MunicipalityFilterSet on its own: each filter, their combinations, bad values."""

from __future__ import annotations

import pytest

from buildingblocks.levels import Level
from municipalities.filters import MatrixFilterSet, MunicipalityFilterSet
from municipalities.queries import NOT_IN_USE, municipality_rows
from tests.municipalities.portal_world import build_world

pytestmark = pytest.mark.django_db

N = 40


@pytest.fixture
def world(db):
    return build_world(N)


def names(data: dict) -> list[str]:
    filterset = MunicipalityFilterSet(data, queryset=municipality_rows())
    assert filterset.is_valid(), filterset.errors
    return sorted(m.name for m in filterset.qs)


def expected(condition) -> list[str]:
    return [f"Plaats {i:03d}" for i in range(N) if condition(i)]


def test_no_filters_gives_everything(world):
    assert names({}) == expected(lambda i: True)


def test_blank_search_changes_nothing(world):
    assert names({"q": "  "}) == expected(lambda i: True)


@pytest.mark.parametrize(
    ("data", "condition"),
    [
        ({"province": "gelderland"}, lambda i: i % 2 == 0),
        ({"size_class": "xl"}, lambda i: i % 5 == 4),
        ({"score_min": "30"}, lambda i: i >= 30),
        ({"score_max": "5"}, lambda i: i <= 5),
        ({"block": "digid", "level": Level.IN_USE}, lambda i: i % 4 == 0),
        ({"block": "digid", "level": Level.PREPARING}, lambda i: i % 4 == 1),
        ({"block": "digid", "level": Level.NOT_STARTED}, lambda i: i % 4 == 2),
        ({"block": "digid", "level": Level.NOT_APPLICABLE}, lambda i: i % 4 == 3),
        ({"block": "digid", "level": NOT_IN_USE}, lambda i: i % 4 in (1, 2)),
        ({"block": "berichtenbox", "level": Level.NOT_STARTED}, lambda i: True),
        ({"block": "bag", "level": Level.IN_USE}, lambda i: True),
        ({"compliance": "met"}, lambda i: i % 2 == 0),
        ({"agreement": "1", "compliance": "overdue"}, lambda i: i % 2 == 1),
        ({"agreement": "2", "compliance": "overdue"}, lambda i: False),
        (
            {
                "province": "utrecht",
                "size_class": "s",
                "block": "digid",
                "level": Level.NOT_APPLICABLE,
            },
            lambda i: i % 2 == 1 and i % 5 == 1 and i % 4 == 3,
        ),
        (
            {"province": "gelderland", "score_min": "10", "score_max": "20"},
            lambda i: i % 2 == 0 and 10 <= i <= 20,
        ),
    ],
)
def test_filters_narrow_the_rows(world, data, condition):
    assert names(data) == expected(condition)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"size_class": "zz"}, "size_class"),
        ({"score_min": "abc"}, "score_min"),
        ({"score_max": "101"}, "score_max"),
        ({"province": "99999"}, "province"),
        ({"block": "nope", "level": "in_use"}, "block"),
        ({"block": "digid", "level": "flying"}, "level"),
        ({"agreement": "77", "compliance": "met"}, "agreement"),
        ({"compliance": "late"}, "compliance"),
        ({"agreement": "1"}, "compliance"),
        ({"score_min": "60", "score_max": "40"}, "score_max"),
    ],
)
def test_bad_values_are_form_errors(world, data, field):
    filterset = MunicipalityFilterSet(data, queryset=municipality_rows())

    assert not filterset.is_valid()
    assert field in filterset.errors


def test_block_and_level_must_come_together(world):
    for data in ({"block": "digid"}, {"level": "in_use"}):
        filterset = MunicipalityFilterSet(data, queryset=municipality_rows())
        assert not filterset.is_valid()
        assert filterset.form.non_field_errors()


def test_matrix_filters(world):
    filterset = MatrixFilterSet(
        {"province": "utrecht", "size_class": "m"}, queryset=municipality_rows()
    )

    assert sorted(m.name for m in filterset.qs) == expected(
        lambda i: i % 2 == 1 and i % 5 == 2
    )
