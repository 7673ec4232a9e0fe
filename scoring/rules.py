"""The scoring rules of DESIGN §4 as pure functions.

Values in, values out: no queries, no settings, no clock. The SQL in
scoring.compute and the history replay in scoring.history must give the same
answers as these functions; tests/scoring check that they do.

Decisions the design leaves open, made here once:
- A block without a status counts as `not_started`.
- A required block marked `not_applicable` satisfies its requirement: the
  municipality has explained (in a required note) why the block does not apply.
- Requirements of inactive (retired) blocks are ignored; an agreement with no
  requirement left is met.
- The deadline day itself is still "ahead": an agreement is overdue from the day
  after its deadline.
- Shares leave `not_applicable` out of the denominator, as the score does.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from buildingblocks.levels import LEVEL_RANK, LEVEL_VALUES, Level
from scoring.models import ComplianceStatus

Weight = Decimal | float | int


@dataclass(frozen=True, slots=True)
class BlockState:
    """Where one municipality stands with one block: its level and planned date."""

    level: str = Level.NOT_STARTED
    planned_date: datetime.date | None = None


NOT_STARTED = BlockState()


def level_value(level: str) -> float | None:
    """The value of a level (0 … 1); None for `not_applicable` (not counted)."""
    if level == Level.NOT_APPLICABLE:
        return None
    try:
        return float(LEVEL_VALUES[level])
    except KeyError:
        raise ValueError(f"unknown level {level!r}") from None


def adoption_score(blocks: Iterable[tuple[Weight, str]]) -> float | None:
    """100 × Σ weight·value / Σ weight over the applicable blocks.

    `blocks` holds (weight, level) for every active block of one municipality.
    None when no block applies (nothing to score).
    """
    numerator = 0.0
    denominator = 0.0
    for weight, level in blocks:
        value = level_value(level)
        if value is None:
            continue
        numerator += float(weight) * value
        denominator += float(weight)
    if denominator <= 0:
        return None
    # Float sums can land a hair outside the range; the score never does.
    return min(100.0, max(0.0, 100.0 * numerator / denominator))


def category_scores(
    blocks: Iterable[tuple[str, Weight, str]],
) -> dict[str, float | None]:
    """The adoption score per category from (category, weight, level) triples.

    Every category that has an active block appears; its score is None when all
    its blocks are `not_applicable`.
    """
    per_category: dict[str, list[tuple[Weight, str]]] = {}
    for category, weight, level in blocks:
        per_category.setdefault(category, []).append((weight, level))
    return {
        category: adoption_score(pairs)
        for category, pairs in sorted(per_category.items())
    }


def meets_minimum(level: str, minimum_level: str) -> bool:
    """Whether a block at `level` satisfies a requirement of `minimum_level`."""
    if level == Level.NOT_APPLICABLE:
        return True
    return LEVEL_RANK[level] >= LEVEL_RANK[minimum_level]


def agreement_status(
    requirements: Iterable[tuple[str, BlockState]],
    *,
    deadline: datetime.date,
    on: datetime.date,
) -> ComplianceStatus:
    """The status of one agreement for one municipality on a date.

    `requirements` holds (minimum level, the municipality's state of that block)
    for each requirement on an active block; `deadline` is the deadline in force
    on `on` (see `deadline_in_force`).

    - met: every required block at its minimum level;
    - overdue: not met and the deadline has passed;
    - on track: not met, deadline ahead, every missing block planned on or
      before the deadline;
    - at risk: not met, deadline ahead, a missing block unplanned or planned
      after the deadline.
    """
    missing = [
        state
        for minimum_level, state in requirements
        if not meets_minimum(state.level, minimum_level)
    ]
    if not missing:
        return ComplianceStatus.MET
    if on > deadline:
        return ComplianceStatus.OVERDUE
    if all(
        state.planned_date is not None and state.planned_date <= deadline
        for state in missing
    ):
        return ComplianceStatus.ON_TRACK
    return ComplianceStatus.AT_RISK


def deadline_in_force(
    original: datetime.date,
    revisions: Iterable[tuple[datetime.date, datetime.date]],
    on: datetime.date,
) -> datetime.date:
    """The deadline that applied on `on`.

    `revisions` holds (decided_on, new_deadline) pairs; the latest decision taken
    on or before `on` wins (for equal decision dates, the later one in the
    given order). Without one, the original deadline applies.
    """
    in_force = original
    latest: datetime.date | None = None
    for decided_on, new_deadline in revisions:
        if decided_on <= on and (latest is None or decided_on >= latest):
            latest = decided_on
            in_force = new_deadline
    return in_force


def median(values: Iterable[float | None]) -> float | None:
    """The median of the non-null values; None when there are none."""
    ordered = sorted(v for v in values if v is not None)
    n = len(ordered)
    if n == 0:
        return None
    middle = n // 2
    if n % 2:
        return float(ordered[middle])
    return (ordered[middle - 1] + ordered[middle]) / 2.0


def mean(values: Iterable[float | None]) -> float | None:
    """The mean of the non-null values; None when there are none."""
    present = [v for v in values if v is not None]
    if not present:
        return None
    # fsum: exactly rounded, so the result does not depend on the row order.
    return math.fsum(present) / len(present)


def share(part: float, whole: float) -> float | None:
    """part / whole, or None when the whole is empty."""
    if whole <= 0:
        return None
    return part / whole
