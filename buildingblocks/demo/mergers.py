"""The demo history with mergers carried as they happened (see the package docstring)."""

from __future__ import annotations

import datetime
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from buildingblocks.demo.timeline import (
    AMSTERDAM,
    EVIDENCE_PATHS,
    EVIDENCE_SHARE,
    HISTORY_START,
    SYNTHETIC,
    BlockInput,
    Change,
    CurrentStatus,
    History,
    Milestone,
    MunicipalityInput,
    capacity_of,
    cut_timeline,
    draw_timeline,
    month_start_after,
    pair_rng,
    status_note,
    working_moment,
)
from buildingblocks.levels import LEVEL_RANK, Level
from buildingblocks.validation import StatusValues


@dataclass(frozen=True)
class PlaceInput:
    """A municipality with its period of existence (current and former ones)."""

    municipality: MunicipalityInput
    valid_from: datetime.date | None
    valid_until: datetime.date | None


@dataclass(frozen=True)
class MergerInput:
    id: int
    date: datetime.date
    successor_id: int
    merged_ids: tuple[int, ...]


class Carry(Protocol):
    """The project's carry-over rule (buildingblocks.mergers.carry_over).

    Given by the command so that this module stays free of the database: (name,
    status or None) of each merging municipality and the merger date in, the
    successor's status out.
    """

    def __call__(
        self, states: Sequence[tuple[str, StatusValues | None]], *, date: datetime.date
    ) -> StatusValues: ...


# After a merger the successor gets back to where its own drawn timeline stood,
# this many years later (the merger rule may have carried a lower level).
CATCH_UP_YEARS = (0.2, 1.0)


def _rank(level: str) -> int | None:
    return LEVEL_RANK.get(level)


def _decimal_year(moment: datetime.datetime) -> float:
    day = moment.date()
    start = datetime.date(day.year, 1, 1)
    days = (datetime.date(day.year + 1, 1, 1) - start).days
    return day.year + (day - start).days / days


@dataclass
class _Track:
    """One pair while the history is written: its state and what is still to come."""

    municipality_id: int
    block_id: int
    state: StatusValues | None
    pending: list[Milestone]
    changes: list[Change]

    def record(
        self,
        to: StatusValues,
        at: datetime.datetime,
        note: str,
        *,
        source: str = "seed",
        batch_id: str = "",
    ) -> None:
        before = self.state or StatusValues("")
        self.changes.append(
            Change(
                municipality_id=self.municipality_id,
                block_id=self.block_id,
                from_level=before.level,
                to_level=to.level,
                from_planned_date=before.planned_date,
                to_planned_date=to.planned_date,
                from_achieved_date=before.achieved_date,
                to_achieved_date=to.achieved_date,
                changed_at=at,
                note=note,
                source=source,
                batch_id=batch_id,
            )
        )
        self.state = to

    def advance(self, until: datetime.datetime) -> None:
        """Apply the pending milestones before `until`, never going back a level.

        A timeline only climbs, so this skips nothing on a pair without mergers; after
        a merger it drops the milestones below the carried level.
        """
        while self.pending and self.pending[0].at < until:
            milestone = self.pending.pop(0)
            state = self.state or StatusValues(Level.NOT_STARTED)
            current, rank = _rank(state.level), _rank(milestone.level)
            # Not applicable is decided before anything started, and stays.
            if rank is None and state.level != Level.NOT_STARTED:
                continue
            if current is None or (rank is not None and rank < current):
                continue
            to = StatusValues(
                milestone.level, milestone.planned_date, milestone.achieved_date
            )
            if (to.level, to.planned_date, to.achieved_date) == (
                state.level,
                state.planned_date,
                state.achieved_date,
            ):
                continue
            if self.changes and milestone.at <= self.changes[-1].changed_at:
                continue
            to = StatusValues(
                to.level, to.planned_date, to.achieved_date, milestone.note
            )
            self.record(to, milestone.at, f"{SYNTHETIC}: {milestone.note.rstrip('.')}.")


def _catch_up(
    timeline: list[Milestone],
    carried: StatusValues,
    at: datetime.datetime,
    rng: random.Random,
) -> list[Milestone]:
    """The successor's own milestones after the merger, and a return to its drawn level."""
    later = [m for m in timeline if m.at > at]
    drawn = [m for m in timeline if m.at <= at]
    own = drawn[-1] if drawn else None
    carried_rank = _rank(carried.level)
    own_rank = _rank(own.level) if own else 0
    if own is None or carried_rank is None or own_rank is None:
        return later
    if own_rank <= carried_rank:
        return later
    year = _decimal_year(at) + rng.uniform(*CATCH_UP_YEARS)
    moment = working_moment(year, rng, at.tzinfo or AMSTERDAM)
    planned = own.planned_date
    if own.level != Level.IN_USE and (planned is None or planned <= moment.date()):
        planned = month_start_after(year + 0.5)
    back = Milestone(
        at=moment,
        level=own.level,
        planned_date=planned,
        achieved_date=moment.date() if own.level == Level.IN_USE else None,
        note="na de herindeling weer op het niveau van voor de herindeling",
    )
    return sorted([back, *later], key=lambda m: m.at)


