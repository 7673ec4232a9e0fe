"""Time travel: statuses and figures on past dates, rebuilt from StatusChange.

The history is the source of truth (DESIGN §3): the state of a block for a
municipality on a date is the last change with `changed_at` before the end of
that day (local time); without one the block was `not_started`.

`snapshot_scores(since)` replays the whole history once, in order, and keeps
running totals per (size class, province) group; at each month end it only
re-evaluates the municipalities that changed that month (plus every
municipality for an agreement whose deadline was revised or passed), so 15
years of monthly figures cost one read of the history and one bulk write.
`figures_on(date)` computes the same figures for one date directly, the slow
and obvious way; tests check that the two agree.

Reference data is versioned (issue 14): block weights and active flags
(BlockVersion) and requirements carry validity periods. Every version is loaded
once (`_Reference.load`) and each date is evaluated under the versions in
force on it (`_Reference.rules_on`, `rules_in_force`), so a change from a date
on leaves every earlier snapshot as it was.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import F, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from agreements.models import DeadlineRevision, Requirement, ResultAgreement
from buildingblocks.levels import Level
from buildingblocks.models import BlockVersion, StatusChange
from municipalities.models import Municipality
from scoring import rules
from scoring.figure_writes import FIGURE_COLUMNS, figure_record, insert_rows
from scoring.figures import (
    FigureRow,
    GroupKey,
    GroupTotals,
    add_block_counts,
    figure_rows,
)
from scoring.method_version import METHOD_VERSION
from scoring.models import ComplianceStatus, Snapshot
from scoring.version import data_changed

# --- dates -----------------------------------------------------------------------


def end_of_day(on: datetime.date) -> datetime.datetime:
    """The first instant after `on` in local time: changes before it count for `on`."""
    return timezone.make_aware(
        datetime.datetime.combine(on + datetime.timedelta(days=1), datetime.time.min)
    )


def month_start(on: datetime.date) -> datetime.date:
    return on.replace(day=1)


def month_end(on: datetime.date) -> datetime.date:
    next_month = (on.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return next_month - datetime.timedelta(days=1)


def completed_months(since: datetime.date, today: datetime.date) -> list[datetime.date]:
    """First days of the months from `since`'s month whose last day is before `today`."""
    months = []
    current = month_start(since)
    while month_end(current) < today:
        months.append(current)
        current = month_end(current) + datetime.timedelta(days=1)
    return months


def exists_on(
    on: datetime.date,
    *,
    active: bool,
    valid_from: datetime.date | None,
    valid_until: datetime.date | None,
) -> bool:
    """Whether a municipality counted on `on`.

    Within its validity period; an inactive municipality without an end date has
    no known period and never counts.
    """
    if valid_from is not None and on < valid_from:
        return False
    if valid_until is not None:
        return on <= valid_until
    return active


# --- reference data ------------------------------------------------------------

# What the figures count of an agreement outcome: its status and whether a "met"
# rests on an exemption.
Outcome = tuple[str, bool]


def _count_outcomes(
    totals: GroupTotals | _Group,
    agreement_ids: list[int],
    outcomes: dict[int, Outcome],
    sign: int,
) -> None:
    for i, (status, exempted) in outcomes.items():
        key = (agreement_ids[i], status)
        totals.statuses[key] = totals.statuses.get(key, 0) + sign
        if exempted:
            agreement_id = agreement_ids[i]
            totals.exempted[agreement_id] = totals.exempted.get(agreement_id, 0) + sign


def _count_blocks(
    blocks: dict[int, list[int]],
    block_ids: list[int],
    levels: list[rules.BlockState],
    population: int,
    sign: int,
) -> None:
    """Count one municipality's blocks in use or not applicable (sign −1: uncount)."""
    for block_id, state in zip(block_ids, levels, strict=True):
        if state.level == Level.IN_USE:
            add_block_counts(
                blocks, block_id, in_use=sign, in_use_population=sign * population
            )
        elif state.level == Level.NOT_APPLICABLE:
            add_block_counts(
                blocks,
                block_id,
                not_applicable=sign,
                not_applicable_population=sign * population,
            )


