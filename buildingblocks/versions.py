"""Versions of a block's weight and active flag (issue 14, item 5).

A change never rewrites the past: it closes the version in force on the chosen
date and starts a new one there, so the snapshots and history of earlier dates
keep the weights they were computed with. `BuildingBlock.weight` / `.active`
carry the version in force today; only this module writes them together with
the versions (and the reference-data loader, through `initial_versions`).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import Decimal

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from buildingblocks.models import BlockVersion, BuildingBlock, sync_current
from nupportal.audit import audit
from nupportal.validity import start_version
from scoring.tasks import recompute_after_commit


@transaction.atomic
def new_block_version(
    *,
    block: BuildingBlock,
    weight: Decimal,
    active: bool,
    valid_from: datetime.date,
    user: AbstractBaseUser | None = None,
    today: datetime.date | None = None,
) -> BlockVersion | None:
    """Give `block` this weight and flag from `valid_from` on; None if nothing changes.

    The latest version ends on `valid_from` (a version starting that very day is
    corrected in place instead: it has no earlier period to keep). Scores are
    recomputed after commit.
    """
    today = today or timezone.localdate()
    version = start_version(
        BlockVersion,
        of={"block": block},
        values={"weight": weight, "active": active},
        valid_from=valid_from,
        today=today,
    )
    if version is None:
        return None
    sync_current([block.pk], today=today)
    block.refresh_from_db(fields=["weight", "active"])
    audit(
        "block_version",
        user=user,
        block=block.code,
        weight=weight,
        active=active,
        valid_from=valid_from,
    )
    recompute_after_commit()
    return version


def initial_versions(
    blocks: Iterable[BuildingBlock], valid_from: datetime.date
) -> list[BlockVersion]:
    """One version from `valid_from` for each block that has none (bulk; idempotent).

    It carries the block's own weight and flag, so a block created with them
    has had them since `valid_from`.
    """
    blocks = list(blocks)
    have = set(
        BlockVersion.objects.filter(block__in=blocks).values_list("block_id", flat=True)
    )
    return BlockVersion.objects.bulk_create(
        BlockVersion(
            block=block, weight=block.weight, active=block.active, valid_from=valid_from
        )
        for block in blocks
        if block.pk not in have
    )
