"""Set-based recomputation of the current scores (DESIGN §4).

`recompute_all()` rewrites every MunicipalityScore, AgreementCompliance and
Aggregate row in a fixed handful of SQL statements, whatever the number of
municipalities: the per-municipality work is INSERT … SELECT inside the
database, the aggregates are GROUP BY queries reduced in Python over at most
(size classes × provinces) groups. On PostgreSQL the scores and agreement
statuses come from one pass over the status rows (`_single_pass`: requirements
folded into bigint masks per municipality); SQLite, and PostgreSQL with more
than 63 requirements, take three passes (compliance, scores, aggregates).
`recompute_municipality(id)` does the same for one municipality (three
passes), re-ranks, and rewrites the aggregates.

The SQL is written out rather than built with the ORM because the compliance
query needs a cross join (municipality × agreement) the ORM cannot express;
it is plain SQL-92 plus window functions and runs on SQLite and PostgreSQL.
The level values and ranks in it come from buildingblocks.levels, and tests
check its answers against scoring.rules.
"""

from __future__ import annotations

import datetime
import logging
import math
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from agreements.models import Requirement, ResultAgreement
from buildingblocks.levels import LEVEL_RANK, LEVEL_VALUES, Level
from buildingblocks.models import AdoptionStatus, BuildingBlock
from municipalities.models import Municipality, Province
from scoring.figures import (
    IN_USE,
    IN_USE_POP,
    NOT_APPLICABLE,
    NOT_APPLICABLE_POP,
    FigureRow,
    GroupKey,
    GroupTotals,
    figure_rows,
)
from scoring.models import (
    Aggregate,
    AgreementCompliance,
    ComplianceStatus,
    MunicipalityScore,
)
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


def _level_case(column: str, mapping: dict[str, Any], default: str) -> str:
    """CASE column WHEN 'level' THEN n … END, from the Python constants."""
    whens = " ".join(f"WHEN '{level}' THEN {value}" for level, value in mapping.items())
    return f"CASE {column} {whens} ELSE {default} END"


def _lock(*, own_transaction: bool = False) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ADVISORY_LOCK_KEY])
            # For this transaction only: the per-municipality grouping of a full
            # recompute spills to disk at the default 4 MB, and JIT compilation
            # costs more than it saves on statements this short (`make bench`).
            settings = "SET LOCAL work_mem = '64MB'; SET LOCAL jit = off"
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


# --- compliance ----------------------------------------------------------------


def _compliance_select(*, one_municipality: bool) -> str:
    """(municipality_id, agreement_id, status) for every active municipality × agreement.

    Parameters: [on] or [on, municipality_id, municipality_id]. Mirrors
    rules.agreement_status. Only the statuses of required blocks are read (one
    hash join of the statuses with the requirements, grouped per municipality
    and agreement); a required block without a status row counts as missing
    and unplanned, so the cross join only has to compare counts.
    """
    level = "s.level"
    satisfied = (
        f"({level} = '{Level.NOT_APPLICABLE}' OR "
        f"{_level_case(level, LEVEL_RANK, '-1')} >= "
        f"{_level_case('r.minimum_level', LEVEL_RANK, '99')})"
    )
    requirements = f"""
        SELECT req.agreement_id, req.block_id, req.minimum_level
        FROM {_t(Requirement)} req
        INNER JOIN {_t(BuildingBlock)} rb ON rb.id = req.block_id
        WHERE rb.active
    """
    inner_where = "WHERE s.municipality_id = %s" if one_municipality else ""
    where = "AND m.id = %s" if one_municipality else ""
    return f"""
        SELECT m.id AS municipality_id, a.id AS agreement_id,
            CASE
                WHEN COALESCE(x.satisfied, 0) = n.required THEN 'met'
                WHEN a.deadline < %s THEN 'overdue'
                WHEN n.required - COALESCE(x.satisfied, 0)
                    - COALESCE(x.planned, 0) = 0 THEN 'on_track'
                ELSE 'at_risk'
            END AS status
        FROM {_t(Municipality)} m
        CROSS JOIN {_t(ResultAgreement)} a
        INNER JOIN (
            SELECT a2.id AS agreement_id, COUNT(r.block_id) AS required
            FROM {_t(ResultAgreement)} a2
            LEFT JOIN ({requirements}) r ON r.agreement_id = a2.id
            GROUP BY a2.id
        ) n ON n.agreement_id = a.id
        LEFT JOIN (
            SELECT s.municipality_id, r.agreement_id,
                SUM(CASE WHEN {satisfied} THEN 1 ELSE 0 END) AS satisfied,
                SUM(CASE WHEN NOT {satisfied} AND s.planned_date <= ra.deadline
                    THEN 1 ELSE 0 END) AS planned
            FROM {_t(AdoptionStatus)} s
            INNER JOIN ({requirements}) r ON r.block_id = s.block_id
            INNER JOIN {_t(ResultAgreement)} ra ON ra.id = r.agreement_id
            {inner_where}
            GROUP BY s.municipality_id, r.agreement_id
        ) x ON x.municipality_id = m.id AND x.agreement_id = a.id
        WHERE m.active {where}
    """


