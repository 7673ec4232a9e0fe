"""/mijn-gemeente/: a CIO's municipalities and what is due before which deadline."""

from __future__ import annotations

import datetime

from django.urls import reverse
from django.utils import timezone, translation

import pytest

from buildingblocks.deadlines import agreements_due
from buildingblocks.levels import Level
from scoring.models import ComplianceStatus, MunicipalityScore
from tests.buildingblocks.editing import make_blocks
from tests.factories import (
    AdoptionStatusFactory,
    EditorMembershipFactory,
    MunicipalityFactory,
    RequirementFactory,
    ResultAgreementFactory,
)

TODAY = timezone.localdate()
SOON = TODAY + datetime.timedelta(days=60)
LATER = TODAY + datetime.timedelta(days=400)
PAST = TODAY - datetime.timedelta(days=30)


@pytest.fixture
def agreements(municipality):
    """Four agreements: met, on track, at risk and overdue for `municipality`."""
    blocks = make_blocks()
    met = ResultAgreementFactory(number=1, deadline=SOON, title_en="Met one")
    on_track = ResultAgreementFactory(number=2, deadline=LATER, title_en="On track one")
    at_risk = ResultAgreementFactory(number=3, deadline=SOON, title_en="At risk one")
    overdue = ResultAgreementFactory(number=4, deadline=PAST, title_en="Overdue one")
    RequirementFactory(agreement=met, block=blocks["digid"])
    RequirementFactory(agreement=on_track, block=blocks["eherkenning"])
    RequirementFactory(agreement=at_risk, block=blocks["brp"])
    RequirementFactory(agreement=at_risk, block=blocks["eherkenning"])
    RequirementFactory(agreement=overdue, block=blocks["brp"])
    # A retired block's requirement does not count.
    RequirementFactory(agreement=met, block=blocks["retired"])
    AdoptionStatusFactory(
        municipality=municipality, block=blocks["digid"], level=Level.IN_USE
    )
    AdoptionStatusFactory(
        municipality=municipality,
        block=blocks["eherkenning"],
        level=Level.IMPLEMENTING,
        planned_date=SOON,
    )
    # brp has no status row: not started, unplanned.
    return {"met": met, "on_track": on_track, "at_risk": at_risk, "overdue": overdue}


def mine_url(language="nl", **query) -> str:
    with translation.override(language):
        url = reverse("buildingblocks:mine")
    if query:
        url += "?" + "&".join(f"{key}={value}" for key, value in query.items())
    return url


def test_due_lists_the_agreements_not_met_by_deadline(municipality, agreements):
    due = agreements_due(municipality, today=TODAY)

    assert [item.agreement.number for item in due] == [4, 3, 2]
    assert [item.status for item in due] == [
        ComplianceStatus.OVERDUE,
        ComplianceStatus.AT_RISK,
        ComplianceStatus.ON_TRACK,
    ]
    at_risk = due[1]
    assert at_risk.needs_attention
    assert [(m.block.code, m.planned_date, m.late) for m in at_risk.missing] == [
        ("eherkenning", SOON, False),
        ("brp", None, True),
    ]
    assert not due[2].needs_attention


def test_a_cio_sees_score_deadlines_and_links(client, editor, municipality, agreements):
    MunicipalityScore.objects.create(
        municipality=municipality, score=62.5, computed_at=timezone.now()
    )
    client.force_login(editor)

    response = client.get(mine_url("en"))

    assert response.status_code == 200
    assert response.context["chosen"] == municipality
    assert [item.agreement.number for item in response.context["due"]] == [4, 3, 2]
    assert [item.agreement.number for item in response.context["attention"]] == [4, 3]
    html = response.content.decode()
    assert "62.5" in html
    assert "Overdue one" in html and "At risk one" in html
    assert "Met one" not in html
    assert 'class="status status--overdue"' in html
    assert reverse("buildingblocks:edit", args=[municipality.slug]) in html
    assert reverse("buildingblocks:history", args=[municipality.slug]) in html


def test_the_page_takes_a_constant_number_of_queries(
    client, editor, municipality, agreements, django_assert_max_num_queries
):
    client.force_login(editor)
    with django_assert_max_num_queries(15):
        assert client.get(mine_url()).status_code == 200


def test_a_cio_of_several_municipalities_chooses_one(client, editor, municipality):
    other = MunicipalityFactory(name="Zuidstad", slug="zuidstad")
    EditorMembershipFactory(user=editor, municipality=other)
    client.force_login(editor)

    response = client.get(mine_url())
    assert response.context["chosen"] is None
    html = response.content.decode()
    assert "?gemeente=zuidstad" in html
    assert f"?gemeente={municipality.slug}" in html

    response = client.get(mine_url(gemeente="zuidstad"))
    assert response.context["chosen"] == other
    assert (
        reverse("buildingblocks:edit", args=["zuidstad"]) in response.content.decode()
    )


def test_another_municipality_cannot_be_chosen_by_slug(client, editor, municipality):
    other = MunicipalityFactory()
    EditorMembershipFactory(user=editor, municipality=MunicipalityFactory())
    client.force_login(editor)
    response = client.get(mine_url(gemeente=other.slug))
    assert response.status_code == 200
    assert response.context["chosen"] is None


def test_users_without_a_municipality_get_a_helpful_message(
    client, vdp_user, king_user
):
    client.force_login(vdp_user)
    response = client.get(mine_url("en"))
    assert response.status_code == 200
    assert "ask KING to link your account" in response.content.decode()

    client.force_login(king_user)
    html = client.get(mine_url("en")).content.decode()
    assert "As KING staff you may edit the statuses of any municipality" in html
    with translation.override("en"):
        assert f'href="{reverse("municipalities:list")}"' in html


def test_anonymous_users_are_sent_to_the_login_page(client, db):
    response = client.get(mine_url())
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
