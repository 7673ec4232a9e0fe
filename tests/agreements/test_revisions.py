"""Deadline revisions: the agreement's deadline follows, scores recompute, history shows."""

from __future__ import annotations

import datetime
import json
import logging

from django.core.exceptions import ValidationError
from django.urls import reverse

import pytest

from agreements.models import DeadlineRevision
from agreements.services import record_revision
from tests.factories import ResultAgreementFactory

pytestmark = pytest.mark.django_db

D = datetime.date


@pytest.fixture
def agreement():
    return ResultAgreementFactory(
        number=7, original_deadline=D(2015, 1, 1), deadline=D(2015, 1, 1)
    )


def test_revision_moves_the_deadline_and_enqueues_a_recompute(
    agreement, king_user, recomputes, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        revision = record_revision(
            agreement=agreement,
            new_deadline=D(2016, 7, 1),
            decided_on=D(2014, 6, 1),
            reason="Uitstel door de VNG",
            user=king_user,
        )
    agreement.refresh_from_db()
    assert (revision.old_deadline, revision.new_deadline) == (
        D(2015, 1, 1),
        D(2016, 7, 1),
    )
    assert agreement.deadline == D(2016, 7, 1)
    assert agreement.deadline_is_reference is False
    assert recomputes == [None]


def test_a_revision_is_one_structured_audit_record(
    agreement, king_user, recomputes, caplog
):
    caplog.set_level(logging.INFO, logger="nupportal.audit")
    record_revision(
        agreement=agreement,
        new_deadline=D(2016, 7, 1),
        decided_on=D(2014, 6, 1),
        reason="Uitstel door de VNG",
        user=king_user,
    )
    (record,) = [
        json.loads(r.getMessage())
        for r in caplog.records
        if r.name == "nupportal.audit"
    ]
    assert record["event"] == "deadline_revised"
    assert record["user"] == king_user.username
    assert (record["agreement"], record["old_deadline"], record["new_deadline"]) == (
        7,
        "2015-01-01",
        "2016-07-01",
    )


def test_revisions_chain_and_the_latest_decision_wins(agreement, recomputes):
    record_revision(
        agreement=agreement,
        new_deadline=D(2016, 1, 1),
        decided_on=D(2014, 1, 1),
        reason="a",
    )
    second = record_revision(
        agreement=agreement,
        new_deadline=D(2017, 1, 1),
        decided_on=D(2015, 6, 1),
        reason="b",
    )
    assert second.old_deadline == D(2016, 1, 1)
    # A decision recorded late but taken in between does not override the latest one.
    between = record_revision(
        agreement=agreement,
        new_deadline=D(2016, 6, 1),
        decided_on=D(2014, 6, 1),
        reason="c",
    )
    assert between.old_deadline == D(2016, 1, 1)
    agreement.refresh_from_db()
    assert agreement.deadline == D(2017, 1, 1)
    history = list(agreement.revisions.values_list("decided_on", "new_deadline"))
    assert history == [
        (D(2014, 1, 1), D(2016, 1, 1)),
        (D(2014, 6, 1), D(2016, 6, 1)),
        (D(2015, 6, 1), D(2017, 1, 1)),
    ]


@pytest.mark.parametrize(
    ("new_deadline", "decided_on", "field"),
    [
        (D(2015, 1, 1), D(2014, 1, 1), "new_deadline"),
        (D(2016, 1, 1), D(2999, 1, 1), "decided_on"),
    ],
)
def test_invalid_revisions_are_refused_and_change_nothing(
    agreement, recomputes, new_deadline, decided_on, field
):
    with pytest.raises(ValidationError) as excinfo:
        record_revision(
            agreement=agreement,
            new_deadline=new_deadline,
            decided_on=decided_on,
            reason="x",
        )
    assert field in excinfo.value.message_dict
    agreement.refresh_from_db()
    assert agreement.deadline == D(2015, 1, 1)
    assert not DeadlineRevision.objects.exists()


def test_admin_add_uses_the_service(
    client, agreement, recomputes, django_capture_on_commit_callbacks
):
    from tests.factories import UserFactory

    staff = UserFactory(username="king-admin", groups=["king_staff"], is_staff=True)
    client.force_login(staff)
    url = reverse("admin:agreements_deadlinerevision_add")
    assert client.get(url).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url,
            {
                "agreement": agreement.pk,
                "new_deadline": "2016-03-01",
                "decided_on": "2014-10-01",
                "reason": "Besluit stuurgroep",
            },
        )
    assert response.status_code == 302, response.content[:2000]
    revision = DeadlineRevision.objects.get()
    assert revision.old_deadline == D(2015, 1, 1)
    agreement.refresh_from_db()
    assert agreement.deadline == D(2016, 3, 1)
    assert recomputes == [None]
    # The same deadline again is refused with a message on the field.
    response = client.post(
        url,
        {
            "agreement": agreement.pk,
            "new_deadline": "2016-03-01",
            "decided_on": "2014-11-01",
            "reason": "x",
        },
    )
    assert response.status_code == 200
    assert "new_deadline" in response.context["adminform"].form.errors
