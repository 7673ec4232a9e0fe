"""The synthetic demo history behind `manage.py seed_demo` (issue 2, part 5).

Pure: plain values and a `random.Random` in, plain values out; no queries, no settings.
The command loads the reference data, calls `generate_history_with_mergers` and
`plan_deadline_revisions`, and writes what they return.

How the history is made
-----------------------
Each building block follows an S-shaped (logistic) national adoption curve with its own
midpoint year and spread (`BLOCK_PROFILES`): the base registers and DigiD early, the
MijnOverheid services and eHerkenning later, Digilevering and Digimelding last. Larger
municipalities run ahead (`SIZE_SHIFT`: size class xl about 1.5 years before xs, as the
VDP article in ../shared/seed/ describes) and every municipality has its own "capacity"
that moves all its blocks a little earlier or later. Not every municipality ever gets
there: each block has a ceiling, lower for small municipalities; the others lag behind,
either never starting or preparing with a planned date that keeps slipping.

An adopting pair goes not_started → preparing → implementing → in_use, with a planned
date while it prepares and implements; about a third of them move their planned date
once or twice on the way. About 1 % of the pairs are not_applicable, with a note.

Every pair's whole timeline (to 2035) is drawn from its own random stream, seeded from
the command's seed and the pair's CBS code and block code, and only then cut at "now".
So the same seed gives the same data whatever the order of the rows and whenever the
command runs — apart from the end date, which decides how much of the timeline is history.

The history starts with a baseline change on 1 January 2011 (the start of i-NUP) that
records where the pair stood then, for every municipality that existed on that day.
Mergers are carried as they happened (`generate_history_with_mergers`): a former
municipality's history ends on its last day, and a municipality formed by a merger
starts with the status the merger rule carries over from the merging ones.
"""

from __future__ import annotations

import datetime
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from buildingblocks.levels import LEVEL_RANK, Level

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
HISTORY_START = datetime.date(2011, 1, 1)
# Timelines are drawn up to here, independently of today, and then cut at today.
HORIZON_YEAR = 2035.0

SYNTHETIC = "Synthetische demodata"


@dataclass(frozen=True)
class BlockProfile:
    """The national adoption curve of one building block."""

    midpoint: float  # decimal year at which half the mid-size municipalities use it
    spread: float  # logistic scale in years: larger is a flatter, slower S-curve
    ceiling: float  # share of mid-size municipalities that ever get it in use


# Midpoints follow what is known of each block's timeline (BAG connected 2009–2011,
# OLO since the Wabo of 2010, electronic publication required from 2014, BGT source
# holding from 2016, Digilevering/Digimelding taken up late); the exact numbers are
# invented.
BLOCK_PROFILES: dict[str, BlockProfile] = {
    "bsn": BlockProfile(2009.3, 0.5, 0.995),
    "brp": BlockProfile(2009.6, 0.5, 0.995),
    "bag": BlockProfile(2010.0, 0.35, 0.995),
    "woz": BlockProfile(2010.5, 0.6, 0.99),
    "omgevingsloket": BlockProfile(2010.6, 0.45, 0.99),
    "brk": BlockProfile(2011.0, 0.7, 0.97),
    "digid": BlockProfile(2011.4, 0.7, 0.99),
    "nhr": BlockProfile(2011.9, 0.8, 0.94),
    "samenwerkende_catalogi": BlockProfile(2012.2, 0.8, 0.95),
    "antwoord_voor_bedrijven": BlockProfile(2012.6, 0.8, 0.94),
    "pkioverheid": BlockProfile(2012.6, 1.0, 0.95),
    "webrichtlijnen": BlockProfile(2013.2, 1.2, 0.85),
    "brv": BlockProfile(2013.2, 1.0, 0.9),
    "antwoord": BlockProfile(2013.5, 1.3, 0.86),
    "digikoppeling": BlockProfile(2013.6, 1.0, 0.9),
    "bri": BlockProfile(2013.8, 1.0, 0.86),
    "bekendmakingen": BlockProfile(2014.0, 0.5, 0.98),
    "diginetwerk": BlockProfile(2014.2, 1.2, 0.86),
    "open_standaarden": BlockProfile(2014.6, 1.5, 0.8),
    "mijnoverheid_berichtenbox": BlockProfile(2015.0, 1.2, 0.87),
    "eherkenning": BlockProfile(2015.3, 1.2, 0.86),
    "bgt": BlockProfile(2015.6, 0.7, 0.97),
    "digid_machtigen": BlockProfile(2015.8, 1.3, 0.8),
    "ondernemingsdossier": BlockProfile(2016.2, 1.5, 0.62),
    "mijnoverheid_lopende_zaken": BlockProfile(2016.6, 1.5, 0.72),
    "digilevering": BlockProfile(2017.2, 1.5, 0.72),
    "digimelding": BlockProfile(2018.2, 1.8, 0.62),
}
DEFAULT_PROFILE = BlockProfile(2014.5, 1.2, 0.85)

