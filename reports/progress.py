"""Figures for the progress report, on any past date, rebuilt from the history.

The current scores (scoring.compute) describe today; a board report compares two
chosen dates. So this module replays the history (`queries.states_on`) and applies
the same pure rules as the dashboards (`scoring.rules`) to the state on each date.
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from agreements.models import DeadlineRevision, Requirement, ResultAgreement
from buildingblocks.levels import Level
from buildingblocks.models import BuildingBlock
from municipalities.sizeclasses import SizeClass
from reports import queries
from scoring import history
from scoring.models import ComplianceStatus
from scoring.rules import (
    NOT_STARTED,
    adoption_score,
    agreement_status,
    deadline_in_force,
    mean,
    median,
    meets_every_agreement,
    requirement_applies,
    share,
)


@dataclass
class AgreementInfo:
    agreement: ResultAgreement
    requirements: list[tuple[int, str]]  # (block id, minimum level)
    revisions: list[DeadlineRevision]


@dataclass
class Figures:
    """Everything the report shows about one date."""

    day: datetime.date
    municipalities: int = 0
    population: int = 0
    mean_score: float | None = None
    median_score: float | None = None
    all_met: int = 0
    scores: dict[int, float | None] = field(default_factory=dict)
    # block id → (share in use, share of inhabitants covered)
    blocks: dict[int, tuple[float | None, float | None]] = field(default_factory=dict)
    # agreement id → Counter(status)
    agreements: dict[int, Counter] = field(default_factory=dict)
    deadlines: dict[int, datetime.date] = field(default_factory=dict)
    # (municipality id, agreement id) → status
    statuses: dict[tuple[int, int], str] = field(default_factory=dict)
    size_classes: dict[str, tuple[int, float | None]] = field(default_factory=dict)
    provinces: dict[str, tuple[int, float | None]] = field(default_factory=dict)
    levels: dict[tuple[int, int], str] = field(default_factory=dict)


class Reference:
    """The reference data the figures need, loaded once.

    `blocks` and each agreement's `requirements` are today's (the report's
    tables list them); the figures of a date use the versions in force on it
    (`rules_on`, from every version loaded once by scoring.history).
    """

    def __init__(self) -> None:
        self.versions = history._Reference.load()
        self.blocks: list[BuildingBlock] = queries.blocks()
        active = {b.pk for b in self.blocks}
        requirements: dict[int, list[tuple[int, str, int | None]]] = defaultdict(list)
        for (
            agreement_id,
            block_id,
            minimum,
            min_population,
        ) in Requirement.objects.current().values_list(
            "agreement_id", "block_id", "minimum_level", "min_population"
        ):
            if block_id in active:
                requirements[agreement_id].append((block_id, minimum, min_population))
        revisions: dict[int, list[DeadlineRevision]] = defaultdict(list)
        for revision in DeadlineRevision.objects.order_by("decided_on", "id"):
            revisions[revision.agreement_id].append(revision)
        self.agreements = [
            AgreementInfo(a, requirements[a.pk], revisions[a.pk])
            for a in ResultAgreement.objects.order_by("number")
        ]

    def rules_on(
        self, day: datetime.date
    ) -> tuple[dict[int, float], dict[int, list[tuple[int, str, int | None]]]]:
        """Block id → weight of the blocks counted on `day`, and agreement id →
        the requirements in force on it (block id, minimum level, population)."""
        picked = self.versions.rules_on(day)
        ids = self.versions.block_ids
        weights = {
            ids[i]: weight
            for i, weight in enumerate(picked.weights)
            if weight is not None
        }
        requirements = {
            agreement[0]: [(ids[b], minimum, pop) for b, minimum, pop in required]
            for agreement, required in zip(
                self.versions.agreements, picked.requirements, strict=True
            )
        }
        return weights, requirements


def figures_on(day: datetime.date, ref: Reference) -> Figures:
    municipalities = queries.municipalities_on(day)
    states = queries.states_on(day)
    result = Figures(day=day, municipalities=len(municipalities))
    result.population = sum(m["population"] for m in municipalities)
    result.deadlines = {
        info.agreement.pk: deadline_in_force(
            info.agreement.original_deadline,
            [(r.decided_on, r.new_deadline) for r in info.revisions],
            day,
        )
        for info in ref.agreements
    }
    in_use: Counter = Counter()
    applicable: Counter = Counter()
    in_use_pop: Counter = Counter()
    applicable_pop: Counter = Counter()
    by_size: dict[str, list] = defaultdict(list)
    by_province: dict[str, list] = defaultdict(list)
    weights, requirements = ref.rules_on(day)
    for m in municipalities:
        mid = m["id"]
        own = {b.pk: states.get((mid, b.pk), NOT_STARTED) for b in ref.blocks}
        # The score with the weights in force on that day, not today's.
        score = adoption_score(
            (weight, states.get((mid, block_id), NOT_STARTED).level)
            for block_id, weight in weights.items()
        )
        result.scores[mid] = score
        by_size[m["size_class"]].append(score)
        by_province[m["province__name"]].append(score)
        for block_id, state in own.items():
            result.levels[(mid, block_id)] = state.level
            if state.level != Level.NOT_APPLICABLE:
                applicable[block_id] += 1
                applicable_pop[block_id] += m["population"]
                if state.level == Level.IN_USE:
                    in_use[block_id] += 1
                    in_use_pop[block_id] += m["population"]
        statuses: Counter = Counter()
        for info in ref.agreements:
            status = agreement_status(
                [
                    (minimum, states.get((mid, block_id), NOT_STARTED))
                    for block_id, minimum, min_population in requirements.get(
                        info.agreement.pk, []
                    )
                    if requirement_applies(min_population, m["population"])
                ],
                deadline=result.deadlines[info.agreement.pk],
                on=day,
            )
            result.statuses[(mid, info.agreement.pk)] = status
            result.agreements.setdefault(info.agreement.pk, Counter())[status] += 1
            statuses[status] += 1
        result.all_met += meets_every_agreement(
            statuses[ComplianceStatus.MET],
            statuses[ComplianceStatus.NOT_APPLICABLE],
            len(ref.agreements),
        )
    scores = list(result.scores.values())
    result.mean_score, result.median_score = mean(scores), median(scores)
    for b in ref.blocks:
        result.blocks[b.pk] = (
            share(in_use[b.pk], applicable[b.pk]),
            share(in_use_pop[b.pk], applicable_pop[b.pk]),
        )
    result.size_classes = {
        key: (len(by_size[key]), mean(by_size[key]))
        for key in SizeClass.values
        if by_size.get(key)
    }
    result.provinces = {
        name: (len(values), mean(values))
        for name, values in sorted(by_province.items())
    }
    return result


def checkpoints(start: datetime.date, end: datetime.date) -> list[datetime.date]:
    """Quarter ends between the two dates (yearly when that gives more than 12), plus both ends."""
    quarter_ends = []
    year, month = start.year, ((start.month - 1) // 3 + 1) * 3
    while True:
        last = _month_end(year, month)
        if last >= end:
            break
        if last > start:
            quarter_ends.append(last)
        month += 3
        if month > 12:
            year, month = year + 1, month - 12
    if len(quarter_ends) > 12:
        quarter_ends = [d for d in quarter_ends if d.month == 12]
    step = max(1, len(quarter_ends) // 12)
    return [start, *quarter_ends[::step], end]


def _month_end(year: int, month: int) -> datetime.date:
    first_next = datetime.date(year + (month == 12), month % 12 + 1, 1)
    return first_next - datetime.timedelta(days=1)


@dataclass
class Changes:
    """What changed between the comparison date and the reference date."""

    # block id → Counter of (from level, to level) for municipalities on both dates
    transitions: dict[int, Counter]
    up: int
    down: int
    # (municipality row, score before, score after), largest rise first
    risers: list[tuple[dict, float | None, float | None]]
    # agreement id → (became met, stopped being met)
    agreements: dict[int, tuple[int, int]]


def changes_between(
    before: Figures, after: Figures, municipalities: list[dict], ref: Reference
) -> Changes:
    from buildingblocks.levels import LEVEL_RANK

    common = [
        m
        for m in municipalities
        if m["id"] in before.scores and m["id"] in after.scores
    ]
    transitions: dict[int, Counter] = {b.pk: Counter() for b in ref.blocks}
    up = down = 0
    for m in common:
        for b in ref.blocks:
            old = before.levels.get((m["id"], b.pk), Level.NOT_STARTED)
            new = after.levels.get((m["id"], b.pk), Level.NOT_STARTED)
            if old != new:
                transitions[b.pk][(old, new)] += 1
                if LEVEL_RANK.get(new, -1) > LEVEL_RANK.get(old, -1):
                    up += 1
                else:
                    down += 1
    risers = sorted(
        (
            (m, before.scores[m["id"]], after.scores[m["id"]])
            for m in common
            if before.scores[m["id"]] is not None and after.scores[m["id"]] is not None
        ),
        key=lambda t: (-(t[2] - t[1]), t[0]["name"]),
    )
    agreements = {}
    for info in ref.agreements:
        pk = info.agreement.pk
        gained = lost = 0
        for m in common:
            was = before.statuses.get((m["id"], pk)) == ComplianceStatus.MET
            now = after.statuses.get((m["id"], pk)) == ComplianceStatus.MET
            gained += now and not was
            lost += was and not now
        agreements[pk] = (gained, lost)
    return Changes(
        transitions, up, down, [r for r in risers if r[2] > r[1]][:25], agreements
    )
