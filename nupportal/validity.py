"""Validity periods of versioned reference data (issue 14, item 5).

A version applies over the half-open interval [valid_from, valid_until):
`valid_until` is the first day it no longer applies, empty while it is still
in force (scoring.rules.in_force). Versions of one thing never overlap. The
database guarantees it: a check (valid_from < valid_until), one open version
per thing, and against overlap an exclusion constraint on PostgreSQL and
triggers on SQLite (`no_overlap`, used in the migrations; Django's
ExclusionConstraint is PostgreSQL-only). `clean()` says the same in words.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import TypeVar

from django.core.exceptions import ValidationError
from django.db import migrations, models
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _


class ValidityQuerySet(models.QuerySet):
    def in_force(self, on: datetime.date) -> ValidityQuerySet:
        """The versions that apply on `on` (scoring.rules.in_force, in SQL)."""
        return self.filter(
            Q(valid_from__lte=on)
            & (Q(valid_until__isnull=True) | Q(valid_until__gt=on))
        )

    def current(self) -> ValidityQuerySet:
        """The versions in force today: what today's pages show."""
        return self.in_force(timezone.localdate())


class ValidityPeriod(models.Model):
    """Abstract: a version valid from `valid_from` until (not including) `valid_until`.

    Subclasses name the fields that identify the thing versioned in
    `VERSION_OF`, for the overlap check in clean(); they inherit `objects`
    with `in_force(on)` and `current()`.
    """

    VERSION_OF: tuple[str, ...] = ()

    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(
        _("valid until"),
        null=True,
        blank=True,
        help_text=_(
            "The first day this version no longer applies; empty while it is in force."
        ),
    )

    objects = ValidityQuerySet.as_manager()

    class Meta:
        abstract = True

    def clean(self) -> None:
        super().clean()
        if self.valid_from is None:
            return
        if self.valid_until is not None and self.valid_until <= self.valid_from:
            raise ValidationError(
                {
                    "valid_until": _(
                        "A version must end after it starts: “valid until” must "
                        "be later than “valid from”."
                    )
                },
                code="empty_period",
            )
        keys = {name: getattr(self, f"{name}_id") for name in self.VERSION_OF}
        if any(value is None for value in keys.values()):
            return
        overlapping = (
            type(self)
            ._default_manager.filter(**{f"{name}_id": v for name, v in keys.items()})
            .exclude(pk=self.pk)
            .filter(
                Q(valid_until__isnull=True) | Q(valid_until__gt=self.valid_from),
            )
        )
        if self.valid_until is not None:
            overlapping = overlapping.filter(valid_from__lt=self.valid_until)
        other = overlapping.order_by("valid_from").first()
        if other is not None:
            raise ValidationError(
                _(
                    "This period overlaps another version, valid from %(start)s: "
                    "versions of the same item may not overlap."
                ),
                code="overlap",
                params={"start": date_format(other.valid_from, "SHORT_DATE_FORMAT")},
            )


V = TypeVar("V", bound=ValidityPeriod)


def version_start_errors(
    versions: list[tuple[datetime.date, datetime.date | None]],
    valid_from: datetime.date,
    today: datetime.date,
) -> list[str]:
    """Why a new version cannot start on `valid_from` (pure; empty when it can).

    `versions` are the existing (valid_from, valid_until) periods of one item.
    A new version starts today or earlier (the current values on the block are
    today's), and not before the start of the latest version: it replaces that
    one from its date on and leaves every earlier version as it was.
    """
    errors = []
    if valid_from > today:
        errors.append(
            str(_("A new version cannot start in the future; choose today or earlier."))
        )
    if versions:
        latest_start, latest_end = max(versions)
        if valid_from < latest_start:
            errors.append(
                str(
                    _(
                        "A new version cannot start before %(start)s, when the "
                        "latest version began: earlier periods stay as they were."
                    )
                    % {"start": date_format(latest_start, "SHORT_DATE_FORMAT")}
                )
            )
    return errors


