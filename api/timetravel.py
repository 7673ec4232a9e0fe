"""The API's reference date (`peildatum`): figures as they stood at the end of a day.

Built from what scoring already has, in a fixed number of queries:
- aggregate figures: today's `Aggregate` rows; for a month end the monthly
  `Snapshot`; for any other day `scoring.history.figures_on`;
- one municipality's (or many municipalities') score and agreement statuses:
  the states of `scoring.history.states_on` evaluated by the same reference
  data and rules the replay uses (`scoring.history._Reference`).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from municipalities.models import Municipality
from scoring import history, rules
from scoring.figures import FigureRow
from scoring.models import Aggregate, Snapshot

_FIGURE_FIELDS = ("scope", "key", "measure", "block_id", "agreement_id", "status")


def figures(on: datetime.date | None) -> list[FigureRow]:
    """Every aggregate figure: current when `on` is None, else at the end of `on`."""
    if on is None:
        return list(Aggregate.objects.values_list(*_FIGURE_FIELDS, "value"))
    if on == history.month_end(on):
        rows = list(
            Snapshot.objects.filter(month=history.month_start(on)).values_list(
                *_FIGURE_FIELDS, "value"
            )
        )
        if rows:
            return rows
    return history.figures_on(on)


def existing_on(on: datetime.date) -> Q:
    """The municipalities that counted on `on` (scoring.history.exists_on, in SQL)."""
    return (Q(valid_from__isnull=True) | Q(valid_from__lte=on)) & (
        Q(valid_until__gte=on) | Q(valid_until__isnull=True, active=True)
    )


def municipalities_on(on: datetime.date) -> QuerySet[Municipality]:
    return Municipality.objects.filter(existing_on(on)).select_related("province")


@dataclass(frozen=True)
class Standing:
    """Where one municipality stood at the end of a day."""

    score: float | None
    # agreement id → compliance status
    statuses: dict[int, str]
    # block id → state (level and planned date); absent blocks had not started
    states: dict[int, rules.BlockState]

    def count(self, status: str) -> int:
        return sum(1 for value in self.statuses.values() if value == status)


@dataclass(frozen=True)
class Reconstruction:
    standings: dict[int, Standing]
    # agreement id → deadline in force on the date
    deadlines: dict[int, datetime.date]


def standings_on(
    on: datetime.date, municipality_ids: Iterable[int] | None = None
) -> Reconstruction:
    """Score, agreement statuses and block states per municipality at the end of `on`.

    Only municipalities that counted on `on` are in the result.
    """
    ids = None if municipality_ids is None else set(municipality_ids)
    reference = history._Reference.load()
    states = history.states_on(on, ids)
    deadlines = reference.deadlines_on(on)
    agreement_ids = [agreement[0] for agreement in reference.agreements]
    standings: dict[int, Standing] = {}
    for m in reference.municipalities:
        if (ids is not None and m.id not in ids) or not m.exists_on(on):
            continue
        levels = [
            states.get((m.id, block_id), rules.NOT_STARTED)
            for block_id in reference.block_ids
        ]
        score, outcomes = reference.evaluate(m, levels, deadlines, on)
        standings[m.id] = Standing(
            score=score,
            statuses={agreement_ids[i]: status for i, (status, _) in outcomes.items()},
            states={
                block_id: state
                for block_id, state in zip(reference.block_ids, levels, strict=True)
                if state is not rules.NOT_STARTED
            },
        )
    return Reconstruction(
        standings=standings, deadlines=dict(zip(agreement_ids, deadlines, strict=True))
    )
