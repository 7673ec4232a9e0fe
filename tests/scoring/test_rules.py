"""The scoring rules of DESIGN §4, exhaustively and as properties."""

from __future__ import annotations

import datetime
import itertools
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from buildingblocks.levels import LEVEL_RANK, Level
from municipalities.sizeclasses import SizeClass, size_class_for
from scoring.models import ComplianceStatus
from scoring.rules import (
    NOT_STARTED,
    BlockState,
    adoption_score,
    agreement_outcome,
    agreement_status,
    category_scores,
    deadline_in_force,
    level_value,
    mean,
    median,
    meets_every_agreement,
    meets_minimum,
    requirement_applies,
    share,
)

D = datetime.date
DEADLINE = D(2015, 1, 1)
COUNTABLE = [Level.NOT_STARTED, Level.PREPARING, Level.IMPLEMENTING, Level.IN_USE]
ALL_LEVELS = [*COUNTABLE, Level.NOT_APPLICABLE]
MINIMUMS = [Level.PREPARING, Level.IMPLEMENTING, Level.IN_USE]


# --- level values and the score ------------------------------------------------


@pytest.mark.parametrize(
    ("level", "value"),
    [
        (Level.NOT_STARTED, 0.0),
        (Level.PREPARING, 0.25),
        (Level.IMPLEMENTING, 0.5),
        (Level.IN_USE, 1.0),
        (Level.NOT_APPLICABLE, None),
    ],
)
def test_level_value(level, value):
    assert level_value(level) == value


def test_unknown_level_is_an_error():
    with pytest.raises(ValueError, match="unknown level"):
        level_value("finished")


def test_adoption_score_is_the_weighted_mean_of_the_values():
    blocks = [
        (Decimal("2"), Level.IN_USE),
        (Decimal("1"), Level.IMPLEMENTING),
        (Decimal("1"), Level.NOT_STARTED),
    ]
    assert adoption_score(blocks) == pytest.approx(100 * (2 + 0.5) / 4)


def test_not_applicable_blocks_leave_the_denominator():
    assert adoption_score([(1, Level.IN_USE), (5, Level.NOT_APPLICABLE)]) == 100.0


def test_no_applicable_block_gives_no_score():
    assert adoption_score([]) is None
    assert adoption_score([(1, Level.NOT_APPLICABLE)]) is None


def test_category_scores_group_by_category():
    scores = category_scores(
        [
            ("a", 1, Level.IN_USE),
            ("a", 1, Level.NOT_STARTED),
            ("b", 2, Level.PREPARING),
            ("c", 1, Level.NOT_APPLICABLE),
        ]
    )
    assert scores == {"a": 50.0, "b": 25.0, "c": None}


# --- agreement status ------------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "minimum", "met"),
    [
        (level, minimum, LEVEL_RANK[level] >= LEVEL_RANK[minimum])
        for level, minimum in itertools.product(COUNTABLE, MINIMUMS)
    ]
    + [(Level.NOT_APPLICABLE, minimum, True) for minimum in MINIMUMS],
)
def test_meets_minimum_for_every_level_and_minimum(level, minimum, met):
    assert meets_minimum(level, minimum) is met


@pytest.mark.parametrize(
    ("states", "on", "expected"),
    [
        # met: every required block at its minimum, whatever the date
        ([BlockState(Level.IN_USE)], D(2020, 1, 1), ComplianceStatus.MET),
        # not applicable: no requirement left once N/A blocks drop out
        ([BlockState(Level.NOT_APPLICABLE)], D(2014, 1, 1), "not_applicable"),
        ([], D(2014, 1, 1), ComplianceStatus.NOT_APPLICABLE),
        # an N/A block drops out: the rest decides
        (
            [BlockState(Level.NOT_APPLICABLE), BlockState(Level.IN_USE)],
            D(2014, 1, 1),
            "met",
        ),
        (
            [BlockState(Level.NOT_APPLICABLE), BlockState(Level.PREPARING)],
            D(2014, 1, 1),
            "at_risk",
        ),
        # overdue: not met the day after the deadline
        ([BlockState(Level.IMPLEMENTING, D(2014, 6, 1))], D(2015, 1, 2), "overdue"),
        # the deadline day itself is still ahead; a plan of 1 June has expired
        ([BlockState(Level.IMPLEMENTING, D(2014, 6, 1))], D(2015, 1, 1), "at_risk"),
        ([BlockState(Level.IMPLEMENTING, D(2015, 1, 1))], D(2015, 1, 1), "on_track"),
        # on track: planned on or before the deadline
        ([BlockState(Level.PREPARING, D(2015, 1, 1))], D(2014, 1, 1), "on_track"),
        # at risk: unplanned, or planned after the deadline
        ([BlockState(Level.PREPARING, None)], D(2014, 1, 1), "at_risk"),
        ([NOT_STARTED], D(2014, 1, 1), "at_risk"),
        ([BlockState(Level.PREPARING, D(2015, 1, 2))], D(2014, 1, 1), "at_risk"),
        # one met block and one planned missing block: on track
        (
            [BlockState(Level.IN_USE), BlockState(Level.PREPARING, D(2014, 9, 1))],
            D(2014, 1, 1),
            "on_track",
        ),
        # any unplanned missing block makes it at risk
        (
            [
                BlockState(Level.PREPARING, D(2014, 9, 1)),
                BlockState(Level.NOT_STARTED),
            ],
            D(2014, 1, 1),
            "at_risk",
        ),
    ],
)
def test_agreement_status(states, on, expected):
    requirements = [(Level.IN_USE, state) for state in states]
    assert agreement_status(requirements, deadline=DEADLINE, on=on) == expected


