"""The /gemeenten/ page's filters, under the API's parameter names."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet

from api.timetravel import Standing
from buildingblocks.levels import Level
from municipalities.filters import MunicipalityFilterSet
from municipalities.models import Municipality
from municipalities.queries import NOT_IN_USE

# API query parameter → field of MunicipalityFilterSet.
FILTER_PARAMS = {
    "zoek": "q",
    "provincie": "province",
    "grootteklasse": "size_class",
    "scoreMin": "score_min",
    "scoreMax": "score_max",
    "bouwsteen": "block",
    "niveau": "level",
    "resultaatafspraak": "agreement",
    "afspraakstatus": "compliance",
}
API_NAMES = {field: param for param, field in FILTER_PARAMS.items()}
# The filters that need no figures: applied in SQL on any date.
_PLACE_FILTERS = ("q", "province", "size_class")


class ApiMunicipalityFilterSet(MunicipalityFilterSet):
    """MunicipalityFilterSet with a reference date.

    On a past date the score, level and agreement filters apply to the figures
    rebuilt from the history (`matches`), not to today's columns; the form,
    its validation and the place filters are the page's own.
    """

    def __init__(self, params: dict[str, Any], *, on: datetime.date | None, **kwargs):
        data = {
            field: params[param]
            for param, field in FILTER_PARAMS.items()
            if param in params
        }
        self.on = on
        super().__init__(data, **kwargs)

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        if self.on is None:
            return super().filter_queryset(queryset)
        for name in _PLACE_FILTERS:
            value = self.form.cleaned_data.get(name)
            queryset = self.filters[name].filter(queryset, value)
        return queryset

    def errors_by_param(self) -> dict[str, list[str]]:
        return {
            API_NAMES.get(field, "request"): [str(message) for message in messages]
            for field, messages in self.form.errors.items()
        }

    def matches(
        self, municipalities: Iterable[Municipality], standings: dict[int, Standing]
    ) -> list[tuple[Municipality, Standing]]:
        """The municipalities whose figures on the reference date pass the filters."""
        data = self.form.cleaned_data
        low, high = data.get("score_min"), data.get("score_max")
        block, level = data.get("block"), data.get("level")
        agreement, compliance = data.get("agreement"), data.get("compliance")
        kept = []
        for municipality in municipalities:
            standing = standings.get(municipality.pk)
            if standing is None:
                continue
            score = standing.score
            if low is not None and (score is None or score < low):
                continue
            if high is not None and (score is None or score > high):
                continue
            if block and level and not _has_level(standing, block.pk, level):
                continue
            if compliance and not _has_status(standing, agreement, compliance):
                continue
            kept.append((municipality, standing))
        return kept


def _has_level(standing: Standing, block_id: int, level: str) -> bool:
    # The same meaning as municipalities.queries.filter_block_level.
    current = standing.states.get(block_id)
    actual = current.level if current else Level.NOT_STARTED
    if level == NOT_IN_USE:
        return actual not in (Level.IN_USE, Level.NOT_APPLICABLE)
    return actual == level


def _has_status(standing: Standing, agreement, status: str) -> bool:
    # The same meaning as municipalities.queries.filter_compliance.
    if agreement is not None:
        return standing.statuses.get(agreement.pk) == status
    return status in standing.statuses.values()
