"""The forms values take in the corpus: timestamps, dates, JSON and compressed responses."""

from __future__ import annotations

import json
import zlib
from datetime import date, datetime, timezone
from typing import Any

from crawlers.parsing import clock


def utcnow() -> datetime:
    """Now, in UTC (``POLICYWATCH_NOW`` moves it: ``crawlers.parsing.clock``)."""
    return clock.now()


def iso_time(moment: datetime | None) -> str:
    """A timestamp as stored: ISO 8601 in UTC, to the second (naive times are taken as UTC)."""
    moment = moment or utcnow()
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds")


def iso_date(value: date | str | None) -> str | None:
    """A date as stored: YYYY-MM-DD (a string is taken as already stored; empty is None)."""
    if value is None or isinstance(value, str):
        return value or None
    return value.isoformat()


def to_json(value: Any) -> str:
    """A JSON column's text: keys sorted, Chinese kept readable."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def compress_raw(body: bytes | None) -> bytes | None:
    return zlib.compress(body, 6) if body else None


def decompress_raw(blob: bytes | None) -> bytes | None:
    """The response bytes of a stored version."""
    return zlib.decompress(blob) if blob else None