def _meets_every_agreement(outcomes: dict[int, Outcome]) -> bool:
    statuses = [status for status, _ in outcomes.values()]
    return rules.meets_every_agreement(
        statuses.count(ComplianceStatus.MET),
        statuses.count(ComplianceStatus.NOT_APPLICABLE),
        len(statuses),
    )


@dataclass
class _Municipality:
    id: int
    group: GroupKey
    population: int
    active: bool
    valid_from: datetime.date | None
    valid_until: datetime.date | None

    def exists_on(self, on: datetime.date) -> bool:
        return exists_on(
            on,
            active=self.active,
            valid_from=self.valid_from,
            valid_until=self.valid_until,
        )


# A requirement version: (block index, minimum level, minimum population,
# valid from, valid until).
_RequirementVersion = tuple[int, str, int | None, datetime.date, datetime.date | None]


@dataclass(frozen=True)
class _Rules:
    """The reference data in force on one date (issue 14: never the current one
    for a past date)."""

    # Per block index: its weight that day; None when it did not count.
    weights: list[float | None]
    # Per agreement index: (block index, minimum level, minimum population) of
    # the requirements in force on a block that counted.
    requirements: list[list[tuple[int, str, int | None]]]
    # The blocks that counted, in order: the per-block figures of that date.
    block_ids: list[int]


@dataclass(frozen=True)
class RulesInForce:
    """The block weights and agreement requirements that applied on one date."""

    # block id → weight, for the blocks active that day
    weights: dict[int, float]
    # agreement id → [(block id, minimum level, minimum population)]
    requirements: dict[int, list[tuple[int, str, int | None]]]


# Within one request the reference data is read, and a day's standings are
# replayed, once: a page on a past date needs that day's figures, its
# standings for the scores and ranks, and its scores again for the spreads.
_request_reference: contextvars.ContextVar[dict | None] = contextvars.ContextVar(
    "nup_request_reference", default=None
)


@contextlib.contextmanager
def one_reference_load() -> Iterator[None]:
    """Inside the block every replay shares one read of the reference data, and
    `standings_on` replays each (day, municipalities) once.

    For one request (nupportal.middleware.ReferenceDateMiddleware), never
    longer: an edit of the reference data must be seen by the next request.
    """
    token = _request_reference.set({})
    try:
        yield
    finally:
        _request_reference.reset(token)


