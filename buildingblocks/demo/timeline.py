"""One pair's drawn timeline and the history cut from it (see the package docstring)."""

from __future__ import annotations

import datetime
import math
import random
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from buildingblocks.levels import Level

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


def status_note(timeline: list[Milestone], last: Change) -> str:
    # Only not_applicable needs a note (its reason); others leave it to the editors.
    if last.to_level == Level.NOT_APPLICABLE:
        return timeline[-1].note
    return ""


def cut_timeline(
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
