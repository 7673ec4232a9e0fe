"""Weekly deadline reminders to the editors of municipalities that lag behind.

Who gets one: every active municipality with an agreement at risk or overdue
(as last computed, `AgreementCompliance`) whose editors were not reminded in the
last `REMINDER_INTERVAL`. The interval is a little under a week so that a weekly
run that starts a few seconds earlier than last week's is not skipped, while
two runs in the same week (a retry, a redelivered task) send nothing twice.

Two steps, so that what KING staff preview is what is sent: `plan_reminders`
decides who gets which mail and renders it (no side effects); `send_deadline_reminders`
sends exactly the planned mails and logs them.
"""

from __future__ import annotations

import datetime
import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core import mail
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
# Editors are Dutch CIOs (DESIGN): the mail is Dutch whatever language the
# worker, or the staff member previewing it, uses.
MAIL_LANGUAGE = "nl"


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


@dataclass(frozen=True)
class ReminderItem:
    """One agreement at risk or overdue, as the mail lists it."""

    agreement: ResultAgreement
    status: str

    @property
    def overdue(self) -> bool:
        return self.status == ComplianceStatus.OVERDUE

    @property
    def status_label(self) -> str:
        return str(ComplianceStatus(self.status).label)


@dataclass(frozen=True)
class PlannedMail:
    """One e-mail exactly as it will be sent (one per recipient)."""

    to: str
    subject: str
    body: str
    html: str

    def message(self) -> EmailMultiAlternatives:
        message = EmailMultiAlternatives(
            subject=self.subject, body=self.body, to=[self.to]
        )
        message.attach_alternative(self.html, "text/html")
        return message


@dataclass(frozen=True)
class PlannedReminder:
    """This week's reminder of one municipality: its lagging agreements and editors."""

    municipality: Municipality
    items: tuple[ReminderItem, ...]  # by deadline, then number
    recipients: tuple[Any, ...]  # active editors with an e-mail address, by address

    @property
    def name(self) -> str:  # the table sorts and filters on it
        return self.municipality.name

    @property
    def item_count(self) -> int:
        return len(self.items)

    @property
    def recipient_count(self) -> int:
        return len(self.recipients)

    @property
    def earliest_deadline(self) -> datetime.date:
        return self.items[0].agreement.deadline

    def _context(self) -> dict[str, Any]:
        return {
            "municipality": self.municipality,
            "items": self.items,
            "editor_url": editor_url(self.municipality),
            "base_url": settings.NUP_BASE_URL,
        }

    @cached_property
    def subject(self) -> str:
        with translation.override(MAIL_LANGUAGE):
            return render_to_string(
                "agreements/email/reminder_subject.txt", self._context()
            ).strip()

    @cached_property
    def mails(self) -> tuple[PlannedMail, ...]:
        """The rendered mails; empty when nobody can be written to (next week again)."""
        context = self._context()
        with translation.override(MAIL_LANGUAGE):
            return tuple(
                PlannedMail(
                    to=user.email,
                    subject=self.subject,
                    body=render_to_string(
                        "agreements/email/reminder.txt", {**context, "user": user}
                    ),
                    html=render_to_string(
                        "agreements/email/reminder.html", {**context, "user": user}
                    ),
                )
                for user in self.recipients
            )


def plan_reminders(
    *,
    now: datetime.datetime | None = None,
    municipality: Municipality | None = None,
) -> list[PlannedReminder]:
    """Who would be reminded by a run now, and with what; by municipality name.

    Five queries whatever the number of municipalities, and no side effects; the
    mails are rendered on first use of `PlannedReminder.mails`. `municipality`
    restricts the plan to that one (its preview page).
    """
    now = now or timezone.now()
    compliance = AgreementCompliance.objects.filter(
        status__in=LAGGING_STATUSES, municipality__active=True
    )
    if municipality is not None:
        compliance = compliance.filter(municipality=municipality)
    per_municipality: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for municipality_id, agreement_id, status in compliance.values_list(
        "municipality_id", "agreement_id", "status"
    ):
        per_municipality[municipality_id].append((agreement_id, status))
    last_sent: dict[int, datetime.datetime] = {}
    for municipality_id, sent_at in ReminderLog.objects.filter(
        municipality_id__in=per_municipality
    ).values_list("municipality_id", "sent_at"):
        if municipality_id not in last_sent or sent_at > last_sent[municipality_id]:
            last_sent[municipality_id] = sent_at
    due = due_for_reminder(per_municipality, last_sent, now=now)
    if not due:
        return []

    municipalities = Municipality.objects.in_bulk(due)
    agreements = ResultAgreement.objects.in_bulk(
        {a for m in due for a, _status in per_municipality[m]}
    )
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

    plan = [
        PlannedReminder(
            municipality=municipalities[m],
            items=tuple(
                sorted(
                    (
                        ReminderItem(agreements[a], status)
                        for a, status in per_municipality[m]
                    ),
                    key=lambda item: (item.agreement.deadline, item.agreement.number),
                )
            ),
            recipients=tuple(recipients.get(m, ())),
        )
        for m in due
    ]
    return sorted(plan, key=lambda p: (p.municipality.name, p.municipality.pk))


def send_deadline_reminders(*, now: datetime.datetime | None = None) -> int:
    """Send this week's planned reminders; returns the number of municipalities reminded."""
    now = now or timezone.now()
    return sum(
        send_planned(planned, now=now)
        for planned in plan_reminders(now=now)
        if planned.recipients  # nobody to write to; try again next week
    )


@transaction.atomic
def send_planned(planned: PlannedReminder, *, now: datetime.datetime) -> bool:
    """Send one planned reminder and log it, unless another run just did."""
    municipality = planned.municipality
    # The row lock makes a concurrent or redelivered run wait, then see the log.
    Municipality.objects.select_for_update().filter(pk=municipality.pk).first()
    if ReminderLog.objects.filter(
        municipality=municipality, sent_at__gt=now - REMINDER_INTERVAL
    ).exists():
        return False
    messages = [planned_mail.message() for planned_mail in planned.mails]
    with mail.get_connection() as connection:
        connection.send_messages(messages)
    ReminderLog.objects.create(
        municipality=municipality,
        sent_at=now,
        recipients=len(messages),
        agreements=[item.agreement.number for item in planned.items],
    )
    logger.info(
        "Deadline reminder for %s sent to %s editors",
        municipality.cbs_code,
        len(messages),
    )
    return True


@dataclass(frozen=True)
class MailFolder:
    """Where the file mail backend keeps sent mails, and the command that prints them."""

    shown: str  # relative to the project folder when inside it
    command: str


def kept_mail_folder() -> MailFolder | None:
    """The sent-mail folder (make demo: var/mail/), if mails are kept as files.

    None unless the file mail backend is on and its folder exists. The command sets
    EMAIL_URL itself: a shell outside `make demo` has the console backend.
    """
    folder = getattr(settings, "EMAIL_FILE_PATH", None)
    if not settings.EMAIL_BACKEND.endswith("filebased.EmailBackend") or not folder:
        return None
    path = Path(folder).resolve()
    if not path.is_dir():
        return None
    try:
        shown = str(path.relative_to(Path(settings.BASE_DIR).resolve()))
    except ValueError:
        shown = str(path)
    return MailFolder(
        shown=shown,
        command=f"EMAIL_URL=filemail:///{path} .venv/bin/python manage.py demo_mail",
    )