@dataclass
class _Reference:
    """Everything besides the statuses that the figures of a date depend on.

    Loaded once (a constant number of queries) with every version of the
    versioned reference data; `rules_on(date)` picks the versions in force on
    a date in Python.
    """

    municipalities: list[_Municipality]
    # Every block that has a version, in display order: the indexes of the
    # level lists, whether or not a block counted on a given date.
    block_ids: list[int]
    # Per block index: its versions (valid from, valid until, (weight, active)).
    block_versions: list[
        list[tuple[datetime.date, datetime.date | None, tuple[float, bool]]]
    ] = field(default_factory=list)
    # per agreement: (id, original deadline, [requirement versions], revisions)
    agreements: list[
        tuple[
            int,
            datetime.date,
            list[_RequirementVersion],
            list[tuple[datetime.date, datetime.date]],
        ]
    ] = field(default_factory=list)
    _rules: dict[datetime.date, _Rules] = field(default_factory=dict, repr=False)
    _distinct: dict[tuple, _Rules] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls) -> _Reference:
        """The reference data; read once per `one_reference_load()` block."""
        memo = _request_reference.get()
        if memo is not None and "reference" in memo:
            return memo["reference"]
        reference = cls._read()
        if memo is not None:
            memo["reference"] = reference
        return reference

    @classmethod
    def _read(cls) -> _Reference:
        municipalities = [
            _Municipality(
                id=row[0],
                # Former municipalities have no known population (0), hence no size
                # class: counting them as "small" would sink that class's trend.
                group=(row[1] if row[3] else "", row[2]),
                population=row[3],
                active=row[4],
                valid_from=row[5],
                valid_until=row[6],
            )
            for row in Municipality.objects.values_list(
                "id",
                "size_class",
                "province__slug",
                "population",
                "active",
                "valid_from",
                "valid_until",
            )
        ]
        block_index: dict[int, int] = {}
        block_versions: list[
            list[tuple[datetime.date, datetime.date | None, tuple[float, bool]]]
        ] = []
        for block_id, valid_from, valid_until, weight, active in (
            BlockVersion.objects.order_by("block__order", "block__code", "valid_from")
            .values_list("block_id", "valid_from", "valid_until", "weight", "active")
            .iterator()
        ):
            if block_id not in block_index:
                block_index[block_id] = len(block_versions)
                block_versions.append([])
            block_versions[block_index[block_id]].append(
                (valid_from, valid_until, (float(weight), active))
            )
        requirements: dict[int, list[_RequirementVersion]] = {}
        for row in Requirement.objects.order_by("valid_from", "id").values_list(
            "agreement_id",
            "block_id",
            "minimum_level",
            "min_population",
            "valid_from",
            "valid_until",
        ):
            agreement_id, block_id, minimum, min_population, start, until = row
            if block_id in block_index:
                requirements.setdefault(agreement_id, []).append(
                    (block_index[block_id], minimum, min_population, start, until)
                )
        revisions: dict[int, list[tuple[datetime.date, datetime.date]]] = {}
        for agreement_id, decided_on, new_deadline in DeadlineRevision.objects.order_by(
            "decided_on", "id"
        ).values_list("agreement_id", "decided_on", "new_deadline"):
            revisions.setdefault(agreement_id, []).append((decided_on, new_deadline))
        agreements = [
            (
                agreement_id,
                original,
                requirements.get(agreement_id, []),
                revisions.get(agreement_id, []),
            )
            for agreement_id, original in ResultAgreement.objects.values_list(
                "id", "original_deadline"
            )
        ]
        return cls(
            municipalities=municipalities,
            block_ids=list(block_index),
            block_versions=block_versions,
            agreements=agreements,
        )

    def rules_on(self, on: datetime.date) -> _Rules:
        """The weights and requirements in force on `on` (cached per date).

        Dates under the same versions share one `_Rules` object, so the replay
        can tell by identity whether the rules changed between two months.
        """
        cached = self._rules.get(on)
        if cached is not None:
            return cached
        weights: list[float | None] = []
        for versions in self.block_versions:
            version = rules.version_in_force(versions, on)
            weights.append(version[0] if version is not None and version[1] else None)
        requirements = [
            [
                (b, minimum, min_population)
                for b, minimum, min_population, start, until in agreement[2]
                if weights[b] is not None and rules.in_force(start, until, on)
            ]
            for agreement in self.agreements
        ]
        key = (tuple(weights), tuple(tuple(r) for r in requirements))
        picked = self._distinct.get(key)
        if picked is None:
            picked = _Rules(
                weights=weights,
                requirements=requirements,
                block_ids=[
                    block_id
                    for block_id, weight in zip(self.block_ids, weights, strict=True)
                    if weight is not None
                ],
            )
            self._distinct[key] = picked
        self._rules[on] = picked
        return picked

    def deadlines_on(self, on: datetime.date) -> list[datetime.date]:
        return [
            rules.deadline_in_force(original, revisions, on)
            for _, original, _, revisions in self.agreements
        ]

    def evaluate(
        self,
        municipality: _Municipality,
        levels: list[rules.BlockState],
        deadlines: list[datetime.date],
        on: datetime.date,
        agreement_indexes: Iterable[int] | None = None,
    ) -> tuple[float | None, dict[int, Outcome]]:
        """Score and agreement outcomes (by agreement index) of one municipality,
        under the rules in force on `on`."""
        in_force = self.rules_on(on)
        score = rules.adoption_score(
            (weight, state.level)
            for weight, state in zip(in_force.weights, levels, strict=True)
            if weight is not None
        )
        indexes = (
            range(len(self.agreements))
            if agreement_indexes is None
            else agreement_indexes
        )
        outcomes = {}
        for i in indexes:
            outcome = rules.agreement_outcome(
                [
                    (minimum, levels[b])
                    for b, minimum, min_population in in_force.requirements[i]
                    if rules.requirement_applies(
                        min_population, municipality.population
                    )
                ],
                deadline=deadlines[i],
                on=on,
            )
            outcomes[i] = (outcome.status.value, outcome.exempted)
        return score, outcomes