def _compliance_diff_ctes(table: str, current: str) -> str:
    """CTEs that bring `table` in line with a preceding `new` CTE, writing only changes.

    They define `changed`, `added` and `removed` (each RETURNING 1); the caller adds
    them up. Two parameters: the computed-at stamp for updated and for added rows.
    A FULL JOIN (always a hash or merge join, whatever the statistics say — a fresh,
    never analysed table once got a nested loop over the CTE that ran for minutes)
    pairs new and stored rows once.
    """
    return f"""
        diff AS MATERIALIZED (
            SELECT c.id, c.status AS old, n.municipality_id, n.agreement_id, n.status
            FROM new n
            FULL JOIN {current} c
                ON c.municipality_id = n.municipality_id
                AND c.agreement_id = n.agreement_id
            WHERE c.id IS NULL OR n.status IS NULL OR c.status <> n.status
        ),
        changed AS (
            UPDATE {table} c SET status = d.status, computed_at = %s
            FROM diff d
            WHERE c.id = d.id AND d.status IS NOT NULL
            RETURNING 1
        ),
        added AS (
            INSERT INTO {table} (municipality_id, agreement_id, status, computed_at)
            SELECT d.municipality_id, d.agreement_id, d.status, %s
            FROM diff d WHERE d.id IS NULL
            RETURNING 1
        ),
        removed AS (
            DELETE FROM {table} c USING diff d
            WHERE c.id = d.id AND d.status IS NULL
            RETURNING 1
        )"""


def _write_compliance(stamp: Any, day: Any, municipality_id: int | None) -> int:
    """Bring AgreementCompliance in line with the computed statuses; return rows written.

    Only rows whose status changed are updated, missing ones inserted and
    obsolete ones (merged municipalities) deleted, so a full recompute after a
    few edits writes a few rows instead of all of them (10,000 municipalities ×
    19 agreements = 190,000 rows). PostgreSQL does it in one statement with
    data-modifying CTEs; SQLite with an upsert and a delete.
    """
    table = _t(AgreementCompliance)
    one = municipality_id is not None
    select = _compliance_select(one_municipality=one)
    select_params = [day, municipality_id, municipality_id] if one else [day]
    scope = "AND c.municipality_id = %s" if one else ""
    scope_params = [municipality_id] if one else []
    obsolete = f"""
        SELECT c.id FROM {table} c
        WHERE NOT EXISTS (
            SELECT 1 FROM new n
            WHERE n.municipality_id = c.municipality_id
                AND n.agreement_id = c.agreement_id
        ) {scope}
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            current = (
                f"(SELECT * FROM {table} WHERE municipality_id = %s)" if one else table
            )
            cursor.execute(
                f"""
                WITH new AS MATERIALIZED ({select}),
                {_compliance_diff_ctes(table, current)}
                SELECT (SELECT COUNT(*) FROM changed) + (SELECT COUNT(*) FROM added)
                    + (SELECT COUNT(*) FROM removed)
                """,
                [*select_params, *scope_params, stamp, stamp],
            )
            return int(cursor.fetchone()[0])
        cursor.execute(
            f"""
            INSERT INTO {table} (municipality_id, agreement_id, status, computed_at)
            SELECT municipality_id, agreement_id, status, %s FROM ({select}) q
            WHERE true
            ON CONFLICT (municipality_id, agreement_id) DO UPDATE
                SET status = excluded.status, computed_at = excluded.computed_at
                WHERE {table}.status <> excluded.status
            """,
            [stamp, *select_params],
        )
        written = cursor.rowcount
        # No WITH here: sqlite3 reports no rowcount for statements starting with it.
        cursor.execute(
            f"DELETE FROM {table} WHERE id IN "
            f"({obsolete.replace('FROM new n', f'FROM ({select}) n')})",
            [*select_params, *scope_params],
        )
        return written + cursor.rowcount


# --- scores --------------------------------------------------------------------


def _active_blocks() -> tuple[list[int], float, dict[str, float]]:
    """Ids of the active blocks, their total weight and the total per category."""
    total = Decimal(0)
    per_category: dict[str, Decimal] = {}
    ids = []
    for block_id, category, weight in BuildingBlock.objects.filter(
        active=True
    ).values_list("id", "category", "weight"):
        ids.append(block_id)
        total += weight
        per_category[category] = per_category.get(category, Decimal(0)) + weight
    return ids, float(total), {c: float(w) for c, w in per_category.items()}


def _score_expr(total_weight: float, category: str | None) -> tuple[str, list[Any]]:
    """100 × Σ w·v / (W − Σ w over not_applicable) for one municipality's rows."""
    weight = f"CAST(b.weight AS {_float_type()})"
    value = _level_case("s.level", {k: float(v) for k, v in LEVEL_VALUES.items()}, "0")
    in_scope = "b.id IS NOT NULL"
    params: list[Any] = []
    if category is not None:
        in_scope += " AND b.category = %s"
    numerator = f"COALESCE(SUM(CASE WHEN {in_scope} AND s.level <> '{Level.NOT_APPLICABLE}' THEN {weight} * {value} END), 0)"
    excluded = f"COALESCE(SUM(CASE WHEN {in_scope} AND s.level = '{Level.NOT_APPLICABLE}' THEN {weight} END), 0)"
    denominator = f"(%s - {excluded})"
    expr = (
        f"CASE WHEN {denominator} > {_EMPTY_WEIGHT} "
        f"THEN 100.0 * {numerator} / {denominator} END"
    )
    # Placeholders in order of appearance: denominator, numerator, denominator.
    if category is not None:
        params = [total_weight, category, category, total_weight, category]
    else:
        params = [total_weight, total_weight]
    return expr, params


