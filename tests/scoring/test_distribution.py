"""The spread of a group's scores: quartiles by the inclusive method (QUARTILE.INC)."""

from __future__ import annotations

import random
import statistics

import pytest

from scoring.distribution import Spread, quantile, spread, spreads_by
from scoring.rules import mean, median


def test_one_value_is_all_five_numbers():
    assert spread([42.0]) == Spread(1, 42.0, 42.0, 42.0, 42.0, 42.0, 42.0)


def test_two_values_interpolate_a_quarter_and_three_quarters_of_the_way():
    s = spread([10.0, 20.0])
    assert s.five_numbers == (10.0, 12.5, 15.0, 17.5, 20.0)
    assert s.count == 2
    assert s.mean == 15.0


def test_known_values_as_excel_quartile_inc():
    # Excel: QUARTILE.INC({1,2,3,4,5,6,7,8,9,10}; 1) = 3.25, ; 3) = 7.75.
    s = spread(range(1, 11))
    assert s.five_numbers == (1.0, 3.25, 5.5, 7.75, 10.0)
    # QUARTILE.INC({7,15,36,39,40,41}; 1) = 20.25, ; 2) = 37.5, ; 3) = 39.75.
    s = spread([36, 7, 41, 15, 40, 39])  # order does not matter
    assert s.five_numbers == (7.0, 20.25, 37.5, 39.75, 41.0)


def test_ties_stay_on_the_tied_value():
    s = spread([5.0, 5.0, 5.0, 5.0, 80.0])
    assert s.five_numbers == (5.0, 5.0, 5.0, 5.0, 80.0)
    s = spread([0.0, 50.0, 50.0, 50.0, 100.0])
    assert s.five_numbers == (0.0, 50.0, 50.0, 50.0, 100.0)


def test_nulls_are_left_out_and_no_values_give_none():
    assert spread([None, 3.0, None]) == spread([3.0])
    assert spread([]) is None
    assert spread([None]) is None


@pytest.mark.parametrize("n", [2, 3, 4, 7, 12, 101])
def test_agrees_with_the_standard_library_inclusive_method_and_the_median(n):
    rng = random.Random(n)
    values = [round(rng.uniform(0, 100), 1) for _ in range(n)]
    s = spread(values)
    q1, q2, q3 = statistics.quantiles(values, n=4, method="inclusive")
    assert (s.q1, s.median, s.q3) == pytest.approx((q1, q2, q3), abs=1e-9)
    assert s.median == pytest.approx(median(values), abs=1e-9)
    assert s.mean == pytest.approx(mean(values), abs=1e-9)
    assert s.minimum <= s.q1 <= s.median <= s.q3 <= s.maximum


def test_quantile_refuses_nonsense():
    with pytest.raises(ValueError):
        quantile([], 0.5)
    with pytest.raises(ValueError):
        quantile([1.0], 1.5)
    assert quantile([1.0, 2.0, 4.0], 0.0) == 1.0
    assert quantile([1.0, 2.0, 4.0], 1.0) == 4.0


def test_spreads_by_groups_rows_and_leaves_out_empty_groups():
    rows = [("xs", 10.0), ("s", 30.0), ("xs", 20.0), ("m", None), ("s", None)]
    result = spreads_by(rows)
    assert set(result) == {"xs", "s"}
    assert result["xs"] == spread([10.0, 20.0])
    assert result["s"].count == 1
