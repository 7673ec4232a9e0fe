"""Writes that touch several models of the agreements app."""

from __future__ import annotations

import datetime

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agreements.models import DeadlineRevision, Requirement, ResultAgreement
from buildingblocks.models import BuildingBlock
from nupportal.audit import audit
from nupportal.validity import start_version
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


# --- versions of requirements (issue 14) -----------------------------------------


def _log(action: str, requirement: Requirement, when: datetime.date, user) -> None:
    audit(
        f"requirement_{action}",
        user=user,
        agreement=requirement.agreement_id,
        block=requirement.block_id,
        level=requirement.minimum_level,
        population=requirement.min_population,
        date=when,
    )


@transaction.atomic
def set_requirement(
    *,
    agreement: ResultAgreement,
    block: BuildingBlock,
    minimum_level: str,
    min_population: int | None,
    valid_from: datetime.date,
    user: AbstractBaseUser | None = None,
    today: datetime.date | None = None,
) -> Requirement | None:
    """Require `block` at `minimum_level` for `agreement` from `valid_from` on.

    A new version: the latest one ends on `valid_from` and keeps its earlier
    period (one starting that very day is corrected in place). None when the
    requirement in force already says this. Scores recompute after commit.
    """
    today = today or timezone.localdate()
    requirement = start_version(
        Requirement,
        of={"agreement": agreement, "block": block},
        values={"minimum_level": minimum_level, "min_population": min_population},
        valid_from=valid_from,
        today=today,
    )
    if requirement is None:
        return None
    _log("set", requirement, valid_from, user)
    recompute_after_commit()
    return requirement


@transaction.atomic
def end_requirement(
    *,
    requirement: Requirement,
    valid_until: datetime.date,
    user: AbstractBaseUser | None = None,
    today: datetime.date | None = None,
) -> Requirement:
    """Withdraw a requirement from `valid_until` on; earlier dates keep it."""
    today = today or timezone.localdate()
    requirement = Requirement.objects.select_for_update().get(pk=requirement.pk)
    if valid_until > today:
        raise ValidationError(
            {
                "valid_until": _(
                    "A requirement cannot end in the future; choose today or earlier."
                )
            }
        )
    requirement.valid_until = valid_until
    requirement.full_clean()
    requirement.save(update_fields=["valid_until"])
    _log("ended", requirement, valid_until, user)
    recompute_after_commit()
    return requirement
