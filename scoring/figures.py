"""Aggregate figures from per-group totals: the one definition of every Measure.

The current recompute (scoring.compute) and the monthly replay of the history
(scoring.history) both reduce municipalities to totals per (size class,
province) group and hand them here, so national, size-class and province
figures mean the same thing everywhere. Pure: no queries.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from scoring.models import ComplianceStatus, Measure, Scope
from scoring.rules import mean, median, share

# (size class code, province slug)
GroupKey = tuple[str, str]
# (scope, key, measure, block_id, agreement_id, status, value)
FigureRow = tuple[str, str, str, int | None, int | None, str, float | None]

IN_USE, NOT_APPLICABLE, IN_USE_POP, NOT_APPLICABLE_POP = range(4)


@dataclass
class GroupTotals:
    """What the figures need to know about the municipalities of one group."""

    municipalities: int = 0
    population: int = 0
    scores: list[float | None] = field(default_factory=list)
    all_met: int = 0
    # block id → [in use, not applicable, population in use, population not applicable]
    blocks: dict[int, list[int]] = field(default_factory=dict)
    # (agreement id, status) → municipalities
    statuses: dict[tuple[int, str], int] = field(default_factory=dict)
    # agreement id → municipalities that meet it on an exemption
    exempted: dict[int, int] = field(default_factory=dict)

    def absorb(self, other: GroupTotals) -> None:
        self.municipalities += other.municipalities
        self.population += other.population
        self.scores.extend(other.scores)
        self.all_met += other.all_met
        for block_id, counts in other.blocks.items():
            mine = self.blocks.setdefault(block_id, [0, 0, 0, 0])
            for i in range(4):
                mine[i] += counts[i]
        for key, count in other.statuses.items():
            self.statuses[key] = self.statuses.get(key, 0) + count
        for key, count in other.exempted.items():
            self.exempted[key] = self.exempted.get(key, 0) + count


def add_block_counts(
    blocks: dict[int, list[int]],
    block_id: int,
    in_use: int = 0,
    not_applicable: int = 0,
    in_use_population: int = 0,
    not_applicable_population: int = 0,
) -> None:
    """Add to a block's counts in `GroupTotals.blocks` (negative to take away)."""
    counts = blocks.setdefault(block_id, [0, 0, 0, 0])
    counts[IN_USE] += in_use
    counts[NOT_APPLICABLE] += not_applicable
    counts[IN_USE_POP] += in_use_population
    counts[NOT_APPLICABLE_POP] += not_applicable_population


def figure_rows(
    groups: Mapping[GroupKey, GroupTotals],
    *,
    block_ids: Iterable[int],
    agreement_ids: Iterable[int],
) -> list[FigureRow]:
    """Every figure for the country, each size class and each province present."""
    block_ids = list(block_ids)
    agreement_ids = list(agreement_ids)
    scopes: dict[tuple[str, str], GroupTotals] = {(Scope.NATIONAL, ""): GroupTotals()}
    for (size_class, province), totals in groups.items():
        scopes[(Scope.NATIONAL, "")].absorb(totals)
        # "" = size unknown (a former municipality): in the country and province only.
        if size_class:
            scopes.setdefault((Scope.SIZE_CLASS, size_class), GroupTotals()).absorb(
                totals
            )
        scopes.setdefault((Scope.PROVINCE, province), GroupTotals()).absorb(totals)

    rows: list[FigureRow] = []
    # Read once: Django builds the list anew on every access (≈ 0.2 ms each,
    # once per scope and agreement, 20 ms a recompute).
    statuses = ComplianceStatus.values
    for (scope, key), t in scopes.items():
        n = t.municipalities
        rows.append((scope, key, Measure.MUNICIPALITIES, None, None, "", float(n)))
        rows.append((scope, key, Measure.MEAN_SCORE, None, None, "", mean(t.scores)))
        rows.append(
            (scope, key, Measure.MEDIAN_SCORE, None, None, "", median(t.scores))
        )
        rows.append((scope, key, Measure.ALL_MET, None, None, "", float(t.all_met)))
        for block_id in block_ids:
            counts = t.blocks.get(block_id, (0, 0, 0, 0))
            applicable = n - counts[NOT_APPLICABLE]
            rows += [
                (scope, key, Measure.APPLICABLE, block_id, None, "", float(applicable)),
                (
                    scope,
                    key,
                    Measure.IN_USE_SHARE,
                    block_id,
                    None,
                    "",
                    share(counts[IN_USE], applicable),
                ),
                (
                    scope,
                    key,
                    Measure.COVERAGE,
                    block_id,
                    None,
                    "",
                    share(
                        counts[IN_USE_POP], t.population - counts[NOT_APPLICABLE_POP]
                    ),
                ),
            ]
        for agreement_id in agreement_ids:
            met = t.statuses.get((agreement_id, ComplianceStatus.MET), 0)
            # Municipalities to which the agreement does not apply leave the
            # denominator, as not-applicable blocks do.
            applicable = n - t.statuses.get(
                (agreement_id, ComplianceStatus.NOT_APPLICABLE), 0
            )
            rows += [
                (
                    scope,
                    key,
                    Measure.APPLICABLE,
                    None,
                    agreement_id,
                    "",
                    float(applicable),
                ),
                (
                    scope,
                    key,
                    Measure.COMPLIANCE_SHARE,
                    None,
                    agreement_id,
                    "",
                    share(met, applicable),
                ),
                (
                    scope,
                    key,
                    Measure.EXEMPTED,
                    None,
                    agreement_id,
                    "",
                    float(t.exempted.get(agreement_id, 0)),
                ),
            ]
            for status in statuses:
                rows.append(
                    (
                        scope,
                        key,
                        Measure.STATUS_COUNT,
                        None,
                        agreement_id,
                        status,
                        float(t.statuses.get((agreement_id, status), 0)),
                    )
                )
    return rows
