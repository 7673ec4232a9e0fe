"""Database constraints of adoption statuses and the append-only history."""

from __future__ import annotations

import datetime

from django.db import IntegrityError, transaction

import pytest

from buildingblocks.levels import Level
from buildingblocks.models import AdoptionStatus, BuildingBlock, StatusChange
from tests.factories import (
    AdoptionStatusFactory,
    BuildingBlockFactory,
    MunicipalityFactory,
    StatusChangeFactory,
)

pytestmark = pytest.mark.django_db


def _status(**values) -> AdoptionStatus:
    """An unsaved status; bulk_create skips Python validation, so the database decides."""
    values.setdefault("municipality", MunicipalityFactory())
    values.setdefault("block", BuildingBlockFactory())
    return AdoptionStatus(**values)


def _insert(status: AdoptionStatus) -> None:
    with transaction.atomic():
        AdoptionStatus.objects.bulk_create([status])


def test_one_status_per_municipality_and_block():
    existing = AdoptionStatusFactory()
    with pytest.raises(IntegrityError):
        _insert(_status(municipality=existing.municipality, block=existing.block))
    assert AdoptionStatus.objects.count() == 1


@pytest.mark.parametrize("level", ["done", "", "IN_USE", "in use"])
def test_level_outside_the_set_is_refused(level):
    with pytest.raises(IntegrityError):
        _insert(_status(level=level))


@pytest.mark.parametrize(
    "level",
    [Level.NOT_STARTED, Level.PREPARING, Level.IMPLEMENTING],
)
def test_achieved_date_only_with_in_use(level):
    with pytest.raises(IntegrityError):
        _insert(_status(level=level, achieved_date=datetime.date(2013, 5, 1)))


def test_achieved_date_with_in_use_is_accepted():
    _insert(_status(level=Level.IN_USE, achieved_date=datetime.date(2013, 5, 1)))
    assert AdoptionStatus.objects.filter(level=Level.IN_USE).count() == 1


def test_not_applicable_needs_a_note():
    with pytest.raises(IntegrityError):
        _insert(_status(level=Level.NOT_APPLICABLE, note=""))
    _insert(_status(level=Level.NOT_APPLICABLE, note="Geen bedrijventerrein."))
    assert AdoptionStatus.objects.filter(level=Level.NOT_APPLICABLE).count() == 1


def test_block_weight_must_be_positive():
    with pytest.raises(IntegrityError), transaction.atomic():
        BuildingBlock.objects.bulk_create(
            [BuildingBlock(code="zero", name="Zero", category="standaard", weight=0)]
        )


def test_history_level_outside_the_set_is_refused():
    change = StatusChangeFactory.build(
        municipality=MunicipalityFactory(), block=BuildingBlockFactory(), to_level="x"
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        StatusChange.objects.bulk_create([change])


def test_history_instance_cannot_be_updated_or_deleted():
    change = StatusChangeFactory()
    change.note = "rewritten"
    with pytest.raises(PermissionError):
        change.save()
    with pytest.raises(PermissionError):
        change.delete()
    assert StatusChange.objects.get(pk=change.pk).note == ""


def test_history_queryset_cannot_be_updated_or_deleted():
    StatusChangeFactory.create_batch(2)
    with pytest.raises(PermissionError):
        StatusChange.objects.update(note="rewritten")
    with pytest.raises(PermissionError):
        StatusChange.objects.filter(to_level=Level.IN_USE).delete()
    with pytest.raises(PermissionError):
        StatusChange.objects.all().delete()
    assert StatusChange.objects.count() == 2
    assert not StatusChange.objects.filter(note="rewritten").exists()


def test_history_is_appended():
    change = StatusChangeFactory()
    assert change.pk is not None
    assert StatusChange.objects.count() == 1
