"""Writing adoption statuses: the one write path for every source.

`write_statuses` writes statuses and their history for every source (the status
editor, the import, a merger): in the caller's transaction it locks the affected
rows in (municipality, block) order, refuses the whole write when a version the
writer saw is stale, skips what does not change, and bulk-writes the rows and one
StatusChange per changed status; the caller then asks for the score recompute
with `scoring.tasks.recompute_after_commit` (docs/status-flow.md).

`save_statuses` is the status editor's use of it. It re-checks the permission
(the view checked it too: defence in depth), validates every status with the
shared rules, and either saves every changed block or none: a single stale
version raises `StatusConflict` and rolls the whole save back.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from buildingblocks.levels import Level
from buildingblocks.models import AdoptionStatus, BuildingBlock, StatusChange
from buildingblocks.validation import STATUS_FIELDS, StatusValues, validate_status
from municipalities.models import Municipality
from municipalities.permissions import can_edit_municipality
from nupportal.audit import audit
from scoring.tasks import recompute_after_commit

# What a block without an AdoptionStatus row means; such a block has version 0.
NO_STATUS = StatusValues(level=Level.NOT_STARTED)
# Writes that no person makes (a merger, the demo seed) may pass user=None.
SYSTEM_SOURCES = frozenset({StatusChange.Source.MERGER, StatusChange.Source.SEED})
# What a write sets on an AdoptionStatus row besides its keys.
_WRITTEN_FIELDS = [*STATUS_FIELDS, "version", "updated_by", "updated_at"]
_BATCH_SIZE = 1000


@dataclass(frozen=True)
class StatusEdit:
    """The values a user wants for one block, and the version they were loaded with."""

    block_code: str
    # Version of the AdoptionStatus row the form showed; 0 when there was no row.
    version: int
    values: StatusValues


@dataclass(frozen=True)
class CurrentStatus:
    """A block's status as it stands in the database, and who changed it last."""

    block_code: str
    version: int
    values: StatusValues
    changed_by: str | None
    changed_at: datetime.datetime | None


@dataclass(frozen=True)
class SaveResult:
    batch_id: str
    changes: list[StatusChange] = field(default_factory=list)

    @property
    def changed_codes(self) -> list[str]:
        return [change.block.code for change in self.changes]


class InvalidStatusEdit(ValueError):
    """The edit names an unknown or inactive block, a block twice, or a bad version.

    A form never produces this: it means the request was tampered with.
    """


class StatusValidationError(ValueError):
    """Some statuses break the rules; `errors` maps block code → field → messages."""

    def __init__(self, errors: dict[str, dict[str, list[str]]]):
        super().__init__(f"invalid statuses: {sorted(errors)}")
        self.errors = errors


class StatusConflict(Exception):
    """Someone saved some of these blocks after the form was loaded; nothing was saved.

    `current` maps block code → the status as it stands now.
    """

    def __init__(self, current: dict[str, CurrentStatus]):
        super().__init__(f"stale versions for {sorted(current)}")
        self.current = current


@dataclass(frozen=True)
class StatusWrite:
    """One status to set: for which municipality × block, and to which values."""

    municipality_id: int
    block_id: int
    values: StatusValues
    # The version of the row the writer loaded (0: no row). None: the writer
    # holds the rows' locks since it read them and checked the versions itself.
    version: int | None = None


class StaleStatuses(Exception):
    """Someone saved some of these statuses since the writer loaded them.

    `keys` are the (municipality id, block id) pairs; nothing was written.
    """

    def __init__(self, keys: list[tuple[int, int]]):
        super().__init__(f"stale statuses: {keys}")
        self.keys = keys


def values_of(status: AdoptionStatus | None) -> StatusValues:
    """The editable values of a status row (NO_STATUS when there is no row)."""
    if status is None:
        return NO_STATUS
    return StatusValues(
        level=status.level,
        planned_date=status.planned_date,
        achieved_date=status.achieved_date,
        note=status.note,
        evidence_url=status.evidence_url,
    )


