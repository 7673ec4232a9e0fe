"""Municipal mergers (herindelingen): what the successor inherits, and applying it.

The carry-over rule (DESIGN §3, issue 7), per building block, over the merging
municipalities — the merged ones and, when it continues an existing municipality,
the successor itself:

- level: the lowest level they had all reached (a missing status counts as "not
  started"; a municipality for which the block is "not applicable" is left out,
  unless it is not applicable for all of them);
- planned date: the latest planned date among them (the successor is only as far
  as its slowest part plans to be);
- achieved date: the latest achieved date, when the carried level is "in use";
- note: says where the status came from; the evidence link is kept when they all
  had the same one.

Staff review the proposal in the admin and may adjust it before applying.
`carry_over` is pure; `plan_merger` and `apply_merger` do the database work. The
Merger model is the municipalities app's; applying one lives here, beside the other
status writers (the editor's service and the import), because it is a status write
through `buildingblocks.services.write_statuses` (docs/status-flow.md).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from buildingblocks.levels import LEVEL_RANK, Level
from buildingblocks.models import AdoptionStatus, BuildingBlock, StatusChange
from buildingblocks.services import (
    StatusWrite,
    values_of,
    write_statuses,
)
from buildingblocks.validation import (
    NOTE_MAX_LENGTH,
    StatusValues,
    validate_status,
)
from municipalities.models import EditorMembership, Merger, Municipality
from nupportal.audit import audit
from scoring.tasks import recompute_after_commit


class MergerError(Exception):
    """The merger cannot be applied; the message says why."""


@dataclass(frozen=True)
class Proposal:
    """What the successor gets for one block, and what it had before."""

    block: BuildingBlock
    values: StatusValues
    current: StatusValues | None
    sources: tuple[tuple[str, str], ...]  # (municipality name, level) it came from

    @property
    def changes(self) -> bool:
        return self.current != self.values


def carry_over(
    states: Sequence[tuple[str, StatusValues | None]], *, date: datetime.date
) -> StatusValues:
    """The successor's status for one block from (name, status) of each merging municipality."""
    present = [(name, s or StatusValues(Level.NOT_STARTED)) for name, s in states]
    applicable = [(n, s) for n, s in present if s.level != Level.NOT_APPLICABLE]
    origin = ", ".join(f"{n}: {s.level}" for n, s in present)
    note = _("Carried over at the merger of %(date)s from %(origin)s.") % {
        "date": date.isoformat(),
        "origin": origin,
    }
    if not applicable:
        reasons = "; ".join(s.note for _n, s in present if s.note)
        combined = f"{note} {reasons}".strip()
        if len(combined) > NOTE_MAX_LENGTH:
            # The merged municipalities keep their full notes in their history.
            combined = combined[: NOTE_MAX_LENGTH - 1] + "…"
        return StatusValues(Level.NOT_APPLICABLE, note=combined)
    lowest = min(LEVEL_RANK[s.level] for _n, s in applicable)
    level = next(lvl for lvl, rank in LEVEL_RANK.items() if rank == lowest)
    planned = [s.planned_date for _n, s in applicable if s.planned_date]
    achieved = [s.achieved_date for _n, s in applicable if s.achieved_date]
    urls = {s.evidence_url for _n, s in applicable}
    return StatusValues(
        level=level,
        planned_date=max(planned) if planned and level != Level.IN_USE else None,
        achieved_date=max(achieved) if achieved and level == Level.IN_USE else None,
        note=note,
        evidence_url=urls.pop() if len(urls) == 1 else "",
    )


def participants(merger: Merger) -> list[Municipality]:
    """The merging municipalities: the merged ones, plus a continuing successor."""
    merged = [m for m in merger.merged.all() if m.pk != merger.successor_id]
    successor = merger.successor
    continuing = (
        successor in merger.merged.all()
        or successor.statuses.exists()
        or successor.status_changes.exists()
    )
    return [*merged, successor] if continuing else merged