@pytest.mark.parametrize(
    ("states", "on", "reason", "lapsed_on"),
    [
        ([NOT_STARTED], D(2014, 1, 1), "unplanned", None),
        (
            [BlockState(Level.PREPARING, D(2015, 2, 1))],
            D(2014, 1, 1),
            "planned_late",
            None,
        ),
        # the planned day itself is still on track; the day after it has expired
        ([BlockState(Level.PREPARING, D(2014, 3, 1))], D(2014, 3, 1), None, None),
        (
            [BlockState(Level.PREPARING, D(2014, 3, 1))],
            D(2014, 3, 2),
            "plan_expired",
            D(2014, 3, 1),
        ),
        # the earliest expired plan is the one that lapsed
        (
            [
                BlockState(Level.PREPARING, D(2014, 3, 1)),
                BlockState(Level.PREPARING, D(2014, 2, 1)),
                BlockState(Level.PREPARING, D(2014, 12, 1)),
            ],
            D(2014, 6, 1),
            "plan_expired",
            D(2014, 2, 1),
        ),
        # unplanned comes first, then planned late, then expired
        (
            [BlockState(Level.PREPARING, D(2014, 2, 1)), NOT_STARTED],
            D(2014, 6, 1),
            "unplanned",
            None,
        ),
        (
            [
                BlockState(Level.PREPARING, D(2014, 2, 1)),
                BlockState(Level.PREPARING, D(2016, 1, 1)),
            ],
            D(2014, 6, 1),
            "planned_late",
            None,
        ),
        ([NOT_STARTED], D(2015, 1, 2), "deadline_passed", DEADLINE),
        ([BlockState(Level.IN_USE)], D(2016, 1, 1), None, None),
    ],
)
def test_agreement_outcome_names_its_reason_and_the_date_that_lapsed(
    states, on, reason, lapsed_on
):
    outcome = agreement_outcome(
        [(Level.IN_USE, state) for state in states], deadline=DEADLINE, on=on
    )
    assert outcome.reason == reason
    assert outcome.lapsed_on == lapsed_on


def test_a_met_that_rests_on_a_not_applicable_block_is_exempted():
    exempted = agreement_outcome(
        [
            (Level.IN_USE, BlockState(Level.NOT_APPLICABLE)),
            (Level.IN_USE, BlockState(Level.IN_USE)),
        ],
        deadline=DEADLINE,
        on=D(2014, 1, 1),
    )
    plain = agreement_outcome(
        [(Level.IN_USE, BlockState(Level.IN_USE))], deadline=DEADLINE, on=D(2014, 1, 1)
    )
    assert (exempted.status, exempted.exempted) == (ComplianceStatus.MET, True)
    assert (plain.status, plain.exempted) == (ComplianceStatus.MET, False)


@pytest.mark.parametrize(
    ("min_population", "population", "applies"),
    [(None, 0, True), (100_000, 99_999, False), (100_000, 100_000, True)],
)
def test_requirement_applies_from_its_population_threshold(
    min_population, population, applies
):
    assert requirement_applies(min_population, population) is applies


