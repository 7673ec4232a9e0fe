"""Which columns a wide table shows: read from ?kolommen=a,b,c, else remembered, else default.

Pure functions over names; the views (municipalities.views.ColumnChoiceMixin) pass
the request's values and the user's remembered choice
(municipalities.models.ColumnPreference). Unknown names are ignored without an
error: an old bookmark or a hand-edited URL still opens the page.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# The query parameter, in Dutch like the other URLs of the portal.
COLUMNS_PARAM = "kolommen"


@dataclass(frozen=True)
class Column:
    """One column that a user may show or hide."""

    name: str
    label: str


@dataclass(frozen=True)
class ColumnSet:
    """The columns of a table in display order, the default ones and those always shown."""

    columns: tuple[Column, ...]
    default: tuple[str, ...]
    required: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)


def parse_columns(values: Iterable[str], available: Sequence[str]) -> list[str]:
    """The known column names in `values`, in the table's order, each once.

    `values` are the raw ?kolommen= values: comma-separated ("a,b,c") and, from
    the checkbox form, repeated (?kolommen=a&kolommen=b); spaces are ignored.
    """
    wanted = {
        name.strip()
        for value in values
        for name in str(value).split(",")
        if name.strip()
    }
    return [name for name in available if name in wanted]


def choose_columns(
    column_set: ColumnSet, requested: Iterable[str], remembered: Iterable[str] = ()
) -> tuple[list[str], bool]:
    """(the columns to show, whether they came from the URL).

    The URL's choice wins when it names at least one known column, then the
    remembered one, then the default. The required columns are always shown.
    """
    names = column_set.names
    chosen = parse_columns(requested, names)
    from_url = bool(chosen)
    if not chosen:
        chosen = parse_columns(remembered, names)
    if not chosen:
        chosen = list(column_set.default)
    keep = set(chosen) | set(column_set.required)
    return [name for name in names if name in keep], from_url


def format_columns(names: Iterable[str]) -> str:
    """The ?kolommen= value for these columns: "a,b,c"."""
    return ",".join(names)


def hidden_columns(column_set: ColumnSet, shown: Iterable[str]) -> list[str]:
    """The columns of the set that are not shown (to exclude from the table)."""
    visible = set(shown)
    return [name for name in column_set.names if name not in visible]
