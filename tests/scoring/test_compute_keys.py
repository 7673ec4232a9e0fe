"""A full recompute writes only the compliance rows that changed.

These tests hold the stored rows to the pure rules after every kind of change,
on SQLite and PostgreSQL alike (one SQL path).
"""

from __future__ import annotations

import datetime
from unittest import mock

from django.db import connection
from django.test.utils import CaptureQueriesContext

import pytest

from agreements.models import ResultAgreement
from buildingblocks.levels import Level
from buildingblocks.models import AdoptionStatus
from municipalities.models import Municipality
from scoring import compute
from scoring.compute import recompute_all, recompute_municipality
from scoring.models import (
    AgreementCompliance,
    ComplianceReason,
    ComplianceStatus,
    MunicipalityScore,
)
from scoring.recompute import outcomes
from scoring.recompute.inputs import _Inputs, _read_inputs
from tests.scoring.conftest import TODAY
from tests.scoring.test_compute import expected_per_municipality

pytestmark = pytest.mark.django_db


def stored_statuses() -> dict[tuple[int, int], tuple]:
    return {
        (c.municipality_id, c.agreement_id): (
            c.status,
            c.reason or None,
            c.lapsed_on,
            c.exempted,
        )
        for c in AgreementCompliance.objects.all()
    }


def expected_statuses(on=TODAY) -> dict[tuple[int, int], tuple]:
    return {
        (m_id, a_id): (o.status, o.reason, o.lapsed_on, o.exempted)
        for m_id, (_s, _c, outcomes) in expected_per_municipality(on).items()
        for a_id, o in outcomes.items()
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
    assert ComplianceStatus.OVERDUE in {v[0] for v in stored_statuses().values()}


def test_one_municipalitys_recompute_leaves_nothing_for_the_full_one(world):
    recompute_all(today=TODAY)
    target = world.municipalities[1]
    AdoptionStatus.objects.filter(municipality=target).update(
        level=Level.NOT_STARTED, planned_date=None
    )
    assert recompute_municipality(target.id, today=TODAY)["compliance"] > 0
    assert stored_statuses() == expected_statuses()
    assert recompute_all(today=TODAY)["compliance"] == 0


def test_a_wrong_stored_row_is_repaired(world):
    recompute_all(today=TODAY)
    target = world.municipalities[2]
    row = AgreementCompliance.objects.filter(municipality=target).first()
    wrong = next(s for s in ComplianceStatus.values if s != row.status)
    AgreementCompliance.objects.filter(pk=row.pk).update(status=wrong)
    assert recompute_all(today=TODAY)["compliance"] == 1
    assert stored_statuses() == expected_statuses()


WRONG_FIELDS = [
    {"reason": ComplianceReason.UNPLANNED},
    {"exempted": True},
    {"lapsed_on": datetime.date(2001, 2, 3)},
]


@pytest.mark.parametrize("packed", [15, 2])
@pytest.mark.parametrize("wrong", WRONG_FIELDS, ids=["reason", "exempted", "lapsed"])
def test_any_wrong_field_of_a_stored_row_is_repaired(world, packed, wrong):
    """Rows are compared per municipality first (codes packed in words of
    `_PACKED` agreements); a change in any field still tells."""
    with (
        mock.patch.object(outcomes, "_PACKED", packed),
        CaptureQueriesContext(connection) as queries,
    ):
        recompute_all(today=TODAY)
        for i, target in enumerate(world.municipalities[:4]):
            row = AgreementCompliance.objects.filter(municipality=target)[i]
            AgreementCompliance.objects.filter(pk=row.pk).update(**wrong)
        assert recompute_all(today=TODAY)["compliance"] == 4
    assert stored_statuses() == expected_statuses()
    # The patch took effect: with 2 agreements a word, the codes span several.
    statements = " ".join(query["sql"] for query in queries.captured_queries)
    assert ("codes_1" in statements) == (packed < len(world.agreements))


def test_a_missing_or_foreign_stored_row_is_repaired(world):
    recompute_all(today=TODAY)
    missing, foreign = world.municipalities[0], world.municipalities[1]
    AgreementCompliance.objects.filter(municipality=missing).first().delete()
    # A row of another agreement in place of one of its own: as many rows.
    row = AgreementCompliance.objects.filter(municipality=foreign).first()
    other = ResultAgreement.objects.create(
        number=98, title="Ander", deadline=datetime.date(2015, 1, 1)
    )
    AgreementCompliance.objects.filter(pk=row.pk).update(agreement=other)
    other_id = other.pk
    # The recompute reads the agreements without it, as after its removal
    # (patched where scoring.compute looks it up).
    with mock.patch.object(
        compute,
        "_read_inputs",
        lambda on, read=_read_inputs: _without(read(on), other_id),
    ):
        assert recompute_all(today=TODAY)["compliance"] == 3
        assert {k: v for k, v in stored_statuses().items() if k[1] != other_id} == {
            k: v for k, v in expected_statuses().items() if k[1] != other_id
        }


def _without(inputs, agreement_id):
    return _Inputs(
        inputs.blocks,
        inputs.requirements,
        [a for a in inputs.agreements if a[0] != agreement_id],
    )


def test_an_expiring_plan_rewrites_only_its_reason(world):
    """The day after a planned date the row changes, with no status edit."""
    recompute_all(today=TODAY)
    later = datetime.date(2014, 12, 31) + datetime.timedelta(days=1)
    recompute_all(today=later)
    assert stored_statuses() == expected_statuses(later)
    assert any(
        reason == ComplianceReason.PLAN_EXPIRED
        and lapsed == datetime.date(2014, 12, 31)
        for _, reason, lapsed, _ in stored_statuses().values()
    )


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