@pytest.mark.parametrize(
    ("met", "not_applicable", "agreements", "all_met"),
    [(19, 0, 19, True), (17, 2, 19, True), (0, 19, 19, False), (17, 1, 19, False)],
)
def test_meets_every_agreement_leaves_out_those_that_do_not_apply(
    met, not_applicable, agreements, all_met
):
    assert meets_every_agreement(met, not_applicable, agreements) is all_met


def test_minimum_level_below_in_use_is_met_earlier():
    state = BlockState(Level.IMPLEMENTING, D(2016, 1, 1))
    on = D(2016, 1, 1)
    assert (
        agreement_status([(Level.IMPLEMENTING, state)], deadline=DEADLINE, on=on)
        == ComplianceStatus.MET
    )
    assert (
        agreement_status([(Level.IN_USE, state)], deadline=DEADLINE, on=on)
        == ComplianceStatus.OVERDUE
    )


# --- deadlines ---------------------------------------------------------------------


def test_deadline_in_force_follows_revisions_decided_by_then():
    revisions = [(D(2012, 11, 20), D(2014, 1, 1)), (D(2014, 3, 5), D(2015, 7, 1))]
    original = D(2013, 1, 1)
    assert deadline_in_force(original, revisions, D(2012, 11, 19)) == original
    assert deadline_in_force(original, revisions, D(2012, 11, 20)) == D(2014, 1, 1)
    assert deadline_in_force(original, revisions, D(2014, 3, 4)) == D(2014, 1, 1)
    assert deadline_in_force(original, revisions, D(2020, 1, 1)) == D(2015, 7, 1)
    # Order of the input does not matter between different decision dates.
    assert deadline_in_force(original, revisions[::-1], D(2020, 1, 1)) == D(2015, 7, 1)
    # Same decision date: the later one given wins.
    same_day = [(D(2014, 1, 1), D(2016, 1, 1)), (D(2014, 1, 1), D(2017, 1, 1))]
    assert deadline_in_force(original, same_day, D(2014, 1, 1)) == D(2017, 1, 1)
    assert deadline_in_force(original, [], D(2020, 1, 1)) == original


# --- statistics --------------------------------------------------------------------


def test_median_mean_share():
    assert median([]) is None
    assert median([None, 3.0]) == 3.0
    assert median([3, 1, 2]) == 2.0
    assert median([4, 1, 2, 3]) == 2.5
    assert mean([None]) is None
    assert mean([1, 2, None]) == 1.5
    assert share(1, 4) == 0.25
    assert share(0, 0) is None


# --- size class (municipalities/sizeclasses.py) ------------------------------------


@pytest.mark.parametrize(
    ("population", "size_class"),
    [
        (0, SizeClass.XS),
        (9_999, SizeClass.XS),
        (10_000, SizeClass.S),
        (19_999, SizeClass.S),
        (20_000, SizeClass.M),
        (49_999, SizeClass.M),
        (50_000, SizeClass.L),
        (99_999, SizeClass.L),
        (100_000, SizeClass.XL),
        (900_000, SizeClass.XL),
    ],
)
def test_size_class_bounds(population, size_class):
    assert size_class_for(population) == size_class


def test_negative_population_is_an_error():
    with pytest.raises(ValueError):
        size_class_for(-1)


@given(st.integers(min_value=0, max_value=10**7), st.integers(0, 10**6))
def test_size_class_never_shrinks_as_population_grows(population, growth):
    order = list(SizeClass)
    assert order.index(size_class_for(population + growth)) >= order.index(
        size_class_for(population)
    )


# --- properties ----------------------------------------------------------------------

weights = st.decimals(min_value="0.01", max_value="100", places=2)
blocks = st.lists(st.tuples(weights, st.sampled_from(ALL_LEVELS)), max_size=30)
dates = st.dates(min_value=D(2008, 1, 1), max_value=D(2020, 12, 31))
states = st.builds(BlockState, st.sampled_from(ALL_LEVELS), st.none() | dates)
requirements = st.lists(st.tuples(st.sampled_from(MINIMUMS), states), max_size=6)


@given(blocks)
def test_score_stays_within_0_and_100(pairs):
    score = adoption_score(pairs)
    if all(level == Level.NOT_APPLICABLE for _, level in pairs):
        assert score is None
    else:
        assert 0 <= score <= 100