def save_statuses(
    *,
    user: AbstractBaseUser | None,
    municipality: Municipality,
    changes: Iterable[StatusEdit],
    source: str = StatusChange.Source.FORM,
) -> SaveResult:
    """Save the edited statuses of one municipality atomically; see the module docstring.

    Raises PermissionDenied, InvalidStatusEdit, StatusValidationError or
    StatusConflict; in each case nothing is written.
    """
    if user is None:
        if source not in SYSTEM_SOURCES:
            raise PermissionDenied("Only system sources may save without a user.")
    elif not can_edit_municipality(user, municipality):
        raise PermissionDenied
    edits = list(changes)
    blocks = _active_blocks_for(edits)
    now = timezone.now()
    _validate(edits, today=timezone.localdate(now))

    result = SaveResult(batch_id=uuid.uuid4().hex)
    writes = [
        StatusWrite(municipality.pk, blocks[e.block_code].pk, e.values, e.version)
        for e in edits
    ]
    try:
        with transaction.atomic():
            written = write_statuses(
                writes=writes,
                user=user,
                source=source,
                batch_id=result.batch_id,
                now=now,
                # The editor posts every block: one it shows as "not started"
                # without a status row stays without one.
                record_not_started=False,
            )
            if written:
                recompute_after_commit(municipality.pk)
    except StaleStatuses as stale:
        block_ids = [block_id for _m, block_id in stale.keys]
        raise StatusConflict(_current_statuses(municipality, block_ids)) from None
    by_pk = {block.pk: block for block in blocks.values()}
    for change in written:
        # The objects are at hand; spares a query per change for the codes.
        change.municipality, change.block = municipality, by_pk[change.block_id]
    result.changes.extend(written)
    if result.changes:
        audit(
            "statuses_saved",
            user=user,
            municipality=municipality.cbs_code,
            source=source,
            batch=result.batch_id,
            blocks=list(result.changed_codes),
        )
    return result


def _active_blocks_for(edits: list[StatusEdit]) -> dict[str, BuildingBlock]:
    codes = [edit.block_code for edit in edits]
    if len(set(codes)) != len(codes):
        raise InvalidStatusEdit("A block appears more than once.")
    if any(edit.version < 0 for edit in edits):
        raise InvalidStatusEdit("A version cannot be negative.")
    blocks = {
        block.code: block
        for block in BuildingBlock.objects.filter(code__in=codes, active=True)
    }
    unknown = set(codes) - blocks.keys()
    if unknown:
        raise InvalidStatusEdit(f"Unknown or inactive blocks: {sorted(unknown)}")
    return blocks


def _validate(edits: list[StatusEdit], *, today: datetime.date) -> None:
    errors = {}
    for edit in edits:
        block_errors = validate_status(edit.values, today=today)
        if block_errors:
            errors[edit.block_code] = block_errors
    if errors:
        raise StatusValidationError(errors)