def _score_insert(
    *, one_municipality: bool, total_weight: float, category_weights: dict[str, float]
) -> tuple[str, list[Any]]:
    """INSERT … SELECT of MunicipalityScore rows, compliance counts included."""
    score_sql, params = _score_expr(total_weight, None)
    columns = [f"{score_sql} AS score"]
    category_columns = []
    for i, (category, weight) in enumerate(sorted(category_weights.items())):
        expr, expr_params = _score_expr(weight, category)
        columns.append(f"{expr} AS cat_{i}")
        params.extend(expr_params)
        category_columns.append((category, f"x.cat_{i}"))
    where = "AND m.id = %s" if one_municipality else ""
    rank = (
        "NULL"
        if one_municipality
        else "CASE WHEN x.score IS NULL THEN NULL ELSE RANK() OVER ("
        "ORDER BY CASE WHEN x.score IS NULL THEN 1 ELSE 0 END, x.score DESC) END"
    )
    counts = ", ".join(
        f"SUM(CASE WHEN status = '{status}' THEN 1 ELSE 0 END) AS {status}"
        for status in ("met", "on_track", "at_risk", "overdue")
    )
    sql = f"""
        INSERT INTO {_t(MunicipalityScore)} (
            municipality_id, score, rank, agreements_met, agreements_on_track,
            agreements_at_risk, agreements_overdue, category_scores,
            last_status_update, computed_at
        )
        SELECT x.municipality_id, x.score, {rank},
            COALESCE(c.met, 0), COALESCE(c.on_track, 0), COALESCE(c.at_risk, 0),
            COALESCE(c.overdue, 0), {_json_object(category_columns)},
            x.last_status_update, %s
        FROM (
            SELECT m.id AS municipality_id, {", ".join(columns)},
                MAX(CASE WHEN b.id IS NOT NULL THEN s.updated_at END)
                    AS last_status_update
            FROM {_t(Municipality)} m
            LEFT JOIN {_t(AdoptionStatus)} s ON s.municipality_id = m.id
            LEFT JOIN {_t(BuildingBlock)} b ON b.id = s.block_id AND b.active
            WHERE m.active {where}
            GROUP BY m.id
        ) x
        LEFT JOIN (
            SELECT municipality_id, {counts}
            FROM {_t(AgreementCompliance)}
            GROUP BY municipality_id
        ) c ON c.municipality_id = x.municipality_id
    """
    return sql, params


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


# --- single pass (PostgreSQL) ----------------------------------------------------


# Requirements are folded into bigint masks, one bit each (bit 63 is the sign).
_MASK_BITS = 63


def _literal(value: Any) -> str:
    """An SQL literal for a constant computed here (number, level, date, None).

    The single pass writes its few hundred constants into the statement rather
    than as parameters: client-side binding of ~1,300 placeholders cost more
    than the whole statement on the 342 real municipalities.
    """
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(value)
        return repr(value)  # round-trips: the same double as a parameter
    if isinstance(value, datetime.date):
        return f"DATE '{value.isoformat()}'"
    # %% because the statement is still executed with (a few) parameters.
    return "'" + str(value).replace("'", "''").replace("%", "%%") + "'"


# The per-municipality sums of a single pass (a temporary table, see _single_pass).
_PER_M = "nup_recompute_per_municipality"
# Levels numbered for the lookup key block_id * 8 + level number.
_LEVEL_NUMBERS = {level: i for i, level in enumerate(Level.values)}


def _lookup_key(block_id: int, level: str) -> int:
    return block_id * 8 + _LEVEL_NUMBERS[level]


def _row_key(alias: str) -> str:
    """SQL for the lookup key of a status row (see _lookup_key)."""
    whens = " ".join(f"WHEN '{level}' THEN {i}" for level, i in _LEVEL_NUMBERS.items())
    return f"{alias}.block_id * 8 + CASE {alias}.level {whens} END"


def _bits(indexes: Iterable[int]) -> int:
    """A bigint mask with the given bit positions set."""
    return sum(1 << i for i in set(indexes))


