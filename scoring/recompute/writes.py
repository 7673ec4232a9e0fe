"""Writing the compliance and score rows from the pass: only what changed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection

from buildingblocks.models import AdoptionStatus
from municipalities.models import Municipality
from scoring.models import AgreementCompliance, MunicipalityScore
from scoring.recompute.inputs import _Inputs, _method_version
from scoring.recompute.outcomes import _KINDS, _OVERDUE, _PLAN_EXPIRED
from scoring.recompute.per_municipality import _PER_M
from scoring.recompute.sql import _bigint, _bit, _t, _values, _words


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
    rows = []
    for i, (agreement_id, block_id, _, _) in enumerate(inputs.requirements):
        word, bit = _bit(i)
        rows.append(
            [str(int(agreement_id)), str(int(block_id)), str(word), _bigint(bit)]
        )
    requirements = _values(
        ["agreement_id", "block_id", "word", "bit"],
        rows,
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
