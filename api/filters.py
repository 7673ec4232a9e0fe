"""The /gemeenten/ page's filters, under the API's parameter names."""

from __future__ import annotations

import datetime
from typing import Any

from municipalities.filters import MunicipalityFilterSet

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


class ApiMunicipalityFilterSet(MunicipalityFilterSet):
    """MunicipalityFilterSet under the API's parameter names (the reference date
    and its meaning are the page's own)."""

    def __init__(self, params: dict[str, Any], *, on: datetime.date | None, **kwargs):
        data = {
            field: params[param]
            for param, field in FILTER_PARAMS.items()
            if param in params
        }
        super().__init__(data, on=on, **kwargs)

    def errors_by_param(self) -> dict[str, list[str]]:
        return {
            API_NAMES.get(field, "request"): [str(message) for message in messages]
            for field, messages in self.form.errors.items()
        }
