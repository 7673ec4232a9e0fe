"""Portable SQL text for the recompute: literals, constant tables, bit masks.

The recompute's SQL is written out (scoring.compute); these build the pieces
that SQLite and PostgreSQL spell alike, or that differ only by vendor.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterable, Sequence

from django.db import connection

from buildingblocks.levels import Level


def _t(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _float_type() -> str:
    return "DOUBLE PRECISION" if connection.vendor == "postgresql" else "REAL"


def _json_object(pairs: Sequence[tuple[str, str]]) -> str:
    function = (
        "jsonb_build_object" if connection.vendor == "postgresql" else "json_object"
    )
    args = ", ".join(f"'{key}', {expr}" for key, expr in pairs)
    return f"{function}({args})"


# --- bit masks -----------------------------------------------------------------

# Sets of requirements (and of blocks) are integers with one bit per member,
# in words of 62 bits: a sum of distinct powers of two below 2**62 never
# reaches the sign bit of a 64-bit integer.
_WORD = 62


def _words(count: int) -> int:
    return max(1, -(-count // _WORD))


def _bit(index: int) -> tuple[int, int]:
    """The word that holds member `index` and its bit in that word."""
    word, bit = divmod(index, _WORD)
    return word, 1 << bit


def _masks(indexes: Iterable[int], count: int) -> list[int]:
    """One mask per word with the bits of the given member indexes set."""
    masks = [0] * _words(count)
    for i in set(indexes):
        word, bit = _bit(i)
        masks[word] |= bit
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


# Levels numbered for the lookup key block_id * 8 + level number.
_LEVEL_NUMBERS = {level: i for i, level in enumerate(Level.values)}


def _level_number(column: str) -> str:
    whens = " ".join(f"WHEN '{level}' THEN {i}" for level, i in _LEVEL_NUMBERS.items())
    return f"CASE {column} {whens} END"
