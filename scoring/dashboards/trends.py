"""The monthly trend of a figure, nationally and per size class, from the snapshots."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable

from django.utils.translation import gettext as _

from scoring import history, queries
from scoring.charts import Series
from scoring.dashboards.labels import SIZE_CLASS_ORDER, size_class_label
from scoring.models import Scope


def snapshot_trend(
    measure: str, *, block=None, agreement=None, until: datetime.date | None = None
) -> list[tuple[str, str, datetime.date, float | None]]:
    """(scope, key, month, value) of one figure, national and per size class.

    One query, through scoring.queries (which knows how snapshots are stored).
    With `until`, only the months that had ended by then.
    """
    rows = queries.national_and_size_class_series(
        measure, block=block, agreement=agreement
    )
    if until is not None:
        rows = [row for row in rows if history.month_end(row[2]) <= until]
    return rows


def trend_lines(
    rows: Iterable[tuple[str, str, datetime.date, float | None]], *, scale: float
) -> list[Series]:
    """National + one line per size class from (scope, key, month, value) rows."""
    by_line: dict[str, list[tuple[datetime.date, float]]] = defaultdict(list)
    for scope, key, month, value in rows:
        if value is None:
            continue
        line = "" if scope == Scope.NATIONAL else key
        by_line[line].append((month, value * scale))
    series = [Series(_("Netherlands"), sorted(by_line.get("", [])))]
    series += [
        Series(size_class_label(code), sorted(by_line.get(code, [])))
        for code in SIZE_CLASS_ORDER
    ]
    return series


def trend_summary(series: list[Series], fmt) -> str:
    national = series[0].points
    if not national:
        return _("No monthly snapshots yet.")
    (first_month, first), (last_month, last) = national[0], national[-1]
    return _(
        "Nationally the figure went from %(first)s in %(first_year)s to %(last)s in "
        "%(last_year)s."
    ) % {
        "first": fmt(first),
        "first_year": first_month.year,
        "last": fmt(last),
        "last_year": last_month.year,
    }
