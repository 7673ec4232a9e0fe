"""A known fixture for the overview, block and agreement pages.

Score, aggregate and snapshot rows are created directly (not by the scoring
engine), so the pages' tests know every number they should show.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from buildingblocks.levels import Category, Confidence, Level
from buildingblocks.models import AdoptionStatus
from municipalities.models import Municipality
from scoring.models import (
    Aggregate,
    AgreementCompliance,
    ComplianceReason,
    ComplianceStatus,
    Measure,
    MunicipalityScore,
    Scope,
    Snapshot,
)
from tests.factories import (
    BuildingBlockFactory,
    DeadlineRevisionFactory,
    MunicipalityFactory,
    ProvinceFactory,
    RequirementFactory,
    ResultAgreementFactory,
)

COMPUTED_AT = datetime.datetime(2025, 3, 1, 12, 0, tzinfo=datetime.UTC)
POPULATIONS = [5_000, 15_000, 30_000, 70_000, 150_000]
STATUS_CYCLE = [
    ComplianceStatus.MET,
    ComplianceStatus.OVERDUE,
    ComplianceStatus.AT_RISK,
    ComplianceStatus.ON_TRACK,
]
LEVEL_CYCLE = [Level.IN_USE, Level.PREPARING, Level.NOT_STARTED, Level.IN_USE]


@dataclass
class DashboardWorld:
    municipalities: list
    digid: object
    bag: object
    agreement: object
    known: Municipality | None  # scores 85: class c3 (80–90)


def square(i: int) -> str:
    """A small square outline somewhere in the map frame."""
    x, y = 20 + (i % 30) * 30, 20 + (i // 30) * 30
    return f"M{x} {y}L{x + 25} {y} {x + 25} {y + 25} {x} {y + 25}Z"


def build_dashboard(n: int = 10) -> DashboardWorld:
    province = ProvinceFactory(name="Utrecht")
    # A merged-away municipality: never on the map.
    MunicipalityFactory(province=province, active=False, map_path=square(899))
    digid = BuildingBlockFactory(
        code="digid",
        name="DigiD",
        name_en="DigiD",
        owner="Logius",
        description="Inloggen voor burgers.",
        description_en="Citizen login.",
        confidence=Confidence.MEDIUM,
        category=Category.AUTHENTICATION,
    )
    bag = BuildingBlockFactory(
        code="bag",
        name="BAG",
        name_en="BAG",
        confidence=Confidence.HIGH,
        category=Category.BASE_REGISTERS,
    )
    agreement = ResultAgreementFactory(
        number=4,
        title="Inloggen met DigiD",
        title_en="Citizen login with DigiD",
        deadline=datetime.date(2016, 1, 1),
        deadline_is_reference=False,
    )
    RequirementFactory(agreement=agreement, block=digid)
    DeadlineRevisionFactory(
        agreement=agreement,
        old_deadline=datetime.date(2015, 1, 1),
        new_deadline=datetime.date(2016, 1, 1),
        decided_on=datetime.date(2014, 10, 1),
        reason="Extra time for small municipalities",
        synthetic=True,
    )
    world = DashboardWorld([], digid, bag, agreement, None)
    add_municipalities(world, n)
    world.known = world.municipalities[0]
    add_figures(n, digid, bag, agreement)
    return world


def add_municipalities(world: DashboardWorld, n: int) -> None:
    """n more active municipalities with statuses, a score and a compliance row."""
    start = len(world.municipalities)
    province = ProvinceFactory(name="Utrecht")
    new = [
        MunicipalityFactory(
            province=province,
            population=POPULATIONS[i % 5],
            map_path=square(i),
            name=f"Gemeente {i:03d}",
            slug=f"test-gemeente-{i:03d}",
        )
        for i in range(start, start + n)
    ]
    statuses = []
    for i, m in enumerate(new, start):
        for block in (world.digid, world.bag):
            level = LEVEL_CYCLE[i % 4] if block == world.digid else Level.IN_USE
            statuses.append(
                AdoptionStatus(
                    municipality=m,
                    block=block,
                    level=level,
                    planned_date=datetime.date(2015, 6, 1)
                    if level == Level.PREPARING
                    else None,
                    updated_at=COMPUTED_AT,
                )
            )
    AdoptionStatus.objects.bulk_create(statuses)
    MunicipalityScore.objects.bulk_create(
        MunicipalityScore(
            municipality=m,
            score=85.0 if i == 0 else float((i * 7) % 80),
            rank=i + 1,
            agreements_met=1 if STATUS_CYCLE[i % 4] == ComplianceStatus.MET else 0,
            agreements_overdue=1
            if STATUS_CYCLE[i % 4] == ComplianceStatus.OVERDUE
            else 0,
            computed_at=COMPUTED_AT,
        )
        for i, m in enumerate(new, start)
    )
    AgreementCompliance.objects.bulk_create(
        AgreementCompliance(
            municipality=m,
            agreement=world.agreement,
            status=STATUS_CYCLE[i % 4],
            reason={
                ComplianceStatus.OVERDUE: ComplianceReason.DEADLINE_PASSED,
                ComplianceStatus.AT_RISK: ComplianceReason.UNPLANNED,
            }.get(STATUS_CYCLE[i % 4], ""),
            computed_at=COMPUTED_AT,
        )
        for i, m in enumerate(new, start)
    )
    world.municipalities.extend(new)


def add_figures(n: int, digid, bag, agreement) -> None:
    overdue = sum(
        1 for i in range(n) if STATUS_CYCLE[i % 4] == ComplianceStatus.OVERDUE
    )
    rows = [
        Aggregate(scope=Scope.NATIONAL, key="", measure=Measure.MEAN_SCORE, value=42.5),
        Aggregate(
            scope=Scope.NATIONAL, key="", measure=Measure.MEDIAN_SCORE, value=40.0
        ),
        Aggregate(scope=Scope.NATIONAL, key="", measure=Measure.ALL_MET, value=3.0),
        Aggregate(
            scope=Scope.NATIONAL, key="", measure=Measure.MUNICIPALITIES, value=float(n)
        ),
        Aggregate(
            scope=Scope.NATIONAL,
            key="",
            measure=Measure.IN_USE_SHARE,
            block=digid,
            value=0.75,
        ),
        Aggregate(
            scope=Scope.NATIONAL,
            key="",
            measure=Measure.COVERAGE,
            block=digid,
            value=0.8,
        ),
        Aggregate(
            scope=Scope.NATIONAL,
            key="",
            measure=Measure.IN_USE_SHARE,
            block=bag,
            value=1.0,
        ),
        Aggregate(
            scope=Scope.NATIONAL, key="", measure=Measure.COVERAGE, block=bag, value=1.0
        ),
        Aggregate(
            scope=Scope.NATIONAL,
            key="",
            measure=Measure.COMPLIANCE_SHARE,
            agreement=agreement,
            value=0.25,
        ),
        Aggregate(
            scope=Scope.NATIONAL,
            key="",
            measure=Measure.STATUS_COUNT,
            agreement=agreement,
            status=ComplianceStatus.OVERDUE,
            value=float(overdue),
        ),
    ]
    for j, code in enumerate(["xs", "s", "m", "l", "xl"]):
        rows.append(
            Aggregate(
                scope=Scope.SIZE_CLASS,
                key=code,
                measure=Measure.MEAN_SCORE,
                value=20.0 + 15 * j,
            )
        )
        rows.append(
            Aggregate(
                scope=Scope.SIZE_CLASS,
                key=code,
                measure=Measure.IN_USE_SHARE,
                block=digid,
                value=0.5 + 0.1 * j,
            )
        )
    for row in rows:
        row.computed_at = COMPUTED_AT
    Aggregate.objects.bulk_create(rows)
    # Monthly snapshots: national mean score 10 → 50, size class xs 5 → 25,
    # DigiD in use 10 % → 50 %, the agreement met by 5 % → 25 % (2011–2015).
    rows = []
    for year in range(2011, 2016):
        month = datetime.date(year, 12, 1)
        step = year - 2010
        rows += [
            (month, Scope.NATIONAL, "", Measure.MEAN_SCORE, None, None, 10.0 * step),
            (month, Scope.SIZE_CLASS, "xs", Measure.MEAN_SCORE, None, None, 5.0 * step),
            (month, Scope.NATIONAL, "", Measure.IN_USE_SHARE, digid, None, 0.1 * step),
            (
                month,
                Scope.NATIONAL,
                "",
                Measure.COMPLIANCE_SHARE,
                None,
                agreement,
                0.05 * step,
            ),
        ]
    snapshots = [
        Snapshot(
            month=month,
            scope=scope,
            key=key,
            measure=measure,
            block=block,
            agreement=agreement_,
            value=value,
            computed_at=COMPUTED_AT,
        )
        for month, scope, key, measure, block, agreement_, value in rows
    ]
    Snapshot.objects.bulk_create(snapshots)