# --- the state on a date ---------------------------------------------------------


def states_on(
    on: datetime.date, municipality_ids: Iterable[int] | None = None
) -> dict[tuple[int, int], rules.BlockState]:
    """(municipality id, block id) → state at the end of `on`, for blocks with history.

    Blocks missing from the result were `not_started` on that date. Read once
    per (day, municipalities) within `one_reference_load()`: a page on another
    day replays its figures (`figures_on`) and its standings from the same states.
    """
    ids = None if municipality_ids is None else frozenset(municipality_ids)
    memo = _request_reference.get()
    key = ("states", on, ids)
    if memo is not None and key in memo:
        return memo[key]
    changes = StatusChange.objects.filter(changed_at__lt=end_of_day(on))
    if ids is not None:
        changes = changes.filter(municipality_id__in=list(ids))
    latest = (
        changes.annotate(
            newest=Window(
                RowNumber(),
                partition_by=[F("municipality_id"), F("block_id")],
                order_by=[F("changed_at").desc(), F("id").desc()],
            )
        )
        .filter(newest=1)
        .values_list("municipality_id", "block_id", "to_level", "to_planned_date")
    )
    states = {
        (m, b): rules.BlockState(level, planned) for m, b, level, planned in latest
    }
    if memo is not None:
        memo[key] = states
    return states


def figures_on(on: datetime.date) -> list[FigureRow]:
    """Every aggregate figure as it stood at the end of `on`, computed directly."""
    reference = _Reference.load()
    states = states_on(on)
    deadlines = reference.deadlines_on(on)
    groups: dict[GroupKey, GroupTotals] = {}
    for m in reference.municipalities:
        if not m.exists_on(on):
            continue
        levels = [
            states.get((m.id, block_id), rules.NOT_STARTED)
            for block_id in reference.block_ids
        ]
        score, outcomes = reference.evaluate(m, levels, deadlines, on)
        totals = groups.setdefault(m.group, GroupTotals())
        totals.municipalities += 1
        totals.population += m.population
        totals.scores.append(score)
        totals.all_met += _meets_every_agreement(outcomes)
        _count_outcomes(totals, [a[0] for a in reference.agreements], outcomes, +1)
        _count_blocks(totals.blocks, reference.block_ids, levels, m.population, +1)
    return figure_rows(
        groups,
        block_ids=reference.rules_on(on).block_ids,
        agreement_ids=[a[0] for a in reference.agreements],
    )


def rules_in_force(on: datetime.date) -> RulesInForce:
    """The block weights and agreement requirements that applied on `on`.

    Picked from every version of the reference data, as the replay and
    `figures_on` pick them: a version applies from its `valid_from` (inclusive)
    up to its `valid_until` (exclusive). Blocks inactive on `on` are absent,
    and so are requirements on them.
    """
    reference = _Reference.load()
    picked = reference.rules_on(on)
    ids = reference.block_ids
    return RulesInForce(
        weights={
            ids[i]: weight
            for i, weight in enumerate(picked.weights)
            if weight is not None
        },
        requirements={
            agreement[0]: [(ids[b], minimum, pop) for b, minimum, pop in required]
            for agreement, required in zip(
                reference.agreements, picked.requirements, strict=True
            )
        },
    )


# --- the replay --------------------------------------------------------------------


