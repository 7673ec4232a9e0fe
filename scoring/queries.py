"""Reads of the computed figures that pages and tasks share.

Every function here is one query, whatever the number of municipalities.
Trends come from the Snapshot rows written by scoring.history.

    national_and_size_class_series(Measure.MEAN_SCORE) → [(scope, key, month, value), …]
    stale_municipality_ids()              → saved after their score was computed
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import Max, Q, QuerySet

from scoring.models import MunicipalityScore, Scope, Snapshot


def _id(obj: Any) -> int | None:
    return getattr(obj, "pk", obj)


def _snapshots(measure: str, block: Any, agreement: Any) -> QuerySet[Snapshot]:
    """The Snapshot rows of one figure (`block` / `agreement`: an instance or id)."""
    return Snapshot.objects.filter(
        measure=measure, block_id=_id(block), agreement_id=_id(agreement), status=""
    )


def national_and_size_class_series(
    measure: str, *, block: Any = None, agreement: Any = None
) -> list[tuple[str, str, datetime.date, float | None]]:
    """(scope, key, month, value) of one figure, nationally and per size class.

    The national rows first, then each size class's, each oldest first, in one
    query.
    """
    rows = _snapshots(measure, block, agreement).filter(
        Q(scope=Scope.NATIONAL, key="") | Q(scope=Scope.SIZE_CLASS)
    )
    # "national" sorts before "size_class", and its key is "".
    return list(
        rows.order_by("scope", "key", "month").values_list(
            "scope", "key", "month", "value"
        )
    )


def stale_municipality_ids() -> list[int]:
    """Active municipalities with a status saved after their score was computed.

    The score row keeps the newest status time it was computed from
    (`last_status_update`); a save whose recompute could not be queued (broker
    down) leaves a newer status behind. One query.
    """
    from django.db.models import F

    from municipalities.models import Municipality

    return list(
        Municipality.objects.filter(active=True, statuses__block__active=True)
        .annotate(newest=Max("statuses__updated_at"))
        .filter(
            Q(newest__isnull=False)
            & (
                Q(score__isnull=True)
                | Q(score__last_status_update__isnull=True)
                | Q(newest__gt=F("score__last_status_update"))
            )
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


@dataclass(frozen=True)
class GroupedScore:
    """One active municipality's score with the keys of the groups it is compared in."""

    score: float
    size_class: str
    province: str  # slug
    # Has a rank (the "of N" of a scorecard counts these; a rank needs a score).
    ranked: bool = True


def scores_with_groups() -> list[GroupedScore]:
    """Every active municipality's score with its size class and province. One query.

    The spreads (scoring.distribution) of the country, each size class and each
    province are computed from these rows, so a page needs this one query
    whatever the number of municipalities or groups it shows.
    """
    return [
        GroupedScore(score, size_class, province)
        for score, size_class, province in MunicipalityScore.objects.filter(
            municipality__active=True, score__isnull=False
        ).values_list(
            "score", "municipality__size_class", "municipality__province__slug"
        )
    ]
