"""Reads of the computed figures that pages and tasks share.

Every function here is one query (or none), whatever the number of
municipalities. Figures come from the Aggregate rows written by
scoring.compute and the Snapshot rows written by scoring.history.

    national_figures()                    → ScopeFigures for the country
    scope_figures(Scope.PROVINCE, "utrecht")
    figures_by_key(Scope.SIZE_CLASS)      → {"xs": ScopeFigures, …}
    benchmark(municipality)               → {"national": …, "size_class": …, "province": …}
    block_shares_by_key(Scope.SIZE_CLASS) → {block_id: {"xs": 0.4, …}}
    snapshot_series(Measure.MEAN_SCORE)   → [(month, value), …]
    snapshot_series_by_key(Measure.MEAN_SCORE, Scope.SIZE_CLASS) → {"xs": [(month, value), …]}
    scores_computed_at()                  → when the scores were last computed
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Max, Q

from scoring.models import Aggregate, Measure, MunicipalityScore, Scope, Snapshot


@dataclass
class ScopeFigures:
    """All current figures of one scope (the country, a size class or a province).

    Shares are fractions 0…1 (None when nobody is counted); scores are 0…100.
    Dictionaries are keyed by block id / agreement id.
    """

    scope: str
    key: str
    municipalities: int = 0
    mean_score: float | None = None
    median_score: float | None = None
    all_met: int = 0
    in_use_share: dict[int, float | None] = field(default_factory=dict)
    coverage: dict[int, float | None] = field(default_factory=dict)
    compliance_share: dict[int, float | None] = field(default_factory=dict)
    # agreement id → {"met": n, "on_track": n, "at_risk": n, "overdue": n}
    status_counts: dict[int, dict[str, int]] = field(default_factory=dict)
    computed_at: datetime.datetime | None = None

    def add(self, row: dict[str, Any]) -> None:
        measure, value = row["measure"], row["value"]
        if self.computed_at is None or row["computed_at"] > self.computed_at:
            self.computed_at = row["computed_at"]
        if measure == Measure.MUNICIPALITIES:
            self.municipalities = int(value or 0)
        elif measure == Measure.MEAN_SCORE:
            self.mean_score = value
        elif measure == Measure.MEDIAN_SCORE:
            self.median_score = value
        elif measure == Measure.ALL_MET:
            self.all_met = int(value or 0)
        elif measure == Measure.IN_USE_SHARE:
            self.in_use_share[row["block_id"]] = value
        elif measure == Measure.COVERAGE:
            self.coverage[row["block_id"]] = value
        elif measure == Measure.COMPLIANCE_SHARE:
            self.compliance_share[row["agreement_id"]] = value
        elif measure == Measure.STATUS_COUNT:
            self.status_counts.setdefault(row["agreement_id"], {})[row["status"]] = int(
                value or 0
            )


_FIELDS = (
    "scope",
    "key",
    "measure",
    "block_id",
    "agreement_id",
    "status",
    "value",
    "computed_at",
)


def _collect(rows: Iterable[dict[str, Any]]) -> dict[tuple[str, str], ScopeFigures]:
    result: dict[tuple[str, str], ScopeFigures] = {}
    for row in rows:
        key = (row["scope"], row["key"])
        if key not in result:
            result[key] = ScopeFigures(scope=row["scope"], key=row["key"])
        result[key].add(row)
    return result


def scope_figures(scope: str = Scope.NATIONAL, key: str = "") -> ScopeFigures:
    """Figures of one scope; empty (zeros and None) before the first recompute."""
    rows = Aggregate.objects.filter(scope=scope, key=key).values(*_FIELDS)
    return _collect(rows).get((scope, key), ScopeFigures(scope=scope, key=key))


def national_figures() -> ScopeFigures:
    """Figures of the whole country."""
    return scope_figures(Scope.NATIONAL, "")


def figures_by_key(scope: str) -> dict[str, ScopeFigures]:
    """Figures of every size class (or every province), keyed by code / slug."""
    rows = Aggregate.objects.filter(scope=scope).values(*_FIELDS)
    return {key: figures for (_, key), figures in _collect(rows).items()}


def benchmark(municipality) -> dict[str, ScopeFigures]:
    """The figures a municipality is compared with: country, its size class, its province.

    Needs `municipality.province` loaded (select_related) to stay at one query.
    """
    wanted = {
        "national": (Scope.NATIONAL, ""),
        "size_class": (Scope.SIZE_CLASS, municipality.size_class),
        "province": (Scope.PROVINCE, municipality.province.slug),
    }
    condition = Q()
    for scope, key in wanted.values():
        condition |= Q(scope=scope, key=key)
    collected = _collect(Aggregate.objects.filter(condition).values(*_FIELDS))
    return {
        name: collected.get((scope, key), ScopeFigures(scope=scope, key=key))
        for name, (scope, key) in wanted.items()
    }


def block_shares_by_key(
    scope: str = Scope.SIZE_CLASS, measure: str = Measure.IN_USE_SHARE
) -> dict[int, dict[str, float | None]]:
    """block id → {size class (or province) → share in use (or coverage)}."""
    result: dict[int, dict[str, float | None]] = {}
    for block_id, key, value in Aggregate.objects.filter(
        scope=scope, measure=measure
    ).values_list("block_id", "key", "value"):
        result.setdefault(block_id, {})[key] = value
    return result


def _id(obj: Any) -> int | None:
    return getattr(obj, "pk", obj)


def snapshot_series(
    measure: str,
    *,
    scope: str = Scope.NATIONAL,
    key: str = "",
    block: Any = None,
    agreement: Any = None,
    status: str = "",
    since: datetime.date | None = None,
) -> list[tuple[datetime.date, float | None]]:
    """Monthly values of one figure, oldest first; `month` is the first day of the month.

    `block` / `agreement` take an instance or an id (for per-block and
    per-agreement measures); `status` is for Measure.STATUS_COUNT.
    """
    rows = Snapshot.objects.filter(
        measure=measure,
        scope=scope,
        key=key,
        block_id=_id(block),
        agreement_id=_id(agreement),
        status=status,
    )
    if since is not None:
        rows = rows.filter(month__gte=since)
    return list(rows.order_by("month").values_list("month", "value"))


def snapshot_series_by_key(
    measure: str,
    scope: str,
    *,
    block: Any = None,
    agreement: Any = None,
    status: str = "",
    since: datetime.date | None = None,
) -> dict[str, list[tuple[datetime.date, float | None]]]:
    """Monthly values of one figure for every size class (or province)."""
    rows = Snapshot.objects.filter(
        measure=measure,
        scope=scope,
        block_id=_id(block),
        agreement_id=_id(agreement),
        status=status,
    )
    if since is not None:
        rows = rows.filter(month__gte=since)
    result: dict[str, list[tuple[datetime.date, float | None]]] = {}
    for key, month, value in rows.order_by("key", "month").values_list(
        "key", "month", "value"
    ):
        result.setdefault(key, []).append((month, value))
    return result


def scores_computed_at() -> datetime.datetime | None:
    """When the scores were last computed (None before the first recompute)."""
    return MunicipalityScore.objects.aggregate(latest=Max("computed_at"))["latest"]


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
