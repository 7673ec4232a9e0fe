"""The score explanation and the what-if of a scorecard: reads and page rows.

The rules are in scoring.explain (pure); this module loads what they need in a
fixed number of queries (whatever the number of municipalities) and turns the
result into rows for the templates. Nothing here writes.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agreements.models import Requirement, ResultAgreement
from buildingblocks.levels import Level
from buildingblocks.models import AdoptionStatus, BuildingBlock
from municipalities import queries
from municipalities.models import Municipality
from nupportal.templatetags.portal import localized_attr
from scoring import explain
from scoring.models import Aggregate, Measure, MunicipalityScore, Scope
from scoring.rules import BlockState


@dataclass(frozen=True)
class Inputs:
    """Everything the explanation of one municipality needs, loaded."""

    blocks: list[BuildingBlock]
    weights: dict[int, Decimal]
    states: dict[int, BlockState]
    agreements: list[explain.AgreementRule]
    # Mean score of the municipality's size class and province, and the country's.
    means: dict[str, float | None]


def states_of(statuses: Iterable[AdoptionStatus]) -> dict[int, BlockState]:
    return {
        status.block_id: BlockState(status.level, status.planned_date)
        for status in statuses
    }


def agreement_rules(
    agreements: Iterable[ResultAgreement],
) -> list[explain.AgreementRule]:
    """The agreements with their requirements on active blocks (one query)."""
    requirements: dict[int, list[tuple[int, str]]] = {}
    for agreement_id, block_id, minimum_level in (
        Requirement.objects.current()
        .filter(block__active=True)
        .values_list("agreement_id", "block_id", "minimum_level")
    ):
        requirements.setdefault(agreement_id, []).append((block_id, minimum_level))
    return [
        explain.AgreementRule(
            id=agreement.pk,
            deadline=agreement.deadline,
            requirements=tuple(requirements.get(agreement.pk, ())),
        )
        for agreement in agreements
    ]


def mean_scores(municipality: Municipality) -> dict[str, float | None]:
    """{scope: mean score} for the size class, the province and the country (one query)."""
    rows = Aggregate.objects.filter(
        queries.comparison_scopes(municipality),
        measure=Measure.MEAN_SCORE,
        block__isnull=True,
        agreement__isnull=True,
    ).values_list("scope", "value")
    means: dict[str, float | None] = dict.fromkeys(
        (Scope.SIZE_CLASS, Scope.PROVINCE, Scope.NATIONAL)
    )
    means.update(rows)
    return means


def load_inputs(
    municipality: Municipality,
    blocks: Sequence[BuildingBlock],
    statuses: Iterable[AdoptionStatus],
    agreements: Iterable[ResultAgreement],
    means: dict[str, float | None] | None = None,
) -> Inputs:
    """From what the scorecard has loaded already, plus two queries (one with `means`)."""
    return Inputs(
        blocks=list(blocks),
        weights={block.pk: block.weight for block in blocks},
        states=states_of(statuses),
        agreements=agreement_rules(agreements),
        means=mean_scores(municipality) if means is None else means,
    )


def rank_among_others(
    municipality: Municipality, score: float | None
) -> tuple[int | None, int]:
    """(rank of `score` against the stored scores of the others, how many are ranked).

    One query. The others keep their stored scores: only this municipality's
    levels are hypothetical.
    """
    others = MunicipalityScore.objects.filter(
        municipality__active=True, score__isnull=False
    ).exclude(municipality=municipality)
    counts = others.aggregate(
        ranked=Count("pk"),
        higher=Count("pk", filter=Q(score__gt=score) if score is not None else Q()),
    )
    ranked = counts["ranked"] + (score is not None)
    return explain.rank(score, counts["higher"]), ranked


# --- rows for the templates ---------------------------------------------------


def whatif_url(
    municipality: Municipality, levels: Mapping[str, str] | None = None
) -> str:
    """The what-if page, optionally with some blocks (by code) set to a level."""
    url = reverse("municipalities:whatif", kwargs={"slug": municipality.slug})
    return f"{url}?{urlencode(levels)}" if levels else url


def explanation_rows(
    municipality: Municipality,
    inputs: Inputs,
    agreements: Sequence[ResultAgreement],
    *,
    states: Mapping[int, BlockState] | None = None,
    on: datetime.date | None = None,
) -> dict[str, Any]:
    """The explanation section's context, for the stored or hypothetical `states`."""
    states = inputs.states if states is None else states
    on = on or timezone.localdate()
    result = explain.explain(inputs.weights, states, inputs.agreements, on=on)
    blocks = {block.pk: block for block in inputs.blocks}
    by_id = {agreement.pk: agreement for agreement in agreements}
    contributions = [
        {
            "block": blocks[c.block_id],
            "level": c.level,
            "weight": c.weight,
            "points": c.points_float,
            "maximum": c.maximum_float,
            "missing": (None if c.points is None else float(c.maximum - c.points)),
            "bar": None if c.share is None else round(c.share * 100),
        }
        for c in result.contributions
    ]
    suggestions = [
        {
            "block": blocks[step.block_id],
            "from_level": step.from_level,
            "to_level": step.to_level,
            "from_level_label": Level(step.from_level).label,
            "to_level_label": Level(step.to_level).label,
            "points": step.points,
            "agreements": [by_id[a] for a in step.agreements_met if a in by_id],
            "url": whatif_url(
                municipality, {blocks[step.block_id].code: step.to_level}
            ),
        }
        for step in result.suggestions
    ]
    comparisons = [
        {
            "label": label,
            "mean": inputs.means.get(scope),
            "gap": explain.gap(result.score, inputs.means.get(scope)),
        }
        for scope, label in (
            (Scope.SIZE_CLASS, municipality.get_size_class_display()),
            (Scope.PROVINCE, municipality.province.name),
            (Scope.NATIONAL, _("Netherlands")),
        )
    ]
    return {
        "score": result.score,
        "total_points": float(result.total_points),
        "remaining": None if result.score is None else 100.0 - result.score,
        "contributions": contributions,
        "suggestions": suggestions,
        "comparisons": comparisons,
        "statuses": result.statuses,
        "whatif_url": whatif_url(municipality),
    }


class WhatIfForm(forms.Form):
    """A level per active block, in the URL (GET): trying levels saves nothing.

    A block left out of the URL keeps its current level, so a shared link can
    name just the blocks it changes (?digid=in_use).
    """

    def __init__(
        self,
        data: Mapping[str, Any] | None,
        *,
        blocks: Sequence[BuildingBlock],
        current: Mapping[int, BlockState],
    ) -> None:
        self.blocks = list(blocks)
        self.current = current
        if data is not None:
            # Fill in the blocks the URL does not name, so they keep their level.
            filled = {
                block.code: explain.state_of(current, block.pk).level
                for block in self.blocks
            }
            filled.update({k: data[k] for k in data if k in filled})
            data = filled
        super().__init__(data)
        for block in self.blocks:
            self.fields[block.code] = forms.ChoiceField(
                label=localized_attr(block, "name"),
                choices=Level.choices,
                initial=explain.state_of(current, block.pk).level,
            )

    def states(self) -> dict[int, BlockState]:
        """The hypothetical states: the chosen levels, the planned dates as stored."""
        states = dict(self.current)
        for block in self.blocks:
            level = self.cleaned_data[block.code]
            states[block.pk] = BlockState(
                level, explain.state_of(self.current, block.pk).planned_date
            )
        return states

    def changed_blocks(self) -> list[BuildingBlock]:
        return [
            block
            for block in self.blocks
            if self.cleaned_data[block.code]
            != explain.state_of(self.current, block.pk).level
        ]