@dataclass
class _Group:
    municipalities: int = 0
    population: int = 0
    scores: dict[int, float | None] = field(default_factory=dict)
    all_met: int = 0
    blocks: dict[int, list[int]] = field(default_factory=dict)
    statuses: dict[tuple[int, str], int] = field(default_factory=dict)
    exempted: dict[int, int] = field(default_factory=dict)

    def totals(self) -> GroupTotals:
        return GroupTotals(
            municipalities=self.municipalities,
            population=self.population,
            scores=list(self.scores.values()),
            all_met=self.all_met,
            blocks=self.blocks,
            statuses=self.statuses,
            exempted=self.exempted,
        )


class _Replay:
    """Running totals per group while the history is applied month by month."""

    def __init__(self, reference: _Reference) -> None:
        self.ref = reference
        self.by_id = {m.id: m for m in reference.municipalities}
        self.block_index = {b: i for i, b in enumerate(reference.block_ids)}
        self.agreement_ids = [a[0] for a in reference.agreements]
        self.levels: dict[int, list[rules.BlockState]] = {
            m.id: [rules.NOT_STARTED] * len(reference.block_ids)
            for m in reference.municipalities
        }
        self.present: set[int] = set()
        self.statuses: dict[int, dict[int, Outcome]] = {}
        self.groups: dict[GroupKey, _Group] = {}
        # planned date → municipalities with a block planned on it: their
        # agreements may go from on track to at risk the day after, without
        # any change in the history.
        self.expiring: dict[datetime.date, set[int]] = {}

    # contributions -----------------------------------------------------------

    def _block_counts(self, m: _Municipality, sign: int) -> None:
        _count_blocks(
            self.groups[m.group].blocks,
            self.ref.block_ids,
            self.levels[m.id],
            m.population,
            sign,
        )

    def _status_counts(
        self, m: _Municipality, outcomes: dict[int, Outcome], sign: int
    ) -> None:
        _count_outcomes(self.groups[m.group], self.agreement_ids, outcomes, sign)

    def _all_met(self, m_id: int) -> bool:
        return _meets_every_agreement(self.statuses[m_id])

    def _note_plans(self, m_id: int) -> None:
        """Remember when this municipality's planned dates expire (see `run`)."""
        for state in self.levels[m_id]:
            if state.planned_date is not None:
                self.expiring.setdefault(state.planned_date, set()).add(m_id)

    def remove(self, m: _Municipality) -> None:
        group = self.groups[m.group]
        group.municipalities -= 1
        group.population -= m.population
        group.all_met -= self._all_met(m.id)
        del group.scores[m.id]
        self._block_counts(m, -1)
        self._status_counts(m, self.statuses.pop(m.id), -1)
        self.present.discard(m.id)

    def add(
        self, m: _Municipality, deadlines: list[datetime.date], on: datetime.date
    ) -> None:
        group = self.groups.setdefault(m.group, _Group())
        score, statuses = self.ref.evaluate(m, self.levels[m.id], deadlines, on)
        self.statuses[m.id] = statuses
        group.municipalities += 1
        group.population += m.population
        group.scores[m.id] = score
        group.all_met += self._all_met(m.id)
        self._block_counts(m, +1)
        self._status_counts(m, statuses, +1)
        self.present.add(m.id)

    def reevaluate(
        self,
        m: _Municipality,
        deadlines: list[datetime.date],
        on: datetime.date,
        agreement_indexes: list[int],
    ) -> None:
        """Re-derive some agreement statuses of a municipality whose levels did not change."""
        group = self.groups[m.group]
        _, fresh = self.ref.evaluate(
            m, self.levels[m.id], deadlines, on, agreement_indexes
        )
        old = {i: self.statuses[m.id][i] for i in agreement_indexes}
        if fresh == old:
            return
        group.all_met -= self._all_met(m.id)
        self._status_counts(m, old, -1)
        self.statuses[m.id].update(fresh)
        self._status_counts(m, fresh, +1)
        group.all_met += self._all_met(m.id)

    # the months --------------------------------------------------------------

    def run(
        self, changes: Iterable[tuple], months: list[datetime.date]
    ) -> Iterable[tuple[datetime.date, list[FigureRow]]]:
        """Yield (month, figures) for each month, applying `changes` in order.

        `changes` are (changed_at, municipality id, block id, level, planned date)
        ordered by changed_at, id.
        """
        pending = iter(changes)
        upcoming = next(pending, None)
        previous_deadlines: list[tuple[datetime.date, bool]] | None = None
        previous_rules: _Rules | None = None
        for month in months:
            on = month_end(month)
            cutoff = end_of_day(on)
            batch: dict[int, list[tuple[int, rules.BlockState]]] = {}
            while upcoming is not None and upcoming[0] < cutoff:
                _, m_id, block_id, level, planned = upcoming
                index = self.block_index.get(block_id)
                if index is not None and m_id in self.levels:
                    batch.setdefault(m_id, []).append(
                        (index, rules.BlockState(level, planned))
                    )
                upcoming = next(pending, None)

            deadlines = self.ref.deadlines_on(on)
            marks = [(d, on > d) for d in deadlines]
            moved = [
                i
                for i, mark in enumerate(marks)
                if previous_deadlines is None or previous_deadlines[i] != mark
            ]
            previous_deadlines = marks

            # Plans that expired since the previous month end (stale entries,
            # of plans changed since, only cost a re-evaluation).
            expired: set[int] = set()
            for planned in [d for d in self.expiring if d < on]:
                expired |= self.expiring.pop(planned)
            every_agreement = list(range(len(self.agreement_ids)))
            # A new version of a weight or requirement from this month on: every
            # municipality is evaluated again under it (earlier months keep theirs).
            in_force = self.ref.rules_on(on)
            rules_changed = (
                previous_rules is not None and in_force is not previous_rules
            )
            previous_rules = in_force

            for m in self.ref.municipalities:
                was = m.id in self.present
                now = m.exists_on(on)
                changed = m.id in batch
                redo = changed or rules_changed
                if was and (redo or not now):
                    self.remove(m)
                if changed:
                    levels = self.levels[m.id]
                    for index, state in batch[m.id]:
                        levels[index] = state
                    self._note_plans(m.id)
                if now and (redo or not was):
                    self.add(m, deadlines, on)
                elif now and m.id in expired:
                    self.reevaluate(m, deadlines, on, every_agreement)
                elif now and moved:
                    self.reevaluate(m, deadlines, on, moved)

            groups = {
                key: group.totals()
                for key, group in self.groups.items()
                if group.municipalities
            }
            yield (
                month,
                figure_rows(
                    groups,
                    block_ids=in_force.block_ids,
                    agreement_ids=self.agreement_ids,
                ),
            )


