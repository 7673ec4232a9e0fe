"""The synthetic demo history behind `manage.py seed_demo` (issue 2, part 5).

Pure: plain values and a `random.Random` in, plain values out; no queries, no settings.
The command loads the reference data, calls `generate_history_with_mergers` and
`plan_deadline_revisions`, and writes what they return; this package names only
what the command passes and reads, the parts live in `timeline`, `mergers` and
`deadlines`.

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

from buildingblocks.demo.deadlines import AgreementInput, plan_deadline_revisions
from buildingblocks.demo.mergers import (
    MergerInput,
    PlaceInput,
    generate_history_with_mergers,
)
from buildingblocks.demo.timeline import (
    BLOCK_PROFILES,
    HISTORY_START,
    SYNTHETIC,
    BlockInput,
    History,
    MunicipalityInput,
)

__all__ = [
    "BLOCK_PROFILES",
    "HISTORY_START",
    "SYNTHETIC",
    "AgreementInput",
    "BlockInput",
    "History",
    "MergerInput",
    "MunicipalityInput",
    "PlaceInput",
    "generate_history_with_mergers",
    "plan_deadline_revisions",
]