# Years added to a block's midpoint per size class: the large run ahead.
SIZE_SHIFT: dict[str, float] = {"xl": -0.9, "l": -0.45, "m": 0.0, "s": 0.3, "xs": 0.6}
# Multiplies the share that does not follow the curve (1 − ceiling) per size class:
# small municipalities more often never get there, but a block every municipality must
# have (ceiling near 1) stays near 1 for all of them.
SIZE_LAG_FACTOR: dict[str, float] = {"xl": 0.7, "l": 1.0, "m": 1.3, "s": 1.6, "xs": 2.0}
# One standard deviation of capacity moves a municipality this many years earlier, and
# multiplies its share of laggards by exp(−CAPACITY_LAG).
CAPACITY_YEARS = 0.5
CAPACITY_LAG = 0.25

# Blocks that a municipality may reasonably call not applicable: chance per size class
# and the note it writes.
NOT_APPLICABLE_RULES: dict[str, tuple[dict[str, float], str]] = {
    "antwoord": (
        {"xs": 0.6, "s": 0.12},
        "Te klein voor een eigen klantcontactcentrum; inwoners worden aan de balie "
        "in het gemeentehuis geholpen en de telefoon loopt via de buurgemeente.",
    ),
    "ondernemingsdossier": (
        {"xs": 0.2, "s": 0.15, "m": 0.08},
        "Vergunningverlening en toezicht voor bedrijven liggen bij de regionale "
        "omgevingsdienst, die het Ondernemingsdossier namens ons gebruikt.",
    ),
    "brv": (
        {"xs": 0.1, "s": 0.08, "m": 0.06},
        "Geen parkeerbelasting of eigen handhaving met kentekens; deze taken "
        "liggen bij het regionale samenwerkingsverband.",
    ),
    "bri": (
        {"xs": 0.1, "s": 0.07, "m": 0.05},
        "Inkomensafhankelijke regelingen worden uitgevoerd door de "
        "intergemeentelijke sociale dienst, die zelf afnemer is van de BRI.",
    ),
    "woz": (
        {"xs": 0.05, "s": 0.03, "m": 0.02},
        "WOZ-waardering en -administratie zijn overgedragen aan het regionale "
        "belastingsamenwerkingsverband, dat namens de gemeente bronhouder is.",
    ),
}

# Where a municipality's website would show the block in use (for evidence links).
EVIDENCE_PATHS: dict[str, str] = {
    "digid": "inloggen-met-digid",
    "digid_machtigen": "machtigen",
    "eherkenning": "ondernemers/inloggen-met-eherkenning",
    "mijnoverheid_berichtenbox": "berichtenbox",
    "mijnoverheid_lopende_zaken": "mijn-lopende-zaken",
    "samenwerkende_catalogi": "producten-en-diensten",
    "antwoord": "contact",
    "omgevingsloket": "omgevingsvergunning",
    "bekendmakingen": "bekendmakingen",
    "webrichtlijnen": "toegankelijkheid",
    "bgt": "geo/bgt",
}
EVIDENCE_SHARE = 0.3

# Chance of moving the planned date on the way to in_use: none, once, twice.
SLIP_WEIGHTS = (0.65, 0.25, 0.10)
# A laggard that starts at all (the rest never leaves not_started).
LAGGARD_STARTS = 0.55
# A laggard that is implementing finishes at each planned date with this chance.
LAGGARD_FINISHES = 0.12


