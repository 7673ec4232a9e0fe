"""A portal with a history for the time-travel pages: the API's world (four
municipalities, two blocks, one postponed agreement, history since 2012), plus a
municipality dissolved at the end of 2014 and one formed in 2015."""

from __future__ import annotations

import datetime

import pytest

from buildingblocks.levels import Level
from scoring.compute import recompute_all
from scoring.history import snapshot_scores
from tests.api.conftest import World, build_world, set_level
from tests.factories import MunicipalityFactory

MONTH_END = datetime.date(2014, 12, 31)
MID_MONTH = datetime.date(2013, 6, 15)


def build(extra: int = 0) -> World:
    world = build_world()
    former = MunicipalityFactory(
        name="Maarssen",
        slug="maarssen",
        cbs_code="GM0333",
        province=world.utrecht.province,
        population=0,
        active=False,
        valid_until=datetime.date(2014, 12, 31),
    )
    set_level(former, world.digid, Level.IN_USE, datetime.date(2012, 5, 1))
    newcomer = MunicipalityFactory(
        name="Nieuwegein-Vianen",
        slug="nieuwegein-vianen",
        cbs_code="GM1961",
        province=world.utrecht.province,
        population=50_000,
        valid_from=datetime.date(2015, 1, 1),
    )
    set_level(newcomer, world.bag, Level.IN_USE, datetime.date(2015, 3, 1))
    for i in range(extra):
        m = MunicipalityFactory(province=world.arnhem.province, population=20_000 + i)
        set_level(m, world.digid, Level.PREPARING, datetime.date(2012, 2, 1 + i % 27))
        set_level(m, world.bag, Level.IN_USE, datetime.date(2013, 6, 1 + i % 27))
    recompute_all()
    snapshot_scores(datetime.date(2012, 1, 1))
    return world


@pytest.fixture
def world(db) -> World:
    return build()
