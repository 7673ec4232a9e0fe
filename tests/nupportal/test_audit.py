import json
import logging

from django.contrib.auth.models import Group
from django.urls import reverse

import pytest

from nupportal.audit import audit
from tests.factories import EditorMembershipFactory, MunicipalityFactory, UserFactory


def _records(caplog):
    return [
        json.loads(r.getMessage())
        for r in caplog.records
        if r.name == "nupportal.audit"
    ]


def test_audit_record_is_structured_json(caplog):
    caplog.set_level(logging.INFO, logger="nupportal.audit")
    audit("import_applied", user="king", rows=3)
    (record,) = _records(caplog)
    assert record["event"] == "import_applied"
    assert record["user"] == "king"
    assert record["rows"] == 3
    assert "at" in record and "from" in record


@pytest.mark.django_db
def test_login_and_failed_login_are_audited_without_the_password(client, caplog):
    caplog.set_level(logging.INFO, logger="nupportal.audit")
    UserFactory(username="auditee")
    client.post(
        reverse("login"),
        {"username": "auditee", "password": "wrong-secret"},
        REMOTE_ADDR="10.0.0.7",
    )
    client.post(
        reverse("login"),
        {"username": "auditee", "password": "demo"},
        REMOTE_ADDR="10.0.0.7",
    )
    events = [(r["event"], r["user"], r["from"]) for r in _records(caplog)]
    assert ("login_failed", "auditee", "10.0.0.7") in events
    assert ("login", "auditee", "10.0.0.7") in events
    assert "wrong-secret" not in caplog.text


@pytest.mark.django_db
def test_group_and_membership_changes_are_audited(caplog):
    caplog.set_level(logging.INFO, logger="nupportal.audit")
    user = UserFactory(username="newcio")
    user.groups.add(Group.objects.get_or_create(name="king_staff")[0])
    membership = EditorMembershipFactory(
        user=user, municipality=MunicipalityFactory(cbs_code="GM0394")
    )
    membership.delete()
    events = [(r["event"], r.get("subject")) for r in _records(caplog)]
    assert ("permissions_changed", "newcio") in events
    assert ("membership_added", "newcio") in events
    assert ("membership_removed", "newcio") in events


@pytest.mark.django_db
def test_a_huge_user_name_is_counted_as_a_failed_login_not_a_crash(client):
    from axes.models import AccessAttempt

    response = client.post(
        reverse("login"),
        {"username": "x" * 5000, "password": "nope"},
        REMOTE_ADDR="10.0.0.8",
    )
    assert response.status_code == 200
    attempt = AccessAttempt.objects.get()
    assert attempt.username == "x" * 150
