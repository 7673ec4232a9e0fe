"""A small, fully known portal for the page tests: blocks, agreements, municipalities
with statuses, scores, compliance and aggregate figures — written in bulk so that the
same world can be built with 10 or 300 municipalities."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.utils import timezone

from agreements.models import ResultAgreement
from buildingblocks.levels import Level
from buildingblocks.models import AdoptionStatus, BuildingBlock, StatusChange
from municipalities.models import Municipality, Province
from municipalities.sizeclasses import size_class_for
from scoring.models import (
    Aggregate,
    AgreementCompliance,
    ComplianceStatus,
    Measure,
    MunicipalityScore,
    Scope,
)
from tests.factories import (
    BuildingBlockFactory,
    DeadlineRevisionFactory,
    ProvinceFactory,
    RequirementFactory,
    ResultAgreementFactory,
)

# Populations cycle through size classes: xs, s, m, l, xl.
POPULATIONS = (5_000, 15_000, 30_000, 70_000, 150_000)
# DigiD levels cycle: in use, preparing, (no row = not started), not applicable.
DIGID_CYCLE = (Level.IN_USE, Level.PREPARING, None, Level.NOT_APPLICABLE)


@dataclass
class World:
    provinces: list[Province]
    blocks: list[BuildingBlock]
    agreements: list[ResultAgreement]
    municipalities: list[Municipality] = field(default_factory=list)

    @property
    def digid(self) -> BuildingBlock:
        return self.blocks[0]


def build_world(n: int) -> World:
    provinces = [
        ProvinceFactory(name="Gelderland", slug="gelderland"),
        ProvinceFactory(name="Utrecht", slug="utrecht"),
    ]
    blocks = [
        BuildingBlockFactory(code="digid", name="DigiD", name_en="DigiD"),
        BuildingBlockFactory(code="bag", name="BAG", name_en="Addresses"),
        BuildingBlockFactory(code="berichtenbox", name="Berichtenbox"),
    ]
    agreements = [
        ResultAgreementFactory(number=1, title="Afspraak DigiD", title_en="DigiD"),
        ResultAgreementFactory(number=2, title="Afspraak BAG", title_en="BAG"),
    ]
    RequirementFactory(agreement=agreements[0], block=blocks[0])
    RequirementFactory(agreement=agreements[1], block=blocks[1])
    DeadlineRevisionFactory(agreement=agreements[0])

    now = timezone.now()
    Aggregate.objects.bulk_create(
        [
            Aggregate(
                scope=scope,
                key=key,
                measure=Measure.IN_USE_SHARE,
                block=block,
                value=0.5,
                computed_at=now,
            )
            for block in blocks
            for scope, key in (
                (Scope.NATIONAL, ""),
                (Scope.PROVINCE, "gelderland"),
                (Scope.PROVINCE, "utrecht"),
                *((Scope.SIZE_CLASS, code) for code in ("xs", "s", "m", "l", "xl")),
            )
        ]
        + [
            Aggregate(
                scope=Scope.NATIONAL,
                key="",
                measure=Measure.COMPLIANCE_SHARE,
                agreement=agreement,
                value=0.25,
                computed_at=now,
            )
            for agreement in agreements
        ]
    )
    world = World(provinces, blocks, agreements)
    world.municipalities = add_municipalities(n, start=0)
    return world


def add_municipalities(n: int, *, start: int) -> list[Municipality]:
    """Municipalities number `start` … `start + n - 1`, each with its statuses, score,
    compliance and history, following the cycles above."""
    provinces = list(Province.objects.filter(slug__in=["gelderland", "utrecht"]))
    provinces.sort(key=lambda p: p.slug)
    blocks = [
        BuildingBlock.objects.get(code=code)
        for code in ("digid", "bag", "berichtenbox")
    ]
    agreements = list(
        ResultAgreement.objects.filter(number__in=[1, 2]).order_by("number")
    )
    today = datetime.date(2025, 1, 1)
    municipalities = Municipality.objects.bulk_create(
        Municipality(
            cbs_code=f"GM{i + 1:04d}",
            name=f"Plaats {i:03d}",
            slug=f"plaats-{i:03d}",
            province=provinces[i % 2],
            population=POPULATIONS[i % 5],
            size_class=size_class_for(POPULATIONS[i % 5]),
            population_date=today,
        )
        for i in range(start, start + n)
    )
    now = timezone.now()
    statuses = []
    changes = []
    for i, municipality in enumerate(municipalities, start=start):
        digid = DIGID_CYCLE[i % 4]
        if digid is not None:
            statuses.append(
                AdoptionStatus(
                    municipality=municipality,
                    block=blocks[0],
                    level=digid,
                    note="Geheime notitie" if digid == Level.NOT_APPLICABLE else "",
                    planned_date=today if digid == Level.PREPARING else None,
                    evidence_url="https://example.org/bewijs",
                )
            )
        statuses.append(
            AdoptionStatus(
                municipality=municipality, block=blocks[1], level=Level.IN_USE
            )
        )
        changes.append(
            StatusChange(
                municipality=municipality,
                block=blocks[1],
                from_level=Level.NOT_STARTED,
                to_level=Level.IN_USE,
                changed_at=now - datetime.timedelta(days=400),
                source=StatusChange.Source.SEED,
            )
        )
    AdoptionStatus.objects.bulk_create(statuses)
    StatusChange.objects.bulk_create(changes)
    MunicipalityScore.objects.bulk_create(
        MunicipalityScore(
            municipality=municipality,
            score=float(i % 101),
            rank=i + 1,
            agreements_met=i % 3,
            agreements_at_risk=1,
            agreements_overdue=i % 2,
            computed_at=now,
            last_status_update=now,
        )
        for i, municipality in enumerate(municipalities, start=start)
    )
    AgreementCompliance.objects.bulk_create(
        AgreementCompliance(
            municipality=municipality,
            agreement=agreements[0],
            status=ComplianceStatus.OVERDUE if i % 2 else ComplianceStatus.MET,
            computed_at=now,
        )
        for i, municipality in enumerate(municipalities, start=start)
    )
    return list(municipalities)
