"""Set-based recomputation of the current scores (DESIGN §4).

`recompute_all()` rewrites every MunicipalityScore, AgreementCompliance and
Aggregate row in a fixed handful of SQL statements, whatever the number of
municipalities: the per-municipality work is INSERT … SELECT inside the
database, the aggregates are GROUP BY queries reduced in Python over at most
(size classes × provinces) groups. One path on SQLite and PostgreSQL alike
(issue 20): three passes — compliance (`_compliance_select`, the SQL form of
rules.agreement_outcome), scores, aggregates. A PostgreSQL-only single pass
with bigint requirement masks was removed so that the rules are encoded once
in SQL; `make bench` measures what that costs (docs/performance.md, round 4).
`recompute_municipality(id)` does the same for one municipality, re-ranks,
and rewrites the aggregates.

Weights, active flags and requirements are the versions in force on the day
of the recompute (`_blocks_in_force`, `_in_force`): BlockVersion and the
requirement rows carry validity periods, so a change from a date on moves the
figures from that date only (issue 14).

The SQL is written out rather than built with the ORM because the compliance
query needs a cross join (municipality × agreement) the ORM cannot express;
it is plain SQL-92 plus window functions and runs on SQLite and PostgreSQL.
The level values and ranks in it come from buildingblocks.levels, and tests
check its answers against scoring.rules.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from agreements.models import Requirement, ResultAgreement
from buildingblocks.levels import LEVEL_RANK, LEVEL_VALUES, Level
from buildingblocks.models import AdoptionStatus, BlockVersion, BuildingBlock
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


def _in_force(alias: str, on: datetime.date) -> str:
    """SQL: the version row `alias` applies on `on` (scoring.rules.in_force).

    The date is written as an ISO literal (a date object, never user input):
    it compares as a date on PostgreSQL and as the stored ISO text on SQLite,
    and keeps the statements' positional parameters as they were.
    """
    day = f"'{on.isoformat()}'"
    return (
        f"({alias}.valid_from <= {day} AND "
        f"({alias}.valid_until IS NULL OR {alias}.valid_until > {day}))"
    )


def _blocks_in_force(on: datetime.date) -> str:
    """SQL: (id, weight, category) of the blocks active on `on`, with that day's weight."""
    return f"""
        SELECT v.block_id AS id, v.weight, bb.category
        FROM {_t(BlockVersion)} v
        INNER JOIN {_t(BuildingBlock)} bb ON bb.id = v.block_id
        WHERE v.active AND {_in_force("v", on)}
    """


def _method_version() -> str:
    """METHOD_VERSION as it goes into the SQL (a constant of ours, checked)."""
    if not METHOD_VERSION.isalnum():
        raise ValueError(f"METHOD_VERSION must be alphanumeric: {METHOD_VERSION!r}")
    return METHOD_VERSION


def _json_object(pairs: Sequence[tuple[str, str]]) -> str:
    function = (
        "jsonb_build_object" if connection.vendor == "postgresql" else "json_object"
    )
    args = ", ".join(f"'{key}', {expr}" for key, expr in pairs)
    return f"{function}({args})"


# --- compliance ----------------------------------------------------------------


def _conditional_requirements(on: datetime.date) -> str:
    """SQL adding, per municipality × agreement, the requirements with a population
    threshold that the municipality reaches (`m`, `a`); "" when there are none.

    The thresholds are few (reference data), so they are written out as integer
    literals rather than joined: a join would multiply the municipality ×
    agreement rows by the thresholds only to sum them again.
    """
    terms = [
        f" + CASE WHEN a.id = {int(agreement_id)} AND m.population >= "
        f"{int(threshold)} THEN {int(count)} ELSE 0 END"
        for agreement_id, threshold, count in Requirement.objects.in_force(on)
        .filter(
            block__in=BlockVersion.objects.in_force(on)
            .filter(active=True)
            .values("block_id"),
            min_population__isnull=False,
        )
        .values_list("agreement_id", "min_population")
        .annotate(count=Count("id"))
        .order_by("agreement_id", "min_population")
    ]
    return "".join(terms)


