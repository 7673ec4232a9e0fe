"""The score explanation (scoring.explain): points that add up, the best step first."""

from __future__ import annotations

import datetime
from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from buildingblocks.levels import LEVEL_RANK, LEVEL_VALUES, Level
from scoring import explain, rules
from scoring.explain import AgreementRule
from scoring.models import ComplianceStatus
from scoring.rules import BlockState

TODAY = datetime.date(2026, 6, 1)
LEVELS = [level.value for level in Level]

weights_strategy = st.decimals(
    min_value=Decimal("0.01"), max_value=Decimal("10"), places=2
)


@st.composite
def municipalities(draw):
    """Random weights and levels (planned dates too) for 1–12 blocks."""
    n = draw(st.integers(1, 12))
    weights = {block_id: draw(weights_strategy) for block_id in range(1, n + 1)}
    states = {
        block_id: BlockState(
            draw(st.sampled_from(LEVELS)),
            draw(st.none() | st.dates(TODAY, TODAY + datetime.timedelta(days=900))),
        )
        for block_id in weights
    }
    # Some blocks have no status row at all (not started).
    for block_id in draw(st.sets(st.sampled_from(sorted(weights)))):
        states.pop(block_id, None)
    agreements = [
        AgreementRule(
            id=number,
            deadline=draw(
                st.dates(
                    TODAY - datetime.timedelta(days=400),
                    TODAY + datetime.timedelta(days=400),
                )
            ),
            requirements=tuple(
                (block_id, draw(st.sampled_from(list(LEVEL_RANK)[1:])))
                for block_id in draw(st.sets(st.sampled_from(sorted(weights))))
            ),
        )
        for number in range(1, draw(st.integers(0, 4)) + 1)
    ]
    return weights, states, agreements


def exact_score(weights, states) -> Fraction | None:
    """DESIGN §4 written out in exact arithmetic, independently of the module."""
    numerator = Fraction(0)
    denominator = Fraction(0)
    for block_id, weight in weights.items():
        level = states.get(block_id, BlockState()).level
        if level == Level.NOT_APPLICABLE:
            continue
        numerator += Fraction(weight) * Fraction(LEVEL_VALUES[level])
        denominator += Fraction(weight)
    return None if denominator == 0 else 100 * numerator / denominator


@given(municipalities())
def test_contributions_sum_exactly_to_the_score(world):
    weights, states, _agreements = world
    contributions = explain.contributions(weights, states)
    expected = exact_score(weights, states)

    if expected is None:
        assert all(c.points is None for c in contributions)
        assert explain.score(weights, states) is None
    else:
        total = sum(c.points for c in contributions if c.points is not None)
        assert total == expected  # exact: Fractions, no rounding
        # And the float score of the rules is that number, rounded.
        assert abs(explain.score(weights, states) - float(total)) < 1e-9


def test_contributions_of_a_small_example():
    weights = {1: Decimal("2"), 2: Decimal("1"), 3: Decimal("1")}
    states = {1: BlockState(Level.IN_USE), 2: BlockState(Level.IMPLEMENTING)}

    points = {c.block_id: c.points for c in explain.contributions(weights, states)}

    assert points == {1: Fraction(50), 2: Fraction(25, 2), 3: Fraction(0)}
    assert explain.score(weights, states) == 62.5


def test_a_block_that_does_not_apply_is_not_counted_and_has_no_step():
    weights = {1: Decimal("1"), 2: Decimal("3")}
    states = {2: BlockState(Level.NOT_APPLICABLE)}

    contributions = explain.contributions(weights, states)
    all_steps = explain.steps(weights, states, on=TODAY)

    assert [c.points for c in contributions] == [Fraction(0), None]
    assert {s.block_id for s in all_steps} == {1}
    assert all_steps[0].points == 100.0


@given(municipalities())
def test_the_top_suggestion_raises_the_score_most(world):
    weights, states, agreements = world
    explanation = explain.explain(weights, states, agreements, on=TODAY)
    current = rules.adoption_score(
        (w, states.get(b, BlockState()).level) for b, w in weights.items()
    )
    # Every single step up, scored by the rules directly.
    gains = []
    for block_id in weights:
        level = states.get(block_id, BlockState()).level
        if level == Level.NOT_APPLICABLE:
            continue
        for higher in LEVEL_RANK:
            if LEVEL_RANK[higher] > LEVEL_RANK[level]:
                levels = {b: states.get(b, BlockState()).level for b in weights}
                levels[block_id] = higher
                gains.append(
                    rules.adoption_score((w, levels[b]) for b, w in weights.items())
                    - current
                )

    if not gains:
        assert explanation.suggestions == ()
    else:
        top = explanation.suggestions[0]
        assert top.points == max(gains)
        assert [s.points for s in explanation.suggestions] == sorted(
            (s.points for s in explanation.suggestions), reverse=True
        )


@given(municipalities())
def test_a_step_names_exactly_the_agreements_it_would_meet(world):
    weights, states, agreements = world
    before = explain.agreement_statuses(agreements, states, on=TODAY)
    for step in explain.steps(weights, states, agreements, on=TODAY):
        changed = dict(states)
        changed[step.block_id] = BlockState(
            step.to_level, states.get(step.block_id, BlockState()).planned_date
        )
        after = {
            a.id: rules.agreement_status(
                [(m, changed.get(b, BlockState())) for b, m in a.requirements],
                deadline=a.deadline,
                on=TODAY,
            )
            for a in agreements
        }
        assert step.agreements_met == tuple(
            sorted(
                a
                for a, status in after.items()
                if status == ComplianceStatus.MET and before[a] != ComplianceStatus.MET
            )
        )


def test_everything_in_use_leaves_nothing_to_raise():
    weights = {1: Decimal("1"), 2: Decimal("2")}
    states = {1: BlockState(Level.IN_USE), 2: BlockState(Level.NOT_APPLICABLE)}

    explanation = explain.explain(weights, states, on=TODAY)

    assert explanation.score == 100.0
    assert explanation.suggestions == ()


def test_steps_rank_ties_by_agreements_met():
    weights = {1: Decimal("1"), 2: Decimal("1")}
    agreements = [AgreementRule(7, TODAY, ((2, Level.IN_USE),))]

    best = explain.explain(weights, {}, agreements, on=TODAY).suggestions

    assert [(s.block_id, s.to_level, s.agreements_met) for s in best] == [
        (2, Level.IN_USE, (7,)),
        (1, Level.IN_USE, ()),
    ]


def test_rank_and_gap():
    assert explain.rank(80.0, higher_scores=0) == 1
    assert explain.rank(80.0, higher_scores=11) == 12
    assert explain.rank(None, higher_scores=3) is None
    assert explain.gap(70.0, 62.5) == 7.5
    assert explain.gap(None, 62.5) is None
    assert explain.gap(70.0, None) is None