@given(blocks, st.data())
def test_raising_one_level_never_lowers_the_score(pairs, data):
    countable = [i for i, (_, level) in enumerate(pairs) if level in COUNTABLE]
    if not countable:
        return
    i = data.draw(st.sampled_from(countable))
    weight, level = pairs[i]
    higher = data.draw(
        st.sampled_from([lv for lv in COUNTABLE if LEVEL_RANK[lv] >= LEVEL_RANK[level]])
    )
    raised = [*pairs[:i], (weight, higher), *pairs[i + 1 :]]
    assert adoption_score(raised) >= adoption_score(pairs) - 1e-9


@given(blocks, weights)
def test_not_applicable_blocks_do_not_count(pairs, weight):
    assert adoption_score([*pairs, (weight, Level.NOT_APPLICABLE)]) == adoption_score(
        pairs
    )


@given(requirements, dates, dates, st.data())
def test_a_met_agreement_stays_met_when_a_level_rises(reqs, deadline, on, data):
    if agreement_status(reqs, deadline=deadline, on=on) != ComplianceStatus.MET:
        return
    if not reqs:
        return
    i = data.draw(st.integers(0, len(reqs) - 1))
    minimum, state = reqs[i]
    if state.level == Level.NOT_APPLICABLE:
        return
    higher = data.draw(
        st.sampled_from(
            [lv for lv in COUNTABLE if LEVEL_RANK[lv] >= LEVEL_RANK[state.level]]
        )
    )
    raised = [
        *reqs[:i],
        (minimum, BlockState(higher, state.planned_date)),
        *reqs[i + 1 :],
    ]
    assert agreement_status(raised, deadline=deadline, on=on) == ComplianceStatus.MET


@given(requirements, dates, dates)
def test_agreement_status_is_one_of_five_and_consistent_with_the_date(
    reqs, deadline, on
):
    status = agreement_status(reqs, deadline=deadline, on=on)
    assert status in ComplianceStatus.values
    if status == ComplianceStatus.OVERDUE:
        assert on > deadline
    if status in (ComplianceStatus.ON_TRACK, ComplianceStatus.AT_RISK):
        assert on <= deadline


@given(requirements, dates, dates)
def test_order_of_requirements_does_not_matter(reqs, deadline, on):
    assert agreement_status(reqs, deadline=deadline, on=on) == agreement_status(
        reqs[::-1], deadline=deadline, on=on
    )


@given(st.lists(st.floats(0, 100), min_size=1))
def test_median_lies_between_min_and_max(values):
    assert min(values) <= median(values) <= max(values)


@given(requirements, dates, dates, st.data())
def test_marking_a_block_not_applicable_never_raises_a_compliance_count(
    reqs, deadline, on, data
):
    """N/A drops a requirement out: a missed agreement may become not applicable
    or met on an exemption, and a met one may become not applicable, but no
    municipality gains a plain "met" from it, and never more met than before
    plus the exempted ones."""
    if not reqs:
        return
    i = data.draw(st.integers(0, len(reqs) - 1))
    minimum, state = reqs[i]
    before = agreement_outcome(reqs, deadline=deadline, on=on)
    exempted = [
        *reqs[:i],
        (minimum, BlockState(Level.NOT_APPLICABLE, state.planned_date)),
        *reqs[i + 1 :],
    ]
    after = agreement_outcome(exempted, deadline=deadline, on=on)
    if after.status == ComplianceStatus.MET and before.status != ComplianceStatus.MET:
        assert after.exempted
    if before.status == ComplianceStatus.MET and not before.exempted:
        assert after.status in (ComplianceStatus.MET, ComplianceStatus.NOT_APPLICABLE)


@given(requirements, dates, dates)
def test_an_expired_plan_is_never_on_track(reqs, deadline, on):
    outcome = agreement_outcome(reqs, deadline=deadline, on=on)
    missing_expired = any(
        state.level != Level.NOT_APPLICABLE
        and LEVEL_RANK[state.level] < LEVEL_RANK[minimum]
        and state.planned_date is not None
        and state.planned_date < on
        for minimum, state in reqs
    )
    if missing_expired:
        assert outcome.status not in (ComplianceStatus.ON_TRACK, ComplianceStatus.MET)


@given(requirements, dates, dates)
def test_every_at_risk_or_overdue_outcome_names_a_reason(reqs, deadline, on):
    outcome = agreement_outcome(reqs, deadline=deadline, on=on)
    lagging = outcome.status in (ComplianceStatus.AT_RISK, ComplianceStatus.OVERDUE)
    assert (outcome.reason is not None) is lagging
    if outcome.reason in ("deadline_passed", "plan_expired"):
        assert outcome.lapsed_on < on