def snapshot_scores(since: datetime.date, *, today: datetime.date | None = None) -> int:
    """Rebuild the snapshots of every completed month from `since`; return rows written.

    One row per month × scope (country, size classes, provinces), each carrying
    the METHOD_VERSION it was made with; months before `since` keep theirs.
    """
    today = today or timezone.localdate()
    months = completed_months(since, today)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    records = []
    if months:
        changes = (
            StatusChange.objects.filter(
                changed_at__lt=end_of_day(month_end(months[-1]))
            )
            .order_by("changed_at", "id")
            .values_list(
                "changed_at",
                "municipality_id",
                "block_id",
                "to_level",
                "to_planned_date",
            )
        )
        replay = _Replay(_Reference.load())
        for month, rows in replay.run(changes.iterator(chunk_size=20_000), months):
            stamp = connection.ops.adapt_datefield_value(month)
            records.extend(
                (*figure_record(row), stamp, now, METHOD_VERSION) for row in rows
            )
    with transaction.atomic():
        data_changed()
        Snapshot.objects.filter(month__gte=month_start(since)).delete()
        return insert_rows(
            Snapshot,
            [*FIGURE_COLUMNS, "month", "computed_at", "method_version"],
            records,
        )


# block id → the (valid from, valid until, weight) of its active versions, oldest first.
ActiveWeights = dict[int, list[tuple[datetime.date, datetime.date | None, float]]]