def start_version(
    model: type[V],
    *,
    of: dict[str, object],
    values: dict[str, object],
    valid_from: datetime.date,
    today: datetime.date,
) -> V | None:
    """Give one item `values` from `valid_from` on: the one versioning step.

    `of` names the item (its `VERSION_OF` fields); its versions are locked, so
    call this inside a transaction. None when the open version already holds
    `values`; a version starting that very day is corrected in place (it has no
    earlier period to keep); else the latest version ends on `valid_from` and a
    new `model(**of, **values)` starts there. Raises ValidationError (on
    `valid_from`) when it may not.
    """
    versions = list(
        model._default_manager.select_for_update().filter(**of).order_by("valid_from")
    )
    errors = version_start_errors(
        [(v.valid_from, v.valid_until) for v in versions], valid_from, today
    )
    if errors:
        raise ValidationError({"valid_from": errors})
    latest = versions[-1] if versions else None
    if (
        latest is not None
        and latest.valid_until is None
        and all(getattr(latest, name) == value for name, value in values.items())
    ):
        return None
    if latest is not None and latest.valid_from == valid_from:
        for name, value in values.items():
            setattr(latest, name, value)
        latest.valid_until = None
        latest.full_clean()
        latest.save(update_fields=[*values, "valid_until"])
        return latest
    if latest is not None and (
        latest.valid_until is None or latest.valid_until > valid_from
    ):
        latest.valid_until = valid_from
        latest.save(update_fields=["valid_until"])
    version = model(**of, **values, valid_from=valid_from)
    version.full_clean()
    version.save()
    return version


def validity_constraints(
    prefix: str, keys: Sequence[str]
) -> list[models.BaseConstraint]:
    """The portable constraints of a versioned model (the overlap one is `no_overlap`)."""
    return [
        models.CheckConstraint(
            condition=Q(valid_until__isnull=True)
            | Q(valid_until__gt=models.F("valid_from")),
            name=f"{prefix}_period_not_empty",
        ),
        models.UniqueConstraint(
            fields=[*keys, "valid_from"], name=f"{prefix}_unique_start"
        ),
        models.UniqueConstraint(
            fields=list(keys),
            condition=Q(valid_until__isnull=True),
            name=f"{prefix}_one_open_version",
        ),
    ]


def _overlap_sql(
    vendor: str, table: str, columns: Sequence[str], name: str
) -> list[str]:
    if vendor == "postgresql":
        keys = ", ".join(f"{c} WITH =" for c in columns)
        return [
            "CREATE EXTENSION IF NOT EXISTS btree_gist",
            f"ALTER TABLE {table} ADD CONSTRAINT {name} EXCLUDE USING gist "
            f"({keys}, daterange(valid_from, valid_until, '[)') WITH &&)",
        ]
    if vendor == "sqlite":
        same = " AND ".join(f"o.{c} = NEW.{c}" for c in columns)
        overlaps = (
            f"{same} AND (o.valid_until IS NULL OR o.valid_until > NEW.valid_from) "
            "AND (NEW.valid_until IS NULL OR NEW.valid_until > o.valid_from)"
        )
        # RAISE(ABORT) is a constraint failure: sqlite3 raises IntegrityError.
        return [
            f"CREATE TRIGGER {name}_insert BEFORE INSERT ON {table} "
            f"WHEN EXISTS (SELECT 1 FROM {table} o WHERE {overlaps}) "
            f"BEGIN SELECT RAISE(ABORT, '{name}: versions overlap'); END",
            f"CREATE TRIGGER {name}_update BEFORE UPDATE ON {table} "
            f"WHEN EXISTS (SELECT 1 FROM {table} o WHERE o.id <> NEW.id AND "
            f"{overlaps}) "
            f"BEGIN SELECT RAISE(ABORT, '{name}: versions overlap'); END",
        ]
    return []


def _drop_sql(vendor: str, table: str, name: str) -> list[str]:
    if vendor == "postgresql":
        return [f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {name}"]
    if vendor == "sqlite":
        return [
            f"DROP TRIGGER IF EXISTS {name}_insert",
            f"DROP TRIGGER IF EXISTS {name}_update",
        ]
    return []


def no_overlap(table: str, columns: Sequence[str], name: str) -> migrations.RunPython:
    """Migration operation: the database refuses overlapping versions per `columns`."""

    def forwards(apps, schema_editor) -> None:
        for sql in _overlap_sql(schema_editor.connection.vendor, table, columns, name):
            schema_editor.execute(sql)

    def backwards(apps, schema_editor) -> None:
        for sql in _drop_sql(schema_editor.connection.vendor, table, name):
            schema_editor.execute(sql)

    return migrations.RunPython(forwards, backwards, elidable=False)
