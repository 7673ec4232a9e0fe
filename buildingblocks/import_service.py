"""The database side of the bulk import: load lookups, dry run, apply.

The rules live in `buildingblocks.imports` (pure). Here: a constant number of
queries to load what the rules need, and one transaction that writes all
changes and their history (source ``import`` with the batch id) through the one
status-write service, `buildingblocks.services.write_statuses`, and asks for one
full recompute after commit.

No lost update: the dry run also returns the version of every row's status as
it was then (`DryRun.versions`); the preview hands them to the apply, which
refuses the whole file, naming the rows, when a status was saved in between.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from buildingblocks.imports import (
    ImportPlan,
    MunicipalityRef,
    normalise_cbs_code,
    plan_import,
)
from buildingblocks.models import (
    AdoptionStatus,
    BuildingBlock,
    ImportBatch,
    StatusChange,
)
from buildingblocks.services import (
    StaleStatuses,
    StatusWrite,
    write_statuses,
)
from buildingblocks.validation import STATUS_FIELDS, StatusValues
from municipalities.models import Municipality
from scoring.tasks import recompute_after_commit

Rows = Iterable[tuple[int, Mapping[str, str]]]


class ImportHasErrors(Exception):
    """Raised by apply when the rows no longer pass every check."""

    def __init__(self, plan: ImportPlan):
        super().__init__(f"{len(plan.errors)} errors")
        self.plan = plan


class ImportAlreadyApplied(Exception):
    """The batch was applied before; applying it again would change nothing."""


@dataclass(frozen=True)
class Conflict:
    row: int
    cbs_code: str
    block_code: str


class ImportConflict(Exception):
    """Statuses changed since the dry run the user saw; nothing was applied."""

    def __init__(self, conflicts: list[Conflict]):
        super().__init__(f"{len(conflicts)} statuses changed since the dry run")
        self.conflicts = conflicts


# The version of a row's status: None when no status exists (yet) or the row
# names no valid municipality × block.
Versions = list[int | None]


@dataclass(frozen=True)
class ApplyResult:
    changed: int
    unchanged: int
    batch_id: str


def dry_run_with_versions(
    rows: Rows, *, today: datetime.date | None = None
) -> tuple[ImportPlan, Versions]:
    """What applying these rows now would change, every error, and the version of
    each row's status the dry run was made against."""
    rows = list(rows)
    lookups = _load_lookups(rows, lock=False)
    versions = _row_versions(rows, lookups.pop("versions"))
    return plan_import(rows, today=today or timezone.localdate(), **lookups), versions


def _row_key(raw: Mapping[str, str]) -> tuple[str, str]:
    return (
        normalise_cbs_code(raw.get("cbs_code", "")),
        raw.get("building_block", "").strip().lower(),
    )


def _row_versions(rows: list, versions: Mapping[tuple[str, str], int]) -> Versions:
    return [versions.get(_row_key(raw)) for _number, raw in rows]


def _conflicts(rows: list, seen: Versions, now: Versions) -> list[Conflict]:
    if len(seen) != len(rows):  # not the dry run of these rows: all in doubt
        seen = [-1] * len(rows)
    return [
        Conflict(number, *_row_key(raw))
        for (number, raw), before, after in zip(rows, seen, now, strict=True)
        if before != after
    ]


def _load_lookups(rows: list, *, lock: bool) -> dict:
    codes = {normalise_cbs_code(raw.get("cbs_code", "")) for _, raw in rows}
    municipalities = {
        code: MunicipalityRef(code, active)
        for code, active in Municipality.objects.filter(cbs_code__in=codes).values_list(
            "cbs_code", "active"
        )
    }
    blocks = dict(BuildingBlock.objects.values_list("code", "active"))
    statuses = AdoptionStatus.objects.filter(municipality__cbs_code__in=codes)
    if lock:
        statuses = statuses.select_for_update(of=("self",))
    current = {}
    versions = {}
    rows = statuses.values_list(
        "municipality__cbs_code", "block__code", *STATUS_FIELDS, "version"
    )
    for cbs, block, *values, version in rows:
        current[(cbs, block)] = StatusValues(*values)
        versions[(cbs, block)] = version
    return {
        "municipalities": municipalities,
        "blocks": blocks,
        "current": current,
        "versions": versions,
    }


@transaction.atomic
def apply_import(
    *,
    batch: ImportBatch,
    user: AbstractBaseUser | None,
    today: datetime.date | None = None,
    seen_versions: Versions | None = None,
) -> ApplyResult:
    """Apply an ImportBatch: all rows or nothing.

    Checks the rows again against the statuses as they are now (locked for the
    duration), writes only the rows that change something, and records one
    StatusChange per changed status. Idempotent: rows equal to the current
    status are skipped, so a second apply of the same file changes nothing.

    `seen_versions` (from `dry_run_with_versions`): when given, any row whose
    status was saved since that dry run raises ImportConflict naming the rows,
    and nothing is written.
    """
    batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.applied_at is not None:
        raise ImportAlreadyApplied(batch.batch_id)
    rows = [(number, raw) for number, raw in batch.rows]
    lookups = _load_lookups(rows, lock=True)
    versions = lookups.pop("versions")
    if seen_versions is not None:
        conflicts = _conflicts(rows, seen_versions, _row_versions(rows, versions))
        if conflicts:
            raise ImportConflict(conflicts)
    plan = plan_import(rows, today=today or timezone.localdate(), **lookups)
    if not plan.ok:
        raise ImportHasErrors(plan)

    now = timezone.now()
    if plan.changes:
        _write(plan, user=user, now=now, batch_id=batch.batch_id)
        recompute_after_commit()
    batch.applied_at = now
    batch.applied_by = user if user is not None and user.is_authenticated else None
    batch.changed_count = len(plan.changes)
    batch.save(update_fields=["applied_at", "applied_by", "changed_count"])
    return ApplyResult(len(plan.changes), plan.unchanged, batch.batch_id)


def _write(plan: ImportPlan, *, user, now, batch_id: str) -> None:
    codes = {c.cbs_code for c in plan.changes}
    municipality_ids = dict(
        Municipality.objects.filter(cbs_code__in=codes).values_list("cbs_code", "id")
    )
    block_ids = dict(BuildingBlock.objects.values_list("code", "id"))
    writes = [
        StatusWrite(
            municipality_ids[change.cbs_code],
            block_ids[change.block_code],
            change.values,
        )
        for change in plan.changes
    ]
    try:
        write_statuses(
            writes=writes,
            user=user,
            source=StatusChange.Source.IMPORT,
            batch_id=batch_id,
            now=now,
        )
    except StaleStatuses as stale:
        # Only a status created meanwhile can be stale: the rest were locked.
        keys = set(stale.keys)
        raise ImportConflict(
            [
                Conflict(change.row, change.cbs_code, change.block_code)
                for change, write in zip(plan.changes, writes, strict=True)
                if (write.municipality_id, write.block_id) in keys
            ]
        ) from None
