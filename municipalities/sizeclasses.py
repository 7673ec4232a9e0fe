"""Size classes of municipalities, after the CBS population classes (gemeentegrootteklassen).

CBS publishes its classes as < 5,000, 5,000–10,000, 10,000–20,000, 20,000–50,000,
50,000–100,000, 100,000–150,000, 150,000–250,000 and ≥ 250,000 inhabitants. No current
municipality has fewer than 5,000 inhabitants except the Wadden islands, and the top
three classes hold only a few each, so the portal merges the CBS classes into five
groups that keep every class large enough to compare (see README.md).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class SizeClass(models.TextChoices):
    XS = "xs", _("fewer than 10,000 inhabitants")
    S = "s", _("10,000 to 20,000 inhabitants")
    M = "m", _("20,000 to 50,000 inhabitants")
    L = "l", _("50,000 to 100,000 inhabitants")
    XL = "xl", _("100,000 inhabitants or more")


# Lower bounds, largest first.
_LOWER_BOUNDS: tuple[tuple[int, SizeClass], ...] = (
    (100_000, SizeClass.XL),
    (50_000, SizeClass.L),
    (20_000, SizeClass.M),
    (10_000, SizeClass.S),
    (0, SizeClass.XS),
)


def size_class_for(population: int) -> SizeClass:
    """The size class of a municipality with this many inhabitants."""
    if population < 0:
        raise ValueError("population cannot be negative")
    for lower, size_class in _LOWER_BOUNDS:
        if population >= lower:
            return size_class
    raise AssertionError("unreachable")  # pragma: no cover