@dataclass(frozen=True)
class MunicipalityInput:
    id: int
    cbs_code: str
    slug: str
    size_class: str
    name: str = ""


@dataclass(frozen=True)
class BlockInput:
    id: int
    code: str


@dataclass(frozen=True)
class Milestone:
    """A point on a pair's drawn timeline (before it is cut at today)."""

    at: datetime.datetime
    level: str
    planned_date: datetime.date | None
    achieved_date: datetime.date | None
    note: str


@dataclass(frozen=True)
class Change:
    """One StatusChange row to write."""

    municipality_id: int
    block_id: int
    from_level: str
    to_level: str
    from_planned_date: datetime.date | None
    to_planned_date: datetime.date | None
    from_achieved_date: datetime.date | None
    to_achieved_date: datetime.date | None
    changed_at: datetime.datetime
    note: str
    source: str = "seed"
    batch_id: str = ""


@dataclass(frozen=True)
class CurrentStatus:
    """One AdoptionStatus row to write: the state after the pair's last change."""

    municipality_id: int
    block_id: int
    level: str
    planned_date: datetime.date | None
    achieved_date: datetime.date | None
    note: str
    evidence_url: str
    updated_at: datetime.datetime


@dataclass(frozen=True)
class History:
    changes: list[Change]
    statuses: list[CurrentStatus]


# --- time helpers ---------------------------------------------------------------


def year_to_date(year: float) -> datetime.date:
    """The calendar date of a decimal year (2014.5 → about 2 July 2014)."""
    whole = math.floor(year)
    start = datetime.date(whole, 1, 1)
    days = (datetime.date(whole + 1, 1, 1) - start).days
    return start + datetime.timedelta(days=min(days - 1, int((year - whole) * days)))


def month_start_after(year: float) -> datetime.date:
    """Planned dates are given as the first of a month: the first one on or after `year`."""
    day = year_to_date(year)
    if day.day == 1:
        return day
    if day.month == 12:
        return datetime.date(day.year + 1, 1, 1)
    return datetime.date(day.year, day.month + 1, 1)


def working_moment(
    year: float, rng: random.Random, tz: datetime.tzinfo = AMSTERDAM
) -> datetime.datetime:
    """A moment during office hours on the first working day on or after `year`."""
    day = year_to_date(year)
    if day.weekday() >= 5:
        day += datetime.timedelta(days=7 - day.weekday())
    hour = rng.randint(8, 17)
    minute = rng.randint(0, 59)
    return datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz)


def _logit(u: float) -> float:
    u = min(max(u, 1e-6), 1 - 1e-6)
    return math.log(u / (1 - u))


# --- one pair ---------------------------------------------------------------------


def capacity_of(seed_base: int, cbs_code: str) -> float:
    """A municipality's capacity in standard deviations (positive: ahead of its peers)."""
    rng = random.Random(f"{seed_base}:capacity:{cbs_code}")
    return max(-2.5, min(2.5, rng.gauss(0.0, 1.0)))


def pair_rng(seed_base: int, cbs_code: str, block_code: str) -> random.Random:
    """The pair's own random stream, independent of row order (str seeds are stable)."""
    return random.Random(f"{seed_base}:{cbs_code}:{block_code}")


def draw_timeline(
    block_code: str, size_class: str, capacity: float, rng: random.Random
) -> list[Milestone]:
    """The whole drawn timeline of one municipality × block, in time order.

    Every random number is drawn whatever the outcome, so later draws never depend on
    earlier branches and nothing depends on today.
    """
    profile = BLOCK_PROFILES.get(block_code, DEFAULT_PROFILE)
    u_not_applicable = rng.random()
    u_adopt = rng.random()
    u_time = rng.random()
    prep_years = rng.uniform(0.25, 1.25)
    impl_years = rng.uniform(0.15, 0.9)
    report_lag = rng.uniform(0.0, 0.06)
    slips = rng.choices((0, 1, 2), weights=SLIP_WEIGHTS)[0]

    lag_share = (
        (1.0 - profile.ceiling)
        * SIZE_LAG_FACTOR.get(size_class, 1.0)
        * math.exp(-CAPACITY_LAG * capacity)
    )
    ceiling = min(0.998, max(0.2, 1.0 - lag_share))
    # The year this pair reaches in_use on the S-curve (if it ever does).
    in_use_year = (
        profile.midpoint
        + SIZE_SHIFT.get(size_class, 0.0)
        - CAPACITY_YEARS * capacity
        + profile.spread * _logit(u_time)
    )
    in_use_year = max(2005.0, in_use_year)

    chances, reason = NOT_APPLICABLE_RULES.get(block_code, ({}, ""))
    if u_not_applicable < chances.get(size_class, 0.0):
        decided = rng.uniform(2011.1, 2014.0)
        return [
            Milestone(
                at=working_moment(decided, rng),
                level=Level.NOT_APPLICABLE,
                planned_date=None,
                achieved_date=None,
                note=reason,
            )
        ]
    if u_adopt >= ceiling:
        return _laggard_timeline(in_use_year, rng)
    return _adopter_timeline(
        in_use_year, prep_years, impl_years, report_lag, slips, rng
    )