def _compliance_select(*, one_municipality: bool, on: datetime.date) -> str:
    """The outcome of every active municipality × agreement on `on`.

    Columns: municipality_id, agreement_id, status, reason, lapsed_on, exempted.
    Parameters: `_compliance_params(on, municipality_id)`.
    Mirrors rules.agreement_outcome. Only the statuses of required blocks are
    read (one hash join of the statuses with the requirements that apply to the
    municipality, grouped per municipality and agreement); a required block
    without a status row counts as missing and unplanned, so the outer query
    only compares counts: `required` (requirements that apply, from the few
    population thresholds), `na` (dropped out), `satisfied`, and the missing
    ones planned in time, planned after the deadline or planned in the past.
    The requirements and blocks are the versions in force on `on`.
    """
    level = "s.level"
    na = f"{level} = '{Level.NOT_APPLICABLE}'"
    satisfied = (
        f"(NOT {na} AND {_level_case(level, LEVEL_RANK, '-1')} >= "
        f"{_level_case('r.minimum_level', LEVEL_RANK, '99')})"
    )
    missing = f"NOT {na} AND NOT {satisfied}"
    requirements = f"""
        SELECT req.agreement_id, req.block_id, req.minimum_level,
            req.min_population
        FROM {_t(Requirement)} req
        INNER JOIN ({_blocks_in_force(on)}) rb ON rb.id = req.block_id
        WHERE {_in_force("req", on)}
    """
    applies = "(r.min_population IS NULL OR sm.population >= r.min_population)"
    inner_where = "AND s.municipality_id = %s" if one_municipality else ""
    where = "AND m.id = %s" if one_municipality else ""
    unplanned = "y.required - y.na - y.satisfied - y.in_time - y.late - y.expired"
    return f"""
        SELECT y.municipality_id, y.agreement_id,
            CASE
                WHEN y.required - y.na = 0 THEN '{ComplianceStatus.NOT_APPLICABLE}'
                WHEN y.satisfied = y.required - y.na THEN '{ComplianceStatus.MET}'
                WHEN y.deadline < %s THEN '{ComplianceStatus.OVERDUE}'
                WHEN {unplanned} + y.late + y.expired = 0
                    THEN '{ComplianceStatus.ON_TRACK}'
                ELSE '{ComplianceStatus.AT_RISK}'
            END AS status,
            CASE
                WHEN y.required - y.na = 0 OR y.satisfied = y.required - y.na
                    THEN ''
                WHEN y.deadline < %s THEN '{ComplianceReason.DEADLINE_PASSED}'
                WHEN {unplanned} > 0 THEN '{ComplianceReason.UNPLANNED}'
                WHEN y.late > 0 THEN '{ComplianceReason.PLANNED_LATE}'
                WHEN y.expired > 0 THEN '{ComplianceReason.PLAN_EXPIRED}'
                ELSE ''
            END AS reason,
            CASE
                WHEN y.required - y.na = 0 OR y.satisfied = y.required - y.na
                    THEN NULL
                WHEN y.deadline < %s THEN y.deadline
                WHEN {unplanned} + y.late > 0 THEN NULL
                ELSE y.first_expired
            END AS lapsed_on,
            CASE WHEN y.na > 0 AND y.required > y.na
                AND y.satisfied = y.required - y.na THEN TRUE ELSE FALSE END
                AS exempted
        FROM (
            SELECT m.id AS municipality_id, a.id AS agreement_id, a.deadline,
                COALESCE(n.required, 0){_conditional_requirements(on)} AS required,
                COALESCE(x.na, 0) AS na, COALESCE(x.satisfied, 0) AS satisfied,
                COALESCE(x.in_time, 0) AS in_time, COALESCE(x.late, 0) AS late,
                COALESCE(x.expired, 0) AS expired, x.first_expired
            FROM {_t(Municipality)} m
            CROSS JOIN {_t(ResultAgreement)} a
            LEFT JOIN (
                SELECT r.agreement_id, COUNT(*) AS required
                FROM ({requirements}) r
                WHERE r.min_population IS NULL
                GROUP BY r.agreement_id
            ) n ON n.agreement_id = a.id
            LEFT JOIN (
                SELECT s.municipality_id, r.agreement_id,
                    SUM(CASE WHEN {na} THEN 1 ELSE 0 END) AS na,
                    SUM(CASE WHEN {satisfied} THEN 1 ELSE 0 END) AS satisfied,
                    SUM(CASE WHEN {missing} AND s.planned_date >= %s
                        AND s.planned_date <= ra.deadline THEN 1 ELSE 0 END)
                        AS in_time,
                    SUM(CASE WHEN {missing} AND s.planned_date > ra.deadline
                        THEN 1 ELSE 0 END) AS late,
                    SUM(CASE WHEN {missing} AND s.planned_date < %s
                        THEN 1 ELSE 0 END) AS expired,
                    MIN(CASE WHEN {missing} AND s.planned_date < %s
                        THEN s.planned_date END) AS first_expired
                FROM {_t(AdoptionStatus)} s
                INNER JOIN ({requirements}) r ON r.block_id = s.block_id
                INNER JOIN {_t(Municipality)} sm ON sm.id = s.municipality_id
                INNER JOIN {_t(ResultAgreement)} ra ON ra.id = r.agreement_id
                WHERE {applies} {inner_where}
                GROUP BY s.municipality_id, r.agreement_id
            ) x ON x.municipality_id = m.id AND x.agreement_id = a.id
            WHERE m.active {where}
        ) y
    """


