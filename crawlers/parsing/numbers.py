"""Numbers a page states (totals, page counts), read without trusting their size."""

from __future__ import annotations

from typing import Any

# Python refuses to convert more than 4,300 digits (ValueError); no count a portal states has
# more than nine.
MAX_DIGITS = 9


def small_int(value: Any) -> int | None:
    """``value`` (an int or a string of digits) as a non-negative int of at most nine digits,
    else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value < 10 ** MAX_DIGITS else None
    if isinstance(value, str):
        value = value.strip()
        if value.isascii() and value.isdigit() and len(value) <= MAX_DIGITS:
            return int(value)
    return None
