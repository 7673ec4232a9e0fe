"""Figures for the progress report, on any past date, rebuilt from the history.

The current scores (scoring.compute) describe today; a board report compares two
chosen dates. The state on each date comes from the one replay of the history
(scoring.timetravel, on scoring.history), the same the time-travel pages and the
API use; this module only sums it up the way the report shows it.
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from agreements.models import DeadlineRevision, ResultAgreement
from buildingblocks.levels import Level
from buildingblocks.models import BuildingBlock
from municipalities.sizeclasses import SizeClass
from reports import queries
from scoring import timetravel
from scoring.models import ComplianceStatus
from scoring.rules import mean, median, meets_every_agreement, share


@dataclass
class AgreementInfo:
    agreement: ResultAgreement
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
    """The blocks and agreements the report lists, loaded once."""

    def __init__(self) -> None:
        self.blocks: list[BuildingBlock] = queries.blocks()
        revisions: dict[int, list[DeadlineRevision]] = defaultdict(list)
        for revision in DeadlineRevision.objects.order_by("decided_on", "id"):
            revisions[revision.agreement_id].append(revision)
        self.agreements = [
            AgreementInfo(a, revisions[a.pk])
            for a in ResultAgreement.objects.order_by("number")
        ]


def figures_on(day: datetime.date, ref: Reference) -> Figures:
    municipalities = queries.municipalities_on(day)
    reconstruction = timetravel.standings_on(day)
    standings = reconstruction.standings
    result = Figures(day=day, municipalities=len(municipalities))
    result.population = sum(m["population"] for m in municipalities)
    result.deadlines = {
        info.agreement.pk: reconstruction.deadlines[info.agreement.pk]
        for info in ref.agreements
    }
    in_use: Counter = Counter()
    applicable: Counter = Counter()
    in_use_pop: Counter = Counter()
    applicable_pop: Counter = Counter()
    by_size: dict[str, list] = defaultdict(list)
    by_province: dict[str, list] = defaultdict(list)
    for m in municipalities:
        mid = m["id"]
        standing = standings[mid]
        score = standing.score
        result.scores[mid] = score
        by_size[m["size_class"]].append(score)
        by_province[m["province__name"]].append(score)
        for b in ref.blocks:
            state = standing.states.get(b.pk)
            level = state.level if state else Level.NOT_STARTED
            result.levels[(mid, b.pk)] = level
            if level != Level.NOT_APPLICABLE:
                applicable[b.pk] += 1
                applicable_pop[b.pk] += m["population"]
                if level == Level.IN_USE:
                    in_use[b.pk] += 1
                    in_use_pop[b.pk] += m["population"]
        for info in ref.agreements:
            status = standing.statuses[info.agreement.pk]
            result.statuses[(mid, info.agreement.pk)] = status
            result.agreements.setdefault(info.agreement.pk, Counter())[status] += 1
        result.all_met += meets_every_agreement(
            standing.count(ComplianceStatus.MET),
            standing.count(ComplianceStatus.NOT_APPLICABLE),
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
