"""Why a municipality's score is what it is, and what would raise it (issue 16).

Pure functions over already-loaded values, like scoring.rules, on which they
build: the score and the agreement statuses always come from rules.adoption_score
and rules.agreement_status, so an explanation or a what-if can never disagree
with what the recompute stores. Only the split of the score into per-block
points is computed here, in exact fractions, so that the points add up to the
score without a rounding remainder.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction

from buildingblocks.levels import LEVEL_RANK, LEVEL_VALUES, Level
from scoring import rules
from scoring.models import ComplianceStatus
from scoring.rules import BlockState, Weight


@dataclass(frozen=True, slots=True)
class AgreementRule:
    """One agreement as the rules need it: its deadline and (block id, minimum level)s."""

    id: int
    deadline: datetime.date
    requirements: tuple[tuple[int, str], ...]


@dataclass(frozen=True, slots=True)
class Contribution:
    """What one block adds to the score: weight × value, as a share of the weight counted."""

    block_id: int
    level: str
    weight: Weight
    # Exact points (None for a block that does not apply: it is not counted).
    points: Fraction | None
    # The points it would add in use, with the same denominator.
    maximum: Fraction | None

    @property
    def points_float(self) -> float | None:
        return None if self.points is None else float(self.points)

    @property
    def maximum_float(self) -> float | None:
        return None if self.maximum is None else float(self.maximum)

    @property
    def share(self) -> float | None:
        """Points as a share (0–1) of the points the block could add, for a bar."""
        if self.points is None or not self.maximum:
            return None
        return float(self.points / self.maximum)


@dataclass(frozen=True, slots=True)
class Step:
    """Raising one block to a higher level, and what that would bring."""

    block_id: int
    from_level: str
    to_level: str
    points: float
    # Agreements that would become met by this step alone.
    agreements_met: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Explanation:
    score: float | None
    contributions: tuple[Contribution, ...]
    # The best step per block (to the level that gains most), best first.
    suggestions: tuple[Step, ...]
    statuses: Mapping[int, ComplianceStatus]

    @property
    def total_points(self) -> Fraction:
        return sum(
            (c.points for c in self.contributions if c.points is not None),
            Fraction(0),
        )


def state_of(states: Mapping[int, BlockState], block_id: int) -> BlockState:
    return states.get(block_id, rules.NOT_STARTED)


def score(
    weights: Mapping[int, Weight], states: Mapping[int, BlockState]
) -> float | None:
    """The adoption score by the rules: `weights` holds every active block."""
    return rules.adoption_score(
        (weight, state_of(states, block_id).level)
        for block_id, weight in weights.items()
    )


def agreement_statuses(
    agreements: Iterable[AgreementRule],
    states: Mapping[int, BlockState],
    *,
    on: datetime.date,
) -> dict[int, ComplianceStatus]:
    """The status of every agreement by the rules, {agreement id: status}."""
    return {
        agreement.id: rules.agreement_status(
            [
                (minimum_level, state_of(states, block_id))
                for block_id, minimum_level in agreement.requirements
            ],
            deadline=agreement.deadline,
            on=on,
        )
        for agreement in agreements
    }


def _exact(weight: Weight) -> Fraction:
    # Decimal and int convert exactly; a float weight by its exact binary value.
    return Fraction(weight)


def contributions(
    weights: Mapping[int, Weight], states: Mapping[int, BlockState]
) -> tuple[Contribution, ...]:
    """Each block's points: 100 × weight × value / Σ weight of the blocks that apply.

    Exact fractions: their sum is 100 × Σ w·v / Σ w, the score before the float
    arithmetic of rules.adoption_score (they agree to within float rounding).
    """
    levels = {block_id: state_of(states, block_id).level for block_id in weights}
    counted = sum(
        (
            _exact(weight)
            for block_id, weight in weights.items()
            if rules.level_value(levels[block_id]) is not None
        ),
        Fraction(0),
    )
    result = []
    for block_id, weight in weights.items():
        level = levels[block_id]
        applies = rules.level_value(level) is not None and counted > 0
        result.append(
            Contribution(
                block_id=block_id,
                level=level,
                weight=weight,
                points=(
                    100 * _exact(weight) * Fraction(LEVEL_VALUES[level]) / counted
                    if applies
                    else None
                ),
                maximum=100 * _exact(weight) / counted if applies else None,
            )
        )
    return tuple(result)


def with_level(
    states: Mapping[int, BlockState], block_id: int, level: str
) -> dict[int, BlockState]:
    """The states with one block at another level (its planned date kept)."""
    changed = dict(states)
    changed[block_id] = BlockState(
        level=level, planned_date=state_of(states, block_id).planned_date
    )
    return changed


def steps(
    weights: Mapping[int, Weight],
    states: Mapping[int, BlockState],
    agreements: Iterable[AgreementRule] = (),
    *,
    on: datetime.date,
) -> list[Step]:
    """Every single step up (a block to any higher level), best first.

    Best: most points gained, then most agreements newly met, then the block's
    order and the lower level (the smaller step). A block that does not apply
    has no step: marking a block applicable is a decision, not progress.
    """
    agreements = list(agreements)
    current = score(weights, states)
    if current is None:
        return []
    met_now = {
        agreement_id
        for agreement_id, status in agreement_statuses(
            agreements, states, on=on
        ).items()
        if status == ComplianceStatus.MET
    }
    order = {block_id: position for position, block_id in enumerate(weights)}
    found = []
    for block_id in weights:
        level = state_of(states, block_id).level
        if level == Level.NOT_APPLICABLE:
            continue
        for higher, rank in LEVEL_RANK.items():
            if rank <= LEVEL_RANK[level]:
                continue
            changed = with_level(states, block_id, higher)
            gained = score(weights, changed)
            newly_met = tuple(
                sorted(
                    agreement_id
                    for agreement_id, status in agreement_statuses(
                        agreements, changed, on=on
                    ).items()
                    if status == ComplianceStatus.MET and agreement_id not in met_now
                )
            )
            found.append(
                Step(
                    block_id=block_id,
                    from_level=level,
                    to_level=higher,
                    points=(gained or 0.0) - current,
                    agreements_met=newly_met,
                )
            )
    found.sort(
        key=lambda s: (
            -s.points,
            -len(s.agreements_met),
            order[s.block_id],
            LEVEL_RANK[s.to_level],
        )
    )
    return found


def best_per_block(all_steps: Iterable[Step]) -> tuple[Step, ...]:
    """The first (best) step of each block, in the given (best-first) order."""
    seen: set[int] = set()
    best = []
    for step in all_steps:
        if step.block_id not in seen:
            seen.add(step.block_id)
            best.append(step)
    return tuple(best)


def explain(
    weights: Mapping[int, Weight],
    states: Mapping[int, BlockState],
    agreements: Iterable[AgreementRule] = (),
    *,
    on: datetime.date,
) -> Explanation:
    """Score, points per block, the best step per block and the agreement statuses."""
    agreements = list(agreements)
    return Explanation(
        score=score(weights, states),
        contributions=contributions(weights, states),
        suggestions=best_per_block(steps(weights, states, agreements, on=on)),
        statuses=agreement_statuses(agreements, states, on=on),
    )


def rank(score_value: float | None, higher_scores: int) -> int | None:
    """The rank the recompute gives (SQL RANK over the score, highest first).

    `higher_scores`: how many other municipalities have a higher stored score.
    """
    if score_value is None:
        return None
    return higher_scores + 1


def gap(score_value: float | None, mean: float | None) -> float | None:
    """Points above (positive) or below (negative) a group's mean score."""
    if score_value is None or mean is None:
        return None
    return score_value - mean