def _adopter_timeline(
    in_use_year: float,
    prep_years: float,
    impl_years: float,
    report_lag: float,
    slips: int,
    rng: random.Random,
) -> list[Milestone]:
    implementing_year = in_use_year - impl_years
    preparing_year = implementing_year - prep_years
    final_plan = in_use_year + rng.gauss(0.0, 0.08)
    # The plan is moved when it is about to expire: slips spread over the project.
    slip_years = [
        preparing_year + (in_use_year - preparing_year) * (i + 1) / (slips + 1)
        for i in range(slips)
    ]
    plans = [year + rng.uniform(0.0, 0.15) for year in slip_years] + [final_plan]

    events: list[tuple[float, str, int]] = [
        (preparing_year, Level.PREPARING, 0),
        (implementing_year, Level.IMPLEMENTING, -1),
    ]
    events += [(year, "", i + 1) for i, year in enumerate(slip_years)]
    events.sort(key=lambda event: event[0])

    milestones: list[Milestone] = []
    plan_index = 0
    level = Level.NOT_STARTED
    for year, new_level, index in events:
        if new_level:
            level = new_level
            note = (
                "voorbereiding gestart"
                if level == Level.PREPARING
                else "implementatie gestart"
            )
        else:
            plan_index = index
            note = "planning bijgesteld"
        milestones.append(
            Milestone(
                at=working_moment(year, rng),
                level=level,
                planned_date=month_start_after(plans[plan_index]),
                achieved_date=None,
                note=note,
            )
        )
    milestones.append(
        Milestone(
            at=working_moment(in_use_year + report_lag, rng),
            level=Level.IN_USE,
            planned_date=month_start_after(final_plan),
            achieved_date=working_moment(in_use_year, rng).date(),
            note="in gebruik genomen",
        )
    )
    return _strictly_increasing(milestones)


def _laggard_timeline(in_use_year: float, rng: random.Random) -> list[Milestone]:
    """A pair that does not follow the curve: never starts, or keeps slipping."""
    starts = rng.random() < LAGGARD_STARTS
    year = in_use_year + rng.uniform(0.5, 4.0)
    plan = year + rng.uniform(0.6, 1.8)
    milestones = [
        Milestone(
            at=working_moment(year, rng),
            level=Level.PREPARING,
            planned_date=month_start_after(plan),
            achieved_date=None,
            note="voorbereiding gestart",
        )
    ]
    level = Level.PREPARING
    while True:
        # The planned date passes, sometimes long before anyone updates it.
        year = plan + rng.uniform(-0.2, 1.2)
        if year > HORIZON_YEAR:
            break
        if level == Level.IMPLEMENTING and rng.random() < LAGGARD_FINISHES:
            # The long tail: late, but in use after all.
            milestones.append(
                Milestone(
                    at=working_moment(year + rng.uniform(0.0, 0.06), rng),
                    level=Level.IN_USE,
                    planned_date=month_start_after(plan),
                    achieved_date=working_moment(year, rng).date(),
                    note="in gebruik genomen",
                )
            )
            break
        if level == Level.PREPARING and rng.random() < 0.3:
            level = Level.IMPLEMENTING
            note = "implementatie gestart"
        else:
            note = "planning bijgesteld"
        plan = year + rng.uniform(0.6, 1.8)
        milestones.append(
            Milestone(
                at=working_moment(year, rng),
                level=level,
                planned_date=month_start_after(plan),
                achieved_date=None,
                note=note,
            )
        )
    return _strictly_increasing(milestones) if starts else []


