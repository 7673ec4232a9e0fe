"""What the method page (/methode/) shows: the rules, with a worked example.

The example is computed here by scoring.rules from the level table and the
weights of the active building blocks, so the page can never drift from the
rules it explains. One query for the blocks, one for the conditional
requirements, one for the later versions of block weights and flags.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from agreements.models import PROGRAMME_START, Requirement
from buildingblocks.levels import LEVEL_VALUES, Level
from buildingblocks.models import BlockVersion, BuildingBlock
from scoring import charts, rules
from scoring.distribution import spread
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


# The scores of the worked quartile example: small enough to follow by hand.
SPREAD_EXAMPLE_SCORES = (10.0, 20.0, 40.0, 80.0)


def spread_example() -> dict:
    """The worked quartile example and its box plot, computed by scoring.distribution."""
    example = spread(SPREAD_EXAMPLE_SCORES)
    return {
        "spread_example": example,
        "spread_example_scores": ", ".join(
            charts.number(v) for v in SPREAD_EXAMPLE_SCORES
        ),
        "spread_example_chart": charts.box_plot(
            chart_id="chart-method-spread",
            caption=_("Example: the box plot of four scores"),
            summary=_(
                "The scores 10, 20, 40 and 80: the box runs from 17.5 to 50, the "
                "median is 30."
            ),
            boxes=[charts.Box(_("Example"), example)],
            label_header=_("Group"),
        ),
    }


def method_context() -> dict:
    blocks = list(BuildingBlock.objects.filter(active=True).order_by("order", "code"))
    weights = sorted({b.weight for b in blocks})
    return spread_example() | {
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
