"""A full recompute writes only the compliance rows that changed.

The single pass (PostgreSQL) keeps each municipality's agreement statuses as a
key on its score row and compares stored rows only where the key changed or is
unknown (NULL: written by the three-pass path). These tests hold it to the pure
rules after every kind of change; on SQLite the three-pass path runs and they
check the same outcome.
"""

from __future__ import annotations

import datetime

from django.db import connection

import pytest

from agreements.models import ResultAgreement
from buildingblocks.levels import Level
from buildingblocks.models import AdoptionStatus
from municipalities.models import Municipality
from scoring.compute import recompute_all, recompute_municipality
from scoring.models import AgreementCompliance, ComplianceStatus, MunicipalityScore
from tests.scoring.conftest import TODAY
from tests.scoring.test_compute import expected_per_municipality

pytestmark = pytest.mark.django_db


def stored_statuses() -> dict[tuple[int, int], str]:
    return {
        (c.municipality_id, c.agreement_id): c.status
        for c in AgreementCompliance.objects.all()
    }


def expected_statuses(on=TODAY) -> dict[tuple[int, int], str]:
    return {
        (m_id, a_id): status
        for m_id, (_s, _c, statuses) in expected_per_municipality(on).items()
        for a_id, status in statuses.items()
    }


def test_a_second_recompute_writes_no_compliance_row(world):
    first = recompute_all(today=TODAY)
    assert first["compliance"] == len(world.municipalities) * len(world.agreements)
    assert recompute_all(today=TODAY)["compliance"] == 0
    assert stored_statuses() == expected_statuses()


def test_only_the_changed_municipalitys_rows_are_written(world):
    recompute_all(today=TODAY)
    target = world.municipalities[0]
    before = {k: v for k, v in stored_statuses().items() if k[0] == target.id}
    # Every block in use: every agreement of this municipality is met.
    AdoptionStatus.objects.filter(municipality=target).update(level=Level.IN_USE)
    written = recompute_all(today=TODAY)["compliance"]
    after = stored_statuses()
    assert after == expected_statuses()
    changed = sum(1 for k, v in before.items() if after[k] != v)
    assert changed > 0
    assert written == changed


def test_a_passing_deadline_rewrites_the_statuses_it_changes(world):
    recompute_all(today=TODAY)
    later = datetime.date(2030, 1, 1)
    written = recompute_all(today=later)["compliance"]
    assert written > 0
    assert stored_statuses() == expected_statuses(later)
    assert ComplianceStatus.OVERDUE in set(stored_statuses().values())


def test_rows_written_by_one_municipalitys_recompute_are_compared_again(world):
    recompute_all(today=TODAY)
    target = world.municipalities[1]
    AdoptionStatus.objects.filter(municipality=target).update(
        level=Level.NOT_STARTED, planned_date=None
    )
    recompute_municipality(target.id, today=TODAY)
    score = MunicipalityScore.objects.get(municipality=target)
    assert score.compliance_key is None  # unknown: the next full pass compares
    recompute_all(today=TODAY)
    assert stored_statuses() == expected_statuses()


def test_an_unknown_key_repairs_the_rows(world):
    recompute_all(today=TODAY)
    target = world.municipalities[2]
    row = AgreementCompliance.objects.filter(municipality=target).first()
    wrong = next(s for s in ComplianceStatus.values if s != row.status)
    AgreementCompliance.objects.filter(pk=row.pk).update(status=wrong)
    MunicipalityScore.objects.filter(municipality=target).update(compliance_key=None)
    assert recompute_all(today=TODAY)["compliance"] == 1
    assert stored_statuses() == expected_statuses()


def test_a_former_municipality_loses_its_rows_in_a_full_recompute(world):
    recompute_all(today=TODAY)
    target = world.municipalities[3]
    Municipality.objects.filter(pk=target.pk).update(active=False)
    written = recompute_all(today=TODAY)["compliance"]
    assert written == len(world.agreements)
    assert not AgreementCompliance.objects.filter(municipality=target).exists()
    assert stored_statuses() == expected_statuses()


def test_a_new_or_removed_agreement_changes_every_key(world):
    recompute_all(today=TODAY)
    removed = world.agreements[0].pk
    ResultAgreement.objects.filter(pk=removed).delete()
    # No database FK on these rows: Django's cascade deletes them.
    assert not AgreementCompliance.objects.filter(agreement_id=removed).exists()
    recompute_all(today=TODAY)
    assert stored_statuses() == expected_statuses()
    ResultAgreement.objects.create(
        number=99, title="Nieuw", deadline=datetime.date(2015, 1, 1)
    )
    written = recompute_all(today=TODAY)["compliance"]
    assert written == len(world.municipalities)  # one new row each
    assert stored_statuses() == expected_statuses()


def test_deleting_a_municipality_deletes_its_rows(world):
    recompute_all(today=TODAY)
    target = world.municipalities[4]
    Municipality.objects.filter(pk=target.pk).delete()
    assert not AgreementCompliance.objects.filter(municipality_id=target.pk).exists()
    assert not MunicipalityScore.objects.filter(municipality_id=target.pk).exists()
    recompute_all(today=TODAY)
    assert stored_statuses() == expected_statuses()


@pytest.mark.parametrize("bits", [1, 3])
def test_more_requirements_or_blocks_than_mask_bits_take_the_three_passes(
    world, monkeypatch, bits
):
    """Beyond 63 requirements or active blocks (a bigint's bits) the single pass
    steps aside; shrinking the limit exercises that path on PostgreSQL too."""
    from scoring import compute

    recompute_all(today=TODAY)
    single = stored_statuses()
    monkeypatch.setattr(compute, "_MASK_BITS", bits)
    AdoptionStatus.objects.filter(municipality=world.municipalities[0]).update(
        level=Level.IN_USE
    )
    recompute_all(today=TODAY)
    assert stored_statuses() == expected_statuses()
    assert stored_statuses() != single
    # The three-pass path writes no key: the next single pass compares again.
    assert not MunicipalityScore.objects.exclude(compliance_key=None).exists()
    monkeypatch.undo()
    recompute_all(today=TODAY)
    assert stored_statuses() == expected_statuses()
    if connection.vendor == "postgresql":  # only the single pass writes keys
        assert not MunicipalityScore.objects.filter(compliance_key=None).exists()
