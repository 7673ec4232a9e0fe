"""The aggregates per (size class, province), counted from the pass."""

from __future__ import annotations

from typing import Any

from django.db import connection

from municipalities.models import Province
from scoring.figure_writes import FIGURE_COLUMNS, figure_record, insert_rows
from scoring.figures import GroupKey, GroupTotals, add_block_counts, figure_rows
from scoring.method_version import METHOD_VERSION
from scoring.models import Aggregate, MunicipalityScore
from scoring.recompute.inputs import _Inputs
from scoring.recompute.outcomes import _KINDS
from scoring.recompute.per_municipality import _PER_M
from scoring.recompute.sql import _bigint, _bit, _t
from scoring.rules import meets_every_agreement


def _group_totals(inputs: _Inputs) -> dict[GroupKey, GroupTotals]:
    """Totals per (size class, province), counted from the temporary table.

    Scores and "meets every agreement" from the written score rows; blocks in
    use or not applicable and agreement statuses from the pass's block sets
    and outcome codes: no second read of the status or compliance rows.
    """
    groups: dict[GroupKey, GroupTotals] = {}
    p, pr = _PER_M, _t(Province)
    agreements = len(inputs.agreements)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT p.size_class, pr.slug, p.population, sc.score, sc.agreements_met,
                sc.agreements_not_applicable
            FROM {p} p
            INNER JOIN {pr} pr ON pr.id = p.province_id
            LEFT JOIN {_t(MunicipalityScore)} sc
                ON sc.municipality_id = p.municipality_id
            """
        )
        for size_class, province, population, score, met, na in cursor.fetchall():
            totals = groups.setdefault((size_class, province), GroupTotals())
            totals.municipalities += 1
            totals.population += population
            totals.scores.append(score)
            totals.all_met += meets_every_agreement(met or 0, na or 0, agreements)
        # Per group: the municipalities per block state and per agreement outcome.
        block_columns = []
        for index in range(len(inputs.blocks)):
            word, bit = _bit(index)
            for kind in ("in_use_blocks", "na_blocks"):
                has = f"(p.{kind}_{word} & {_bigint(bit)}) <> 0"
                block_columns += [
                    f"COUNT(*) FILTER (WHERE {has})",
                    f"SUM(p.population) FILTER (WHERE {has})",
                ]
        outcome_columns = [
            f"COUNT(*) FILTER (WHERE p.outcome_{i} = {code})"
            for i in range(len(inputs.agreements))
            for code, *_ in _KINDS
        ]
        if block_columns or outcome_columns:
            cursor.execute(
                f"""
                SELECT p.size_class, pr.slug,
                    {", ".join([*block_columns, *outcome_columns])}
                FROM {p} p
                INNER JOIN {pr} pr ON pr.id = p.province_id
                GROUP BY p.size_class, pr.slug
                """
            )
            for size_class, province, *values in cursor.fetchall():
                totals = groups[(size_class, province)]
                for i, block_id in enumerate(inputs.block_ids):
                    in_use, in_use_pop, na, na_pop = (
                        int(v or 0) for v in values[4 * i : 4 * i + 4]
                    )
                    if in_use or na:
                        add_block_counts(
                            totals.blocks, block_id, in_use, na, in_use_pop, na_pop
                        )
                outcomes = iter(values[len(block_columns) :])
                for agreement_id in inputs.agreement_ids:
                    for _code, status, _reason, exempt in _KINDS:
                        n = int(next(outcomes) or 0)
                        if not n:
                            continue
                        key = (agreement_id, str(status))
                        totals.statuses[key] = totals.statuses.get(key, 0) + n
                        if exempt:
                            totals.exempted[agreement_id] = (
                                totals.exempted.get(agreement_id, 0) + n
                            )
    return groups


def _rewrite_aggregates(inputs: _Inputs, stamp: Any) -> int:
    rows = figure_rows(
        _group_totals(inputs),
        block_ids=inputs.block_ids,
        agreement_ids=inputs.agreement_ids,
    )
    Aggregate.objects.all().delete()
    return insert_rows(
        Aggregate,
        [*FIGURE_COLUMNS, "computed_at", "method_version"],
        [(*figure_record(row), stamp, METHOD_VERSION) for row in rows],
    )