def generate_history_with_mergers(
    places: Sequence[PlaceInput],
    blocks: Sequence[BlockInput],
    mergers: Sequence[MergerInput],
    *,
    carry: Carry,
    rng: random.Random,
    now: datetime.datetime,
    start: datetime.date = HISTORY_START,
) -> History:
    """The history of current and former municipalities, with their mergers applied.

    Every municipality's history runs from `start` (or its `valid_from`, when later)
    up to its `valid_until` (or `now`). A municipality formed by a merger has no
    history before it: its first rows are the merger's, carried by `carry` from the
    merging ones as they stood on the merger date. A successor that continues an
    existing municipality takes part in its own merger (as in
    buildingblocks.mergers.participants). Merger rows have source "merger", batch
    "merger-<id>" and the merger date at midnight, as `apply_merger` writes them.
    After a merger the successor follows its own drawn timeline again, never below
    the carried level. Only current municipalities get a current status.
    """
    seed_base = rng.getrandbits(64)
    start_at = datetime.datetime(
        start.year, start.month, start.day, 9, 0, tzinfo=AMSTERDAM
    )
    formed = {m.successor_id: m.date for m in mergers}
    by_id = {p.municipality.id: p for p in places}
    tracks: dict[tuple[int, int], _Track] = {}
    timelines: dict[tuple[int, int], list[Milestone]] = {}
    evidence_wanted: dict[tuple[int, int], bool] = {}
    for place in sorted(places, key=lambda p: p.municipality.cbs_code):
        municipality = place.municipality
        capacity = capacity_of(seed_base, municipality.cbs_code)
        begins = (
            place.valid_from if place.valid_from and place.valid_from > start else None
        )
        for block in sorted(blocks, key=lambda b: b.code):
            stream = pair_rng(seed_base, municipality.cbs_code, block.code)
            timeline = draw_timeline(
                block.code, municipality.size_class, capacity, stream
            )
            key = (municipality.id, block.id)
            timelines[key] = timeline
            evidence_wanted[key] = stream.random() < EVIDENCE_SHARE
            track = _Track(municipality.id, block.id, None, [], [])
            tracks[key] = track
            if begins is not None and formed.get(municipality.id) == begins:
                continue  # its first state comes from its merger
            first_at = (
                start_at
                if begins is None
                else datetime.datetime(
                    begins.year, begins.month, begins.day, 9, 0, tzinfo=AMSTERDAM
                )
            )
            baseline = cut_timeline(
                timeline, municipality.id, block.id, first_at, first_at
            )[0]
            track.changes.append(baseline)
            track.state = StatusValues(
                baseline.to_level,
                baseline.to_planned_date,
                baseline.to_achieved_date,
                status_note(timeline, baseline),
            )
            track.pending = [m for m in timeline if m.at > first_at]

    def name(municipality_id: int) -> str:
        m = by_id[municipality_id].municipality
        return m.name or m.cbs_code

    for merger in sorted(mergers, key=lambda m: (m.date, m.id)):
        if merger.successor_id not in by_id:
            continue
        at = datetime.datetime(
            merger.date.year, merger.date.month, merger.date.day, tzinfo=AMSTERDAM
        )
        merged = [
            i for i in merger.merged_ids if i != merger.successor_id and i in by_id
        ]
        for block in blocks:
            successor = tracks[(merger.successor_id, block.id)]
            for i in [*merged, merger.successor_id]:
                tracks[(i, block.id)].advance(at)
            continuing = successor.state is not None
            members = [*merged, merger.successor_id] if continuing else merged
            carried = carry(
                [(name(i), tracks[(i, block.id)].state) for i in members],
                date=merger.date,
            )
            successor.record(
                carried,
                at,
                carried.note,
                source="merger",
                batch_id=f"merger-{merger.id}",
            )
            stream = random.Random(
                f"{seed_base}:merger:{merger.id}:{by_id[merger.successor_id].municipality.cbs_code}:{block.code}"
            )
            successor.pending = _catch_up(
                timelines[(merger.successor_id, block.id)], carried, at, stream
            )

    changes: list[Change] = []
    statuses: list[CurrentStatus] = []
    block_codes = {b.id: b.code for b in blocks}
    for key, track in tracks.items():
        place = by_id[key[0]]
        end = now
        if place.valid_until is not None:
            last = place.valid_until
            end = min(
                now,
                datetime.datetime(
                    last.year, last.month, last.day, 23, 59, tzinfo=AMSTERDAM
                ),
            )
        track.advance(end + datetime.timedelta(microseconds=1))
        changes += track.changes
        if place.valid_until is not None or not track.changes:
            continue
        last_change = track.changes[-1]
        state = track.state or StatusValues(Level.NOT_STARTED)
        evidence = ""
        if state.level == Level.IN_USE and evidence_wanted[key]:
            code = block_codes[key[1]]
            path = EVIDENCE_PATHS.get(code, code.replace("_", "-"))
            evidence = f"https://www.{place.municipality.slug}.nl/{path}"
        statuses.append(
            CurrentStatus(
                municipality_id=key[0],
                block_id=key[1],
                level=state.level,
                planned_date=state.planned_date,
                achieved_date=state.achieved_date,
                note=state.note if state.level == Level.NOT_APPLICABLE else "",
                evidence_url=evidence,
                updated_at=last_change.changed_at,
            )
        )
    return History(changes=changes, statuses=statuses)
