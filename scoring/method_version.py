"""The version of the scoring method, recorded on every score and snapshot.

Bump `METHOD_VERSION` whenever a change to the rules (scoring.rules, the SQL
of scoring.recompute, the replay of scoring.history) can change a figure, and
add a line to `CHANGELOG`: the method page (/methode/) lists it. A score row
carries the version of the recompute that wrote it, a snapshot the version of
the rebuild that made it, so figures made under different methods can be
told apart in exports.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

METHOD_VERSION = "2"


@dataclass(frozen=True)
class MethodChange:
    version: str
    date: datetime.date
    summary: str | Promise


CHANGELOG: tuple[MethodChange, ...] = (
    MethodChange(
        "1",
        datetime.date(2026, 11, 1),
        _(
            "The rules of this page, applied with the current reference data "
            "(weights, active blocks, requirements) to every date, past dates "
            "included."
        ),
    ),
    MethodChange(
        "2",
        datetime.date(2026, 12, 4),
        _(
            "Versioned reference data: weights, active blocks and requirements "
            "have validity dates, and each date is computed with the versions "
            "in force on it. Changing reference data no longer changes the "
            "figures of earlier dates."
        ),
    ),
)


def current_method_version() -> str:
    """The default of the models' `method_version` (a callable, so that a bump
    needs no migration)."""
    return METHOD_VERSION
