""""Now", for crawls, revisits, run records and the digest: the real clock, or the real clock
moved to start at a given moment.

The front door moves it from ``POLICYWATCH_NOW`` (``2026-03-05`` or ``2026-03-05T07:00:00+08:00``),
so a test or a benchmark can run "tomorrow's" round and its revisits and digest without waiting a
day; time still passes from there, so durations and heartbeats stay true. Every process started
by a command inherits the variable and moves its own clock the same way.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

_offset = timedelta(0)


class ClockError(ValueError):
    """A moment that cannot be read."""


def parse_moment(text: str) -> datetime:
    """A date (its midnight UTC) or an ISO date and time (UTC unless it says otherwise)."""
    value = text.strip()
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), datetime.min.time(), timezone.utc)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ClockError(f"{text!r} is not a date (YYYY-MM-DD) or an ISO date and time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def start_at(moment: datetime | None) -> None:
    """Move the clock so that it reads ``moment`` now (None: the real clock again)."""
    global _offset
    _offset = timedelta(0) if moment is None else moment - datetime.now(timezone.utc)


def now() -> datetime:
    """The current moment, timezone-aware (UTC)."""
    return datetime.now(timezone.utc) + _offset
