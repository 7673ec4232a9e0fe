"""Writes that touch several models of the agreements app."""

from __future__ import annotations

import datetime

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agreements.models import DeadlineRevision, ResultAgreement
from nupportal.audit import audit
from scoring.rules import deadline_in_force
from scoring.tasks import recompute_after_commit


def _earlier(agreement: ResultAgreement) -> list[tuple[datetime.date, datetime.date]]:
    return list(
        agreement.revisions.order_by("decided_on", "id").values_list(
            "decided_on", "new_deadline"
        )
    )


def revision_errors(
    *,
    agreement: ResultAgreement,
    new_deadline: datetime.date | None,
    decided_on: datetime.date | None,
) -> dict[str, list[str]]:
    """What is wrong with a proposed revision (for forms); empty when it can be recorded."""
    errors: dict[str, list[str]] = {}
    if decided_on is None or new_deadline is None:
        return errors
    if decided_on > timezone.localdate():
        errors["decided_on"] = [_("The decision date cannot lie in the future.")]
        return errors
    in_force = deadline_in_force(
        agreement.original_deadline, _earlier(agreement), decided_on
    )
    if new_deadline == in_force:
        errors["new_deadline"] = [
            _("The new deadline is the deadline already in force on that date.")
        ]
    return errors


@transaction.atomic
def record_revision(
    *,
    agreement: ResultAgreement,
    new_deadline: datetime.date,
    decided_on: datetime.date,
    reason: str,
    user: AbstractBaseUser | None = None,
    synthetic: bool = False,
) -> DeadlineRevision:
    """Record a postponement (or advancement) of an agreement's deadline.

    The old deadline is the one in force on the decision date; the agreement's
    current deadline becomes that of the latest decision (normally this one);
    all compliance statuses are recomputed after commit.
    """
    agreement = ResultAgreement.objects.select_for_update().get(pk=agreement.pk)
    errors = revision_errors(
        agreement=agreement, new_deadline=new_deadline, decided_on=decided_on
    )
    if errors:
        raise ValidationError(errors)
    earlier = _earlier(agreement)
    old_deadline = deadline_in_force(agreement.original_deadline, earlier, decided_on)
    revision = DeadlineRevision(
        agreement=agreement,
        old_deadline=old_deadline,
        new_deadline=new_deadline,
        decided_on=decided_on,
        reason=reason,
        synthetic=synthetic,
    )
    revision.full_clean()
    revision.save()
    agreement.deadline = deadline_in_force(
        agreement.original_deadline,
        [*earlier, (decided_on, new_deadline)],
        datetime.date.max,
    )
    agreement.deadline_is_reference = False
    agreement.save(update_fields=["deadline", "deadline_is_reference"])
    audit(
        "deadline_revised",
        user=user,
        agreement=agreement.number,
        old_deadline=old_deadline,
        new_deadline=new_deadline,
        decided_on=decided_on,
    )
    recompute_after_commit()
    return revision
