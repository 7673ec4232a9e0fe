"""Rules for one adoption status, shared by the status editor, the import and the admin.

Pure: values in, messages out; no queries, no settings.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, fields
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext_lazy as _

from buildingblocks.levels import LEVELS_NEEDING_PLANNED_DATE, Level

# One limit for every write path: the editor, the admin, the import, the service.
NOTE_MAX_LENGTH = 4000
NOTE_TOO_LONG = _(
    "The note is %(length)s characters long; at most %(limit)s characters are allowed."
)


@dataclass(frozen=True)
class StatusValues:
    level: str
    planned_date: datetime.date | None = None
    achieved_date: datetime.date | None = None
    note: str = ""
    evidence_url: str = ""


# The editable fields of a status, in StatusValues' order; the model's columns of
# the same names (AdoptionStatus) and the import's columns use these names too.
STATUS_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(StatusValues))


def validate_status(
    values: StatusValues, *, today: datetime.date
) -> dict[str, list[str]]:
    """Return the errors per field name ('' for the whole status); empty when valid."""
    errors: dict[str, list[str]] = {}

    def add(field: str, message) -> None:
        errors.setdefault(field, []).append(str(message))

    if values.level not in Level.values:
        add("level", _("Choose one of the levels in the list."))
        return errors
    if values.achieved_date is not None:
        if values.level != Level.IN_USE:
            add(
                "achieved_date",
                _("An achieved date is only possible for the level “In use”."),
            )
        elif values.achieved_date > today:
            add("achieved_date", _("The achieved date cannot lie in the future."))
    if values.level in LEVELS_NEEDING_PLANNED_DATE and values.planned_date is None:
        add(
            "planned_date",
            _(
                "Give the planned date for a block that is being prepared or implemented."
            ),
        )
    if len(values.note) > NOTE_MAX_LENGTH:
        add(
            "note",
            NOTE_TOO_LONG % {"length": len(values.note), "limit": NOTE_MAX_LENGTH},
        )
    if values.level == Level.NOT_APPLICABLE and not values.note.strip():
        add("note", _("Explain in the note why this block does not apply."))
    if values.evidence_url and not _is_web_address(values.evidence_url):
        add(
            "evidence_url",
            _(
                "The evidence link must be a web address starting with http:// or https://."
            ),
        )
    return errors


# The same check as AdoptionStatus.evidence_url, so a status that passes these rules
# also passes the model's own field validation.
_web_address = URLValidator(schemes=["http", "https"])


def _is_web_address(value: str) -> bool:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False
    try:
        _web_address(value)
    except ValidationError:
        return False
    return True
