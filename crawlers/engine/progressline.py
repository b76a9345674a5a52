"""What the progress of a crawl says: pure functions from counters to one line.

A site's counters come from its Scrapy stats (``SiteCounters.from_stats``); ``site_line`` says
one site's list pages, documents, rate and ETA, ``round_line`` many sites' in one line
("12/40 sites done · 1,234 documents · 3.2/s · ETA 4 min"). The ETA counts documents: those
listed but not fetched yet, plus an estimate of those on the list pages not read yet (from the
documents per list page seen so far). No clock, no I/O: the caller says how long it has run.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

PREFIX = "progress: "  # what starts a progress line in a log (a round reads its crawls' logs)
# Stats the spider keeps for progress (crawlers.engine.spiders.policy).
LIST_REQUESTED = "policywatch/progress/list_requested"
LIST_READ = "policywatch/progress/list_read"  # list pages read to their end (or refused)
LIST_FAILED = "policywatch/progress/list_failed"  # list pages that never came back
LIST_BEFORE = "policywatch/progress/list_before"  # read by an earlier run of a resumed backfill
LISTED = "policywatch/progress/listed"  # documents list pages sent to fetch
QUEUED = "policywatch/progress/queued"  # every document request: listed, searched, revisited
ANSWERED = "policywatch/progress/answered"  # document requests answered, refused or dropped


@dataclass(frozen=True)
class SiteCounters:
    """One site's crawl so far."""

    site: str
    list_read: int = 0  # list pages whose entries are known (or that were refused)
    list_requested: int = 0
    list_total: int | None = None  # list pages the portal announces (columns added up)
    list_before: int = 0  # read by an earlier run (a resumed backfill)
    listed: int = 0
    queued: int = 0
    answered: int = 0
    new: int = 0
    revised: int = 0
    unchanged: int = 0
    known: int = 0  # list entries skipped as already stored
    refused: int = 0
    done: bool = False

    @classmethod
    def from_stats(cls, site: str, stats: Mapping[str, Any], done: bool = False) -> SiteCounters:
        totals = [v for k, v in stats.items() if k.startswith("policywatch/pages/total/")]
        return cls(
            site=site,
            list_read=stats.get(LIST_READ, 0) + stats.get(LIST_FAILED, 0),
            list_requested=stats.get(LIST_REQUESTED, 0),
            list_total=sum(totals) if totals else None,
            list_before=stats.get(LIST_BEFORE, 0),
            listed=stats.get(LISTED, 0),
            queued=stats.get(QUEUED, 0),
            answered=stats.get(ANSWERED, 0),
            new=stats.get("policywatch/documents/new", 0),
            revised=stats.get("policywatch/documents/revised", 0),
            unchanged=stats.get("policywatch/documents/unchanged", 0),
            known=stats.get("policywatch/skipped/known", 0),
            refused=sum(v for k, v in stats.items() if k.startswith("policywatch/failed/")),
            done=done,
        )

    @property
    def documents(self) -> int:
        """Documents stored by this crawl (new, revised or seen unchanged)."""
        return self.new + self.revised + self.unchanged

    def documents_left(self) -> float | None:
        """Documents still to fetch: those listed and not answered yet, plus those the list
        pages not read yet will hold (as many per page as on the pages read so far); None
        before any list page was read."""
        if self.done:
            return 0.0
        waiting = max(0, self.queued - self.answered)
        pending = max(0, self.list_requested - self.list_read)
        unread = pending if self.list_total is None else \
            max(pending, self.list_total - self.list_before - self.list_read)
        if unread and not self.list_read:
            return None
        per_page = self.listed / self.list_read if self.list_read else 0.0
        return waiting + unread * per_page


@dataclass(frozen=True)
class SiteState:
    """A site as a round sees it: what it stored, what it has done and what is left."""

    site: str
    documents: int
    answered: int
    left: float | None  # None: cannot tell yet
    done: bool

    @classmethod
    def of(cls, counters: SiteCounters) -> SiteState:
        return cls(counters.site, counters.documents, counters.answered, counters.documents_left(),
                   counters.done)


