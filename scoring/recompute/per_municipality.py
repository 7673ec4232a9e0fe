"""The pass over the status rows: one row per active municipality, in a temporary table.

`_build_table` fills it (`_per_municipality`); the writes and the aggregates
read it (scoring.recompute.writes, scoring.recompute.aggregates).
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import connection

from buildingblocks.levels import LEVEL_RANK, LEVEL_VALUES, Level
from buildingblocks.models import AdoptionStatus
from municipalities.models import Municipality
from scoring.recompute.inputs import _Inputs
from scoring.recompute.outcomes import _outcome_columns, _stored_compliance_check
from scoring.recompute.sql import (
    _LEVEL_NUMBERS,
    _bigint,
    _date,
    _float_type,
    _json_object,
    _level_number,
    _masks,
    _real,
    _t,
    _values,
    _words,
)

# Any applicable block weighs at least 0.01; below this the denominator is empty
# (guards against float noise in total − not-applicable weight).
_EMPTY_WEIGHT = 0.001

# One row per active municipality: its score figures and the sets of
# requirements in each state (see _per_municipality). Dropped at commit on
# PostgreSQL; SQLite keeps it for the connection until the next recompute.
_PER_M = "nup_recompute"


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
