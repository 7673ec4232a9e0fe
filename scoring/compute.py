"""Set-based recomputation of the current scores (DESIGN §4).

`recompute_all()` brings every MunicipalityScore, AgreementCompliance and
Aggregate row up to date in a fixed handful of SQL statements, whatever the
number of municipalities. One path on SQLite and PostgreSQL alike (issue 20).
The statements are built in scoring.recompute; this module takes the lock and
runs them in order:

1. the pass (scoring.recompute.per_municipality, `_build_table`): one read of
   the status rows, grouped per active municipality into a temporary table:
   the sums of the score and category scores, the sets of requirements
   (integer bit masks, scoring.recompute.sql) that are remaining, missing,
   exempt, unplanned, planned late or expired, and from those sets each
   agreement's outcome as a small code (scoring.recompute.outcomes,
   `_outcome_code`: the SQL form of rules.agreement_outcome, one column per
   agreement); for a full recompute the same statement sums the stored
   compliance rows per municipality (`_stored_compliance_check`) and marks
   those whose rows may differ;
2. compliance rows from the codes (scoring.recompute.writes,
   `_compliance_select`) of those municipalities, written only where they
   differ from the stored ones (`_sync`);
3. score rows from the temporary table (agreements counted from the codes),
   written only where they differ (`_write_scores`);
4. aggregates counted per (size class, province) from the temporary table and
   the written score rows (scoring.recompute.aggregates): no second read of
   the status or compliance rows.

`recompute_municipality(id)` runs the same statements and writes only that
municipality's rows, re-ranks, and rewrites the aggregates.

The SQL is written out rather than built with the ORM (constant lookup tables,
bit masks, window functions, write-only-the-difference statements); the level
values and ranks in it come from buildingblocks.levels, the blocks and
requirements are read once (scoring.recompute.inputs, `_read_inputs`: the
versions in force on the day of the recompute, issue 14), and tests check its
answers against scoring.rules on both databases. Every score and aggregate row
records the scoring-method version.
"""

from __future__ import annotations

import datetime
import logging

from django.db import connection, transaction
from django.utils import timezone

from scoring.recompute.aggregates import _rewrite_aggregates
from scoring.recompute.inputs import _read_inputs
from scoring.recompute.per_municipality import _build_table
from scoring.recompute.writes import _rerank, _write_compliance, _write_scores
from scoring.version import data_changed

logger = logging.getLogger(__name__)

# Serialises the writers of scoring tables on PostgreSQL (SQLite serialises writes).
_ADVISORY_LOCK_KEY = 0x4E5550  # "NUP"


def _lock(*, own_transaction: bool = False) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # For this transaction only: the per-municipality grouping of a full
            # recompute spills to disk at the default 4 MB, and JIT compilation
            # costs more than it saves on statements this short (`make bench`).
            # One round trip: no parameters.
            settings = (
                f"SELECT pg_advisory_xact_lock({int(_ADVISORY_LOCK_KEY)}); "
                "SET LOCAL work_mem = '64MB'; SET LOCAL jit = off"
            )
            if own_transaction:
                # Everything a recompute writes is derived from the statuses: if
                # the server crashes in the ~0.5 s before the WAL reaches disk,
                # the next recompute writes it again. Not waiting for the flush
                # saved 20–70 ms a run. Never inside a caller's transaction,
                # which may hold writes that must be durable.
                settings += "; SET LOCAL synchronous_commit = off"
            cursor.execute(settings)


# --- public API ----------------------------------------------------------------


def _recompute(
    municipality_id: int | None, today: datetime.date | None
) -> dict[str, int]:
    now = timezone.now()
    on = today or timezone.localdate(now)
    # Raw SQL parameters get the backend's own representation (text on SQLite).
    stamp = connection.ops.adapt_datetimefield_value(now)
    own_transaction = not connection.in_atomic_block
    with transaction.atomic():
        _lock(own_transaction=own_transaction)
        data_changed()
        inputs = _read_inputs(on)
        # Every active municipality, also for one: the aggregates need them all.
        _build_table(inputs, on, full=municipality_id is None)
        compliance = _write_compliance(inputs, stamp, municipality_id)
        scores = _write_scores(inputs, stamp, municipality_id)
        if municipality_id is not None:
            _rerank()
        aggregates = _rewrite_aggregates(inputs, stamp)
    return {"scores": scores, "compliance": compliance, "aggregates": aggregates}


def recompute_all(*, today: datetime.date | None = None) -> dict[str, int]:
    """Bring every score, compliance row and aggregate up to date; return rows written."""
    return _recompute(None, today)


def recompute_municipality(
    municipality_id: int, *, today: datetime.date | None = None
) -> dict[str, int]:
    """Bring one municipality's score and compliance up to date, re-rank, rewrite
    the aggregates; return rows written. An inactive (merged) municipality loses
    its rows.
    """
    return _recompute(municipality_id, today)
