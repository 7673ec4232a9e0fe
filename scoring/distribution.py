"""The spread of scores within a group: five-number summary, count and mean. Pure.

Quartiles use one method everywhere (pages, charts, exports, the method page):
the "inclusive" linear interpolation, i.e. Excel's QUARTILE.INC, numpy's default
(`method="linear"`), R's type 7 and Python's
``statistics.quantiles(..., method="inclusive")``. For the p-quantile of n
sorted values x[0] ≤ … ≤ x[n-1] take the position h = (n − 1)·p and
interpolate between x[⌊h⌋] and x[⌊h⌋ + 1]. The minimum and maximum are then
the 0- and 1-quantiles and the median the 0.5-quantile (for an even n the mean
of the two middle values, as scoring.rules.median). Chosen because every
spreadsheet a reader checks the export with computes the same numbers, and it
is defined for n = 1 (all five numbers equal the one value).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

Key = TypeVar("Key", bound=Hashable)


@dataclass(frozen=True)
class Spread:
    """Count, mean and five-number summary of one group's values."""

    count: int
    minimum: float
    q1: float
    median: float
    q3: float
    maximum: float
    mean: float

    @property
    def five_numbers(self) -> tuple[float, float, float, float, float]:
        return (self.minimum, self.q1, self.median, self.q3, self.maximum)


def quantile(ordered: Sequence[float], p: float) -> float:
    """The p-quantile (0 ≤ p ≤ 1) of sorted, non-empty values, inclusive method."""
    if not ordered:
        raise ValueError("quantile of no values")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must be between 0 and 1, not {p}")
    h = (len(ordered) - 1) * p
    low = math.floor(h)
    high = min(low + 1, len(ordered) - 1)
    fraction = h - low
    # a + f·(b − a) written so that equal neighbours give exactly that value.
    return float(ordered[low] + fraction * (ordered[high] - ordered[low]))


def spread(values: Iterable[float | None]) -> Spread | None:
    """The spread of the non-null values; None when there are none."""
    ordered = sorted(float(v) for v in values if v is not None)
    if not ordered:
        return None
    return Spread(
        count=len(ordered),
        minimum=ordered[0],
        q1=quantile(ordered, 0.25),
        median=quantile(ordered, 0.5),
        q3=quantile(ordered, 0.75),
        maximum=ordered[-1],
        # fsum: exactly rounded, so the mean does not depend on the row order.
        mean=math.fsum(ordered) / len(ordered),
    )


def spreads_by(rows: Iterable[tuple[Key, float | None]]) -> dict[Key, Spread]:
    """{group key: spread} from (key, value) rows; groups without values left out."""
    grouped: dict[Key, list[float]] = {}
    for key, value in rows:
        if value is not None:
            grouped.setdefault(key, []).append(value)
    result = {}
    for key, values in grouped.items():
        summary = spread(values)
        if summary is not None:
            result[key] = summary
    return result
