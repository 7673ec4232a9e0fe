"""Municipalities behind on their agreements, for the reminder tests."""

from __future__ import annotations

import datetime

from django.utils import timezone

import pytest

from scoring.models import AgreementCompliance, ComplianceStatus
from tests.factories import (
    EditorMembershipFactory,
    MunicipalityFactory,
    ResultAgreementFactory,
    UserFactory,
)

NOW = timezone.make_aware(datetime.datetime(2026, 3, 2, 7, 0))


@pytest.fixture
def lagging(db):
    behind = MunicipalityFactory(name="Achterdorp", slug="achterdorp")
    fine = MunicipalityFactory(name="Voorstad", slug="voorstad")
    agreement = ResultAgreementFactory(
        number=3, title="Berichtenbox", deadline=datetime.date(2015, 1, 1)
    )
    other = ResultAgreementFactory(
        number=4, title="eHerkenning", deadline=datetime.date(2027, 1, 1)
    )
    for m, a, status in [
        (behind, agreement, ComplianceStatus.OVERDUE),
        (behind, other, ComplianceStatus.AT_RISK),
        (fine, agreement, ComplianceStatus.MET),
    ]:
        AgreementCompliance.objects.create(
            municipality=m, agreement=a, status=status, computed_at=NOW
        )
    editors = [
        EditorMembershipFactory(
            municipality=behind, user__email="cio@achterdorp.nl"
        ).user,
        EditorMembershipFactory(
            municipality=behind, user__email="adjunct@achterdorp.nl"
        ).user,
    ]
    EditorMembershipFactory(municipality=fine, user__email="cio@voorstad.nl")
    # An editor without the role any more, and one without e-mail, get nothing.
    EditorMembershipFactory(
        municipality=behind, user=UserFactory(email="oud@achterdorp.nl")
    )
    EditorMembershipFactory(municipality=behind, user__email="")
    return {"behind": behind, "fine": fine, "editors": editors}
