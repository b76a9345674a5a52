"""What one crawl of a site observed about its pages being there or gone.

The spider notes, as it goes, which detail pages answered (present), which answered 404/410
(gone), which URLs each column's list pages showed, and whether each column was read to its end
without a failed page. At the end of the crawl the store pipeline hands this to
``pipelines.presence.record_observations``, which turns two absences in a row into a ``withdrawn``
change. Only a complete walk of a column can say that a page is no longer in it; a blocked or
failed list page makes the walk incomplete, so an anti-bot day observes nothing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Iterable

from crawlers.items import ListEntry

GONE_STATUSES = (404, 410)


@dataclass
class Observations:
    """One site's crawl's sightings (``SiteCrawl.observations``)."""

    present: set[str] = field(default_factory=set)
    gone: dict[str, str] = field(default_factory=dict)  # url -> http_404 / http_410
    listed: dict[str, set[str]] = field(default_factory=dict)  # column -> URLs on its lists
    # column -> the oldest list date seen on its pages (None when its entries carry no dates)
    oldest: dict[str, date | None] = field(default_factory=dict)
    _open: Counter = field(default_factory=Counter)
    _incomplete: set[str] = field(default_factory=set)
    _first_read: set[str] = field(default_factory=set)

    def list_requested(self, column: str) -> None:
        """A list page of ``column`` was asked for."""
        self._open[column] += 1
        self.listed.setdefault(column, set())

    def list_read(self, column: str, page: int, entries: Iterable[ListEntry],
                  pages_left_out: bool) -> None:
        """List page number ``page`` of ``column`` was read. ``pages_left_out``: it has next
        pages this crawl does not read (a page limit, an incremental crawl stopping early), so
        the column's walk is not complete; nor is it without its first page (a resumed
        backfill) or when a page lists nothing."""
        self._open[column] -= 1
        if page == 1:
            self._first_read.add(column)
        entries = list(entries)
        seen = self.listed.setdefault(column, set())
        for entry in entries:
            seen.add(entry.url)
            if entry.published_date is not None:
                current = self.oldest.get(column)
                self.oldest[column] = entry.published_date if current is None else min(current, entry.published_date)
        if pages_left_out or not entries:
            self._incomplete.add(column)

    def list_failed(self, column: str) -> None:
        """A list page of ``column`` was refused or failed: its walk is not complete."""
        self._open[column] -= 1
        self.listed.setdefault(column, set())
        self._incomplete.add(column)

    def detail_present(self, *urls: str) -> None:
        """A detail page answered with a document (or 304 Not Modified)."""
        self.present.update(u for u in urls if u)

    def detail_failed(self, url: str, status: int | None) -> None:
        """A detail page failed; only 404/410 say it is gone (a 5xx or a WAF page says nothing)."""
        if status in GONE_STATUSES:
            self.gone[url] = f"http_{status}"

    @property
    def complete_columns(self) -> set[str]:
        """Columns whose every list page was read, up to the last one."""
        return {c for c in self.listed
                if self._open[c] == 0 and c in self._first_read and c not in self._incomplete}