def _strictly_increasing(milestones: list[Milestone]) -> list[Milestone]:
    """Moving weekend days to Monday can make two moments collide; keep their order."""
    result: list[Milestone] = []
    for milestone in milestones:
        if result and milestone.at <= result[-1].at:
            milestone = Milestone(
                at=result[-1].at + datetime.timedelta(hours=1),
                level=milestone.level,
                planned_date=milestone.planned_date,
                achieved_date=milestone.achieved_date,
                note=milestone.note,
            )
        result.append(milestone)
    return result


# --- the whole history ------------------------------------------------------------


def _status_note(timeline: list[Milestone], last: Change) -> str:
    # Only not_applicable needs a note (its reason); others leave it to the editors.
    if last.to_level == Level.NOT_APPLICABLE:
        return timeline[-1].note
    return ""


def _cut(
    timeline: list[Milestone],
    municipality_id: int,
    block_id: int,
    start_at: datetime.datetime,
    now: datetime.datetime,
) -> list[Change]:
    """The baseline at `start_at` and the timeline's milestones after it, up to `now`."""
    level, planned, achieved = str(Level.NOT_STARTED), None, None
    rest = []
    for milestone in timeline:
        if milestone.at <= start_at:
            level = milestone.level
            planned, achieved = milestone.planned_date, milestone.achieved_date
        elif milestone.at <= now:
            rest.append(milestone)
    changes = [
        Change(
            municipality_id=municipality_id,
            block_id=block_id,
            from_level="",
            to_level=level,
            from_planned_date=None,
            to_planned_date=planned,
            from_achieved_date=None,
            to_achieved_date=achieved,
            changed_at=start_at,
            note=f"{SYNTHETIC}: stand bij de start van i-NUP.",
        )
    ]
    for milestone in rest:
        changes.append(
            Change(
                municipality_id=municipality_id,
                block_id=block_id,
                from_level=level,
                to_level=milestone.level,
                from_planned_date=planned,
                to_planned_date=milestone.planned_date,
                from_achieved_date=achieved,
                to_achieved_date=milestone.achieved_date,
                changed_at=milestone.at,
                note=f"{SYNTHETIC}: {milestone.note.rstrip('.')}.",
            )
        )
        level = milestone.level
        planned, achieved = milestone.planned_date, milestone.achieved_date
    return changes


# --- mergers ----------------------------------------------------------------------


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


@dataclass(frozen=True)
class State:
    """A pair's status at a moment: what the merger rule reads and returns."""

    level: str
    planned_date: datetime.date | None = None
    achieved_date: datetime.date | None = None
    note: str = ""


# The project's carry-over rule (municipalities.mergers.carry_over), given by the
# command so that this module stays free of Django: (name, state or None) of each
# merging municipality and the merger date in, the successor's state out.
Carry = Callable[[Sequence[tuple[str, State | None]], datetime.date], State]

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
    state: State | None
    pending: list[Milestone]
    changes: list[Change]

    def record(
        self,
        to: State,
        at: datetime.datetime,
        note: str,
        *,
        source: str = "seed",
        batch_id: str = "",
    ) -> None:
        before = self.state or State("")
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
            state = self.state or State(Level.NOT_STARTED)
            current, rank = _rank(state.level), _rank(milestone.level)
            # Not applicable is decided before anything started, and stays.
            if rank is None and state.level != Level.NOT_STARTED:
                continue
            if current is None or (rank is not None and rank < current):
                continue
            to = State(milestone.level, milestone.planned_date, milestone.achieved_date)
            if (to.level, to.planned_date, to.achieved_date) == (
                state.level,
                state.planned_date,
                state.achieved_date,
            ):
                continue
            if self.changes and milestone.at <= self.changes[-1].changed_at:
                continue
            to = State(to.level, to.planned_date, to.achieved_date, milestone.note)
            self.record(to, milestone.at, f"{SYNTHETIC}: {milestone.note.rstrip('.')}.")


