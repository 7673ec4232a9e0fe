"""How the portal writes numbers and dates, in one place.

Every figure a user reads (pages, charts, maps, PDF, XLSX, CSV) is rounded by
`round_half_up` and written by `format_number`, so a score shows the same
digits everywhere: 92.72 is "93" and 92.5 is "93", never "92". Django's own
`number_format` truncates the decimals it drops and Python's `round` rounds
half to even (``round(92.5) == 92``); neither is what a reader expects.

The subpackages `nl` and `en` are Django's FORMAT_MODULE_PATH modules: the
date and number formats per language (English as in the UK, "1 January 2015").
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils import formats

Number = int | float | Decimal


def round_half_up(value: Number, decimal_pos: int = 0) -> Decimal:
    """`value` rounded half away from zero to `decimal_pos` decimals.

    A float is taken at its shortest decimal spelling (``repr``), so 99.95 (stored
    as 99.9499999…) rounds to 100.0, as the reader of "99.95" expects.
    """
    exact = value if isinstance(value, Decimal) else Decimal(repr(value))
    try:
        return exact.quantize(Decimal(1).scaleb(-decimal_pos), rounding=ROUND_HALF_UP)
    except InvalidOperation:  # nan or infinity: nothing to round
        return exact


def display_value(value: Number | None, decimal_pos: int = 0) -> float | int | None:
    """The rounded number as shown, as a plain number for spreadsheets.

    An int for 0 decimals, else a float; None stays None.
    """
    if value is None:
        return None
    rounded = round_half_up(value, decimal_pos)
    return int(rounded) if decimal_pos <= 0 else float(rounded)


def format_number(value: Number, decimal_pos: int | None = None) -> str:
    """A number in the current language's notation, thousands grouped, rounded half-up.

    With `decimal_pos` None, the value is written with the decimals it has.
    """
    if decimal_pos is not None and not isinstance(value, int):
        value = round_half_up(value, decimal_pos)
    return formats.number_format(value, decimal_pos, use_l10n=True, force_grouping=True)


def format_percent(share: Number, decimal_pos: int = 0) -> str:
    """A share 0–1 as a percentage: 0.925 → "93 %"."""
    return f"{format_number(Decimal(repr(float(share))) * 100, decimal_pos)} %"
