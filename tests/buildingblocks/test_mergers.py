"""Municipal mergers: the carry-over rule, applying, and the admin review."""

from __future__ import annotations

import datetime

from django.urls import reverse
from django.utils import timezone

import pytest

from buildingblocks.levels import Level
from buildingblocks.mergers import MergerError, apply_merger, carry_over, plan_merger
from buildingblocks.models import AdoptionStatus, StatusChange
from buildingblocks.validation import StatusValues
from municipalities.models import EditorMembership, Merger
from tests.factories import (
    AdoptionStatusFactory,
    BuildingBlockFactory,
    EditorMembershipFactory,
    MunicipalityFactory,
    UserFactory,
)

D = datetime.date
DATE = D(2026, 1, 1)


def sv(level, planned=None, achieved=None, note="", url=""):
    return StatusValues(level, planned, achieved, note, url)


def test_carry_over_takes_the_lowest_level_and_latest_dates():
    result = carry_over(
        [
            ("A", sv(Level.IN_USE, achieved=D(2013, 1, 1))),
            ("B", sv(Level.IMPLEMENTING, planned=D(2026, 6, 1))),
            ("C", sv(Level.PREPARING, planned=D(2027, 1, 1))),
        ],
        date=DATE,
    )
    assert (result.level, result.planned_date, result.achieved_date) == (
        Level.PREPARING,
        D(2027, 1, 1),
        None,
    )
    assert "A" in result.note and "2026-01-01" in result.note


def test_carry_over_of_all_in_use_keeps_the_latest_achieved_date():
    result = carry_over(
        [
            ("A", sv(Level.IN_USE, achieved=D(2013, 1, 1), url="https://x.nl")),
            ("B", sv(Level.IN_USE, achieved=D(2014, 5, 1), url="https://x.nl")),
        ],
        date=DATE,
    )
    assert (result.level, result.achieved_date, result.evidence_url) == (
        Level.IN_USE,
        D(2014, 5, 1),
        "https://x.nl",
    )


def test_missing_status_counts_as_not_started_and_not_applicable_is_left_out():
    assert (
        carry_over([("A", sv(Level.IN_USE)), ("B", None)], date=DATE).level
        == Level.NOT_STARTED
    )
    result = carry_over(
        [
            ("A", sv(Level.IMPLEMENTING, planned=D(2026, 3, 1))),
            ("B", sv(Level.NOT_APPLICABLE, note="geen haven")),
        ],
        date=DATE,
    )
    assert result.level == Level.IMPLEMENTING
    only_na = carry_over(
        [("A", sv(Level.NOT_APPLICABLE, note="geen haven"))], date=DATE
    )
    assert only_na.level == Level.NOT_APPLICABLE and "geen haven" in only_na.note


@pytest.fixture
def merger(db):
    a = MunicipalityFactory(name="Aa", population=20_000)
    b = MunicipalityFactory(name="Bee", population=15_000)
    new = MunicipalityFactory(name="Nieuwgem", population=35_000, active=True)
    digid, bag = BuildingBlockFactory(code="digid"), BuildingBlockFactory(code="bag")
    AdoptionStatusFactory(
        municipality=a, block=digid, level=Level.IN_USE, achieved_date=D(2013, 1, 1)
    )
    AdoptionStatusFactory(
        municipality=b,
        block=digid,
        level=Level.IMPLEMENTING,
        planned_date=D(2026, 9, 1),
    )
    AdoptionStatusFactory(
        municipality=a, block=bag, level=Level.IN_USE, achieved_date=D(2012, 1, 1)
    )
    AdoptionStatusFactory(
        municipality=b, block=bag, level=Level.IN_USE, achieved_date=D(2015, 1, 1)
    )
    merger = Merger.objects.create(date=DATE, successor=new)
    merger.merged.set([a, b])
    return {"merger": merger, "a": a, "b": b, "new": new, "digid": digid, "bag": bag}


def test_plan_proposes_the_documented_carry_over(merger):
    plan = {p.block.code: p for p in plan_merger(merger["merger"])}
    assert (plan["digid"].values.level, plan["digid"].values.planned_date) == (
        Level.IMPLEMENTING,
        D(2026, 9, 1),
    )
    assert (plan["bag"].values.level, plan["bag"].values.achieved_date) == (
        Level.IN_USE,
        D(2015, 1, 1),
    )
    assert plan["digid"].current is None


