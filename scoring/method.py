"""What the method page (/methode/) shows: the rules, with a worked example.

The example is computed here by scoring.rules from the level table and the
weights of the active building blocks, so the page can never drift from the
rules it explains. One query for the blocks, one for the conditional
requirements, one for the later versions of block weights and flags.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from agreements.models import PROGRAMME_START, Requirement
from buildingblocks.levels import LEVEL_VALUES, Level
from buildingblocks.models import BlockVersion, BuildingBlock
from scoring import rules
from scoring.method_version import CHANGELOG, METHOD_VERSION
from scoring.models import ComplianceReason

# The levels the worked example gives its blocks, in turn: every level once.
EXAMPLE_LEVELS = (
    Level.IN_USE,
    Level.IMPLEMENTING,
    Level.PREPARING,
    Level.NOT_STARTED,
    Level.NOT_APPLICABLE,
)


@dataclass(frozen=True)
class ExampleRow:
    """One block of the worked example: its weight, level, value and term."""

    block: BuildingBlock
    weight: Decimal
    level: str
    value: Decimal | None

    @property
    def term(self) -> Decimal | None:
        """weight × value; None for a block left out (not applicable)."""
        return None if self.value is None else self.weight * self.value


@dataclass(frozen=True)
class WorkedExample:
    rows: list[ExampleRow]
    numerator: Decimal
    denominator: Decimal
    score: float | None


def worked_example(blocks: list[BuildingBlock]) -> WorkedExample | None:
    """The score of a municipality whose first blocks stand at every level in turn."""
    chosen = blocks[: len(EXAMPLE_LEVELS)]
    if not chosen:
        return None
    rows = [
        ExampleRow(block, block.weight, level, LEVEL_VALUES.get(level))
        for block, level in zip(chosen, EXAMPLE_LEVELS, strict=False)
    ]
    counted = [row for row in rows if row.value is not None]
    return WorkedExample(
        rows=rows,
        numerator=sum((row.term for row in counted), Decimal(0)),
        denominator=sum((row.weight for row in counted), Decimal(0)),
        score=rules.adoption_score((row.weight, row.level) for row in rows),
    )


def method_context() -> dict:
    blocks = list(BuildingBlock.objects.filter(active=True).order_by("order", "code"))
    weights = sorted({b.weight for b in blocks})
    return {
        "levels": [(level, LEVEL_VALUES.get(level)) for level in Level],
        "blocks": blocks,
        "uniform_weight": weights[0] if len(weights) == 1 else None,
        "example": worked_example(blocks),
        "reasons": list(ComplianceReason),
        "programme_start": PROGRAMME_START,
        "method_version": METHOD_VERSION,
        "method_changelog": CHANGELOG,
        # Versions after the first: what changed in the reference data, and when.
        "reference_changes": list(
            BlockVersion.objects.filter(valid_from__gt=PROGRAMME_START)
            .select_related("block")
            .order_by("valid_from", "block__order")
        ),
        "conditional_requirements": list(
            Requirement.objects.current()
            .filter(min_population__isnull=False)
            .select_related("agreement", "block")
            .order_by("agreement__number", "block__order")
        ),
    }