class _GroupPivot:
    """Per (size class, province), what the aggregates need, as SQL columns over
    the single pass's per-municipality rows (`y`), and back to GroupTotals.

    Agreement statuses are counted from the agreement masks, the blocks in use
    or not applicable from one bit per active block: no second read of the
    status or compliance rows.
    """

    def __init__(
        self, block_ids: list[int], agreement_ids: list[int], passed: list[bool]
    ) -> None:
        self.block_ids = block_ids
        self.agreements = list(zip(agreement_ids, passed, strict=True))
        columns = [
            "COUNT(*)",
            "SUM(y.population)",
            "array_agg(y.score)",
            f"COUNT(*) FILTER (WHERE y.met >= {len(agreement_ids)})",
        ]
        for i, (_, deadline_passed) in enumerate(self.agreements):
            columns.append(f"COUNT(*) FILTER (WHERE y.met_agreements & {1 << i} <> 0)")
            if not deadline_passed:
                columns.append(
                    f"COUNT(*) FILTER (WHERE y.on_track_agreements & {1 << i} <> 0)"
                )
        for index in range(len(block_ids)):
            for column in ("in_use_blocks", "na_blocks"):
                has = f"(y.{column} & {1 << index}) <> 0"
                columns += [
                    f"COUNT(*) FILTER (WHERE {has})",
                    f"SUM(y.population) FILTER (WHERE {has})",
                ]
        self.columns = columns

    def totals(self, values: Sequence[Any]) -> GroupTotals:
        """The GroupTotals of one group from its row of `columns`."""
        it = iter(values)
        n = int(next(it))
        totals = GroupTotals(
            municipalities=n,
            population=int(next(it) or 0),
            scores=list(next(it) or []),
            all_met=int(next(it)),
        )
        for agreement_id, deadline_passed in self.agreements:
            met = int(next(it))
            if deadline_passed:
                counts = {ComplianceStatus.MET: met, ComplianceStatus.OVERDUE: n - met}
            else:
                on_track = int(next(it))
                counts = {
                    ComplianceStatus.MET: met,
                    ComplianceStatus.ON_TRACK: on_track,
                    ComplianceStatus.AT_RISK: n - met - on_track,
                }
            for status, count in counts.items():
                if count:
                    totals.statuses[(agreement_id, status.value)] = count
        for block_id in self.block_ids:
            in_use, in_use_pop, na, na_pop = (int(next(it) or 0) for _ in range(4))
            if in_use or na:
                counts = [0, 0, 0, 0]
                counts[IN_USE], counts[IN_USE_POP] = in_use, in_use_pop
                counts[NOT_APPLICABLE], counts[NOT_APPLICABLE_POP] = na, na_pop
                totals.blocks[block_id] = counts
        return totals