def _compliance_params(day: Any, municipality_id: int | None) -> list[Any]:
    """The parameters of `_compliance_select`, in order of appearance."""
    one = [municipality_id, municipality_id] if municipality_id is not None else []
    return [day] * 6 + one


_OUTCOME = "c.status, c.reason, c.lapsed_on, c.exempted"
_OUTCOME_COLUMNS = "municipality_id, agreement_id, status, reason, lapsed_on, exempted"


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
            SELECT c.id, n.municipality_id, n.agreement_id, n.status, n.reason,
                n.lapsed_on, n.exempted
            FROM new n
            FULL JOIN {current} c
                ON c.municipality_id = n.municipality_id
                AND c.agreement_id = n.agreement_id
            WHERE c.id IS NULL OR n.status IS NULL
                OR ({_OUTCOME}) IS DISTINCT FROM
                    (n.status, n.reason, n.lapsed_on, n.exempted)
        ),
        changed AS (
            UPDATE {table} c SET status = d.status, reason = d.reason,
                lapsed_on = d.lapsed_on, exempted = d.exempted, computed_at = %s
            FROM diff d
            WHERE c.id = d.id AND d.status IS NOT NULL
            RETURNING 1
        ),
        added AS (
            INSERT INTO {table} ({_OUTCOME_COLUMNS}, computed_at)
            SELECT d.municipality_id, d.agreement_id, d.status, d.reason,
                d.lapsed_on, d.exempted, %s
            FROM diff d WHERE d.id IS NULL
            RETURNING 1
        ),
        removed AS (
            DELETE FROM {table} c USING diff d
            WHERE c.id = d.id AND d.status IS NULL
            RETURNING 1
        )"""


def _write_compliance(
    stamp: Any, on: datetime.date, municipality_id: int | None
) -> int:
    """Bring AgreementCompliance in line with the computed statuses; return rows written.

    Only rows whose status changed are updated, missing ones inserted and
    obsolete ones (merged municipalities) deleted, so a full recompute after a
    few edits writes a few rows instead of all of them (10,000 municipalities ×
    19 agreements = 190,000 rows). PostgreSQL does it in one statement with
    data-modifying CTEs; SQLite with an upsert and a delete.
    """
    table = _t(AgreementCompliance)
    one = municipality_id is not None
    select = _compliance_select(one_municipality=one, on=on)
    # Raw SQL parameters get the backend's own representation (text on SQLite).
    day = connection.ops.adapt_datefield_value(on)
    select_params = _compliance_params(day, municipality_id)
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
            INSERT INTO {table} ({_OUTCOME_COLUMNS}, computed_at)
            SELECT {_OUTCOME_COLUMNS}, %s FROM ({select}) q
            WHERE true
            ON CONFLICT (municipality_id, agreement_id) DO UPDATE
                SET status = excluded.status, reason = excluded.reason,
                    lapsed_on = excluded.lapsed_on, exempted = excluded.exempted,
                    computed_at = excluded.computed_at
                WHERE ({table}.status, {table}.reason, {table}.lapsed_on,
                    {table}.exempted) IS NOT (excluded.status, excluded.reason,
                    excluded.lapsed_on, excluded.exempted)
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


def _active_blocks(on: datetime.date) -> tuple[list[int], float, dict[str, float]]:
    """Ids of the blocks active on `on`, their total weight and the total per category."""
    total = Decimal(0)
    per_category: dict[str, Decimal] = {}
    ids = []
    for block_id, category, weight in (
        BlockVersion.objects.in_force(on)
        .filter(active=True)
        .values_list("block_id", "block__category", "weight")
    ):
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
    *,
    one_municipality: bool,
    on: datetime.date,
    total_weight: float,
    category_weights: dict[str, float],
) -> tuple[str, list[Any]]:
    """INSERT … SELECT of MunicipalityScore rows, compliance counts included.

    The weights are those of the block versions in force on `on`.
    """
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
        for status in ComplianceStatus.values
    )
    sql = f"""
        INSERT INTO {_t(MunicipalityScore)} (
            municipality_id, score, rank, agreements_met, agreements_on_track,
            agreements_at_risk, agreements_overdue, agreements_not_applicable,
            agreements_exempted, category_scores, last_status_update, computed_at,
            method_version
        )
        SELECT x.municipality_id, x.score, {rank},
            COALESCE(c.met, 0), COALESCE(c.on_track, 0), COALESCE(c.at_risk, 0),
            COALESCE(c.overdue, 0), COALESCE(c.not_applicable, 0),
            COALESCE(c.exempted, 0), {_json_object(category_columns)},
            x.last_status_update, %s, '{_method_version()}'
        FROM (
            SELECT m.id AS municipality_id, {", ".join(columns)},
                MAX(CASE WHEN b.id IS NOT NULL THEN s.updated_at END)
                    AS last_status_update
            FROM {_t(Municipality)} m
            LEFT JOIN {_t(AdoptionStatus)} s ON s.municipality_id = m.id
            LEFT JOIN ({_blocks_in_force(on)}) b ON b.id = s.block_id
            WHERE m.active {where}
            GROUP BY m.id
        ) x
        LEFT JOIN (
            SELECT municipality_id, {counts},
                SUM(CASE WHEN exempted THEN 1 ELSE 0 END) AS exempted
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


# --- aggregates ----------------------------------------------------------------


def _group_totals(block_ids: list[int], agreements: int) -> dict[GroupKey, GroupTotals]:
    """Totals per (size class, province) from three GROUP BY queries."""
    groups: dict[GroupKey, GroupTotals] = {}
    m, p = _t(Municipality), _t(Province)
    active_blocks = set(block_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT m.size_class, p.slug, m.population, sc.score, sc.agreements_met,
                sc.agreements_not_applicable
            FROM {m} m
            INNER JOIN {p} p ON p.id = m.province_id
            LEFT JOIN {_t(MunicipalityScore)} sc ON sc.municipality_id = m.id
            WHERE m.active
            """
        )
        for size_class, province, population, score, met, na in cursor.fetchall():
            totals = groups.setdefault((size_class, province), GroupTotals())
            totals.municipalities += 1
            totals.population += population
            totals.scores.append(score)
            totals.all_met += meets_every_agreement(met or 0, na or 0, agreements)
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
            SELECT m.size_class, p.slug, c.agreement_id, c.status, c.exempted,
                COUNT(*)
            FROM {_t(AgreementCompliance)} c
            INNER JOIN {m} m ON m.id = c.municipality_id
            INNER JOIN {p} p ON p.id = m.province_id
            WHERE m.active
            GROUP BY m.size_class, p.slug, c.agreement_id, c.status, c.exempted
            """
        )
        for size_class, province, agreement_id, status, exempted, count in cursor:
            totals = groups[(size_class, province)]
            key = (agreement_id, status)
            totals.statuses[key] = totals.statuses.get(key, 0) + count
            if exempted:
                totals.exempted[agreement_id] = (
                    totals.exempted.get(agreement_id, 0) + count
                )
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
    own_transaction = not connection.in_atomic_block
    with transaction.atomic():
        _lock(own_transaction=own_transaction)
        data_changed()
        block_ids, total_weight, category_weights = _active_blocks(on)
        compliance = _write_compliance(stamp, on, None)
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {_t(MunicipalityScore)}")
            sql, params = _score_insert(
                one_municipality=False,
                on=on,
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
    own_transaction = not connection.in_atomic_block
    with transaction.atomic():
        _lock(own_transaction=own_transaction)
        data_changed()
        block_ids, total_weight, category_weights = _active_blocks(on)
        compliance = _write_compliance(stamp, on, municipality_id)
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {_t(MunicipalityScore)} WHERE municipality_id = %s",
                [municipality_id],
            )
            sql, params = _score_insert(
                one_municipality=True,
                on=on,
                total_weight=total_weight,
                category_weights=category_weights,
            )
            cursor.execute(sql, [stamp, *params, municipality_id])
            scores = cursor.rowcount
        _rerank()
        aggregates = _rewrite_aggregates(block_ids, stamp)
    return {"scores": scores, "compliance": compliance, "aggregates": aggregates}
