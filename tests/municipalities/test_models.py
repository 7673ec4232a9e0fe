"""Database constraints and derived fields of municipalities and mergers."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError, transaction
from django.db.models import ProtectedError

import pytest

from municipalities.models import EditorMembership, Merger, Municipality
from municipalities.sizeclasses import SizeClass
from tests.factories import (
    EditorMembershipFactory,
    MunicipalityFactory,
    ProvinceFactory,
)

pytestmark = pytest.mark.django_db


def _municipality(code: str, **values) -> Municipality:
    values.setdefault("province", ProvinceFactory())
    return Municipality(
        cbs_code=code,
        name=f"Gemeente {code}",
        slug=f"gemeente-{code.lower()}",
        size_class=SizeClass.M,
        **values,
    )


@pytest.mark.parametrize("code", ["GM123", "GM12345", "gm0363", "XX0363", "GM03A3", ""])
def test_cbs_code_format_is_enforced_by_the_database(code):
    # bulk_create skips the model validators: the check constraint must catch it
    # (PostgreSQL refuses a seven-character code already as too long: DataError).
    with pytest.raises((IntegrityError, DataError)), transaction.atomic():
        Municipality.objects.bulk_create([_municipality(code)])


def test_a_well_formed_cbs_code_is_accepted():
    Municipality.objects.bulk_create([_municipality("GM0363")])
    assert Municipality.objects.filter(cbs_code="GM0363").exists()


def test_cbs_code_format_is_validated_in_forms_too():
    with pytest.raises(ValidationError):
        _municipality("GM36").full_clean()


def test_cbs_code_is_unique():
    MunicipalityFactory(cbs_code="GM0394")
    with pytest.raises(IntegrityError), transaction.atomic():
        Municipality.objects.bulk_create([_municipality("GM0394")])


def test_valid_until_cannot_precede_valid_from():
    bad = _municipality(
        "GM0001",
        valid_from=datetime.date(2019, 1, 1),
        valid_until=datetime.date(2018, 12, 31),
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Municipality.objects.bulk_create([bad])


@pytest.mark.parametrize(
    ("population", "size_class"),
    [
        (0, SizeClass.XS),
        (9_999, SizeClass.XS),
        (10_000, SizeClass.S),
        (49_999, SizeClass.M),
        (50_000, SizeClass.L),
        (100_000, SizeClass.XL),
        (933_680, SizeClass.XL),
    ],
)
def test_size_class_is_derived_on_save(population, size_class):
    municipality = MunicipalityFactory(population=population)
    assert municipality.size_class == size_class
    municipality.refresh_from_db()
    assert municipality.size_class == size_class


def test_size_class_follows_a_population_change():
    municipality = MunicipalityFactory(population=8_000)
    municipality.population = 120_000
    municipality.save()
    municipality.refresh_from_db()
    assert municipality.size_class == SizeClass.XL


def test_one_merger_per_successor_and_date():
    successor = MunicipalityFactory()
    Merger.objects.create(date=datetime.date(2019, 1, 1), successor=successor)
    with pytest.raises(IntegrityError), transaction.atomic():
        Merger.objects.create(date=datetime.date(2019, 1, 1), successor=successor)


def test_a_successor_cannot_be_deleted_while_its_predecessors_exist():
    successor = MunicipalityFactory()
    MunicipalityFactory(successor=successor, active=False)
    with pytest.raises(ProtectedError):
        successor.delete()


def test_editor_membership_is_unique():
    membership = EditorMembershipFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        EditorMembership.objects.create(
            user=membership.user, municipality=membership.municipality
        )
