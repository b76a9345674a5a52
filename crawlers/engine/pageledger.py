"""Which list pages of a backfill are done: the fate of every entry each page listed.

A list page is done only when its parse ran to its end (its next pages recorded) and each entry
it listed is settled: stored, already in the corpus, or deliberately refused with a reason (out
of the dates asked for, off the site, not a document, gone). An entry whose fate is not final —
its fetch failed, its item failed in a pipeline (a full disk), its request was dropped, or the
crawl stopped before it — leaves every page that listed it pending, so a resume reads the page
again. An entry listed by two pages (lists repeat entries, and shift while a backfill runs) is
fetched once and settles both.

Pure bookkeeping, keyed by the entry's canonical URL; the spider feeds it from its callbacks and
Scrapy's item signals, and marks a page done in the checkpoint when ``done`` hands it back.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable


class PageLedger:
    def __init__(self, on_done: Callable[[Hashable, int], None]):
        self._on_done = on_done  # (page key, entries it listed)
        self._open: dict[Hashable, set[str]] = {}  # page → entries not yet settled
        self._entries: dict[Hashable, int] = {}
        self._parsing: set[Hashable] = set()
        self._spoiled: set[Hashable] = set()  # pending for this run: an entry's fate not final
        self._waiting: dict[str, set[Hashable]] = {}  # entry → pages waiting for it
        self._settled: set[str] = set()
        self._failed: set[str] = set()

    def listed(self, page: Hashable, entries: int, awaited: Iterable[str]) -> None:
        """A list page's parse began: it listed ``entries`` entries, of which ``awaited`` (their
        canonical URLs) are being fetched, by this page or another; the rest are settled."""
        self._entries[page] = entries
        self._parsing.add(page)
        waiting = self._open.setdefault(page, set())
        for url in awaited:
            if url in self._settled:
                continue
            if url in self._failed:
                self._spoiled.add(page)
                continue
            waiting.add(url)
            self._waiting.setdefault(url, set()).add(page)

    def parsed(self, page: Hashable) -> None:
        """The page's parse ran to its end (its entries requested, its next pages recorded)."""
        self._parsing.discard(page)
        self._maybe_done(page)

    def settled(self, url: str) -> None:
        """The entry is stored or deliberately refused: final."""
        self._settled.add(url)
        for page in self._waiting.pop(url, ()):
            self._open.get(page, set()).discard(url)
            self._maybe_done(page)

    def failed(self, url: str) -> None:
        """The entry's fate is not final (a failed fetch or store): its pages stay pending."""
        if url in self._settled:
            return
        self._failed.add(url)
        for page in self._waiting.pop(url, ()):
            self._spoiled.add(page)

    def pending(self) -> int:
        """Pages listed in this run and not done."""
        return len(self._open)

    def _maybe_done(self, page: Hashable) -> None:
        if page in self._parsing or page in self._spoiled or self._open.get(page):
            return
        if page not in self._open:
            return
        del self._open[page]
        self._on_done(page, self._entries.pop(page, 0))
