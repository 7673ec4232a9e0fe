"""Reads behind the municipality, matrix, block and agreement pages.

Each function issues a fixed number of queries whatever the number of
municipalities; the pages call them instead of touching related objects per row.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import (
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from agreements.models import DeadlineRevision, Requirement, ResultAgreement
from buildingblocks.levels import Level
from buildingblocks.models import (
    AdoptionStatus,
    BlockVersion,
    BuildingBlock,
    StatusChange,
)
from municipalities.models import Municipality
from scoring import history as replay
from scoring import rules
from scoring.models import (
    Aggregate,
    AgreementCompliance,
    ComplianceStatus,
    Measure,
    Scope,
)

# A filter choice besides the five levels: everything short of "in use".
NOT_IN_USE = "not_in_use"


def municipality_rows() -> QuerySet[Municipality]:
    """Active municipalities with their province and current score as plain columns."""
    return (
        Municipality.objects.active()
        .select_related("province")
        .annotate(
            adoption_score=F("score__score"),
            score_rank=F("score__rank"),
            agreements_met=F("score__agreements_met"),
            agreements_at_risk=F("score__agreements_at_risk"),
            agreements_overdue=F("score__agreements_overdue"),
            last_status_update=F("score__last_status_update"),
            method_version=F("score__method_version"),
        )
    )


def filter_block_level(
    queryset: QuerySet[Municipality], block: BuildingBlock, level: str
) -> QuerySet[Municipality]:
    """Municipalities whose status for `block` is `level` (no status row = not started)."""
    statuses = AdoptionStatus.objects.filter(municipality=OuterRef("pk"), block=block)
    if level == NOT_IN_USE:
        return queryset.exclude(
            Exists(statuses.filter(level__in=[Level.IN_USE, Level.NOT_APPLICABLE]))
        )
    if level == Level.NOT_STARTED:
        return queryset.exclude(Exists(statuses.exclude(level=Level.NOT_STARTED)))
    return queryset.filter(Exists(statuses.filter(level=level)))


def filter_compliance(
    queryset: QuerySet[Municipality],
    agreement: ResultAgreement | None,
    status: str,
) -> QuerySet[Municipality]:
    """Municipalities with `status` for `agreement` (or for any agreement when None)."""
    rows = AgreementCompliance.objects.filter(
        municipality=OuterRef("pk"), status=status
    )
    if agreement is not None:
        rows = rows.filter(agreement=agreement)
    return queryset.filter(Exists(rows))


def levels_by_municipality(
    municipality_ids: Iterable[int],
) -> dict[int, dict[int, str]]:
    """{municipality id: {block id: level}} in one query, for the matrix."""
    levels: dict[int, dict[int, str]] = defaultdict(dict)
    rows = AdoptionStatus.objects.filter(
        municipality_id__in=list(municipality_ids)
    ).values_list("municipality_id", "block_id", "level")
    for municipality_id, block_id, level in rows:
        levels[municipality_id][block_id] = level
    return levels


def comparison_scopes(municipality: Municipality) -> Q:
    """Aggregate rows of the country and the municipality's size class and province."""
    return (
        Q(scope=Scope.NATIONAL)
        | Q(scope=Scope.SIZE_CLASS, key=municipality.size_class)
        | Q(scope=Scope.PROVINCE, key=municipality.province.slug)
    )


def comparison_figures(
    municipality: Municipality, figures: Iterable[tuple], measure: str
) -> list[tuple[int | None, str, float | None]]:
    """(block id, scope, value) of `measure` from figure rows (scoring.timetravel.figures)
    for the country and the municipality's size class and province: the same
    rows `comparison_scopes` selects, on a past date."""
    wanted = {
        (Scope.NATIONAL, ""),
        (Scope.SIZE_CLASS, municipality.size_class),
        (Scope.PROVINCE, municipality.province.slug),
    }
    return [
        (block_id, scope, value)
        for scope, key, row_measure, block_id, agreement_id, _status, value in figures
        if row_measure == measure and agreement_id is None and (scope, key) in wanted
    ]


def in_use_shares(
    municipality: Municipality, figures: Iterable[tuple] | None = None
) -> dict[int, dict[str, float | None]]:
    """Share in use per block in the municipality's size class, province and country.

    From today's aggregates, or from `figures` of a past date.
    """
    rows = (
        Aggregate.objects.filter(
            comparison_scopes(municipality),
            measure=Measure.IN_USE_SHARE,
            block__isnull=False,
        ).values_list("block_id", "scope", "value")
        if figures is None
        else [
            row
            for row in comparison_figures(municipality, figures, Measure.IN_USE_SHARE)
            if row[0] is not None
        ]
    )
    shares: dict[int, dict[str, float | None]] = defaultdict(dict)
    for block_id, scope, value in rows:
        shares[block_id][scope] = value
    return shares


