"""The reminder preview for KING staff: the plan is what is sent, staff only, both languages."""

from __future__ import annotations

import datetime

from django.utils import timezone

import pytest

from agreements.models import ReminderLog
from agreements.reminders import plan_reminders, send_deadline_reminders
from scoring.models import AgreementCompliance, ComplianceStatus
from tests.agreements.conftest import NOW
from tests.factories import (
    EditorMembershipFactory,
    MunicipalityFactory,
    ResultAgreementFactory,
)

LIST = "/rapportages/herinneringen/"
PREVIEW = "/rapportages/herinneringen/achterdorp/"


def _sent(mailoutbox) -> list[tuple[str, str, str, str]]:
    return [
        (m.to[0], m.subject, m.body, m.alternatives[0][0])
        for m in sorted(mailoutbox, key=lambda m: m.to[0])
    ]


def _planned(plan) -> list[tuple[str, str, str, str]]:
    return sorted(
        (mail.to, mail.subject, mail.body, mail.html)
        for planned in plan
        for mail in planned.mails
    )


def test_the_plan_is_exactly_what_is_sent(lagging, mailoutbox):
    # A second lagging municipality, so the comparison covers more than one plan.
    other = MunicipalityFactory(name="Bergen", slug="bergen")
    AgreementCompliance.objects.create(
        municipality=other,
        agreement=ResultAgreementFactory(number=9, deadline=datetime.date(2026, 6, 1)),
        status=ComplianceStatus.AT_RISK,
        computed_at=NOW,
    )
    EditorMembershipFactory(municipality=other, user__email="cio@bergen.nl")
    plan = plan_reminders(now=NOW)
    assert [p.name for p in plan] == ["Achterdorp", "Bergen"]
    achterdorp = plan[0]
    assert [i.agreement.number for i in achterdorp.items] == [3, 4]  # by deadline
    assert achterdorp.earliest_deadline == datetime.date(2015, 1, 1)
    assert achterdorp.recipient_count == 2
    assert (
        ReminderLog.objects.count() == 0 and mailoutbox == []
    )  # planning sends nothing

    assert send_deadline_reminders(now=NOW) == 2
    assert _sent(mailoutbox) == _planned(plan)
    assert len(mailoutbox) == 3


def test_the_plan_leaves_out_who_was_just_reminded(lagging, mailoutbox):
    send_deadline_reminders(now=NOW)
    assert plan_reminders(now=NOW + datetime.timedelta(days=1)) == []
    assert [p.name for p in plan_reminders(now=NOW + datetime.timedelta(days=7))] == [
        "Achterdorp"
    ]


def test_a_municipality_without_recipients_is_planned_but_gets_nothing(
    lagging, mailoutbox
):
    for membership in lagging["behind"].editor_memberships.all():
        membership.user.email = ""
        membership.user.save()
    (planned,) = plan_reminders(now=NOW)
    assert planned.recipients == () and planned.mails == ()
    assert send_deadline_reminders(now=NOW) == 0
    assert mailoutbox == [] and not ReminderLog.objects.exists()


# --- the pages -------------------------------------------------------------------


def test_staff_only(client, lagging, editor):
    for path in (LIST, PREVIEW):
        response = client.get(path)
        assert (
            response.status_code == 302 and "/accounts/login/" in response["Location"]
        )
    client.force_login(editor)
    assert client.get(LIST).status_code == 403
    assert client.get(PREVIEW).status_code == 403


@pytest.mark.parametrize("prefix", ["", "/en"])
def test_the_list_shows_one_row_per_planned_municipality(
    client, king_user, lagging, prefix
):
    client.force_login(king_user)
    response = client.get(prefix + LIST)
    assert response.status_code == 200
    html = response.content.decode()
    assert f'href="{prefix}{PREVIEW}"' in html
    rows = list(response.context["table"].rows)
    assert [
        (r.record.name, r.record.item_count, r.record.recipient_count) for r in rows
    ] == [("Achterdorp", 2, 2)]
    if prefix:
        assert "Deadline reminders this week" in html
    else:
        assert "Deadlineherinneringen deze week" in html


