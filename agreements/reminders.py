"""Weekly deadline reminders to the editors of municipalities that lag behind.

Who gets one: every active municipality with an agreement at risk or overdue
(as last computed, `AgreementCompliance`) whose editors were not reminded in the
last `REMINDER_INTERVAL`. The interval is a little under a week so that a weekly
run that starts a few seconds earlier than last week's is not skipped, while
two runs in the same week (a retry, a redelivered task) send nothing twice.
"""

from __future__ import annotations

import datetime
import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation

from agreements.models import ReminderLog, ResultAgreement
from municipalities.models import EditorMembership, Municipality
from municipalities.roles import MUNICIPAL_EDITOR
from scoring.models import LAGGING_STATUSES, AgreementCompliance, ComplianceStatus

logger = logging.getLogger(__name__)

REMINDER_INTERVAL = datetime.timedelta(days=6)


def due_for_reminder(
    lagging: Iterable[int],
    last_sent: Mapping[int, datetime.datetime],
    *,
    now: datetime.datetime,
) -> list[int]:
    """The municipalities (ids) to remind now: lagging and not reminded recently. Pure."""
    return sorted(
        m
        for m in set(lagging)
        if m not in last_sent or now - last_sent[m] >= REMINDER_INTERVAL
    )


def editor_url(municipality: Municipality) -> str:
    """Absolute link to the municipality's status editor (Dutch URL, for e-mails)."""
    try:
        with translation.override("nl"):
            path = reverse("buildingblocks:edit", kwargs={"slug": municipality.slug})
    except NoReverseMatch:  # the URL contract of the brief, should the view be missing
        path = f"/gemeenten/{municipality.slug}/bewerken/"
    return settings.NUP_BASE_URL + path


def send_deadline_reminders(*, now: datetime.datetime | None = None) -> int:
    """Send this week's reminders; returns the number of municipalities reminded."""
    now = now or timezone.now()
    rows = AgreementCompliance.objects.filter(
        status__in=LAGGING_STATUSES, municipality__active=True
    ).values_list("municipality_id", "agreement_id", "status")
    per_municipality: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for municipality_id, agreement_id, status in rows:
        per_municipality[municipality_id].append((agreement_id, status))
    last_sent: dict[int, datetime.datetime] = {}
    for municipality_id, sent_at in ReminderLog.objects.filter(
        municipality_id__in=per_municipality
    ).values_list("municipality_id", "sent_at"):
        if municipality_id not in last_sent or sent_at > last_sent[municipality_id]:
            last_sent[municipality_id] = sent_at
    due = due_for_reminder(per_municipality, last_sent, now=now)
    if not due:
        return 0

    municipalities = Municipality.objects.in_bulk(due)
    agreements = ResultAgreement.objects.in_bulk()
    recipients: dict[int, list] = defaultdict(list)
    for membership in (
        EditorMembership.objects.filter(
            municipality_id__in=due,
            user__is_active=True,
            user__groups__name=MUNICIPAL_EDITOR,
        )
        .exclude(user__email="")
        .select_related("user")
        .order_by("user__email")
    ):
        recipients[membership.municipality_id].append(membership.user)

    sent = 0
    for municipality_id in due:
        users = recipients.get(municipality_id)
        if not users:
            continue  # nobody to write to; try again next week
        municipality = municipalities[municipality_id]
        items = sorted(
            (
                (agreements[a], status)
                for a, status in per_municipality[municipality_id]
            ),
            key=lambda item: (item[0].deadline, item[0].number),
        )
        if _remind(municipality, items, users, now=now):
            sent += 1
    return sent


@transaction.atomic
def _remind(municipality: Municipality, items, users, *, now) -> bool:
    # The row lock makes a concurrent or redelivered run wait, then see the log.
    Municipality.objects.select_for_update().filter(pk=municipality.pk).first()
    if ReminderLog.objects.filter(
        municipality=municipality, sent_at__gt=now - REMINDER_INTERVAL
    ).exists():
        return False
    context = {
        "municipality": municipality,
        "items": [
            {
                "agreement": agreement,
                "status": status,
                "overdue": status == ComplianceStatus.OVERDUE,
                "status_label": ComplianceStatus(status).label,
            }
            for agreement, status in items
        ],
        "editor_url": editor_url(municipality),
        "base_url": settings.NUP_BASE_URL,
    }
    # Dutch, whatever language the worker runs in (DESIGN: editors are Dutch CIOs).
    with translation.override("nl"):
        subject = render_to_string(
            "agreements/email/reminder_subject.txt", context
        ).strip()
        messages = []
        for user in users:
            personal = {**context, "user": user}
            message = EmailMultiAlternatives(
                subject=subject,
                body=render_to_string("agreements/email/reminder.txt", personal),
                to=[user.email],
            )
            message.attach_alternative(
                render_to_string("agreements/email/reminder.html", personal),
                "text/html",
            )
            messages.append(message)
    from django.core import mail

    with mail.get_connection() as connection:
        connection.send_messages(messages)
    ReminderLog.objects.create(
        municipality=municipality,
        sent_at=now,
        recipients=len(messages),
        agreements=[agreement.number for agreement, _status in items],
    )
    logger.info(
        "Deadline reminder for %s sent to %s editors",
        municipality.cbs_code,
        len(messages),
    )
    return True