def score_series(
    months: list[datetime.date],
    changes: Iterable[tuple[datetime.date, int, str]],
    versions: ActiveWeights,
) -> list[tuple[datetime.date, float | None]]:
    """One municipality's adoption score at the end of each given month, under
    the block weights in force at each month end.

    `changes` are its (local day, block id, level) changes, oldest first, and
    `versions` the active block versions; the scorecard has read both already
    (municipalities.queries.municipality_trend).
    """
    levels = dict.fromkeys(versions, Level.NOT_STARTED.value)
    pending = iter(changes)
    upcoming = next(pending, None)
    series = []
    for month in sorted(months):
        on = month_end(month)
        # A change counts for the day it was made on (`end_of_day`).
        while upcoming is not None and upcoming[0] <= on:
            if upcoming[1] in levels:
                levels[upcoming[1]] = upcoming[2]
            upcoming = next(pending, None)
        weighted = (
            (rules.version_in_force(versions[block_id], on), level)
            for block_id, level in levels.items()
        )
        score = rules.adoption_score(
            (weight, level) for weight, level in weighted if weight is not None
        )
        series.append((month, score))
    return series


# --- one municipality's standing on a date -------------------------------------------


@dataclass(frozen=True)
class Standing:
    """Where one municipality stood at the end of a day."""

    score: float | None
    # agreement id → compliance status
    statuses: dict[int, str]
    # block id → state (level and planned date); absent blocks had not started
    states: dict[int, rules.BlockState]
    # agreements met on an exemption (a required block not applicable)
    exempted: frozenset[int] = frozenset()

    def count(self, status: str) -> int:
        return sum(1 for value in self.statuses.values() if value == status)


@dataclass(frozen=True)
class Reconstruction:
    # municipality id → standing, only for municipalities that counted on the date
    standings: dict[int, Standing]
    # agreement id → deadline in force on the date
    deadlines: dict[int, datetime.date]


def standings_on(
    on: datetime.date, municipality_ids: Iterable[int] | None = None
) -> Reconstruction:
    """Score, agreement statuses and block states per municipality at the end of `on`.

    The public face of the replay for pages, reports and the API: the states of
    `states_on` evaluated with the same reference data and rules as `figures_on`
    and `snapshot_scores`. Only municipalities that counted on `on` are in the
    result. A fixed number of queries, whatever the number of municipalities.
    """
    ids = None if municipality_ids is None else set(municipality_ids)
    memo = _request_reference.get()
    key = ("standings", on, None if ids is None else frozenset(ids))
    if memo is not None and key in memo:
        return memo[key]
    reference = _Reference.load()
    states = states_on(on, ids)
    deadlines = reference.deadlines_on(on)
    agreement_ids = [agreement[0] for agreement in reference.agreements]
    standings: dict[int, Standing] = {}
    for m in reference.municipalities:
        if (ids is not None and m.id not in ids) or not m.exists_on(on):
            continue
        levels = [
            states.get((m.id, block_id), rules.NOT_STARTED)
            for block_id in reference.block_ids
        ]
        score, outcomes = reference.evaluate(m, levels, deadlines, on)
        standings[m.id] = Standing(
            score=score,
            statuses={agreement_ids[i]: status for i, (status, _) in outcomes.items()},
            states={
                block_id: state
                for block_id, state in zip(reference.block_ids, levels, strict=True)
                if state is not rules.NOT_STARTED
            },
            exempted=frozenset(
                agreement_ids[i] for i, (_, exempted) in outcomes.items() if exempted
            ),
        )
    result = Reconstruction(
        standings=standings, deadlines=dict(zip(agreement_ids, deadlines, strict=True))
    )
    if memo is not None:
        memo[key] = result
    return result
