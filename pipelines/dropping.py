"""Dropping an item a stage cannot handle: a counted reason, never half a record."""

from __future__ import annotations

from typing import NoReturn

from scrapy.exceptions import DropItem

DROPPED_STAT = "policywatch/dropped/{reason}"


def drop(stats, reason: str, why: str) -> NoReturn:
    """Count ``policywatch/dropped/<reason>`` and drop the item with ``why``."""
    if stats is not None:
        stats.inc_value(DROPPED_STAT.format(reason=reason))
    raise DropItem(f"{reason}: {why}")
