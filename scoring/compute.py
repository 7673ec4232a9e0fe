"""Set-based recomputation of the current scores (DESIGN §4).

`recompute_all()` brings every MunicipalityScore, AgreementCompliance and
Aggregate row up to date in a fixed handful of SQL statements, whatever the
number of municipalities. One path on SQLite and PostgreSQL alike (issue 20):

1. `_per_municipality`: one read of the status rows, grouped per active
   municipality into a temporary table: the sums of the score and category
   scores, the sets of requirements (integer bit masks) that are remaining,
   missing, exempt, unplanned, planned late or expired, and from those sets
   each agreement's outcome as a small code (`_outcome_code`, the SQL form of
   rules.agreement_outcome, one column per agreement); for a full recompute
   the same statement sums the stored compliance rows per municipality
   (`_stored_compliance_check`) and marks those whose rows may differ;
2. compliance rows from the codes (`_compliance_select`) of those
   municipalities, written only where they differ from the stored ones;
3. score rows from the temporary table (agreements counted from the codes),
   written only where they differ;
4. aggregates counted per (size class, province) from the temporary table and
   the written score rows: no second read of the status or compliance rows.

`recompute_municipality(id)` runs the same statements and writes only that
municipality's rows, re-ranks, and rewrites the aggregates.

The SQL is written out rather than built with the ORM (constant lookup tables,
bit masks, window functions, write-only-the-difference statements); the level
values and ranks in it come from buildingblocks.levels, the blocks and
requirements are read once (`_read_inputs`: the versions in force on the day
of the recompute, issue 14), and tests check its answers against scoring.rules
on both databases. Every score row records the scoring-method version.
"""

from __future__ import annotations

import datetime
import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from agreements.models import Requirement, ResultAgreement
from buildingblocks.levels import LEVEL_RANK, LEVEL_VALUES, Level
from buildingblocks.models import AdoptionStatus, BlockVersion
from municipalities.models import Municipality, Province
from scoring.figure_writes import FIGURE_COLUMNS, figure_record, insert_rows
from scoring.figures import GroupKey, GroupTotals, add_block_counts, figure_rows
from scoring.method_version import METHOD_VERSION
from scoring.models import (
    Aggregate,
    AgreementCompliance,
    ComplianceReason,
    ComplianceStatus,
    MunicipalityScore,
)
from scoring.rules import meets_every_agreement
from scoring.version import data_changed

logger = logging.getLogger(__name__)

# Any applicable block weighs at least 0.01; below this the denominator is empty
# (guards against float noise in total − not-applicable weight).
_EMPTY_WEIGHT = 0.001
# Serialises the writers of scoring tables on PostgreSQL (SQLite serialises writes).
_ADVISORY_LOCK_KEY = 0x4E5550  # "NUP"