def _catch_up(
    timeline: list[Milestone],
    carried: State,
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
    municipalities.mergers.participants). Merger rows have source "merger", batch
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
            baseline = _cut(timeline, municipality.id, block.id, first_at, first_at)[0]
            track.changes.append(baseline)
            track.state = State(
                baseline.to_level,
                baseline.to_planned_date,
                baseline.to_achieved_date,
                _status_note(timeline, baseline),
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
                [(name(i), tracks[(i, block.id)].state) for i in members], merger.date
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
        state = track.state or State(Level.NOT_STARTED)
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


# --- deadlines --------------------------------------------------------------------


@dataclass(frozen=True)
class AgreementInput:
    id: int
    number: int
    deadline: datetime.date  # the deadline without synthetic revisions
    block_codes: tuple[str, ...]


@dataclass(frozen=True)
class RevisionPlan:
    agreement_id: int
    old_deadline: datetime.date
    new_deadline: datetime.date
    decided_on: datetime.date
    reason: str


POSTPONEMENT_REASONS = (
    "Leveranciers van zaaksystemen konden de koppeling niet op tijd leveren.",
    "Veel gemeenten hadden de aansluiting niet begroot; uitstel om de financiering "
    "te regelen.",
    "De landelijke voorziening was nog niet stabiel genoeg om op aan te sluiten.",
    "Uitstel op verzoek van de VNG: een peiling onder gemeenten liet zien dat de "
    "termijn niet reëel was.",
    "Eerst moet de onderliggende infrastructuur (Digikoppeling) op orde zijn.",
    "Gemeentelijke herindelingen vroegen de capaciteit van de betrokken gemeenten.",
)
LATEST_REASON = (
    "Opnieuw vastgesteld in het meerjarenprogramma voor de digitale overheid: "
    "gemeenten krijgen tot deze datum."
)


def plan_deadline_revisions(
    agreements: Sequence[AgreementInput],
    *,
    rng: random.Random,
    today: datetime.date,
) -> list[RevisionPlan]:
    """Synthetic postponements: the agreements with the latest blocks are postponed.

    About a third of the agreements (at least two, at most seven) are postponed once or
    twice to 2016–2018 by decisions of 2014–2016; the latest one or two are postponed
    again, to next 1 January, so that some deadlines lie ahead of today.
    """

    def lateness(agreement: AgreementInput) -> float:
        return max(
            (
                BLOCK_PROFILES.get(code, DEFAULT_PROFILE).midpoint
                for code in agreement.block_codes
            ),
            default=0.0,
        )

    candidates = sorted(
        (a for a in agreements if a.block_codes),
        key=lambda a: (-lateness(a), a.number),
    )
    count = min(len(candidates), 7, max(2, math.ceil(len(agreements) / 3)))
    future_count = 2 if len(agreements) >= 10 else 1
    next_new_year = datetime.date(today.year + 1, 1, 1)

    plans: list[RevisionPlan] = []
    for rank, agreement in enumerate(candidates[:count]):
        future = rank < future_count
        twice = rng.random() < 0.5
        first_decided = datetime.date(2014, rng.randint(3, 11), rng.randint(1, 28))
        first_new = rng.choice((datetime.date(2016, 1, 1), datetime.date(2016, 7, 1)))
        # Decided before the first postponed deadline expires.
        second_decided = datetime.date(2015, 3, 1) + datetime.timedelta(
            days=rng.randint(0, (first_new - datetime.date(2015, 4, 1)).days)
        )
        second_new = rng.choice((datetime.date(2017, 1, 1), datetime.date(2018, 1, 1)))
        reasons = rng.sample(POSTPONEMENT_REASONS, 2)

        steps = [(first_decided, first_new, reasons[0])]
        if twice or future:
            steps.append((second_decided, second_new, reasons[1]))
        if future:
            steps.append(
                (datetime.date(today.year - 1, 6, 15), next_new_year, LATEST_REASON)
            )
        old = agreement.deadline
        for decided_on, new, reason in steps:
            if new == old:
                continue
            plans.append(
                RevisionPlan(
                    agreement_id=agreement.id,
                    old_deadline=old,
                    new_deadline=new,
                    decided_on=decided_on,
                    reason=f"{reason} ({SYNTHETIC.lower()})",
                )
            )
            old = new
    return plans