def format_duration(seconds: float) -> str:
    """``45 s``, ``4 min``, ``1 h 05 min``: as precise as a person waiting needs."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if round(seconds / 60) < 60:
        return f"{round(seconds / 60)} min"
    seconds = max(seconds, 3600)  # 59 min 50 s is "1 h 00 min", not "60 min"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def eta(left: float | None, done: int, elapsed: float) -> str:
    """The time ``left`` documents take at the rate ``done`` took ``elapsed``; ``?`` when
    what is left is not known or no document was done yet."""
    if left is not None and left <= 0:
        return format_duration(0)
    if left is None or done <= 0 or elapsed <= 0:
        return "?"
    return format_duration(math.ceil(left * elapsed / done))  # never "0 s" with work left


def _rate(done: int, elapsed: float) -> str:
    return f"{done / elapsed:.1f}/s" if elapsed > 0 else "0.0/s"


def site_line(c: SiteCounters, elapsed: float) -> str:
    """One site's progress: list pages read (of those announced), documents stored (and how
    many wait to be fetched), already stored, refused, rate, then the ETA (or, done, the time
    it took)."""
    pages = f"list pages {c.list_before + c.list_read:,}" + (f"/{c.list_total:,}" if c.list_total else "")
    stored = f"{c.documents:,} documents ({c.new:,} new)"
    left = c.documents_left()
    if not c.done and left is not None:
        stored += f", {round(left):,} to fetch"
    parts = [pages, stored, f"{c.known:,} already stored", f"{c.refused:,} refused",
             _rate(c.answered, elapsed)]
    parts.append(f"in {format_duration(elapsed)}" if c.done else f"ETA {eta(left, c.answered, elapsed)}")
    return f"{c.site}{' done' if c.done else ''}: " + " · ".join(parts)


def round_line(states: Iterable[SiteState], total_sites: int, elapsed: float) -> str:
    """Many sites in one line. A site not started yet is counted as holding as many
    documents as the started ones did on average."""
    states = list(states)
    known = [s.left for s in states if s.left is not None]
    left: float | None = sum(known) if len(known) == len(states) else None
    answered = sum(s.answered for s in states)
    not_started = max(0, total_sites - len(states))
    if left is not None and not_started and states:
        left += not_started * (answered + left) / len(states)
    return totals_line(sum(1 for s in states if s.done), total_sites,
                       sum(s.documents for s in states), answered, left, elapsed)


def totals_line(done: int, total_sites: int, documents: int, answered: int, left: float | None,
                elapsed: float, *, by_sites: bool = False) -> str:
    """The round's line from its totals. Without a count of the documents left, the ETA is
    ``?``, or with ``by_sites`` (the round hears only what processes of many sites say of them
    all) comes from the sites done so far."""
    line = f"{done}/{total_sites} sites done · {documents:,} documents · {_rate(answered, elapsed)}"
    if done >= total_sites:
        return line + f" · in {format_duration(elapsed)}"
    if by_sites and left is None and done > 0 and elapsed > 0:
        return line + f" · ETA {format_duration(math.ceil(elapsed * (total_sites - done) / done))}"
    return line + f" · ETA {eta(left, answered, elapsed)}"


@dataclass(frozen=True)
class BatchState:
    """What a crawl process of many sites says of them all in its own line (``round_line``)."""

    done: int
    total: int
    documents: int
    answered: int


_ROUND_LINE = re.compile(
    r"^(?P<done>[\d,]+)/(?P<total>[\d,]+) sites done · (?P<documents>[\d,]+) documents · "
    r"(?P<rate>[\d.]+)/s · (?:in|ETA) ")


def parse_round_line(text: str, elapsed: float) -> BatchState | None:
    """The state a ``round_line`` says, or None when ``text`` is not one (``text`` as for
    ``parse_site_line``)."""
    found = _ROUND_LINE.search(text.rsplit(PREFIX, 1)[-1].strip())
    if found is None:
        return None
    return BatchState(done=_number(found.group("done")), total=_number(found.group("total")),
                      documents=_number(found.group("documents")),
                      answered=round(float(found.group("rate")) * elapsed))


_SITE_LINE = re.compile(
    r"^(?P<site>[A-Za-z0-9_.-]+)(?P<done> done)?: list pages [\d,/]+ · (?P<documents>[\d,]+) documents "
    r"\([\d,]+ new\)(?:, (?P<left>[\d,]+) to fetch)? · [\d,]+ already stored · [\d,]+ refused · "
    r"(?P<rate>[\d.]+)/s · (?:in|ETA) ")


def parse_site_line(text: str, elapsed: float) -> SiteState | None:
    """The state a ``site_line`` says, or None when ``text`` is not one; ``text`` may be the
    line a crawl logged (``PREFIX`` and what the log put before it). ``elapsed`` is how long
    the crawl has run, to turn its rate back into documents answered."""
    found = _SITE_LINE.search(text.rsplit(PREFIX, 1)[-1].strip())
    if found is None:
        return None
    done = bool(found.group("done"))
    left = found.group("left")
    return SiteState(site=found.group("site"), documents=_number(found.group("documents")),
                     answered=round(float(found.group("rate")) * elapsed),
                     left=float(_number(left)) if left else 0.0 if done else None, done=done)


def _number(text: str) -> int:
    return int(text.replace(",", ""))