def test_apply_carries_statuses_history_editors_and_deactivates(
    merger, king_user, recomputes, django_capture_on_commit_callbacks
):
    editor = EditorMembershipFactory(municipality=merger["a"]).user
    EditorMembershipFactory(municipality=merger["b"], user=editor)
    with django_capture_on_commit_callbacks(execute=True):
        count = apply_merger(merger=merger["merger"], user=king_user)
    assert count == 2
    new, a = merger["new"], merger["a"]
    a.refresh_from_db()
    assert (a.active, a.valid_until, a.successor) == (False, D(2025, 12, 31), new)
    statuses = {
        s.block.code: s for s in AdoptionStatus.objects.filter(municipality=new)
    }
    assert statuses["digid"].level == Level.IMPLEMENTING
    assert statuses["bag"].achieved_date == D(2015, 1, 1)
    history = StatusChange.objects.filter(municipality=new)
    assert {h.source for h in history} == {StatusChange.Source.MERGER}
    assert {timezone.localtime(h.changed_at).date() for h in history} == {DATE}
    assert list(
        EditorMembership.objects.filter(user=editor).values_list(
            "municipality", flat=True
        )
    ) == [new.pk]
    # The merged municipalities keep their own statuses and history.
    assert AdoptionStatus.objects.filter(municipality=a).count() == 2
    assert recomputes == [None]
    merger["merger"].refresh_from_db()
    assert merger["merger"].applied_at is not None
    with pytest.raises(MergerError):
        apply_merger(merger=merger["merger"], user=king_user)


def test_staff_adjustments_override_the_proposal(merger, king_user, recomputes):
    adjusted = {merger["digid"].pk: sv(Level.IN_USE, achieved=D(2025, 12, 1))}
    apply_merger(merger=merger["merger"], user=king_user, statuses=adjusted)
    status = AdoptionStatus.objects.get(
        municipality=merger["new"], block=merger["digid"]
    )
    assert (status.level, status.achieved_date) == (Level.IN_USE, D(2025, 12, 1))


def test_invalid_adjustment_applies_nothing(merger, king_user, recomputes):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        apply_merger(
            merger=merger["merger"],
            user=king_user,
            statuses={merger["digid"].pk: sv(Level.PREPARING)},
        )
    merger["a"].refresh_from_db()
    assert merger["a"].active
    assert not AdoptionStatus.objects.filter(municipality=merger["new"]).exists()


def test_continuing_successor_counts_in_the_lowest_level(db, recomputes):
    block = BuildingBlockFactory()
    big = MunicipalityFactory(name="Groot")
    small = MunicipalityFactory(name="Klein")
    AdoptionStatusFactory(
        municipality=big, block=block, level=Level.PREPARING, planned_date=D(2026, 5, 1)
    )
    AdoptionStatusFactory(
        municipality=small, block=block, level=Level.IN_USE, achieved_date=D(2014, 1, 1)
    )
    merger = Merger.objects.create(date=DATE, successor=big)
    merger.merged.set([small])
    [proposal] = plan_merger(merger)
    assert proposal.values.level == Level.PREPARING
    assert proposal.current.level == Level.PREPARING


def test_snapshots_are_not_touched(merger, king_user, recomputes):
    from django.utils import timezone

    from scoring.models import Scope, Snapshot

    Snapshot.objects.create(
        scope=Scope.NATIONAL,
        key="",
        measure="mean_score",
        value=42.0,
        month=D(2025, 11, 1),
        computed_at=timezone.now(),
    )
    apply_merger(merger=merger["merger"], user=king_user)
    assert list(Snapshot.objects.values_list("value", flat=True)) == [42.0]


def test_admin_review_page_and_apply(client, merger, recomputes):
    staff = UserFactory(username="king-admin", groups=["king_staff"], is_staff=True)
    client.force_login(staff)
    url = reverse("admin:municipalities_merger_apply", args=[merger["merger"].pk])
    page = client.get(url)
    assert page.status_code == 200
    assert b"Nieuwgem" in page.content
    data = {}
    for p in plan_merger(merger["merger"]):
        k = p.block.pk
        data[f"level_{k}"] = p.values.level
        data[f"planned_{k}"] = (
            p.values.planned_date.isoformat() if p.values.planned_date else ""
        )
        data[f"achieved_{k}"] = (
            p.values.achieved_date.isoformat() if p.values.achieved_date else ""
        )
        data[f"note_{k}"] = p.values.note
    data[f"level_{merger['digid'].pk}"] = Level.PREPARING
    response = client.post(url, data)
    assert response.status_code == 302
    status = AdoptionStatus.objects.get(
        municipality=merger["new"], block=merger["digid"]
    )
    assert status.level == Level.PREPARING
    # The changelist action leads to the review page.
    response = client.post(
        reverse("admin:municipalities_merger_changelist"),
        {"action": "review_and_apply", "_selected_action": [merger["merger"].pk]},
    )
    assert response.status_code == 302 and response["Location"].endswith(
        url.split("/admin", 1)[1]
    )


def test_review_page_is_for_staff_only(client, merger, editor):
    url = reverse("admin:municipalities_merger_apply", args=[merger["merger"].pk])
    assert client.get(url).status_code == 302
    client.force_login(editor)
    assert client.get(url).status_code == 302  # not staff: the admin login