def ranked_count() -> int:
    """How many municipalities have a rank (the "of N" in "12th of 342")."""
    return Municipality.objects.active().filter(score__rank__isnull=False).count()


def agreements_for(municipality: Municipality) -> QuerySet[ResultAgreement]:
    """All agreements with this municipality's compliance outcome.

    Annotated `status`, `reason`, `lapsed_on` and `exempted` (see
    AgreementCompliance); one query.
    """
    row = AgreementCompliance.objects.filter(
        municipality=municipality, agreement=OuterRef("pk")
    )
    return (
        ResultAgreement.objects.with_deadline_source()
        .annotate(
            **{
                field: Subquery(row.values(field)[:1])
                for field in ("status", "reason", "lapsed_on", "exempted")
            }
        )
        .order_by("number")
    )


def block_rows() -> QuerySet[BuildingBlock]:
    """Active blocks with their national share in use and population coverage."""

    def national(measure: str) -> Subquery:
        return Subquery(
            Aggregate.objects.filter(
                scope=Scope.NATIONAL, measure=measure, block=OuterRef("pk")
            ).values("value")[:1]
        )

    return BuildingBlock.objects.filter(active=True).annotate(
        in_use_share=national(Measure.IN_USE_SHARE),
        # The share's denominator: municipalities for which the block applies.
        applicable=national(Measure.APPLICABLE),
        coverage=national(Measure.COVERAGE),
    )


def agreement_rows() -> QuerySet[ResultAgreement]:
    """Agreements with postponements, national compliance share (with its
    denominator and exemptions) and overdue count."""
    revisions = (
        DeadlineRevision.objects.filter(
            agreement=OuterRef("pk"), new_deadline__gt=F("old_deadline")
        )
        .order_by()
        .values("agreement")
        .annotate(n=Count("pk"))
        .values("n")
    )
    overdue = (
        AgreementCompliance.objects.filter(
            agreement=OuterRef("pk"),
            status=ComplianceStatus.OVERDUE,
            municipality__active=True,
        )
        .order_by()
        .values("agreement")
        .annotate(n=Count("pk"))
        .values("n")
    )

    def national(measure: str) -> Subquery:
        return Subquery(
            Aggregate.objects.filter(
                scope=Scope.NATIONAL, measure=measure, agreement=OuterRef("pk")
            ).values("value")[:1]
        )

    return (
        ResultAgreement.objects.with_deadline_source()
        .annotate(
            times_postponed=Coalesce(
                Subquery(revisions, output_field=IntegerField()), Value(0)
            ),
            overdue_count=Coalesce(
                Subquery(overdue, output_field=IntegerField()), Value(0)
            ),
            compliance_share=national(Measure.COMPLIANCE_SHARE),
            # The share's denominator, and how many of its "met" rest on N/A.
            applicable=national(Measure.APPLICABLE),
            exempted=national(Measure.EXEMPTED),
        )
        .prefetch_related(
            Prefetch(
                "requirements",
                queryset=Requirement.objects.current().select_related("block"),
            )
        )
        .order_by("number")
    )


# --- score trend -------------------------------------------------------------


@dataclass(frozen=True)
class TrendPoint:
    month: datetime.date
    score: float | None


class BlockVersions:
    """Every version of every block's weight and flag, loaded in one query: which
    blocks the scorecard lists on a day (issue 14: a block deactivated later is
    still listed on a date before that)."""

    def __init__(self) -> None:
        self._versions: dict[BuildingBlock, list[tuple]] = defaultdict(list)
        for version in BlockVersion.objects.select_related("block").order_by(
            "valid_from"
        ):
            self._versions[version.block].append(
                (version.valid_from, version.valid_until, version)
            )

    def _in_force(self, day: datetime.date) -> list[tuple[BuildingBlock, BlockVersion]]:
        picked = [
            (block, rules.version_in_force(versions, day))
            for block, versions in self._versions.items()
        ]
        return sorted(
            ((b, v) for b, v in picked if v is not None and v.active),
            key=lambda pair: (pair[0].order, pair[0].code),
        )

    def blocks_on(self, day: datetime.date) -> list[BuildingBlock]:
        """The blocks counted on `day`, in display order."""
        return [block for block, _ in self._in_force(day)]

    def active_weights(self) -> replay.ActiveWeights:
        """block id → its active versions' (valid from, valid until, weight), oldest
        first: what scoring.history.score_series weighs the levels with."""
        weights: replay.ActiveWeights = {}
        for version in sorted(
            (v for versions in self._versions.values() for _, _, v in versions),
            key=lambda v: v.valid_from,
        ):
            if version.active:
                weights.setdefault(version.block_id, []).append(
                    (version.valid_from, version.valid_until, float(version.weight))
                )
        return weights