def _single_pass(
    stamp: Any, on: datetime.date
) -> tuple[int, int, list[int], list[int], dict[GroupKey, GroupTotals]] | None:
    """Scores and agreement statuses of every municipality in one statement.

    PostgreSQL only. Returns (scores written, compliance rows written, active
    block ids, agreement ids, status counts per group: what the aggregates that
    follow need, see `_group_totals`), or None, writing nothing, when there are
    more requirements than bits in a bigint (the caller then takes the
    three-pass path).

    The status rows are read once, grouped per municipality, and hash-joined
    with a small table keyed by (block, level) built here from the blocks and
    the requirements: what the row adds to the score sums, and two bigint masks
    with one bit per requirement (of an active block) — the requirements this
    level satisfies, and those it leaves open. `bit_or` folds them per
    municipality into "requirements met" and "requirements open but planned on
    or before their agreement's deadline"; every agreement status then follows
    from its own requirement mask in the 10,000-row result (met: all its bits
    met; on track: all met or planned; overdue: the deadline has passed), and
    so do the agreement counts of the score row. Same rules as
    `_compliance_select` and `_score_insert` (which SQLite and
    `recompute_municipality` use): a required block without a status row is
    missing and unplanned. Compliance rows are written only where they changed,
    as in `_write_compliance`.
    """
    blocks = list(
        BuildingBlock.objects.filter(active=True).values_list(
            "id", "category", "weight"
        )
    )
    requirements = list(
        Requirement.objects.filter(block__active=True).values_list(
            "agreement_id", "block_id", "minimum_level", "agreement__deadline"
        )
    )
    agreements = list(ResultAgreement.objects.values_list("id", "deadline"))
    if max(len(requirements), len(blocks), len(agreements)) > _MASK_BITS:
        return None
    float_type = _float_type()
    categories = sorted({category for _, category, _ in blocks})
    total_weight = float(sum((w for _, _, w in blocks), Decimal(0)))
    category_weights = {
        c: float(sum((w for _, cat, w in blocks if cat == c), Decimal(0)))
        for c in categories
    }

    # (block, level) → score terms, requirement bits and the block's own bit.
    lookup_rows = []
    for index, (block_id, category, weight) in enumerate(blocks):
        w = float(weight)
        for level in Level.values:
            applicable = level != Level.NOT_APPLICABLE
            num = w * float(LEVEL_VALUES[level]) if applicable else None
            na = None if applicable else w
            met = [
                i
                for i, (_, b, minimum, _) in enumerate(requirements)
                if b == block_id
                and (not applicable or LEVEL_RANK[level] >= LEVEL_RANK[minimum])
            ]
            open_ = [
                i
                for i, (_, b, _, _) in enumerate(requirements)
                if b == block_id and i not in met
            ]
            values = [_lookup_key(block_id, level), num, na]
            for c in categories:
                values += [
                    num if c == category else None,
                    na if c == category else None,
                ]
            lookup_rows.append(
                f"({_literal(values[0])}, "
                + ", ".join(f"CAST({_literal(v)} AS {float_type})" for v in values[1:])
                + f", CAST({_bits(met)} AS BIGINT), CAST({_bits(open_)} AS BIGINT)"
                + f", CAST({1 << index if level == Level.IN_USE else 0} AS BIGINT)"
                + f", CAST({1 << index if not applicable else 0} AS BIGINT))"
            )
    if not lookup_rows:  # no active block: a row that joins nothing
        lookup_rows.append(
            "(CAST(NULL AS BIGINT), "
            + ", ".join([f"CAST(NULL AS {float_type})"] * 2)
            + ", CAST(NULL AS BIGINT), CAST(NULL AS BIGINT)" * 2
            + ")"
        )
    category_columns = [f"num_{i}, na_{i}" for i in range(len(categories))]
    lookup = f"""
        lk (key, num, na, {", ".join(category_columns) + "," if categories else ""}
            met, open, in_use_bit, na_bit) AS (VALUES {", ".join(lookup_rows)})
    """

    # Planned date → the requirements whose agreement deadline is on or after it.
    deadlines = sorted({d for *_, d in requirements})
    in_time_whens = [
        f"WHEN s.planned_date <= {_literal(d)} THEN CAST("
        f"{_bits(i for i, r in enumerate(requirements) if r[3] >= d)} AS BIGINT)"
        for d in deadlines
    ]
    zeros = "CAST(0 AS BIGINT)"
    in_time = (
        f"CASE {' '.join(in_time_whens)} ELSE {zeros} END" if in_time_whens else zeros
    )

    def score(num: str, na: str, total: float) -> str:
        denominator = f"(CAST({_literal(total)} AS {float_type}) - COALESCE({na}, 0))"
        return (
            f"CASE WHEN {denominator} > {_EMPTY_WEIGHT} "
            f"THEN 100.0 * COALESCE({num}, 0) / {denominator} END"
        )

    score_sql = score("p.num", "p.na", total_weight)
    json_pairs = [
        (c, score(f"p.num_{i}", f"p.na_{i}", category_weights[c]))
        for i, c in enumerate(categories)
    ]

    # Each agreement's status is decided once per municipality, as its bit in
    # two agreement masks: `met_agreements` and `on_track_agreements` (not met,
    # deadline ahead, every open requirement planned in time). With the agreements
    # whose deadline has passed (a constant) they give every status: met, else
    # overdue if the deadline passed, else on track, else at risk. The compliance
    # rows, the score row's counts, the counts per group and the compliance key
    # are all read from these bits.
    requirement_masks = [
        _bits(i for i, r in enumerate(requirements) if r[0] == a) for a, _ in agreements
    ]
    passed = [deadline < on for _, deadline in agreements]
    met_terms, on_track_terms = [], []
    for i, mask in enumerate(requirement_masks):
        met = f"(p.met & {mask}) = {mask}"
        met_terms.append(f"CASE WHEN {met} THEN {1 << i} ELSE 0 END")
        if not passed[i]:
            covered = f"((p.met | p.planned) & {mask}) = {mask}"
            on_track_terms.append(
                f"CASE WHEN NOT ({met}) AND {covered} THEN {1 << i} ELSE 0 END"
            )
    met_agreements = " + ".join([zeros, *met_terms])
    on_track_agreements = " + ".join([zeros, *on_track_terms])
    overdue_mask = _bits(i for i, p in enumerate(passed) if p)
    # The statuses as one text (the score row's `compliance_key`): the agreements
    # and those past their deadline, then the two masks.
    key_prefix = f"2;{','.join(str(a) for a, _ in agreements)};{overdue_mask};"
    agreement_rows = (
        ", ".join(
            f"({a}, CAST({1 << i} AS BIGINT), {_literal(passed[i])})"
            for i, (a, _) in enumerate(agreements)
        )
        or f"(CAST(NULL AS BIGINT), {zeros}, false)"
    )
    status_case = """
        CASE
            WHEN p.met_agreements & a.bit <> 0 THEN 'met'
            WHEN a.passed THEN 'overdue'
            WHEN p.on_track_agreements & a.bit <> 0 THEN 'on_track'
            ELSE 'at_risk'
        END"""

    def count(mask_sql: str) -> str:
        return f"bit_count(CAST({mask_sql} AS BIT(64)))"

    met_sql = count("p.met_agreements")
    on_track_sql = count("p.on_track_agreements")
    overdue_sql = count(f"(~p.met_agreements & {overdue_mask})")
    n = len(agreements)
    category_sums = "".join(
        f", SUM(l.num_{i}) AS num_{i}, SUM(l.na_{i}) AS na_{i}"
        for i in range(len(categories))
    )
    table, scores = _t(AgreementCompliance), _t(MunicipalityScore)
    pivot = _GroupPivot([b for b, _, _ in blocks], [a for a, _ in agreements], passed)
    # The pass over the status rows is a plain CREATE TABLE … AS, which may use
    # parallel workers; a statement with data-modifying CTEs (below) may not.
    # It also reads the municipality's group and its stored compliance key.
    per_m_sql = f"""
        CREATE TEMPORARY TABLE {_PER_M} ON COMMIT DROP AS
        WITH {lookup}
        SELECT q.*, {_literal(key_prefix)} || q.met_agreements || ','
            || q.on_track_agreements AS compliance_key
        FROM (
        SELECT p.*, {met_agreements} AS met_agreements,
            {on_track_agreements} AS on_track_agreements
        FROM (
            SELECT m.id AS municipality_id, m.size_class, m.province_id,
                m.population, sc.compliance_key AS stored_key,
                sc.municipality_id IS NOT NULL AS has_score, x.num, x.na,
                {", ".join(f"x.num_{i}, x.na_{i}" for i in range(len(categories))) + "," if categories else ""}
                x.last_status_update,
                COALESCE(x.met, {zeros}) AS met,
                COALESCE(x.planned, {zeros}) AS planned,
                COALESCE(x.in_use_blocks, {zeros}) AS in_use_blocks,
                COALESCE(x.na_blocks, {zeros}) AS na_blocks
            FROM {_t(Municipality)} m
            LEFT JOIN {_t(MunicipalityScore)} sc ON sc.municipality_id = m.id
            LEFT JOIN (
                SELECT s.municipality_id, SUM(l.num) AS num, SUM(l.na) AS na
                    {category_sums},
                    MAX(s.updated_at) AS last_status_update,
                    bit_or(l.met) AS met,
                    -- Most rows leave no requirement open: skip the date comparisons.
                    bit_or(CASE WHEN l.open = 0 THEN {zeros} ELSE l.open & {in_time} END)
                        AS planned,
                    bit_or(l.in_use_bit) AS in_use_blocks,
                    bit_or(l.na_bit) AS na_blocks
                FROM {_t(AdoptionStatus)} s
                -- One integer key, not (block, level): the planner then expects
                -- every status row to match (it guessed 1 in 250 for the pair
                -- and chose a sort over the 500,000 rows instead of hashing),
                -- and no text is built per row.
                INNER JOIN lk l ON l.key = {_row_key("s")}
                GROUP BY s.municipality_id
            ) x ON x.municipality_id = m.id
            WHERE m.active
        ) p
        ) q
    """
    sql = f"""
        WITH per_m AS (SELECT * FROM {_PER_M}),
        ag (agreement_id, bit, passed) AS (VALUES {agreement_rows}),
        -- Compliance rows are compared only where they may differ: municipalities
        -- whose statuses changed (or are unknown) and former ones.
        stale AS MATERIALIZED (
            SELECT municipality_id FROM per_m
            WHERE compliance_key IS DISTINCT FROM stored_key
        ),
        new AS MATERIALIZED (
            SELECT p.municipality_id, a.agreement_id, {status_case} AS status
            FROM per_m p
            INNER JOIN stale USING (municipality_id)
            CROSS JOIN ag a
            WHERE a.agreement_id IS NOT NULL
        ),
        current_rows AS (
            SELECT c.* FROM {table} c
            INNER JOIN stale USING (municipality_id)
            UNION ALL
            SELECT c.* FROM {table} c
            INNER JOIN {_t(Municipality)} m ON m.id = c.municipality_id
            WHERE NOT m.active
        ),
        {_compliance_diff_ctes(table, "current_rows")},
        y AS MATERIALIZED (
            SELECT z.*,
                CASE WHEN z.score IS NULL THEN NULL ELSE RANK() OVER (
                    ORDER BY CASE WHEN z.score IS NULL THEN 1 ELSE 0 END,
                    z.score DESC) END AS rank
            FROM (
                SELECT p.municipality_id, p.has_score, p.size_class, p.province_id,
                    p.population, p.met_agreements, p.on_track_agreements,
                    p.in_use_blocks, p.na_blocks,
                    {score_sql} AS score,
                    {met_sql} AS met, {on_track_sql} AS on_track,
                    {overdue_sql} AS overdue,
                    {_json_object(json_pairs)} AS categories, p.last_status_update,
                    p.compliance_key
                FROM per_m p
            ) z
        ),
        -- Only score rows that changed are written (their computed_at says when
        -- the figures were last computed differently); a quiet night writes none.
        updated AS (
            UPDATE {scores} s SET score = y.score, rank = y.rank,
                agreements_met = y.met, agreements_on_track = y.on_track,
                agreements_at_risk = {n} - y.met - y.on_track - y.overdue,
                agreements_overdue = y.overdue, category_scores = y.categories,
                last_status_update = y.last_status_update, computed_at = %s,
                compliance_key = y.compliance_key
            FROM y
            WHERE s.municipality_id = y.municipality_id AND y.has_score
                AND (s.score, s.rank, s.agreements_met, s.agreements_on_track,
                    s.agreements_overdue, s.category_scores, s.last_status_update,
                    s.compliance_key)
                IS DISTINCT FROM (y.score, y.rank, y.met, y.on_track, y.overdue,
                    y.categories, y.last_status_update, y.compliance_key)
            RETURNING 1
        ),
        inserted AS (
            INSERT INTO {scores} (
                municipality_id, score, rank, agreements_met, agreements_on_track,
                agreements_at_risk, agreements_overdue, category_scores,
                last_status_update, computed_at, compliance_key
            )
            SELECT y.municipality_id, y.score, y.rank, y.met, y.on_track,
                {n} - y.met - y.on_track - y.overdue, y.overdue, y.categories,
                y.last_status_update, %s, y.compliance_key
            FROM y WHERE NOT y.has_score
            RETURNING 1
        ),
        dropped AS (
            DELETE FROM {scores} s USING {_t(Municipality)} m
            WHERE m.id = s.municipality_id AND NOT m.active
        )
        -- The rows written, and what the aggregates need per (size class,
        -- province): counted from the masks, without another read of the
        -- status rows (see _group_pivot).
        SELECT w.compliance, w.scores, pr.slug, g.*
        FROM (
            SELECT (SELECT COUNT(*) FROM changed) + (SELECT COUNT(*) FROM added)
                + (SELECT COUNT(*) FROM removed) AS compliance,
                (SELECT COUNT(*) FROM updated) + (SELECT COUNT(*) FROM inserted)
                    AS scores
        ) w
        LEFT JOIN (
            SELECT y.size_class, y.province_id, {", ".join(pivot.columns)}
            FROM y GROUP BY y.size_class, y.province_id
        ) g ON true
        LEFT JOIN {_t(Province)} pr ON pr.id = g.province_id
    """
    params = [stamp, stamp, stamp, stamp]  # changed, added, updated, inserted
    with connection.cursor() as cursor:
        # One round trip. The table is dropped at commit; a second recompute in
        # the same transaction (nested atomic blocks) replaces it.
        cursor.execute(f"DROP TABLE IF EXISTS {_PER_M}; {per_m_sql}")
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    compliance, scores = rows[0][:2]
    groups = {
        (row[3], row[2]): pivot.totals(row[5:]) for row in rows if row[3] is not None
    }
    return (
        int(scores),
        int(compliance),
        [b for b, _, _ in blocks],
        [a for a, _ in agreements],
        groups,
    )


