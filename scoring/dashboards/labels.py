"""The labels and sentences the dashboard figures share: size classes, percentages,
counts with their share, the small-versus-large comparison."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.translation import gettext as _

from municipalities.sizeclasses import SizeClass
from scoring.charts import number, percent

SIZE_CLASS_ORDER = [c.value for c in SizeClass]


def size_class_label(code: str) -> str:
    """A short label for charts: '< 10,000', '10,000–20,000', …, '≥ 100,000'."""
    bounds = {
        SizeClass.XS: (None, 10_000),
        SizeClass.S: (10_000, 20_000),
        SizeClass.M: (20_000, 50_000),
        SizeClass.L: (50_000, 100_000),
        SizeClass.XL: (100_000, None),
    }
    low, high = bounds[SizeClass(code)]
    if low is None:
        return f"< {number(high)}"
    if high is None:
        return f"≥ {number(low)}"
    return f"{number(low)}–{number(high)}"


def as_percent(share: float | None) -> float | None:
    return None if share is None else 100.0 * share


def line_labels() -> dict[str, str]:
    """The national line ("") and each size class, as the trend charts name them."""
    return {"": _("Netherlands")} | {c: size_class_label(c) for c in SIZE_CLASS_ORDER}


def series_labels() -> list[str]:
    return [size_class_label(c) for c in SIZE_CLASS_ORDER]


def count_share(count: int, total: int) -> str:
    if not total:
        return number(count)
    return f"{number(count)} ({percent(100.0 * count / total)})"


def size_class_comparison(message: str, known: Sequence[tuple[str, str]]) -> str:
    """`message` about the smallest and the largest size class that have a figure.

    `known` holds (label, figure as written) from small to large; `message` names
    them %(small)s, %(small_value)s, %(large)s and %(large_value)s.
    """
    if len(known) < 2:
        return _("Not enough municipalities to compare size classes.")
    (small, small_value), (large, large_value) = known[0], known[-1]
    return message % {
        "small": small,
        "small_value": small_value,
        "large": large,
        "large_value": large_value,
    }
