"""What a recompute reads besides the statuses: blocks, requirements, agreements."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from agreements.models import Requirement, ResultAgreement
from buildingblocks.models import BlockVersion
from scoring.method_version import METHOD_VERSION


def _method_version() -> str:
    """METHOD_VERSION as it goes into the SQL (a constant of ours, checked)."""
    if not METHOD_VERSION.isalnum():
        raise ValueError(f"METHOD_VERSION must be alphanumeric: {METHOD_VERSION!r}")
    return METHOD_VERSION


@dataclass(frozen=True)
class _Inputs:
    """Everything a recompute reads besides the statuses, read in one place.

    `blocks`: (id, category, weight) of the blocks that count (active);
    `requirements`: (agreement id, block id, minimum level, min population) of
    the requirements on those blocks; `agreements`: (id, deadline) of every
    agreement (one without a requirement left is not applicable to anyone).
    """

    blocks: list[tuple[int, str, Decimal]]
    requirements: list[tuple[int, int, str, int | None]]
    agreements: list[tuple[int, datetime.date]]

    @property
    def block_ids(self) -> list[int]:
        return [block_id for block_id, _, _ in self.blocks]

    @property
    def agreement_ids(self) -> list[int]:
        return [agreement_id for agreement_id, _ in self.agreements]


def _read_inputs(on: datetime.date) -> _Inputs:
    """The blocks (with the weight of their version), requirements and agreements
    in force on `on` (issue 14: BlockVersion and the requirement rows carry
    validity periods, so a change from a date on moves the figures from then)."""
    blocks = list(
        BlockVersion.objects.in_force(on)
        .filter(active=True)
        .order_by("block_id")
        .values_list("block_id", "block__category", "weight")
    )
    counted = {block_id for block_id, _, _ in blocks}
    # Requirements of blocks that do not count are ignored (rules: retired blocks).
    requirements = [
        row
        for row in Requirement.objects.in_force(on)
        .order_by("agreement_id", "block_id")
        .values_list("agreement_id", "block_id", "minimum_level", "min_population")
        if row[1] in counted
    ]
    agreements = list(
        ResultAgreement.objects.order_by("id").values_list("id", "deadline")
    )
    return _Inputs(blocks, requirements, agreements)
