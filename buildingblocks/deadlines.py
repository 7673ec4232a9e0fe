"""What one municipality still has to do, and before when ("my municipality").

Reads in a constant number of queries; the verdict per agreement comes from the
pure rules in `scoring.rules`, so this page and the scores always agree.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Prefetch

from agreements.models import Requirement, ResultAgreement
from buildingblocks.models import AdoptionStatus, BuildingBlock
from municipalities.models import Municipality
from scoring import rules
from scoring.models import LAGGING_STATUSES, ComplianceStatus


@dataclass(frozen=True)
class MissingBlock:
    """A required block below its minimum level, with its planned date."""

    block: BuildingBlock
    level: str
    minimum_level: str
    planned_date: datetime.date | None
    # Unplanned, planned after the agreement's deadline, or its plan expired.
    late: bool


@dataclass(frozen=True)
class AgreementDue:
    """An agreement the municipality does not meet yet."""

    agreement: ResultAgreement
    deadline: datetime.date
    status: str
    missing: list[MissingBlock]
    reason: str | None = None
    lapsed_on: datetime.date | None = None

    @property
    def status_label(self) -> str:
        return ComplianceStatus(self.status).label

    @property
    def needs_attention(self) -> bool:
        return self.status in LAGGING_STATUSES


def agreements_due(
    municipality: Municipality, *, today: datetime.date
) -> list[AgreementDue]:
    """Every agreement that applies to `municipality` and is not met, by deadline."""
    statuses = {
        status.block_id: status
        for status in AdoptionStatus.objects.filter(municipality=municipality)
    }
    agreements = (
        ResultAgreement.objects.with_deadline_source()
        .order_by("deadline", "number")
        .prefetch_related(
            Prefetch(
                "requirements",
                queryset=Requirement.objects.current()
                .filter(block__active=True)
                .select_related("block"),
            )
        )
    )
    due = []
    for agreement in agreements:
        states = []
        for requirement in agreement.requirements.all():
            if not requirement.applies_to(municipality.population):
                continue
            status = statuses.get(requirement.block_id)
            state = (
                rules.BlockState(status.level, status.planned_date)
                if status
                else rules.NOT_STARTED
            )
            states.append((requirement, state))
        outcome = rules.agreement_outcome(
            [(requirement.minimum_level, state) for requirement, state in states],
            deadline=agreement.deadline,
            on=today,
        )
        if outcome.status in (ComplianceStatus.MET, ComplianceStatus.NOT_APPLICABLE):
            continue
        missing = [
            MissingBlock(
                block=requirement.block,
                level=state.level,
                minimum_level=requirement.minimum_level,
                planned_date=state.planned_date,
                late=state.planned_date is None
                or state.planned_date > agreement.deadline
                or state.planned_date < today,
            )
            for requirement, state in states
            if not rules.meets_minimum(state.level, requirement.minimum_level)
        ]
        due.append(
            AgreementDue(
                agreement,
                agreement.deadline,
                outcome.status,
                missing,
                reason=outcome.reason,
                lapsed_on=outcome.lapsed_on,
            )
        )
    return due
