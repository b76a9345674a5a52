"""Times as a reader reads them: in the schedule's time zone ([schedule] timezone,
Asia/Shanghai by default). The corpus stores UTC ISO times; a digest is named, titled and
bounded by local days, shows local times, and its JSON keeps ISO times with their offset.
"""

from __future__ import annotations

from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

DEFAULT_TIMEZONE = "Asia/Shanghai"


def zone(name: str | None = None) -> ZoneInfo:
    """The zone named (the default when None); the config has checked the name."""
    return ZoneInfo(name or DEFAULT_TIMEZONE)


def parse(value: str | datetime, tz: ZoneInfo) -> datetime:
    """A stored time as an aware datetime in ``tz``: naive times are UTC (as the corpus writes
    them), a bare date is that local day's midnight."""
    if isinstance(value, datetime):
        moment = value
    elif len(value) == 10:
        return datetime.combine(date.fromisoformat(value), time(), tzinfo=tz)
    else:
        moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(tz)


def local_date(value: str | datetime, tz: ZoneInfo) -> str:
    """The local day (YYYY-MM-DD) of a stored time."""
    return parse(value, tz).date().isoformat()


def shown(value: str | datetime | None, tz: ZoneInfo) -> str:
    """A stored time as a reader reads it: ``2026-11-25 07:00``."""
    if not value:
        return ""
    try:
        return parse(value, tz).strftime("%Y-%m-%d %H:%M")
    except ValueError:  # not a time the corpus writes: shown as stored rather than failing
        return str(value)


def local_iso(value: str | datetime | None, tz: ZoneInfo) -> str | None:
    """A stored time as ISO 8601 in ``tz``, with its offset (``2026-11-25T07:00:00+08:00``)."""
    if not value:
        return None
    return parse(value, tz).isoformat(timespec="seconds")


def day_start_utc(day: date, tz: ZoneInfo) -> str:
    """The UTC ISO time at which local ``day`` begins: where a look-back from DATE starts."""
    return datetime.combine(day, time(), tzinfo=tz).astimezone(timezone.utc).isoformat(timespec="seconds")
