"""What a crawl fetches, by mode: pure decisions the spider asks for on every list page.

- ``full``: every entry of every list page (up to the page limits); known documents are fetched
  again and re-stored (unchanged ones store nothing new).
- ``incremental`` (the daily run): only entries the corpus does not know; the column's list
  pages are read only until a page holds nothing new. Known documents come back through the
  revisit schedule instead (``pipelines.revisits``).
- ``sweep`` (every few days, instead of the daily run): as incremental, but every list page of
  each column is read to its end, so that withdrawal detection sees the whole column; what a
  complete walk no longer lists is absent (``pipelines.presence.record_observations``). List
  pages only: a known document is not fetched again.
- ``backfill``: the column's whole archive, optionally only entries dated within
  [since, until]; known documents are skipped, so a second backfill adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from crawlers.items import ListEntry
from crawlers.parsing.urls import canonical_url

MODES = ("full", "incremental", "sweep", "backfill")


def canonical(url: str) -> str:
    """The form the corpus keys documents by; a URL without one is kept as it is."""
    try:
        return canonical_url(url)
    except ValueError:
        return url


@dataclass(frozen=True)
class PageDecision:
    fetch: list[ListEntry]
    follow_next: bool
    skipped_known: int = 0
    skipped_dates: int = 0


@dataclass
class CrawlPlan:
    mode: str = "full"
    known: frozenset[str] = frozenset()
    since: date | None = None
    until: date | None = None
    # URLs already asked for in this run (lists repeat entries across pages and columns).
    requested: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"crawl mode {self.mode!r} is not one of {', '.join(MODES)}")
        if self.since and self.until and self.since > self.until:
            raise ValueError(f"--since {self.since} is after --until {self.until}")

    def decide(self, entries: list[ListEntry]) -> PageDecision:
        """Which entries of one list page to fetch, and whether to read the next page."""
        fetch: list[ListEntry] = []
        known = dated_out = 0
        older_than_since = 0
        for entry in entries:
            url = canonical(entry.url)
            when = entry.published_date
            if self.mode == "backfill" and when is not None:
                if self.since and when < self.since:
                    dated_out += 1
                    older_than_since += 1
                    continue
                if self.until and when > self.until:
                    dated_out += 1
                    continue
            if self.mode != "full" and url in self.known:
                known += 1
                continue
            if url in self.requested:
                continue
            self.requested.add(url)
            fetch.append(entry)
        if self.mode == "incremental":
            # Lists are newest first: a page with nothing new means the rest is known too.
            follow = bool(fetch)
        elif self.mode == "backfill":
            # Everything on this page predates --since: so does every later page.
            follow = not (entries and older_than_since == len(entries))
        else:  # full and sweep read every page
            follow = True
        return PageDecision(fetch, follow, skipped_known=known, skipped_dates=dated_out)
