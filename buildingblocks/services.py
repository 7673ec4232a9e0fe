"""Writing adoption statuses: permission, validation, optimistic locking, history.

`save_statuses` is the write path of the status editor. It re-checks the
permission (the view checked it too: defence in depth), validates every status
with the shared rules, and then, in one transaction, locks the affected rows in
block order, compares their versions with the versions the form was loaded with,
writes the rows that really change, appends one StatusChange per changed block,
and asks for a score recompute once the transaction has committed.

Either every changed block is saved or none: a single stale version raises
`StatusConflict` and rolls the whole save back.
"""

from __future__ import annotations

import datetime
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from buildingblocks.levels import Level
from buildingblocks.models import AdoptionStatus, BuildingBlock, StatusChange
from buildingblocks.validation import StatusValues, validate_status
from municipalities.models import Municipality
from municipalities.permissions import can_edit_municipality
from nupportal.audit import audit
from scoring import tasks as scoring_tasks

logger = logging.getLogger(__name__)

# What a block without an AdoptionStatus row means; such a block has version 0.
NO_STATUS = StatusValues(level=Level.NOT_STARTED)
# Writes that no person makes (a merger, the demo seed) may pass user=None.
SYSTEM_SOURCES = frozenset({StatusChange.Source.MERGER, StatusChange.Source.SEED})
STATUS_FIELDS = ("level", "planned_date", "achieved_date", "note", "evidence_url")


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


class _Stale(Exception):
    def __init__(self, block_ids: list[int]):
        self.block_ids = block_ids


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
    try:
        with transaction.atomic():
            result.changes.extend(
                _apply(user, municipality, edits, blocks, source, now, result.batch_id)
            )
            if result.changes:
                transaction.on_commit(partial(_request_recompute, municipality.pk))
    except _Stale as stale:
        raise StatusConflict(_current_statuses(municipality, stale.block_ids)) from None
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


def _apply(
    user: AbstractBaseUser | None,
    municipality: Municipality,
    edits: list[StatusEdit],
    blocks: dict[str, BuildingBlock],
    source: str,
    now: datetime.datetime,
    batch_id: str,
) -> list[StatusChange]:
    # Lock in block order: two saves of overlapping blocks queue up instead of
    # deadlocking. (SQLite ignores FOR UPDATE; it serialises writers anyway.)
    locked = {
        status.block_id: status
        for status in AdoptionStatus.objects.select_for_update()
        .filter(municipality=municipality, block__in=blocks.values())
        .order_by("block_id")
    }
    stale: list[int] = []
    to_update: list[AdoptionStatus] = []
    to_create: list[AdoptionStatus] = []
    history: list[StatusChange] = []
    for edit in sorted(edits, key=lambda edit: blocks[edit.block_code].pk):
        block = blocks[edit.block_code]
        row = locked.get(block.pk)
        before = values_of(row)
        if edit.values == before:
            # Nothing to write. Also when the version is stale: someone else
            # already saved exactly these values, so nothing can be lost.
            continue
        if edit.version != (row.version if row else 0):
            stale.append(block.pk)
            continue
        existed = row is not None
        if row is None:
            row = AdoptionStatus(municipality=municipality, block=block, version=0)
            to_create.append(row)
        else:
            to_update.append(row)
        for name in STATUS_FIELDS:
            setattr(row, name, getattr(edit.values, name))
        row.version += 1
        row.updated_by = user
        row.updated_at = now
        # Field rules without queries; the model's constraints back them in SQL.
        row.clean_fields(exclude=["municipality", "block", "updated_by"])
        history.append(
            StatusChange(
                municipality=municipality,
                block=block,
                # '' = the block had no status row before this change.
                from_level=before.level if existed else "",
                to_level=edit.values.level,
                from_planned_date=before.planned_date,
                to_planned_date=edit.values.planned_date,
                from_achieved_date=before.achieved_date,
                to_achieved_date=edit.values.achieved_date,
                changed_by=user,
                changed_at=now,
                source=source,
                note=edit.values.note,
                batch_id=batch_id,
            )
        )
    if stale:
        raise _Stale(stale)
    if to_update:
        AdoptionStatus.objects.bulk_update(
            to_update, [*STATUS_FIELDS, "version", "updated_by", "updated_at"]
        )
    if to_create:
        try:
            # A savepoint, so a concurrent insert of the same block surfaces as a
            # conflict instead of breaking the caller's transaction.
            with transaction.atomic():
                AdoptionStatus.objects.bulk_create(to_create)
        except IntegrityError:
            raise _Stale([row.block_id for row in to_create]) from None
    StatusChange.objects.bulk_create(history)
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


def _request_recompute(municipality_pk: int) -> None:
    """Ask for a score recompute; a broker failure must never undo a committed save."""
    try:
        scoring_tasks.enqueue_recompute(municipality_pk)
    except Exception:
        logger.exception(
            "Could not request a score recompute for municipality %s; "
            "the nightly full recompute will catch up.",
            municipality_pk,
        )


def write_status_rows(
    *,
    to_create: list[AdoptionStatus],
    to_update: list[AdoptionStatus],
    history: list[StatusChange],
) -> None:
    """Bulk-write new and changed statuses and their history (imports, mergers).

    The caller holds the transaction and has checked who may write and the versions.
    """
    AdoptionStatus.objects.bulk_create(to_create, batch_size=1000)
    AdoptionStatus.objects.bulk_update(
        to_update,
        [*STATUS_FIELDS, "version", "updated_by", "updated_at"],
        batch_size=1000,
    )
    StatusChange.objects.bulk_create(history, batch_size=1000)
