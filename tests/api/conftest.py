"""A small portal for the API tests: two provinces, a history since 2012, a note."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils import timezone

import pytest

from buildingblocks.levels import Level
from buildingblocks.models import AdoptionStatus
from scoring.compute import recompute_all
from scoring.history import snapshot_scores
from tests.factories import (
    BuildingBlockFactory,
    DeadlineRevisionFactory,
    MunicipalityFactory,
    ProvinceFactory,
    RequirementFactory,
    ResultAgreementFactory,
    StatusChangeFactory,
    UserFactory,
)

NOTE = "Geheime notitie over de aanbesteding"
EVIDENCE = "https://intranet.example.nl/bewijs.pdf"
EDITOR_NAME = "cio-stichtse-vecht"


def at(day: datetime.date, hour: int = 12) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


@dataclass
class World:
    utrecht: object
    amersfoort: object
    zeist: object
    arnhem: object
    digid: object
    bag: object
    agreement: object
    editor: object


def set_level(municipality, block, level, day, editor=None, planned=None):
    """A change in the history and the current status it leaves."""
    StatusChangeFactory(
        municipality=municipality,
        block=block,
        to_level=level,
        to_planned_date=planned,
        changed_at=at(day),
        changed_by=editor,
    )
    AdoptionStatus.objects.update_or_create(
        municipality=municipality,
        block=block,
        defaults={"level": level, "planned_date": planned, "updated_by": editor},
    )


def build_world() -> World:
    utrecht_province = ProvinceFactory(name="Utrecht")
    gelderland = ProvinceFactory(name="Gelderland")
    editor = UserFactory(username=EDITOR_NAME, groups=["municipal_editor"])
    digid = BuildingBlockFactory(code="digid", name="DigiD")
    bag = BuildingBlockFactory(code="bag", name="BAG")
    utrecht = MunicipalityFactory(
        cbs_code="GM0344",
        name="Utrecht",
        slug="utrecht",
        province=utrecht_province,
        population=360_000,
    )
    amersfoort = MunicipalityFactory(
        cbs_code="GM0307",
        name="Amersfoort",
        slug="amersfoort",
        province=utrecht_province,
        population=160_000,
    )
    zeist = MunicipalityFactory(
        cbs_code="GM0355",
        name="Zeist",
        slug="zeist",
        province=utrecht_province,
        population=65_000,
    )
    arnhem = MunicipalityFactory(
        cbs_code="GM0202",
        name="Arnhem",
        slug="arnhem",
        province=gelderland,
        population=165_000,
    )
    agreement = ResultAgreementFactory(
        number=1,
        original_deadline=datetime.date(2015, 1, 1),
        deadline=datetime.date(2016, 1, 1),
    )
    RequirementFactory(agreement=agreement, block=digid, minimum_level=Level.IN_USE)
    DeadlineRevisionFactory(
        agreement=agreement,
        old_deadline=datetime.date(2015, 1, 1),
        new_deadline=datetime.date(2016, 1, 1),
        decided_on=datetime.date(2014, 6, 1),
    )
    set_level(
        utrecht,
        digid,
        Level.PREPARING,
        datetime.date(2012, 3, 5),
        editor,
        planned=datetime.date(2013, 6, 1),
    )
    set_level(utrecht, digid, Level.IN_USE, datetime.date(2013, 5, 20), editor)
    set_level(
        utrecht,
        bag,
        Level.IMPLEMENTING,
        datetime.date(2014, 12, 31),
        editor,
        planned=datetime.date(2015, 6, 1),
    )
    set_level(amersfoort, digid, Level.IN_USE, datetime.date(2015, 2, 1), editor)
    set_level(zeist, bag, Level.IN_USE, datetime.date(2014, 6, 15), editor)
    set_level(arnhem, digid, Level.IN_USE, datetime.date(2012, 1, 10), editor)
    status = utrecht.statuses.get(block=bag)
    status.note = NOTE
    status.evidence_url = EVIDENCE
    status.save()
    recompute_all()
    snapshot_scores(datetime.date(2012, 1, 1))
    return World(utrecht, amersfoort, zeist, arnhem, digid, bag, agreement, editor)


@pytest.fixture
def world(db) -> World:
    return build_world()