@dataclass(frozen=True)
class HistoryRow:
    block_id: int
    level: str
    planned_date: datetime.date | None
    achieved_date: datetime.date | None
    note: str
    day: datetime.date


def municipality_history(municipality: Municipality) -> list[HistoryRow]:
    """This municipality's status changes, oldest first (one query)."""
    current_tz = timezone.get_current_timezone()
    return [
        HistoryRow(
            block_id, level, planned, achieved, note, at.astimezone(current_tz).date()
        )
        for block_id, level, planned, achieved, note, at in StatusChange.objects.filter(
            municipality=municipality
        )
        .order_by("changed_at", "id")
        .values_list(
            "block_id",
            "to_level",
            "to_planned_date",
            "to_achieved_date",
            "note",
            "changed_at",
        )
    ]


def last_day_of(municipality: Municipality) -> datetime.date:
    """Today, or the last day a former municipality existed."""
    today = timezone.localdate()
    if municipality.valid_until is not None and not municipality.active:
        return min(today, municipality.valid_until)
    return today


def final_states(
    history: Iterable[HistoryRow], until: datetime.date
) -> dict[int, HistoryRow]:
    """Per block, the last change on or before `until`: a former municipality's end state."""
    states: dict[int, HistoryRow] = {}
    for row in history:
        if row.day <= until:
            states[row.block_id] = row
    return states


def municipality_trend(
    municipality: Municipality,
    history: Iterable[HistoryRow] | None = None,
    *,
    until: datetime.date | None = None,
    score_on_until: float | None | object = ...,
    versions: BlockVersions | None = None,
) -> list[TrendPoint]:
    """This municipality's monthly score within its existence, from the one replay.

    Month ends from scoring.history.score_series, then the score at the end of
    the last day (`until`, else today or a former municipality's last day) from
    scoring.history.standings_on. It starts at the month of its first change (or
    of `valid_from`) and a former municipality's trend stops at its last day:
    whatever the table holds outside that period is not its score. A caller
    that has the score of `until` already (a scorecard on a past date) passes it
    as `score_on_until`, and one that has read the block versions passes them.
    """
    rows = municipality_history(municipality) if history is None else list(history)
    last = last_day_of(municipality)
    if until is not None:
        last = min(last, until)
    start = municipality.valid_from
    days = [max(row.day, start) if start else row.day for row in rows]
    if not days or min(days) > last:
        return []
    months = replay.completed_months(min(days), last)
    changes = [(row.day, row.block_id, row.level) for row in rows]
    weights = (BlockVersions() if versions is None else versions).active_weights()
    if last == timezone.localdate():
        # Nothing is dated after today: the current month's series point is today's.
        series = replay.score_series([*months, last.replace(day=1)], changes, weights)
        *series, (_month, final) = series
    else:
        series = replay.score_series(months, changes, weights)
        if score_on_until is not ... and last == until:
            final = score_on_until
        else:
            standing = replay.standings_on(last, [municipality.pk]).standings
            final = (
                standing[municipality.pk].score if municipality.pk in standing else None
            )
    points = [TrendPoint(replay.month_end(month), score) for month, score in series]
    points.append(TrendPoint(last, final))
    return points


def merger_links(
    municipality: Municipality,
) -> tuple[
    list[tuple[Municipality, datetime.date]], list[tuple[Municipality, datetime.date]]
]:
    """(successors, predecessors) with the merger date; a split has several successors.

    One query: the municipalities it went into, and those that went into it.
    """
    went_into = (
        Municipality.objects.filter(mergers_in__merged=municipality)
        .exclude(pk=municipality.pk)
        .annotate(merged_on=F("mergers_in__date"), is_successor=Value(True))
        .order_by()  # a compound query orders only as a whole
    )
    came_from = (
        Municipality.objects.filter(mergers_out__successor=municipality)
        .exclude(pk=municipality.pk)
        .annotate(merged_on=F("mergers_out__date"), is_successor=Value(False))
        .order_by()
    )
    successors: list[tuple[Municipality, datetime.date]] = []
    predecessors: list[tuple[Municipality, datetime.date]] = []
    for m in went_into.union(came_from, all=True).order_by("merged_on", "name"):
        (successors if m.is_successor else predecessors).append((m, m.merged_on))
    return successors, predecessors