def plan_merger(merger: Merger) -> list[Proposal]:
    """The proposed carry-over per active building block (see the module docstring)."""
    members = participants(merger)
    statuses: dict[tuple[int, int], AdoptionStatus] = {
        (s.municipality_id, s.block_id): s
        for s in AdoptionStatus.objects.filter(
            municipality__in=[*members, merger.successor]
        )
    }
    proposals = []
    for block in BuildingBlock.objects.filter(active=True).order_by("order", "code"):
        states = [
            (
                m.name,
                values_of(statuses[(m.pk, block.pk)])
                if (m.pk, block.pk) in statuses
                else None,
            )
            for m in members
        ]
        current = statuses.get((merger.successor_id, block.pk))
        proposals.append(
            Proposal(
                block=block,
                values=carry_over(states, date=merger.date),
                current=values_of(current) if current else None,
                sources=tuple(
                    (name, s.level if s else Level.NOT_STARTED) for name, s in states
                ),
            )
        )
    return proposals


@transaction.atomic
def apply_merger(
    *,
    merger: Merger,
    user: AbstractBaseUser | None = None,
    statuses: Mapping[int, StatusValues] | None = None,
) -> int:
    """Apply a merger: all of it or nothing. Returns the number of statuses set.

    `statuses` (block id → values) overrides the proposal per block, after the
    staff's review; blocks not given use `plan_merger`'s proposal. The merged
    municipalities become inactive from the merger date (valid until the day
    before), their editors become editors of the successor, the successor's
    statuses are set with history source ``merger`` effective on the merger date,
    and a full recompute is enqueued. Monthly snapshots are not touched, so
    trends before the merger stay as they were.
    """
    merger = (
        Merger.objects.select_for_update().select_related("successor").get(pk=merger.pk)
    )
    if merger.applied_at is not None:
        raise MergerError(_("This merger has already been applied."))
    successor = merger.successor
    merged = [m for m in merger.merged.all() if m.pk != successor.pk]
    if not merged:
        raise MergerError(
            _("A merger needs at least one merged municipality besides the successor.")
        )

    proposals = plan_merger(merger)
    chosen = {p.block.pk: p.values for p in proposals}
    chosen.update(statuses or {})
    today = timezone.localdate()
    for block_id, values in chosen.items():
        errors = validate_status(values, today=max(today, merger.date))
        if errors:
            raise ValidationError(
                {f"block-{block_id}": [m for ms in errors.values() for m in ms]}
            )

    user = user if user is not None and user.is_authenticated else None
    effective = timezone.make_aware(
        datetime.datetime.combine(merger.date, datetime.time())
    )
    now = timezone.now()
    history = write_statuses(
        writes=[
            StatusWrite(successor.pk, block_id, values)
            for block_id, values in chosen.items()
        ],
        user=user,
        source=StatusChange.Source.MERGER,
        batch_id=f"merger-{merger.pk}",
        now=now,
        effective_at=effective,
    )

    last_day = merger.date - datetime.timedelta(days=1)
    for municipality in merged:
        municipality.active = False
        municipality.valid_until = last_day
        municipality.successor = successor
        if municipality.valid_from and municipality.valid_from > last_day:
            municipality.valid_from = last_day
    Municipality.objects.bulk_update(
        merged, ["active", "valid_until", "successor", "valid_from"]
    )
    if not successor.active:
        successor.active = True
        successor.save(update_fields=["active"])

    memberships = EditorMembership.objects.filter(municipality__in=merged)
    users = set(memberships.values_list("user_id", flat=True))
    EditorMembership.objects.bulk_create(
        [EditorMembership(user_id=u, municipality=successor) for u in users],
        ignore_conflicts=True,
    )
    memberships.delete()

    merger.applied_at = now
    merger.save(update_fields=["applied_at"])
    audit(
        "merger_applied",
        user=user,
        merger=merger.pk,
        successor=successor.cbs_code,
        merged=[m.cbs_code for m in merged],
        statuses=len(history),
        editors_moved=len(users),
    )
    recompute_after_commit()
    return len(history)