# --- aggregates ----------------------------------------------------------------


def _group_totals(block_ids: list[int], agreements: int) -> dict[GroupKey, GroupTotals]:
    """Totals per (size class, province) from three GROUP BY queries.

    The single pass counts the same from its own rows (`_GroupPivot`).
    """
    groups: dict[GroupKey, GroupTotals] = {}
    m, p = _t(Municipality), _t(Province)
    active_blocks = set(block_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT m.size_class, p.slug, m.population, sc.score, sc.agreements_met
            FROM {m} m
            INNER JOIN {p} p ON p.id = m.province_id
            LEFT JOIN {_t(MunicipalityScore)} sc ON sc.municipality_id = m.id
            WHERE m.active
            """
        )
        for size_class, province, population, score, met in cursor.fetchall():
            totals = groups.setdefault((size_class, province), GroupTotals())
            totals.municipalities += 1
            totals.population += population
            totals.scores.append(score)
            if (met or 0) >= agreements:
                totals.all_met += 1
        cursor.execute(
            f"""
            SELECT m.size_class, p.slug, s.block_id, s.level,
                COUNT(*), SUM(m.population)
            FROM {_t(AdoptionStatus)} s
            INNER JOIN {m} m ON m.id = s.municipality_id
            INNER JOIN {p} p ON p.id = m.province_id
            WHERE m.active AND s.level IN (%s, %s)
            GROUP BY m.size_class, p.slug, s.block_id, s.level
            """,
            [Level.IN_USE.value, Level.NOT_APPLICABLE.value],
        )
        for size_class, province, block_id, level, count, population in cursor:
            if block_id not in active_blocks:
                continue
            counts = groups[(size_class, province)].blocks.setdefault(
                block_id, [0, 0, 0, 0]
            )
            if level == Level.IN_USE:
                counts[IN_USE] += count
                counts[IN_USE_POP] += int(population)
            else:
                counts[NOT_APPLICABLE] += count
                counts[NOT_APPLICABLE_POP] += int(population)
        cursor.execute(
            f"""
            SELECT m.size_class, p.slug, c.agreement_id, c.status, COUNT(*)
            FROM {_t(AgreementCompliance)} c
            INNER JOIN {m} m ON m.id = c.municipality_id
            INNER JOIN {p} p ON p.id = m.province_id
            WHERE m.active
            GROUP BY m.size_class, p.slug, c.agreement_id, c.status
            """
        )
        for size_class, province, agreement_id, status, count in cursor:
            groups[(size_class, province)].statuses[(agreement_id, status)] = count
    return groups


FIGURE_COLUMNS = (
    "scope",
    "key",
    "measure",
    "block_id",
    "agreement_id",
    "status",
    "value",
)


def figure_record(row: FigureRow) -> tuple[Any, ...]:
    """A figure row with plain strings (choices enums are not sent to the driver)."""
    scope, key, measure, block, agreement, status, value = row
    return (str(scope), key, str(measure), block, agreement, str(status), value)


def insert_rows(model, columns: Sequence[str], records: Sequence[tuple]) -> int:
    """Insert many rows in one statement: COPY on PostgreSQL, executemany elsewhere."""
    if not records:
        return 0
    table = _t(model)
    column_list = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor:
        raw = getattr(cursor, "cursor", None)
        if connection.vendor == "postgresql" and hasattr(raw, "copy"):
            # COPY is the fast path for the ~10⁵ snapshot rows of 15 years.
            with raw.copy(f"COPY {table} ({column_list}) FROM STDIN") as copy:
                for record in records:
                    copy.write_row(record)
        else:
            placeholders = ", ".join(["%s"] * len(columns))
            cursor.executemany(
                f"INSERT INTO {table} ({column_list}) VALUES ({placeholders})",
                records,
            )
    return len(records)


def _rewrite_aggregates(
    block_ids: list[int],
    stamp: Any,
    agreement_ids: list[int] | None = None,
    *,
    groups: dict[GroupKey, GroupTotals] | None = None,
) -> int:
    if agreement_ids is None:
        agreement_ids = list(ResultAgreement.objects.values_list("id", flat=True))
    if groups is None:
        groups = _group_totals(block_ids, len(agreement_ids))
    rows = figure_rows(groups, block_ids=block_ids, agreement_ids=agreement_ids)
    Aggregate.objects.all().delete()
    return insert_rows(
        Aggregate,
        [*FIGURE_COLUMNS, "computed_at"],
        [(*figure_record(row), stamp) for row in rows],
    )


# --- public API ----------------------------------------------------------------


def recompute_all(*, today: datetime.date | None = None) -> dict[str, int]:
    """Rewrite every score, compliance row and aggregate; return rows written."""
    now = timezone.now()
    on = today or timezone.localdate(now)
    # Raw SQL parameters get the backend's own representation (text on SQLite).
    stamp = connection.ops.adapt_datetimefield_value(now)
    day = connection.ops.adapt_datefield_value(on)
    own_transaction = not connection.in_atomic_block
    with transaction.atomic():
        _lock(own_transaction=own_transaction)
        data_changed()
        # PostgreSQL: one pass over the status rows (see _single_pass).
        done = _single_pass(stamp, on) if connection.vendor == "postgresql" else None
        if done is not None:
            scores, compliance, block_ids, agreement_ids, groups = done
            aggregates = _rewrite_aggregates(
                block_ids, stamp, agreement_ids, groups=groups
            )
            return {
                "scores": scores,
                "compliance": compliance,
                "aggregates": aggregates,
            }
        block_ids, total_weight, category_weights = _active_blocks()
        compliance = _write_compliance(stamp, day, None)
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {_t(MunicipalityScore)}")
            sql, params = _score_insert(
                one_municipality=False,
                total_weight=total_weight,
                category_weights=category_weights,
            )
            cursor.execute(sql, [stamp, *params])
            scores = cursor.rowcount
        aggregates = _rewrite_aggregates(block_ids, stamp)
    return {"scores": scores, "compliance": compliance, "aggregates": aggregates}


def recompute_municipality(
    municipality_id: int, *, today: datetime.date | None = None
) -> dict[str, int]:
    """Rewrite one municipality's score and compliance, re-rank, rewrite aggregates.

    An inactive (merged) municipality loses its rows.
    """
    now = timezone.now()
    on = today or timezone.localdate(now)
    # Raw SQL parameters get the backend's own representation (text on SQLite).
    stamp = connection.ops.adapt_datetimefield_value(now)
    day = connection.ops.adapt_datefield_value(on)
    own_transaction = not connection.in_atomic_block
    with transaction.atomic():
        _lock(own_transaction=own_transaction)
        data_changed()
        block_ids, total_weight, category_weights = _active_blocks()
        compliance = _write_compliance(stamp, day, municipality_id)
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {_t(MunicipalityScore)} WHERE municipality_id = %s",
                [municipality_id],
            )
            sql, params = _score_insert(
                one_municipality=True,
                total_weight=total_weight,
                category_weights=category_weights,
            )
            cursor.execute(sql, [stamp, *params, municipality_id])
            scores = cursor.rowcount
        _rerank()
        aggregates = _rewrite_aggregates(block_ids, stamp)
    return {"scores": scores, "compliance": compliance, "aggregates": aggregates}
