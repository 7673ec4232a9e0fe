"""Adoption levels of a building block and their numeric values (DESIGN §4)."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _


class Level(models.TextChoices):
    NOT_STARTED = "not_started", _("Not started")
    PREPARING = "preparing", _("Preparing")
    IMPLEMENTING = "implementing", _("Implementing")
    IN_USE = "in_use", _("In use")
    NOT_APPLICABLE = "not_applicable", _("Not applicable")


# Value of each countable level; NOT_APPLICABLE has none (left out of the denominator).
LEVEL_VALUES: dict[str, Decimal] = {
    Level.NOT_STARTED: Decimal("0"),
    Level.PREPARING: Decimal("0.25"),
    Level.IMPLEMENTING: Decimal("0.5"),
    Level.IN_USE: Decimal("1"),
}

# Order for "at least level X" comparisons.
LEVEL_RANK: dict[str, int] = {
    Level.NOT_STARTED: 0,
    Level.PREPARING: 1,
    Level.IMPLEMENTING: 2,
    Level.IN_USE: 3,
}

COUNTABLE_LEVELS = tuple(LEVEL_RANK)
LEVELS_NEEDING_PLANNED_DATE = (Level.PREPARING, Level.IMPLEMENTING)


class Category(models.TextChoices):
    AUTHENTICATION = "authenticatie", _("Authentication")
    SERVICES = "dienstverlening", _("Service delivery")
    STANDARDS = "standaard", _("Standards")
    BASE_REGISTERS = "basisregistratie", _("Base registers")
    INFRASTRUCTURE = "infrastructuur", _("Infrastructure")


class Confidence(models.TextChoices):
    HIGH = "high", _("high")
    MEDIUM = "medium", _("medium")
    LOW = "low", _("low")
