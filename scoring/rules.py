"""The scoring rules of DESIGN §4 as pure functions.

Values in, values out: no queries, no settings, no clock. The SQL in
scoring.compute and the history replay in scoring.history must give the same
answers as these functions; tests/scoring check that they do.

Decisions the design leaves open, made here once:
- A block without a status counts as `not_started`.
- A required block marked `not_applicable` drops out of the agreement's
  requirements, as it drops out of the score: it neither satisfies nor misses
  it. A "met" that rests on such a block is flagged as met *on an exemption*.
- A requirement may apply only to municipalities of a minimum population
  (`requirement_applies`); elsewhere it drops out too.
- Requirements of inactive (retired) blocks are ignored. An agreement with no
  applicable requirement left is `not_applicable` for that municipality (it is
  neither met nor missed, and leaves the compliance shares' denominators).
- The deadline day itself is still "ahead": an agreement is overdue from the day
  after its deadline. Likewise a planned date is "expired" from the day after it:
  a missing block whose plan has expired puts the agreement at risk.
- An at-risk agreement names one reason, the first that holds of: a missing
  block unplanned, planned after the deadline, planned in the past.
- Shares leave `not_applicable` out of the denominator, as the score does.
- Reference data is versioned: a block's weight and active flag and each
  requirement apply over [valid_from, valid_until) (`in_force`), and a date is
  scored with the versions in force on it (`version_in_force`).
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

from buildingblocks.levels import LEVEL_RANK, LEVEL_VALUES, Level
from scoring.models import ComplianceReason as Reason
from scoring.models import ComplianceStatus

Weight = Decimal | float | int
V = TypeVar("V")


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
    """Whether a block at `level` leaves a requirement of `minimum_level` unmissed.

    True for `not_applicable`: the requirement drops out (see `agreement_outcome`),
    so the block is never among the missing ones.
    """
    if level == Level.NOT_APPLICABLE:
        return True
    return LEVEL_RANK[level] >= LEVEL_RANK[minimum_level]


def requirement_applies(min_population: int | None, population: int) -> bool:
    """Whether a requirement applies to a municipality of `population` inhabitants.

    `min_population` None: it applies to every municipality.
    """
    return min_population is None or population >= min_population


@dataclass(frozen=True, slots=True)
class AgreementOutcome:
    """The status of one agreement for one municipality, and why.

    `reason` is set for at risk and overdue; `lapsed_on` is the date whose
    passing made it so: the deadline (overdue) or the earliest expired planned
    date (plan expired), else None — overdue from the day after it;
    `exempted` says a "met" rests on a required block marked not applicable.
    """

    status: ComplianceStatus
    reason: Reason | None = None
    lapsed_on: datetime.date | None = None
    exempted: bool = False


def agreement_outcome(
    requirements: Iterable[tuple[str, BlockState]],
    *,
    deadline: datetime.date,
    on: datetime.date,
) -> AgreementOutcome:
    """The status of one agreement for one municipality on a date, with its reason.

    `requirements` holds (minimum level, the municipality's state of that block)
    for each requirement on an active block that applies to the municipality
    (`requirement_applies`); `deadline` is the deadline in force on `on` (see
    `deadline_in_force`). Blocks marked `not_applicable` drop out.

    - not applicable: no requirement left;
    - met: every remaining required block at its minimum level;
    - overdue: not met and the deadline has passed;
    - on track: not met, deadline ahead, every missing block planned between
      `on` and the deadline (both included);
    - at risk: not met, deadline ahead, a missing block unplanned, planned after
      the deadline or planned before `on` (the plan expired).
    """
    remaining = []
    exempted = False
    for minimum_level, state in requirements:
        if state.level == Level.NOT_APPLICABLE:
            exempted = True
        else:
            remaining.append((minimum_level, state))
    if not remaining:
        return AgreementOutcome(ComplianceStatus.NOT_APPLICABLE)
    missing = [
        state
        for minimum_level, state in remaining
        if LEVEL_RANK[state.level] < LEVEL_RANK[minimum_level]
    ]
    if not missing:
        return AgreementOutcome(ComplianceStatus.MET, exempted=exempted)
    if on > deadline:
        return AgreementOutcome(
            ComplianceStatus.OVERDUE,
            Reason.DEADLINE_PASSED,
            lapsed_on=deadline,
        )
    planned = [state.planned_date for state in missing]
    if None in planned:
        return AgreementOutcome(ComplianceStatus.AT_RISK, Reason.UNPLANNED)
    if any(date > deadline for date in planned):
        return AgreementOutcome(ComplianceStatus.AT_RISK, Reason.PLANNED_LATE)
    expired = [date for date in planned if date < on]
    if expired:
        return AgreementOutcome(
            ComplianceStatus.AT_RISK,
            Reason.PLAN_EXPIRED,
            lapsed_on=min(expired),
        )
    return AgreementOutcome(ComplianceStatus.ON_TRACK)


def agreement_status(
    requirements: Iterable[tuple[str, BlockState]],
    *,
    deadline: datetime.date,
    on: datetime.date,
) -> ComplianceStatus:
    """Just the status of `agreement_outcome`."""
    return agreement_outcome(requirements, deadline=deadline, on=on).status


def meets_every_agreement(met: int, not_applicable: int, agreements: int) -> bool:
    """Whether a municipality meets every agreement that applies to it.

    Agreements that do not apply are left out; a municipality to which none
    applies does not count as meeting them all.
    """
    return met > 0 and met + not_applicable >= agreements


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


def in_force(
    valid_from: datetime.date, valid_until: datetime.date | None, on: datetime.date
) -> bool:
    """Whether a version valid over [valid_from, valid_until) applies on `on`.

    Half-open: the first day counts, `valid_until` is the first day it no longer
    applies; None means still in force.
    """
    return valid_from <= on and (valid_until is None or on < valid_until)


def version_in_force(
    versions: Iterable[tuple[datetime.date, datetime.date | None, V]],
    on: datetime.date,
) -> V | None:
    """The value of the (valid_from, valid_until, value) version in force on `on`.

    Versions of one thing never overlap (database constraints), so at most one
    applies; None before the first and after the last has ended.
    """
    for valid_from, valid_until, value in versions:
        if in_force(valid_from, valid_until, on):
            return value
    return None