def write_statuses(
    *,
    writes: Sequence[StatusWrite],
    user: AbstractBaseUser | None,
    source: str,
    batch_id: str,
    now: datetime.datetime,
    effective_at: datetime.datetime | None = None,
    record_not_started: bool = True,
) -> list[StatusChange]:
    """Write statuses and their history in bulk; the one write path (module docstring).

    Runs in the caller's transaction, which has checked who may write and the
    rules. Writes equal to the current status are skipped; a write whose version
    differs from the row's raises StaleStatuses and nothing is written. History
    rows take `effective_at` (default `now`: a merger's changes take effect on
    its date). `record_not_started=False`: a "not started" write for a block
    without a row is no change. Returns the StatusChange rows written.
    """
    user = user if user is not None and user.is_authenticated else None
    writes = sorted(writes, key=lambda w: (w.municipality_id, w.block_id))
    # Lock in key order: two writes of overlapping statuses queue up instead of
    # deadlocking. (SQLite ignores FOR UPDATE; it serialises writers anyway.)
    # The filter may lock a few more rows than written: cheaper than OR-ing pairs.
    locked = {
        (row.municipality_id, row.block_id): row
        for row in AdoptionStatus.objects.select_for_update()
        .filter(
            municipality_id__in={w.municipality_id for w in writes},
            block_id__in={w.block_id for w in writes},
        )
        .order_by("municipality_id", "block_id")
    }
    stale: list[tuple[int, int]] = []
    to_update: list[AdoptionStatus] = []
    to_create: list[AdoptionStatus] = []
    history: list[StatusChange] = []
    for write in writes:
        key = (write.municipality_id, write.block_id)
        row = locked.get(key)
        before = values_of(row)
        if write.values == before and (row is not None or not record_not_started):
            # Nothing to write. Also when the version is stale: someone else
            # already saved exactly these values, so nothing can be lost.
            continue
        if write.version is not None and write.version != (row.version if row else 0):
            stale.append(key)
            continue
        existed = row is not None
        if row is None:
            row = AdoptionStatus(municipality_id=key[0], block_id=key[1], version=0)
            to_create.append(row)
        else:
            to_update.append(row)
        for name in STATUS_FIELDS:
            setattr(row, name, getattr(write.values, name))
        row.version += 1
        row.updated_by = user
        row.updated_at = now
        # Field rules without queries; the model's constraints back them in SQL.
        row.clean_fields(exclude=["municipality", "block", "updated_by"])
        history.append(
            StatusChange(
                municipality_id=key[0],
                block_id=key[1],
                # '' = the block had no status row before this change.
                from_level=before.level if existed else "",
                to_level=write.values.level,
                from_planned_date=before.planned_date,
                to_planned_date=write.values.planned_date,
                from_achieved_date=before.achieved_date,
                to_achieved_date=write.values.achieved_date,
                changed_by=user,
                changed_at=effective_at or now,
                source=source,
                note=write.values.note,
                batch_id=batch_id,
            )
        )
    if stale:
        raise StaleStatuses(stale)
    AdoptionStatus.objects.bulk_update(
        to_update, _WRITTEN_FIELDS, batch_size=_BATCH_SIZE
    )
    if to_create:
        try:
            # A savepoint, so a concurrent insert of the same status surfaces as
            # a conflict instead of breaking the caller's transaction.
            with transaction.atomic():
                AdoptionStatus.objects.bulk_create(to_create, batch_size=_BATCH_SIZE)
        except IntegrityError:
            keys = [(row.municipality_id, row.block_id) for row in to_create]
            raise StaleStatuses(keys) from None
    StatusChange.objects.bulk_create(history, batch_size=_BATCH_SIZE)
    return history


def _current_statuses(
    municipality: Municipality, block_ids: list[int]
) -> dict[str, CurrentStatus]:
    """The present state of the given blocks, with who changed each one last."""
    latest = StatusChange.objects.filter(
        municipality=OuterRef("municipality"), block=OuterRef("block")
    ).order_by("-changed_at", "-id")
    rows = {
        status.block_id: status
        for status in AdoptionStatus.objects.filter(
            municipality=municipality, block_id__in=block_ids
        )
        .select_related("block", "updated_by")
        .annotate(
            last_changed_by=Subquery(latest.values("changed_by__username")[:1]),
            last_changed_at=Subquery(latest.values("changed_at")[:1]),
        )
    }
    codes = dict(
        BuildingBlock.objects.filter(pk__in=block_ids).values_list("pk", "code")
    )
    current = {}
    for block_id in block_ids:
        row = rows.get(block_id)
        code = codes[block_id]
        if row is None:
            current[code] = CurrentStatus(code, 0, NO_STATUS, None, None)
            continue
        current[code] = CurrentStatus(
            block_code=code,
            version=row.version,
            values=values_of(row),
            changed_by=row.updated_by.username
            if row.updated_by
            else row.last_changed_by,
            changed_at=row.updated_at or row.last_changed_at,
        )
    return current