def _t(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _float_type() -> str:
    return "DOUBLE PRECISION" if connection.vendor == "postgresql" else "REAL"


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


def _json_object(pairs: Sequence[tuple[str, str]]) -> str:
    function = (
        "jsonb_build_object" if connection.vendor == "postgresql" else "json_object"
    )
    args = ", ".join(f"'{key}', {expr}" for key, expr in pairs)
    return f"{function}({args})"


# --- inputs --------------------------------------------------------------------


def _method_version() -> str:
    """METHOD_VERSION as it goes into the SQL (a constant of ours, checked)."""
    if not METHOD_VERSION.isalnum():
        raise ValueError(f"METHOD_VERSION must be alphanumeric: {METHOD_VERSION!r}")
    return METHOD_VERSION


@dataclass(frozen=True)
class _Inputs:
    """Everything a recompute reads besides the statuses, read in one place.

    `blocks`: (id, category, weight) of the blocks that count (active);
    `requirements`: (agreement id, block id, minimum level, min population) of
    the requirements on those blocks; `agreements`: (id, deadline) of every
    agreement (one without a requirement left is not applicable to anyone).
    """

    blocks: list[tuple[int, str, Decimal]]
    requirements: list[tuple[int, int, str, int | None]]
    agreements: list[tuple[int, datetime.date]]

    @property
    def block_ids(self) -> list[int]:
        return [block_id for block_id, _, _ in self.blocks]

    @property
    def agreement_ids(self) -> list[int]:
        return [agreement_id for agreement_id, _ in self.agreements]


def _read_inputs(on: datetime.date) -> _Inputs:
    """The blocks (with the weight of their version), requirements and agreements
    in force on `on` (issue 14: BlockVersion and the requirement rows carry
    validity periods, so a change from a date on moves the figures from then)."""
    blocks = list(
        BlockVersion.objects.in_force(on)
        .filter(active=True)
        .order_by("block_id")
        .values_list("block_id", "block__category", "weight")
    )
    counted = {block_id for block_id, _, _ in blocks}
    # Requirements of blocks that do not count are ignored (rules: retired blocks).
    requirements = [
        row
        for row in Requirement.objects.in_force(on)
        .order_by("agreement_id", "block_id")
        .values_list("agreement_id", "block_id", "minimum_level", "min_population")
        if row[1] in counted
    ]
    agreements = list(
        ResultAgreement.objects.order_by("id").values_list("id", "deadline")
    )
    return _Inputs(blocks, requirements, agreements)


# --- bit masks -----------------------------------------------------------------

# Sets of requirements (and of blocks) are integers with one bit per member,
# in words of 62 bits: a sum of distinct powers of two below 2**62 never
# reaches the sign bit of a 64-bit integer.
_WORD = 62


def _words(count: int) -> int:
    return max(1, -(-count // _WORD))


def _masks(indexes: Iterable[int], count: int) -> list[int]:
    """One mask per word with the bits of the given member indexes set."""
    masks = [0] * _words(count)
    for i in set(indexes):
        masks[i // _WORD] |= 1 << (i % _WORD)
    return masks


def _bigint(value: int) -> str:
    return f"CAST({int(value)} AS BIGINT)"


def _real(value: float | None, float_type: str = "") -> str:
    """A double literal; `float_type` (`_float_type()`) saves the lookup in a loop."""
    float_type = float_type or _float_type()
    if value is None:
        return f"CAST(NULL AS {float_type})"
    if not math.isfinite(value):
        raise ValueError(value)
    return f"CAST({value!r} AS {float_type})"  # repr round-trips the double


def _date(value: datetime.date) -> str:
    """A date literal compared with date columns (ISO text on SQLite, cast by PostgreSQL)."""
    return f"'{value.isoformat()}'"


def _values(columns: Sequence[str], rows: Sequence[Sequence[str]], empty: str) -> str:
    """A constant table as a derived table (portable: VALUES columns are columnN).

    `empty` is a row of typed NULLs for when there are no rows (it is filtered out).
    """
    names = ", ".join(f"column{i + 1} AS {name}" for i, name in enumerate(columns))
    if not rows:
        return f"(SELECT {names} FROM (VALUES ({empty})) v WHERE 1 = 0)"
    body = ", ".join(f"({', '.join(row)})" for row in rows)
    return f"(SELECT {names} FROM (VALUES {body}) v)"


# --- the pass over the statuses ------------------------------------------------

# One row per active municipality: its score figures and the sets of
# requirements in each state (see _per_municipality). Dropped at commit on
# PostgreSQL; SQLite keeps it for the connection until the next recompute.
_PER_M = "nup_recompute"
# Levels numbered for the lookup key block_id * 8 + level number.
_LEVEL_NUMBERS = {level: i for i, level in enumerate(Level.values)}


def _level_number(column: str) -> str:
    whens = " ".join(f"WHEN '{level}' THEN {i}" for level, i in _LEVEL_NUMBERS.items())
    return f"CASE {column} {whens} END"


def _lookup(inputs: _Inputs, categories: list[str]) -> str:
    """What a status row at (block, level) contributes, one row per pair.

    Score terms (weight × value, or the weight that drops out when not
    applicable), per category too; the requirements of the block that the
    level meets, that drop out (not applicable) and that it leaves open; the
    block's own bit when the level is in use or not applicable (for the
    aggregates). Built here from the Python constants so that the rules'
    inputs (LEVEL_VALUES, LEVEL_RANK) are read in one place.
    """
    n_req, n_blocks = len(inputs.requirements), len(inputs.blocks)
    float_type = _float_type()  # thousands of literals: the vendor read once

    def real(value: float | None) -> str:
        return _real(value, float_type)

    columns = ["key", "num", "na"]
    columns += [f"{kind}_{i}" for i in range(len(categories)) for kind in ("num", "na")]
    for kind in ("met", "dropped", "open"):
        columns += [f"{kind}_{w}" for w in range(_words(n_req))]
    for kind in ("in_use_blocks", "na_blocks"):
        columns += [f"{kind}_{w}" for w in range(_words(n_blocks))]
    rows = []
    for index, (block_id, category, weight) in enumerate(inputs.blocks):
        own = [
            i
            for i, (_, block, _, _) in enumerate(inputs.requirements)
            if block == block_id
        ]
        for level in Level.values:
            applicable = level != Level.NOT_APPLICABLE
            num = float(weight) * float(LEVEL_VALUES[level]) if applicable else None
            na = None if applicable else float(weight)
            met = [
                i
                for i in own
                if applicable
                and LEVEL_RANK[level] >= LEVEL_RANK[inputs.requirements[i][2]]
            ]
            row = [str(block_id * 8 + _LEVEL_NUMBERS[level]), real(num), real(na)]
            for c in categories:
                row += [real(num if c == category else None)]
                row += [real(na if c == category else None)]
            for members in (
                met,
                [] if applicable else own,
                [i for i in own if applicable and i not in met],
            ):
                row += [_bigint(m) for m in _masks(members, n_req)]
            in_use = [index] if level == Level.IN_USE else []
            for members in (in_use, [] if applicable else [index]):
                row += [_bigint(m) for m in _masks(members, n_blocks)]
            rows.append(row)
    empty = ", ".join(
        ["CAST(NULL AS BIGINT)"]
        + [_real(None)] * (2 + 2 * len(categories))
        + ["CAST(NULL AS BIGINT)"] * (len(columns) - 3 - 2 * len(categories))
    )
    return _values(columns, rows, empty)


def _per_municipality(inputs: _Inputs, on: datetime.date) -> str:
    """CREATE TABLE … AS: one row per active municipality, from one read of the statuses.

    The status rows are hash-joined with `_lookup` on one integer key and
    grouped per municipality. Sets of requirements are summed (each
    requirement's block has one status row per municipality, so its bit is
    added at most once: the sum is the union). Then, per municipality, with
    the requirements that apply to its population:

    - remaining: apply, and the block is not marked not applicable;
    - missing: remaining, and the block below the minimum level (a required
      block without a status row is missing and unplanned);
    - exempt: apply, and dropped out because the block is not applicable;
    - unplanned / late / expired: missing with no planned date / planned after
      the agreement's deadline / planned before `on`.

    rules.agreement_outcome then decides every agreement from these sets
    (`_outcome_code`, one column per agreement). The score and category scores are the sums of
    rules.adoption_score; rank over all active municipalities.
    """
    n_req, n_blocks = len(inputs.requirements), len(inputs.blocks)
    req_words, block_words = range(_words(n_req)), range(_words(n_blocks))
    categories = sorted({category for _, category, _ in inputs.blocks})
    total = float(sum((w for _, _, w in inputs.blocks), Decimal(0)))
    per_category = {
        c: float(sum((w for _, cat, w in inputs.blocks if cat == c), Decimal(0)))
        for c in categories
    }
    deadline_of = dict(inputs.agreements)
    deadlines = [deadline_of[a] for a, _, _, _ in inputs.requirements]

    def after_deadline(w: int) -> str:
        """The requirements (word w) whose deadline lies before s.planned_date."""
        whens = [
            f"WHEN s.planned_date > {_date(d)} THEN "
            + _bigint(
                _masks([i for i, di in enumerate(deadlines) if di <= d], n_req)[w]
            )
            for d in sorted(set(deadlines), reverse=True)
        ]
        return f"CASE {' '.join(whens)} ELSE 0 END" if whens else "0"

    sums = ["SUM(l.num) AS num", "SUM(l.na) AS na"]
    sums += [
        f"SUM(l.{k}_{i}) AS {k}_{i}"
        for i in range(len(categories))
        for k in ("num", "na")
    ]
    sums.append("MAX(s.updated_at) AS last_status_update")
    for w in req_words:
        # Most rows leave no requirement open: they skip the date comparisons.
        sums += [
            f"SUM(l.met_{w}) AS met_{w}",
            f"SUM(l.dropped_{w}) AS dropped_{w}",
            f"SUM(CASE WHEN l.open_{w} = 0 OR s.planned_date IS NULL THEN 0 "
            f"ELSE l.open_{w} END) AS planned_{w}",
            f"SUM(CASE WHEN l.open_{w} = 0 OR s.planned_date IS NULL THEN 0 "
            f"ELSE l.open_{w} & {after_deadline(w)} END) AS late_{w}",
            f"SUM(CASE WHEN l.open_{w} <> 0 AND s.planned_date < {_date(on)} "
            f"THEN l.open_{w} ELSE 0 END) AS expired_{w}",
        ]
    for w in block_words:
        sums += [
            f"SUM(l.in_use_blocks_{w}) AS in_use_blocks_{w}",
            f"SUM(l.na_blocks_{w}) AS na_blocks_{w}",
        ]

    # The requirements that apply to the municipality's population.
    thresholds = sorted({p for *_, p in inputs.requirements if p is not None})
    unconditional = _masks(
        [i for i, (*_, p) in enumerate(inputs.requirements) if p is None], n_req
    )

    def applies(w: int) -> str:
        terms = [_bigint(unconditional[w])]
        for t in thresholds:
            mask = _masks(
                [i for i, (*_, p) in enumerate(inputs.requirements) if p == t], n_req
            )[w]
            if mask:
                terms.append(
                    f"CASE WHEN m.population >= {int(t)} THEN {_bigint(mask)} ELSE 0 END"
                )
        return " + ".join(terms)

    def counted(name: str) -> str:
        return f"CAST(COALESCE(x.{name}, 0) AS BIGINT) AS {name}"

    def score(num: str, na: str, weight: float) -> str:
        denominator = f"({_real(weight)} - COALESCE({na}, 0))"
        return (
            f"CASE WHEN {denominator} > {_EMPTY_WEIGHT} "
            f"THEN 100.0 * COALESCE({num}, 0) / {denominator} END"
        )

    category_json = _json_object(
        [
            (c, score(f"z.num_{i}", f"z.na_{i}", per_category[c]))
            for i, c in enumerate(categories)
        ]
    )
    z_columns = [
        "m.id AS municipality_id",
        "m.size_class",
        "m.province_id",
        "m.population",
        "x.num",
        "x.na",
        "x.last_status_update",
        *(f"x.{k}_{i}" for i in range(len(categories)) for k in ("num", "na")),
        *(f"{applies(w)} AS applies_{w}" for w in req_words),
        *(
            counted(f"{k}_{w}")
            for w in req_words
            for k in ("met", "dropped", "planned", "late", "expired")
        ),
        *(
            counted(f"{k}_{w}")
            for w in block_words
            for k in ("in_use_blocks", "na_blocks")
        ),
    ]
    y_columns = [
        "z.municipality_id",
        "z.size_class",
        "z.province_id",
        "z.population",
        f"{score('z.num', 'z.na', total)} AS score",
        f"{category_json} AS category_scores",
        "z.last_status_update",
        *(f"z.{k}_{w}" for w in block_words for k in ("in_use_blocks", "na_blocks")),
    ]
    for w in req_words:
        remaining = f"(z.applies_{w} & ~z.dropped_{w})"
        missing = f"({remaining} & ~z.met_{w})"
        y_columns += [
            f"{remaining} AS remaining_{w}",
            f"{missing} AS missing_{w}",
            f"(z.applies_{w} & z.dropped_{w}) AS exempt_{w}",
            f"({missing} & ~z.planned_{w}) AS unplanned_{w}",
            f"({missing} & z.late_{w}) AS late_{w}",
            f"({missing} & z.expired_{w}) AS expired_{w}",
        ]
    return f"""
        -- The outcome codes read the sets as computed columns of `y` (a
        -- subquery with a window function is not merged into its parent, so
        -- each set is computed once per municipality, not once per use).
        SELECT y.*{"".join(f", {column}" for column in _outcome_columns(inputs, on))}
        FROM (
        SELECT y.*, CASE WHEN y.score IS NULL THEN NULL ELSE RANK() OVER (
            ORDER BY CASE WHEN y.score IS NULL THEN 1 ELSE 0 END, y.score DESC) END
            AS rank
        FROM (
            SELECT {", ".join(y_columns)}
            FROM (
                SELECT {", ".join(z_columns)}
                FROM {_t(Municipality)} m
                LEFT JOIN (
                    SELECT s.municipality_id, {", ".join(sums)}
                    FROM {_t(AdoptionStatus)} s
                    -- One integer key, not (block, level): PostgreSQL then expects
                    -- every status row to match and hashes the few lookup rows.
                    INNER JOIN {_lookup(inputs, categories)} l
                        ON l.key = s.block_id * 8 + {_level_number("s.level")}
                    GROUP BY s.municipality_id
                ) x ON x.municipality_id = m.id
                WHERE m.active
            ) z
        ) y
        ) y
    """


# --- agreement outcomes ----------------------------------------------------------

# What rules.agreement_outcome can decide, as a small code per municipality ×
# agreement: (code, status, reason, met on an exemption).
_KINDS = [
    (0, ComplianceStatus.NOT_APPLICABLE, "", False),
    (1, ComplianceStatus.MET, "", False),
    (2, ComplianceStatus.MET, "", True),
    (3, ComplianceStatus.OVERDUE, ComplianceReason.DEADLINE_PASSED, False),
    (4, ComplianceStatus.AT_RISK, ComplianceReason.UNPLANNED, False),
    (5, ComplianceStatus.AT_RISK, ComplianceReason.PLANNED_LATE, False),
    (6, ComplianceStatus.AT_RISK, ComplianceReason.PLAN_EXPIRED, False),
    (7, ComplianceStatus.ON_TRACK, "", False),
]
_OVERDUE, _PLAN_EXPIRED = 3, 6


def _requirement_masks(inputs: _Inputs, agreement_id: int) -> list[int]:
    return _masks(
        [i for i, (a, *_) in enumerate(inputs.requirements) if a == agreement_id],
        len(inputs.requirements),
    )


def _outcome_code(inputs: _Inputs, agreement_id: int, passed: bool) -> str:
    """rules.agreement_outcome of one agreement as SQL over a municipality's sets.

    `y` is a row of `_per_municipality`; the result is a code of `_KINDS`.
    """
    masks = _requirement_masks(inputs, agreement_id)

    def meets(kind: str) -> str:
        """Some requirement of this agreement is in the municipality's set `kind`."""
        terms = [
            f"(y.{kind}_{w} & {_bigint(mask)}) <> 0"
            for w, mask in enumerate(masks)
            if mask
        ]
        return "(" + " OR ".join(terms) + ")" if terms else "(1 = 0)"

    ahead = (
        ""
        if passed
        else f"""
            WHEN {meets("unplanned")} THEN 4
            WHEN {meets("late")} THEN 5
            WHEN {meets("expired")} THEN 6
            ELSE 7"""
    )
    return f"""CASE
            WHEN NOT {meets("remaining")} THEN 0
            WHEN NOT {meets("missing")}
                THEN CASE WHEN {meets("exempt")} THEN 2 ELSE 1 END
            {"ELSE 3" if passed else ahead}
        END"""


def _outcome_columns(inputs: _Inputs, on: datetime.date) -> list[str]:
    """The `outcome_<i>` columns of `_per_municipality`, one per agreement."""
    return [
        f"{_outcome_code(inputs, agreement_id, deadline < on)} AS outcome_{i}"
        for i, (agreement_id, deadline) in enumerate(inputs.agreements)
    ]


def _compliance_select(inputs: _Inputs, source: str = _PER_M) -> str:
    """The compliance rows of the municipalities in `source`, from their outcome codes.

    Columns: municipality_id, agreement_id, status, reason, lapsed_on, exempted.
    Parameters: `_compliance_params`.
    """
    n_req = len(inputs.requirements)
    words = range(_words(n_req))
    expired = ", ".join(f"expired_{w}" for w in words)
    # One arm per agreement; its deadline is a parameter (typed as a date on
    # both databases, which a literal is not).
    arms = [
        f"SELECT municipality_id, {int(agreement_id)} AS agreement_id, "
        f"%s AS deadline, outcome_{i} AS code, {expired} FROM {source}"
        for i, (agreement_id, _) in enumerate(inputs.agreements)
    ] or [
        f"SELECT municipality_id, CAST(NULL AS BIGINT) AS agreement_id, "
        f"CAST(NULL AS DATE) AS deadline, 0 AS code, {expired} FROM {source} WHERE 1 = 0"
    ]
    kinds = _values(
        ["code", "status", "reason", "exempted"],
        [
            [str(code), f"'{status}'", f"'{reason}'", "TRUE" if exempted else "FALSE"]
            for code, status, reason, exempted in _KINDS
        ],
        "0, '', '', FALSE",
    )
    # The requirements one by one, for the earliest expired planned date.
    requirements = _values(
        ["agreement_id", "block_id", "word", "bit"],
        [
            [str(int(a)), str(int(b)), str(i // _WORD), _bigint(1 << (i % _WORD))]
            for i, (a, b, _, _) in enumerate(inputs.requirements)
        ],
        "CAST(NULL AS BIGINT), CAST(NULL AS BIGINT), 0, CAST(NULL AS BIGINT)",
    )
    expired_of_word = (
        "CASE r.word "
        + " ".join(f"WHEN {w} THEN o.expired_{w}" for w in words)
        + " END"
    )
    return f"""
        SELECT o.municipality_id, o.agreement_id, k.status, k.reason,
            CASE o.code
                WHEN {_OVERDUE} THEN o.deadline
                -- Plan expired: the earliest planned date of its expired blocks.
                WHEN {_PLAN_EXPIRED} THEN (
                    SELECT MIN(s.planned_date)
                    FROM {_t(AdoptionStatus)} s
                    INNER JOIN {requirements} r ON r.block_id = s.block_id
                    WHERE s.municipality_id = o.municipality_id
                        AND r.agreement_id = o.agreement_id
                        AND ({expired_of_word} & r.bit) <> 0
                )
            END AS lapsed_on,
            k.exempted
        FROM ({" UNION ALL ".join(arms)}) o
        INNER JOIN {kinds} k ON k.code = o.code
    """


def _compliance_params(inputs: _Inputs) -> list[Any]:
    # Date objects: psycopg sends them typed as dates; Django's SQLite backend
    # adapts them to ISO text, as it stores dates.
    return [deadline for _, deadline in inputs.agreements]


def _build_table(inputs: _Inputs, on: datetime.date, *, full: bool) -> None:
    """Fill the recompute's temporary table (`_per_municipality`).

    For a full recompute each row also says whether the municipality's stored
    compliance rows may differ (`compliance_stale`, `_stored_compliance_check`).

    It holds every active municipality, also when one is recomputed: the
    aggregates need them all. On PostgreSQL a plain CREATE TABLE … AS may read
    with parallel workers (a statement with data-modifying CTEs never does);
    one round trip (no parameters: the constants are literals); dropped at
    commit, and a second recompute in the same transaction (nested atomic
    blocks) replaces it. SQLite keeps it for the connection until the next
    recompute.
    """
    select = _per_municipality(inputs, on)
    if full:
        # Read with the statuses, in parallel on PostgreSQL.
        summary, differs = _stored_compliance_check(inputs)
        select = f"""
            SELECT p.*, {differs} AS compliance_stale
            FROM ({select}) p
            LEFT JOIN ({summary}) s ON s.municipality_id = p.municipality_id
        """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"DROP TABLE IF EXISTS {_PER_M}; "
                f"CREATE TEMPORARY TABLE {_PER_M} ON COMMIT DROP AS {select}"
            )
        else:
            cursor.execute(f"DROP TABLE IF EXISTS temp.{_PER_M}")
            cursor.execute(f"CREATE TEMPORARY TABLE {_PER_M} AS {select}")


# --- writing only what changed -------------------------------------------------


def _sync(
    model,
    *,
    pk: str,
    keys: Sequence[str],
    values: Sequence[str],
    select: str,
    params: Sequence[Any],
    stamp: Any,
    municipality_id: int | None,
    ctes: str = "",
    scope_ids: str = "",
) -> int:
    """Bring `model`'s rows in line with `select`; return the rows written.

    Only rows whose values differ are updated, missing ones inserted and
    obsolete ones (former municipalities, removed agreements) deleted, so a
    recompute after a few edits writes a few rows. With `municipality_id`
    only that municipality's rows are compared; with `scope_ids` (a SELECT of
    municipality ids, which may read `ctes`: common table expressions without
    parameters, also visible to `select`) only the rows of those.
    PostgreSQL: one statement with data-modifying CTEs (a FULL JOIN, always a
    hash or merge join, pairs the new and stored rows once); SQLite: an
    upsert and a delete.
    """
    table = _t(model)
    one = municipality_id is not None
    scope_params = [municipality_id] if one else []
    scope = ""
    if one:
        scope = "municipality_id = %s"
    elif scope_ids and connection.vendor == "postgresql":
        # An array, not IN: the planner cannot tell how few ids there are and
        # would hash every stored row; with an array it looks them up by index.
        scope = f"municipality_id = ANY(ARRAY({scope_ids}))"
    elif scope_ids:
        scope = f"municipality_id IN ({scope_ids})"
    # SQLite: inside the statement, which Python's sqlite3 then still counts
    # (it reports no rowcount for a statement that starts with WITH).
    with_ = f"WITH {ctes}" if ctes else ""
    key_match = " AND ".join(f"c.{k} = n.{k}" for k in keys)
    columns = ", ".join([*keys, *values])
    stored = ", ".join(f"c.{v}" for v in values)
    new = ", ".join(f"n.{v}" for v in values)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            current = f"(SELECT * FROM {table} WHERE {scope})" if scope else table
            cursor.execute(
                f"""
                WITH {f"{ctes}," if ctes else ""} new AS ({select}),
                diff AS MATERIALIZED (
                    SELECT c.{pk} AS stored_pk, n.{keys[0]} IS NULL AS gone,
                        {", ".join(f"n.{col}" for col in [*keys, *values])}
                    FROM new n
                    FULL JOIN {current} c ON {key_match}
                    WHERE c.{pk} IS NULL OR n.{keys[0]} IS NULL
                        OR ({stored}) IS DISTINCT FROM ({new})
                ),
                changed AS (
                    UPDATE {table} c
                    SET {", ".join(f"{v} = d.{v}" for v in values)}, computed_at = %s
                    FROM diff d
                    WHERE c.{pk} = d.stored_pk AND NOT d.gone
                    RETURNING 1
                ),
                added AS (
                    INSERT INTO {table} ({columns}, computed_at)
                    SELECT {", ".join(f"d.{col}" for col in [*keys, *values])}, %s
                    FROM diff d WHERE d.stored_pk IS NULL
                    RETURNING 1
                ),
                removed AS (
                    DELETE FROM {table} c USING diff d
                    WHERE c.{pk} = d.stored_pk AND d.gone
                    RETURNING 1
                )
                SELECT (SELECT COUNT(*) FROM changed) + (SELECT COUNT(*) FROM added)
                    + (SELECT COUNT(*) FROM removed)
                """,
                [*params, *scope_params, stamp, stamp],
            )
            return int(cursor.fetchone()[0])
        cursor.execute(
            f"""
            INSERT INTO {table} ({columns}, computed_at)
            {with_} SELECT {columns}, %s FROM ({select}) n
            WHERE true
            ON CONFLICT ({", ".join(keys)}) DO UPDATE
                SET {", ".join(f"{v} = excluded.{v}" for v in values)},
                    computed_at = excluded.computed_at
                WHERE ({", ".join(f"{table}.{v}" for v in values)})
                    IS NOT ({", ".join(f"excluded.{v}" for v in values)})
            """,
            [stamp, *params],
        )
        written = cursor.rowcount
        cursor.execute(
            f"""
            DELETE FROM {table} WHERE {pk} IN (
                {with_} SELECT c.{pk} FROM {table} c
                WHERE {f"c.{scope} AND" if scope else ""} NOT EXISTS (SELECT 1 FROM ({select}) n WHERE {key_match})
            )
            """,
            [*scope_params, *params],
        )
        return written + cursor.rowcount


# Outcome codes packed per municipality, 4 bits each (code + 1, so that a
# missing row, 0, differs from every code): 15 agreements to a 60-bit word.
_PACKED = 15


def _packed_outcomes(inputs: _Inputs) -> list[str]:
    """Per word, the municipality's outcome codes (`_PER_M` row `p`) packed."""
    n = len(inputs.agreements)
    return [
        " + ".join(
            f"(p.outcome_{i} + 1) * {_bigint(16 ** (i % _PACKED))}"
            for i in range(w * _PACKED, min(n, (w + 1) * _PACKED))
        )
        for w in range(-(-n // _PACKED))
    ]


def _stored_code(inputs: _Inputs) -> str:
    """The `_KINDS` code (+ 1) of stored compliance row `c`; NULL for a row no rule gives.

    An overdue row lapsed on its agreement's deadline, a plan-expired one on
    a planned date (which one is not checked here: see
    `_stored_compliance_check`), any other on none. One branch per status, so
    that a row is compared with the kinds of its own status only.
    """
    on_deadline = " ".join(
        f"WHEN {int(agreement_id)} THEN c.lapsed_on = {_date(deadline)}"
        for agreement_id, deadline in inputs.agreements
    )
    branches: dict[str, list[str]] = {}
    for code, status, reason, exempted in _KINDS:
        lapsed = {
            _OVERDUE: f"CASE c.agreement_id {on_deadline} END" if on_deadline else "",
            _PLAN_EXPIRED: "c.lapsed_on IS NOT NULL",
        }.get(code, "c.lapsed_on IS NULL")
        branches.setdefault(str(status), []).append(
            f"WHEN c.reason = '{reason}' AND {'' if exempted else 'NOT '}c.exempted "
            f"AND {lapsed or '1 = 0'} THEN {code + 1}"
        )
    whens = " ".join(
        f"WHEN '{status}' THEN CASE {' '.join(kinds)} END"
        for status, kinds in branches.items()
    )
    return f"CASE c.status {whens} END"


def _stored_compliance_check(inputs: _Inputs) -> tuple[str, str]:
    """Which municipalities' stored compliance rows may differ from the pass's.

    Every stored row is read (a row changed behind the recompute's back is
    repaired), but compared per municipality: its number of rows and its
    rows' codes, packed as `_packed_outcomes` packs the new ones (a row of a
    removed agreement adds nothing to the codes but counts as a row). That
    is cheaper than decoding and pairing every row; the municipalities it
    picks are compared row by row, and so are those with a plan-expired
    outcome (its date is not in the code).

    Returns the stored rows summed per municipality (`s`) and the condition,
    over `s` and the pass's row `p`, that its rows differ.
    """
    n = len(inputs.agreements)
    words = _packed_outcomes(inputs)
    code = _stored_code(inputs)
    sums = []
    for w in range(len(words)):
        members = list(enumerate(inputs.agreements))[w * _PACKED : (w + 1) * _PACKED]
        weight = " ".join(
            f"WHEN {int(a)} THEN {_bigint(16 ** (i % _PACKED))}"
            for i, (a, _) in members
        )
        term = f"(CASE c.agreement_id {weight} END) * {code}"
        if len(words) > 1:
            # Each row's code is decided once, in the sum of its own word.
            ids = ", ".join(str(int(a)) for _, (a, _) in members)
            term = f"CASE WHEN c.agreement_id IN ({ids}) THEN {term} END"
        sums.append(f"SUM({term}) AS codes_{w}")
    summary = f"""
        SELECT c.municipality_id, COUNT(*) AS stored_rows
            {"".join(f", {column}" for column in sums)}
        FROM {_t(AgreementCompliance)} c
        GROUP BY c.municipality_id
    """
    differs = [
        "s.municipality_id IS NULL",
        f"s.stored_rows <> {n}",
        *(f"COALESCE(s.codes_{w}, -1) <> {packed}" for w, packed in enumerate(words)),
        *(f"p.outcome_{i} = {_PLAN_EXPIRED}" for i in range(n)),
    ]
    return summary, f"({' OR '.join(differs)})"


def _write_compliance(inputs: _Inputs, stamp: Any, municipality_id: int | None) -> int:
    one = municipality_id is not None
    if one:
        select = f"""
            SELECT * FROM ({_compliance_select(inputs)}) n
            WHERE n.municipality_id = %s
        """
        ctes = ""
    else:
        select = _compliance_select(inputs, source="stale_codes")
        # Former municipalities lose their rows.
        ctes = f"""
            stale AS (
                SELECT m.id AS municipality_id FROM {_t(Municipality)} m
                WHERE NOT m.active
                UNION ALL
                SELECT p.municipality_id FROM {_PER_M} p WHERE p.compliance_stale
            ),
            stale_codes AS (
                SELECT p.* FROM {_PER_M} p
                WHERE p.municipality_id IN (SELECT municipality_id FROM stale)
            )
        """
    return _sync(
        AgreementCompliance,
        pk="id",
        keys=["municipality_id", "agreement_id"],
        values=["status", "reason", "lapsed_on", "exempted"],
        select=select,
        params=[*_compliance_params(inputs), *([municipality_id] if one else [])],
        stamp=stamp,
        municipality_id=municipality_id,
        ctes=ctes,
        scope_ids="" if one else "SELECT municipality_id FROM stale",
    )


def _write_scores(inputs: _Inputs, stamp: Any, municipality_id: int | None) -> int:
    """Score rows from the pass, with the agreements counted from its outcome codes."""
    one = municipality_id is not None

    def count(*codes: int) -> str:
        terms = [
            f"CASE WHEN p.outcome_{i} IN ({', '.join(map(str, codes))}) THEN 1 ELSE 0 END"
            for i in range(len(inputs.agreements))
        ]
        return " + ".join(terms) or "0"

    def of(status: str) -> list[int]:
        return [code for code, kind, _, _ in _KINDS if kind == status]

    exempted = [code for code, _, _, exempt in _KINDS if exempt]
    counts = MunicipalityScore.agreement_count_fields()
    select = f"""
        SELECT p.municipality_id, p.score, p.rank,
            {"".join(f"{count(*of(s))} AS {field}, " for s, field in counts.items())}
            {count(*exempted)} AS agreements_exempted,
            p.category_scores, p.last_status_update,
            '{_method_version()}' AS method_version
        FROM {_PER_M} p
        {"WHERE p.municipality_id = %s" if one else ""}
    """
    return _sync(
        MunicipalityScore,
        pk="municipality_id",
        keys=["municipality_id"],
        values=[
            "score",
            "rank",
            *counts.values(),
            "agreements_exempted",
            "category_scores",
            "last_status_update",
            "method_version",
        ],
        select=select,
        params=[municipality_id] if one else [],
        stamp=stamp,
        municipality_id=municipality_id,
    )


def _rerank() -> None:
    """Rewrite the rank of every scored municipality whose rank changed."""
    table = _t(MunicipalityScore)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {table} SET rank = ranked.rk
            FROM (
                SELECT municipality_id AS mid, RANK() OVER (ORDER BY score DESC) AS rk
                FROM {table} WHERE score IS NOT NULL
            ) ranked
            WHERE {table}.municipality_id = ranked.mid
                AND ({table}.rank IS NULL OR {table}.rank <> ranked.rk)
            """
        )


# --- aggregates ----------------------------------------------------------------


def _group_totals(inputs: _Inputs) -> dict[GroupKey, GroupTotals]:
    """Totals per (size class, province), counted from the temporary table.

    Scores and "meets every agreement" from the written score rows; blocks in
    use or not applicable and agreement statuses from the pass's block sets
    and outcome codes: no second read of the status or compliance rows.
    """
    groups: dict[GroupKey, GroupTotals] = {}
    p, pr = _PER_M, _t(Province)
    agreements = len(inputs.agreements)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT p.size_class, pr.slug, p.population, sc.score, sc.agreements_met,
                sc.agreements_not_applicable
            FROM {p} p
            INNER JOIN {pr} pr ON pr.id = p.province_id
            LEFT JOIN {_t(MunicipalityScore)} sc
                ON sc.municipality_id = p.municipality_id
            """
        )
        for size_class, province, population, score, met, na in cursor.fetchall():
            totals = groups.setdefault((size_class, province), GroupTotals())
            totals.municipalities += 1
            totals.population += population
            totals.scores.append(score)
            totals.all_met += meets_every_agreement(met or 0, na or 0, agreements)
        # Per group: the municipalities per block state and per agreement outcome.
        block_columns = []
        for index in range(len(inputs.blocks)):
            word, bit = divmod(index, _WORD)
            for kind in ("in_use_blocks", "na_blocks"):
                has = f"(p.{kind}_{word} & {_bigint(1 << bit)}) <> 0"
                block_columns += [
                    f"COUNT(*) FILTER (WHERE {has})",
                    f"SUM(p.population) FILTER (WHERE {has})",
                ]
        outcome_columns = [
            f"COUNT(*) FILTER (WHERE p.outcome_{i} = {code})"
            for i in range(len(inputs.agreements))
            for code, *_ in _KINDS
        ]
        if block_columns or outcome_columns:
            cursor.execute(
                f"""
                SELECT p.size_class, pr.slug,
                    {", ".join([*block_columns, *outcome_columns])}
                FROM {p} p
                INNER JOIN {pr} pr ON pr.id = p.province_id
                GROUP BY p.size_class, pr.slug
                """
            )
            for size_class, province, *values in cursor.fetchall():
                totals = groups[(size_class, province)]
                for i, block_id in enumerate(inputs.block_ids):
                    in_use, in_use_pop, na, na_pop = (
                        int(v or 0) for v in values[4 * i : 4 * i + 4]
                    )
                    if in_use or na:
                        add_block_counts(
                            totals.blocks, block_id, in_use, na, in_use_pop, na_pop
                        )
                outcomes = iter(values[len(block_columns) :])
                for agreement_id in inputs.agreement_ids:
                    for _code, status, _reason, exempt in _KINDS:
                        n = int(next(outcomes) or 0)
                        if not n:
                            continue
                        key = (agreement_id, str(status))
                        totals.statuses[key] = totals.statuses.get(key, 0) + n
                        if exempt:
                            totals.exempted[agreement_id] = (
                                totals.exempted.get(agreement_id, 0) + n
                            )
    return groups


def _rewrite_aggregates(inputs: _Inputs, stamp: Any) -> int:
    rows = figure_rows(
        _group_totals(inputs),
        block_ids=inputs.block_ids,
        agreement_ids=inputs.agreement_ids,
    )
    Aggregate.objects.all().delete()
    return insert_rows(
        Aggregate,
        [*FIGURE_COLUMNS, "computed_at", "method_version"],
        [(*figure_record(row), stamp, METHOD_VERSION) for row in rows],
    )


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
