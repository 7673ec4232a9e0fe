"""Saves made while the broker was down reach the scores when it is back (issue 22)."""

from __future__ import annotations

from unittest import mock

import pytest

from buildingblocks.levels import Level
from buildingblocks.models import AdoptionStatus
from buildingblocks.services import StatusEdit, save_statuses
from buildingblocks.validation import StatusValues
from scoring.compute import recompute_all
from scoring.models import MunicipalityScore
from scoring.queries import stale_municipality_ids
from scoring.tasks import catch_up_stale_scores
from tests.factories import (
    AdoptionStatusFactory,
    BuildingBlockFactory,
    EditorMembershipFactory,
    MunicipalityFactory,
)

pytestmark = pytest.mark.django_db


def _save_with_the_broker_down(municipality, user):
    status = AdoptionStatus.objects.get(municipality=municipality)
    save_statuses(
        user=user,
        municipality=municipality,
        changes=[
            StatusEdit(
                status.block.code, status.version, StatusValues(level=Level.IN_USE)
            )
        ],
    )


def test_a_save_whose_recompute_was_lost_is_stale_until_the_catch_up(
    client, django_capture_on_commit_callbacks
):
    block = BuildingBlockFactory()
    municipality, other = MunicipalityFactory(), MunicipalityFactory()
    for m in (municipality, other):
        AdoptionStatusFactory(municipality=m, block=block, level=Level.NOT_STARTED)
    user = EditorMembershipFactory(municipality=municipality).user
    recompute_all()
    assert stale_municipality_ids() == []

    broker_down = mock.patch(
        "scoring.tasks.enqueue_recompute", side_effect=ConnectionError("broker down")
    )
    with broker_down, django_capture_on_commit_callbacks(execute=True):
        _save_with_the_broker_down(municipality, user)
    assert MunicipalityScore.objects.get(municipality=municipality).score == 0
    assert stale_municipality_ids() == [municipality.pk]
    assert client.get("/healthz").json()["stale_municipalities"] == 1

    assert catch_up_stale_scores() == 1
    assert MunicipalityScore.objects.get(municipality=municipality).score == 100
    assert stale_municipality_ids() == []
    assert catch_up_stale_scores() == 0  # nothing left: the next minute is a no-op


def test_beat_sends_the_catch_up_every_minute(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["catch-up-stale-scores"]
    assert entry["task"] == "scoring.tasks.catch_up_stale_scores"
    assert entry["schedule"] <= 60
