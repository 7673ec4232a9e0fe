"""A varied scoring fixture: several provinces, size classes, weights, levels and deadlines."""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass
from decimal import Decimal

import pytest

from buildingblocks.levels import Category, Level
from buildingblocks.models import AdoptionStatus, BuildingBlock
from municipalities.models import Province
from tests.factories import (
    BuildingBlockFactory,
    MunicipalityFactory,
    ProvinceFactory,
    RequirementFactory,
    ResultAgreementFactory,
)

TODAY = datetime.date(2014, 6, 15)
LEVELS = [
    Level.NOT_STARTED,
    Level.PREPARING,
    Level.IMPLEMENTING,
    Level.IN_USE,
    Level.NOT_APPLICABLE,
]


@dataclass
class World:
    municipalities: list
    blocks: list
    agreements: list


def build_world(n_municipalities: int = 14, *, seed: int = 7) -> World:
    """Municipalities with random statuses (some missing), blocks, agreements."""
    rng = random.Random(seed)
    provinces = [ProvinceFactory(name=n) for n in ("Utrecht", "Gelderland", "Fryslân")]
    populations = [4_000, 12_000, 30_000, 75_000, 250_000]
    municipalities = [
        MunicipalityFactory(
            province=provinces[i % 3], population=populations[i % 5] + i
        )
        for i in range(n_municipalities)
    ]
    MunicipalityFactory(province=provinces[0], active=False)  # merged away
    categories = [Category.AUTHENTICATION, Category.SERVICES, Category.BASE_REGISTERS]
    blocks = [
        BuildingBlockFactory(
            category=categories[i % 3], weight=Decimal(["1", "2.5", "0.5"][i % 3])
        )
        for i in range(7)
    ]
    retired = BuildingBlockFactory(active=False, category=Category.STANDARDS)
    agreements = [
        ResultAgreementFactory(number=1, deadline=datetime.date(2013, 1, 1)),
        ResultAgreementFactory(number=2, deadline=datetime.date(2015, 1, 1)),
        ResultAgreementFactory(number=3, deadline=datetime.date(2014, 6, 15)),
        ResultAgreementFactory(number=4, deadline=datetime.date(2016, 1, 1)),
        ResultAgreementFactory(number=5),  # no requirement: applies to no one
    ]
    RequirementFactory(agreement=agreements[0], block=blocks[0])
    RequirementFactory(
        agreement=agreements[1], block=blocks[1], minimum_level=Level.IMPLEMENTING
    )
    RequirementFactory(agreement=agreements[1], block=blocks[2])
    RequirementFactory(agreement=agreements[2], block=blocks[3])
    RequirementFactory(
        agreement=agreements[3], block=blocks[4], minimum_level=Level.PREPARING
    )
    RequirementFactory(agreement=agreements[3], block=blocks[5])
    RequirementFactory(agreement=agreements[3], block=retired)
    # Applies only to municipalities of 50,000 inhabitants or more.
    RequirementFactory(agreement=agreements[3], block=blocks[6], min_population=50_000)
    add_statuses(municipalities, [*blocks, retired], rng)
    return World(municipalities, blocks, agreements)


PLANNED_CHOICES = [
    None,
    datetime.date(2013, 6, 1),
    datetime.date(2014, 12, 31),
    datetime.date(2015, 1, 1),
    datetime.date(2015, 6, 1),
    datetime.date(2016, 1, 1),
    datetime.date(2017, 1, 1),
]


def add_statuses(municipalities, blocks, rng: random.Random) -> None:
    rows = []
    for m in municipalities:
        for b in blocks:
            if rng.random() < 0.2:
                continue  # no status row: counts as not_started
            level = rng.choice(LEVELS)
            rows.append(
                AdoptionStatus(
                    municipality=m,
                    block=b,
                    level=level,
                    planned_date=rng.choice(PLANNED_CHOICES),
                    note="n.v.t." if level == Level.NOT_APPLICABLE else "",
                )
            )
    AdoptionStatus.objects.bulk_create(rows)


def add_municipalities(world: World, n: int, *, seed: int = 11) -> None:
    """Add n active municipalities with random statuses to the world."""
    rng = random.Random(seed)
    provinces = list(Province.objects.all())
    new = [
        MunicipalityFactory(
            province=provinces[i % len(provinces)], population=1_000 * i
        )
        for i in range(n)
    ]
    add_statuses(new, BuildingBlock.objects.all(), rng)
    world.municipalities.extend(new)


@pytest.fixture
def world(db) -> World:
    return build_world()
