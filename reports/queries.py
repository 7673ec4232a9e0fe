"""Reads shared by the report generators: a few bulk queries each, never one per row."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from agreements.models import DeadlineRevision, Requirement, ResultAgreement
from buildingblocks.levels import Level
from buildingblocks.models import AdoptionStatus, BuildingBlock
from municipalities.models import EditorMembership, Municipality
from scoring.models import (
    LAGGING_STATUSES,
    AgreementCompliance,
    ComplianceStatus,
    MunicipalityScore,
)
from scoring.rules import BlockState, meets_minimum
from scoring.timetravel import existing_on


@dataclass
class ComplianceData:
    agreements: list[ResultAgreement]
    municipalities: list[Municipality]  # with .province, ordered by province, name
    statuses: dict[tuple[int, int], str]  # (municipality id, agreement id) → status
    scores: dict[int, float | None]
    revisions: dict[int, list[DeadlineRevision]] = field(default_factory=dict)
    # municipality id → the scoring method version of its score
    method_versions: dict[int, str] = field(default_factory=dict)


def compliance_data() -> ComplianceData:
    agreements = list(ResultAgreement.objects.order_by("number"))
    municipalities = list(
        Municipality.objects.active()
        .select_related("province")
        .order_by("province__name", "name")
    )
    statuses = {
        (m, a): s
        for m, a, s in AgreementCompliance.objects.filter(
            municipality__active=True
        ).values_list("municipality_id", "agreement_id", "status")
    }
    scores: dict[int, float | None] = {}
    method_versions: dict[int, str] = {}
    for municipality_id, score, version in MunicipalityScore.objects.values_list(
        "municipality_id", "score", "method_version"
    ):
        scores[municipality_id] = score
        method_versions[municipality_id] = version
    revisions: dict[int, list[DeadlineRevision]] = defaultdict(list)
    for revision in DeadlineRevision.objects.order_by("decided_on", "id"):
        revisions[revision.agreement_id].append(revision)
    return ComplianceData(
        agreements, municipalities, statuses, scores, revisions, method_versions
    )


@dataclass(frozen=True)
class Laggard:
    municipality: Municipality
    score: float | None
    # (agreement, status, [(block, level, minimum level, planned date)])
    agreements: list[tuple[ResultAgreement, str, list[tuple]]]
    emails: list[str]


def laggards() -> list[Laggard]:
    """Municipalities with an agreement at risk or overdue, and what they miss."""
    bad = list(
        AgreementCompliance.objects.filter(
            status__in=LAGGING_STATUSES, municipality__active=True
        )
        .select_related("agreement")
        .order_by("municipality_id", "agreement__number")
    )
    ids = {c.municipality_id for c in bad}
    municipalities = {
        m.pk: m
        for m in Municipality.objects.filter(pk__in=ids).select_related("province")
    }
    requirements: dict[int, list[Requirement]] = defaultdict(list)
    for requirement in (
        Requirement.objects.current().filter(block__active=True).select_related("block")
    ):
        requirements[requirement.agreement_id].append(requirement)
    states = {
        (m, b): BlockState(level, planned)
        for m, b, level, planned in AdoptionStatus.objects.filter(
            municipality_id__in=ids
        ).values_list("municipality_id", "block_id", "level", "planned_date")
    }
    emails: dict[int, list[str]] = defaultdict(list)
    for municipality_id, email in (
        EditorMembership.objects.filter(municipality_id__in=ids, user__is_active=True)
        .exclude(user__email="")
        .order_by("user__email")
        .values_list("municipality_id", "user__email")
    ):
        emails[municipality_id].append(email)
    scores = dict(
        MunicipalityScore.objects.filter(municipality_id__in=ids).values_list(
            "municipality_id", "score"
        )
    )
    per_municipality: dict[int, list] = defaultdict(list)
    for compliance in bad:
        missing = []
        for requirement in requirements[compliance.agreement_id]:
            state = states.get(
                (compliance.municipality_id, requirement.block_id), BlockState()
            )
            if not meets_minimum(state.level, requirement.minimum_level):
                missing.append(
                    (
                        requirement.block,
                        state.level,
                        requirement.minimum_level,
                        state.planned_date,
                    )
                )
        per_municipality[compliance.municipality_id].append(
            (compliance.agreement, compliance.status, missing)
        )
    result = [
        Laggard(
            municipality=municipalities[pk],
            score=scores.get(pk),
            agreements=items,
            emails=emails.get(pk, []),
        )
        for pk, items in per_municipality.items()
    ]
    result.sort(
        key=lambda lag: (
            -sum(status == ComplianceStatus.OVERDUE for _, status, _ in lag.agreements),
            -len(lag.agreements),
            lag.municipality.name,
        )
    )
    return result


# --- the municipalities of a past date ---------------------------------------


def municipalities_on(day: datetime.date) -> list[dict]:
    """The municipalities that existed on `day` (scoring.timetravel.existing_on)."""
    return list(
        Municipality.objects.filter(existing_on(day))
        .order_by("name")
        .values(
            "id",
            "name",
            "slug",
            "cbs_code",
            "population",
            "size_class",
            "province__name",
            "map_path",
        )
    )


def blocks() -> list[BuildingBlock]:
    return list(BuildingBlock.objects.filter(active=True).order_by("order", "code"))


def level_text(level: str) -> str:
    return str(Level(level).label) if level in Level.values else level