def test_the_list_is_searched_sorted_and_paginated(client, king_user, lagging):
    agreement = ResultAgreementFactory(number=7, deadline=datetime.date(2030, 1, 1))
    for i in range(30):
        AgreementCompliance.objects.create(
            municipality=MunicipalityFactory(name=f"Plaats {i:02}", slug=f"plaats-{i}"),
            agreement=agreement,
            status=ComplianceStatus.AT_RISK,
            computed_at=NOW,
        )
    client.force_login(king_user)
    page = client.get(LIST).context["table"]
    assert page.page.paginator.count == 31 and len(page.page.object_list) == 25
    names = [
        r.record.name for r in client.get(LIST + "?q=achter").context["table"].rows
    ]
    assert names == ["Achterdorp"]
    first = client.get(LIST + "?sort=earliest_deadline").context["table"].page
    assert first.object_list[0].record.name == "Achterdorp"  # deadline 2015
    last = client.get(LIST + "?sort=-name").context["table"].page
    assert last.object_list[0].record.name == "Plaats 29"
    response = client.get(LIST + "?q=nergens")
    assert "Geen te herinneren gemeente past bij deze zoekopdracht." in (
        response.content.decode()
    )


def test_empty_state(client, king_user, db):
    client.force_login(king_user)
    response = client.get("/en" + LIST)
    assert response.status_code == 200
    assert 'data-testid="reminders-empty"' in response.content.decode()


@pytest.mark.parametrize("prefix", ["", "/en"])
def test_the_preview_shows_the_mail_as_it_will_be_sent(
    client, king_user, lagging, mailoutbox, prefix, settings
):
    settings.NUP_BASE_URL = "https://nup.example.nl"
    client.force_login(king_user)
    response = client.get(prefix + PREVIEW)
    assert response.status_code == 200
    planned = response.context["planned"]
    html = response.content.decode()
    assert f'data-testid="subject">{planned.subject}<' in html
    assert "cio@achterdorp.nl" in html and "adjunct@achterdorp.nl" in html
    send_deadline_reminders(now=timezone.now())
    for message in mailoutbox:  # every sent body is on the page, as sent
        assert message.subject == planned.subject
        assert message.body.replace("\n", "") in html.replace("\n", "")
    assert "https://nup.example.nl/gemeenten/achterdorp/bewerken/" in html
    # Reminded now: the page says so instead of showing a mail.
    html = client.get(prefix + PREVIEW).content.decode()
    assert 'data-testid="no-reminder"' in html


def test_the_preview_explains_when_nothing_is_planned(client, king_user, lagging):
    client.force_login(king_user)
    html = client.get("/en/rapportages/herinneringen/voorstad/").content.decode()
    assert "none of its result agreements is at risk or overdue" in html
    assert client.get("/rapportages/herinneringen/bestaat-niet/").status_code == 404


def test_the_pages_say_where_sent_mails_are_kept(
    client, king_user, lagging, settings, tmp_path
):
    client.force_login(king_user)
    assert 'data-testid="mail-folder"' not in client.get(LIST).content.decode()
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")
    assert 'data-testid="mail-folder"' not in client.get(LIST).content.decode()
    (tmp_path / "mail").mkdir()
    for path in (LIST, PREVIEW, "/rapportages/"):
        html = client.get(path).content.decode()
        assert (
            f"EMAIL_URL=filemail:///{tmp_path / 'mail'} .venv/bin/python manage.py "
            "demo_mail"
        ) in html


def test_the_reports_page_links_to_the_reminders(client, king_user):
    client.force_login(king_user)
    assert f'href="{LIST}"' in client.get("/rapportages/").content.decode()


def _count(client, django_assert_max_num_queries, path) -> int:
    with django_assert_max_num_queries(15) as captured:
        assert client.get(path).status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("path", [LIST, LIST + "?q=a&sort=-recipient_count", PREVIEW])
def test_query_count_does_not_grow_with_the_number_of_reminders(
    client, king_user, lagging, django_assert_max_num_queries, path
):
    client.force_login(king_user)
    agreements = [ResultAgreementFactory(number=10 + i) for i in range(3)]

    def add(count: int, start: int) -> None:
        for i in range(start, start + count):
            municipality = MunicipalityFactory(name=f"Stad {i}", slug=f"stad-{i}")
            for agreement in agreements:
                AgreementCompliance.objects.create(
                    municipality=municipality,
                    agreement=agreement,
                    status=ComplianceStatus.OVERDUE,
                    computed_at=NOW,
                )
            EditorMembershipFactory(municipality=municipality)
            # Achterdorp too gets more agreements and editors.
        EditorMembershipFactory(municipality=lagging["behind"])

    add(2, 0)
    small = _count(client, django_assert_max_num_queries, path)
    add(40, 2)
    large = _count(client, django_assert_max_num_queries, path)
    assert small == large
