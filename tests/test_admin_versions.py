"""The admin edits versioned reference data as new versions (issue 14, item 5).

Changing a block's weight or active flag, or a requirement, creates a version
from a chosen date (default today) and closes the previous one, which keeps
its values for the dates before.
"""

from __future__ import annotations

import datetime
import json
import logging
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

import pytest

from agreements.models import PROGRAMME_START, Requirement
from buildingblocks.levels import Level
from buildingblocks.models import BlockVersion, BuildingBlock
from tests.factories import BuildingBlockFactory, RequirementFactory


@pytest.fixture
def staff_client(client, db):
    user = get_user_model().objects.create_superuser("root", "root@example.nl", "pw")
    client.force_login(user)
    return client


def _block_post(block: BuildingBlock, **values) -> dict:
    data = {
        "code": block.code,
        "name": block.name,
        "name_en": block.name_en,
        "category": block.category,
        "owner": block.owner,
        "description": block.description,
        "description_en": block.description_en,
        "weight": str(block.weight),
        "order": block.order,
        "source": block.source,
        "confidence": block.confidence,
        "versions_from": "",
        "versions-TOTAL_FORMS": "0",
        "versions-INITIAL_FORMS": "0",
        "versions-MIN_NUM_FORMS": "0",
        "versions-MAX_NUM_FORMS": "1000",
    }
    if block.active:
        data["active"] = "on"
    data.update(values)
    return {key: value for key, value in data.items() if value is not None}


def _versions(block: BuildingBlock) -> list[tuple]:
    return list(
        BlockVersion.objects.filter(block=block)
        .order_by("valid_from")
        .values_list("valid_from", "valid_until", "weight", "active")
    )


def test_a_weight_edit_creates_a_new_version_and_keeps_the_old(
    staff_client, caplog, django_capture_on_commit_callbacks
):
    block = BuildingBlockFactory(weight=Decimal("1"))
    url = reverse("admin:buildingblocks_buildingblock_change", args=[block.pk])
    with (
        caplog.at_level(logging.INFO, logger="nupportal.audit"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = staff_client.post(
            url, _block_post(block, weight="2.50", versions_from="2020-03-01")
        )
    assert response.status_code == 302, response.content
    assert _versions(block) == [
        (PROGRAMME_START, datetime.date(2020, 3, 1), Decimal("1"), True),
        (datetime.date(2020, 3, 1), None, Decimal("2.5"), True),
    ]
    block.refresh_from_db()
    assert block.weight == Decimal("2.5")  # today's version on the block
    # The admin audit records the edit.
    events = [json.loads(r.message) for r in caplog.records if r.message[:1] == "{"]
    assert any(e["event"] == "admin_change" for e in events), events
    assert any("block_version" in r.getMessage() for r in caplog.records)


def test_deactivating_without_a_date_starts_today(staff_client):
    block = BuildingBlockFactory()
    response = staff_client.post(
        reverse("admin:buildingblocks_buildingblock_change", args=[block.pk]),
        _block_post(block, active=None, name="Hernoemd"),
    )
    assert response.status_code == 302, response.content
    today = timezone.localdate()
    assert _versions(block) == [
        (PROGRAMME_START, today, Decimal("1"), True),
        (today, None, Decimal("1"), False),
    ]
    block.refresh_from_db()
    assert (block.name, block.active) == ("Hernoemd", False)


def test_an_edit_without_a_new_weight_or_flag_makes_no_version(staff_client):
    block = BuildingBlockFactory()
    staff_client.post(
        reverse("admin:buildingblocks_buildingblock_change", args=[block.pk]),
        _block_post(block, name="Alleen de naam"),
    )
    assert len(_versions(block)) == 1


def test_a_version_cannot_start_in_the_future_or_before_the_latest(staff_client):
    block = BuildingBlockFactory()
    url = reverse("admin:buildingblocks_buildingblock_change", args=[block.pk])
    future = (timezone.localdate() + datetime.timedelta(days=3)).isoformat()
    for start in (future, "2010-06-01"):
        response = staff_client.post(
            url, _block_post(block, weight="3", versions_from=start)
        )
        assert response.status_code == 200  # the form again, with the error
        assert "versions_from" in response.context["adminform"].form.errors
    assert len(_versions(block)) == 1


def test_a_new_block_gets_its_first_version_from_the_chosen_date(staff_client):
    response = staff_client.post(
        reverse("admin:buildingblocks_buildingblock_add"),
        _block_post(
            BuildingBlock(code="nieuw", name="Nieuw", category="standaard", order=9),
            weight="2",
            active="on",
            versions_from="2019-01-01",
        ),
    )
    assert response.status_code == 302, response.content
    block = BuildingBlock.objects.get(code="nieuw")
    assert _versions(block) == [(datetime.date(2019, 1, 1), None, Decimal("2"), True)]


def test_the_changelist_no_longer_edits_weights_in_place(staff_client):
    BuildingBlockFactory()
    response = staff_client.get(
        reverse("admin:buildingblocks_buildingblock_changelist")
    )
    assert b'name="form-0-weight"' not in response.content
    assert b'name="form-0-order"' in response.content


def test_a_requirement_edit_creates_a_new_version_and_keeps_the_old(staff_client):
    requirement = RequirementFactory()
    url = reverse("admin:agreements_requirement_change", args=[requirement.pk])
    response = staff_client.post(
        url,
        {
            "minimum_level": Level.IMPLEMENTING,
            "min_population": "",
            "effective_from": "2018-05-01",
        },
    )
    assert response.status_code == 302, response.content
    rows = list(
        Requirement.objects.filter(agreement=requirement.agreement)
        .order_by("valid_from")
        .values_list("minimum_level", "valid_from", "valid_until")
    )
    assert rows == [
        (Level.IN_USE, PROGRAMME_START, datetime.date(2018, 5, 1)),
        (Level.IMPLEMENTING, datetime.date(2018, 5, 1), None),
    ]
    # The ended version is history: shown, not editable, never deleted.
    assert staff_client.get(url).status_code == 200
    assert staff_client.post(url, {"minimum_level": Level.PREPARING}).status_code == 403
    delete = reverse("admin:agreements_requirement_delete", args=[requirement.pk])
    assert staff_client.post(delete, {"post": "yes"}).status_code == 403


def test_a_requirement_is_withdrawn_from_a_date_instead_of_deleted(staff_client):
    requirement = RequirementFactory()
    response = staff_client.post(
        reverse("admin:agreements_requirement_change", args=[requirement.pk]),
        {
            "minimum_level": requirement.minimum_level,
            "min_population": "",
            "effective_from": "2016-01-01",
            "withdraw": "on",
        },
    )
    assert response.status_code == 302, response.content
    requirement.refresh_from_db()
    assert requirement.valid_until == datetime.date(2016, 1, 1)
    assert Requirement.objects.current().count() == 0


def test_adding_a_requirement_that_exists_is_refused(staff_client):
    requirement = RequirementFactory()
    response = staff_client.post(
        reverse("admin:agreements_requirement_add"),
        {
            "agreement": requirement.agreement.pk,
            "block": requirement.block.pk,
            "minimum_level": Level.PREPARING,
            "min_population": "",
            "effective_from": "",
        },
    )
    assert response.status_code == 200
    assert "block" in response.context["adminform"].form.errors
    assert Requirement.objects.count() == 1
