"""A scorecard whose figures lag a saved status says so (issue 22: broker down)."""

from __future__ import annotations

import datetime

from django.utils import timezone

import pytest

from buildingblocks.levels import Level
from buildingblocks.models import AdoptionStatus
from scoring.compute import recompute_all
from tests.factories import (
    AdoptionStatusFactory,
    BuildingBlockFactory,
    MunicipalityFactory,
)

NOTICE = "Na de berekening van deze scores is een status opgeslagen"


@pytest.fixture
def scored(db):
    municipality = MunicipalityFactory()
    AdoptionStatusFactory(
        municipality=municipality, block=BuildingBlockFactory(), level=Level.IN_USE
    )
    recompute_all()
    return municipality


def page(client, municipality) -> str:
    return client.get(f"/gemeenten/{municipality.slug}/").content.decode()


def test_fresh_scores_carry_no_notice(client, scored):
    assert NOTICE not in page(client, scored)


def test_a_save_not_yet_scored_is_announced_until_the_recompute(client, scored):
    # As a save whose recompute could not be queued leaves it: a newer status.
    later = timezone.now() + datetime.timedelta(minutes=5)
    AdoptionStatus.objects.filter(municipality=scored).update(updated_at=later)
    assert NOTICE in page(client, scored)

    recompute_all()
    assert NOTICE not in page(client, scored)
