"""Weekly deadline reminders: who gets one, what it says, at most once a week."""

from __future__ import annotations

import datetime

from agreements.models import ReminderLog
from agreements.reminders import (
    REMINDER_INTERVAL,
    due_for_reminder,
    send_deadline_reminders,
)
from agreements.tasks import send_deadline_reminders as reminder_task
from scoring.models import AgreementCompliance, ComplianceStatus
from tests.agreements.conftest import NOW


def test_due_only_when_not_reminded_within_the_interval():
    last = {1: NOW - datetime.timedelta(days=7), 2: NOW - datetime.timedelta(days=1)}
    assert due_for_reminder([1, 2, 3], last, now=NOW) == [1, 3]
    # Last week's run a few seconds later than this one does not block it.
    assert due_for_reminder(
        [1],
        {1: NOW - datetime.timedelta(days=7) + datetime.timedelta(seconds=5)},
        now=NOW,
    ) == [1]
    assert datetime.timedelta(days=7) > REMINDER_INTERVAL


def test_editors_of_lagging_municipalities_get_a_dutch_text_and_html_mail(
    lagging, mailoutbox, settings
):
    settings.NUP_BASE_URL = "https://nup.example.nl"
    assert send_deadline_reminders(now=NOW) == 1
    assert sorted(m.to[0] for m in mailoutbox) == [
        "adjunct@achterdorp.nl",
        "cio@achterdorp.nl",
    ]
    message = mailoutbox[0]
    assert "Achterdorp" in message.subject
    assert "https://nup.example.nl/gemeenten/achterdorp/bewerken/" in message.body
    assert "3. Berichtenbox" in message.body and "4. eHerkenning" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert 'href="https://nup.example.nl/gemeenten/achterdorp/bewerken/"' in html
    assert 'lang="nl"' in html
    log = ReminderLog.objects.get()
    assert (log.municipality, log.recipients, log.agreements) == (
        lagging["behind"],
        2,
        [3, 4],
    )


def test_at_most_once_a_week_per_municipality(lagging, mailoutbox):
    assert send_deadline_reminders(now=NOW) == 1
    assert send_deadline_reminders(now=NOW + datetime.timedelta(days=3)) == 0
    assert len(mailoutbox) == 2
    assert send_deadline_reminders(now=NOW + datetime.timedelta(days=7)) == 1
    assert len(mailoutbox) == 4
    assert ReminderLog.objects.count() == 2


def test_no_reminder_once_the_agreements_are_met(lagging, mailoutbox):
    AgreementCompliance.objects.filter(municipality=lagging["behind"]).update(
        status=ComplianceStatus.MET
    )
    assert send_deadline_reminders(now=NOW) == 0
    assert mailoutbox == []


def test_inactive_municipalities_are_not_reminded(lagging, mailoutbox):
    lagging["behind"].active = False
    lagging["behind"].save()
    assert send_deadline_reminders(now=NOW) == 0


def test_the_beat_task_runs_the_reminders(lagging, mailoutbox, settings):
    assert (
        settings.CELERY_BEAT_SCHEDULE["weekly-deadline-reminders"]["task"]
        == reminder_task.name
    )
    assert reminder_task.apply().get() == 1
    assert len(mailoutbox) == 2
