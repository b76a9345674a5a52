"""Progress of the crawls of one process: per site, and one line for the process.

The crawler's ``Progress`` extension puts each site on the process's board
(``ProgressBoard``): one site shows its own line, many sites one line for all
(``crawlers.engine.progressline``). On a terminal the line is redrawn in place twice a second;
otherwise (cron, logs, a round's crawl) it is logged at INFO every
``POLICYWATCH_PROGRESS_INTERVAL`` seconds. Each site's last line is logged when it finishes.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TextIO

from scrapy.exceptions import NotConfigured
from twisted.internet import task

from crawlers.engine.liveline import LiveLine, say
from crawlers.engine.progressline import (
    SiteCounters,
    SiteState,
    round_line,
    site_line,
)
from crawlers.items.sitecrawls import site_closed, site_opened

logger = logging.getLogger(__name__)
TTY_INTERVAL = 0.5


class ProgressBoard:
    """The sites this process crawls, each read through a function returning its counters."""

    def __init__(self, *, tty: bool, interval: float, stream: TextIO | None = None,
                 clock: Callable[[], float] = time.monotonic, tick: bool = True):
        self.tick = tick  # redraw (or log) every ``interval`` on the reactor
        self.tty = tty
        self.interval = interval
        self.live = LiveLine(stream) if tty else None
        self.clock = clock
        self.started = clock()
        self.expected = 0  # sites the process was asked to crawl, when it says
        self.sites: dict[str, tuple[Callable[[], SiteCounters], float]] = {}
        self.finished: dict[str, tuple[SiteCounters, float]] = {}
        self._task: task.LoopingCall | None = None

    def add(self, site: str, counters: Callable[[], SiteCounters]) -> None:
        self.sites[site] = (counters, self.clock())
        if self.live is not None and not self.finished and len(self.sites) == 1:
            self.live.attach()
        if self._task is None and self.tick:
            self._task = task.LoopingCall(self.show)
            self._task.start(self.interval, now=False)

    def finish(self, site: str) -> None:
        """The site's crawl ended: its last line is said, and the process's when all have."""
        if site not in self.sites or site in self.finished:
            return
        counters, started = self.sites[site]
        final = replace(counters(), done=True)
        elapsed = self.clock() - started
        self.finished[site] = (final, elapsed)
        self._say(site_line(final, elapsed), keep=True)
        if self.all_done():
            if self._task is not None and self._task.running:
                self._task.stop()
            if self.total() > 1:
                self._say(self.line(), keep=True)
            if self.live is not None:
                self.live.detach()

    def total(self) -> int:
        return max(self.expected, len(self.sites))

    def all_done(self) -> bool:
        return len(self.finished) >= self.total()

    def line(self) -> str:
        """The process's line: the one site's, or every site's in one."""
        now = self.clock()
        if self.total() == 1 and self.sites:
            site, (counters, started) = next(iter(self.sites.items()))
            if site in self.finished:
                final, elapsed = self.finished[site]
                return site_line(final, elapsed)
            return site_line(counters(), now - started)
        states = [SiteState.of(self.finished[s][0] if s in self.finished else counters())
                  for s, (counters, _) in self.sites.items()]
        return round_line(states, self.total(), now - self.started)

    def show(self) -> None:
        self._say(self.line(), keep=False)

    def _say(self, line: str, keep: bool) -> None:
        say(self.live, line, keep, logger)


_board: ProgressBoard | None = None


def board_for(settings) -> ProgressBoard:
    """The process's board; a new one once every site of the last one has finished."""
    global _board
    if _board is None or _board.all_done():
        tty = sys.stderr.isatty()
        interval = TTY_INTERVAL if tty else settings.getfloat("POLICYWATCH_PROGRESS_INTERVAL", 30.0)
        _board = ProgressBoard(tty=tty, interval=interval)
    _board.expected = max(_board.expected, settings.getint("POLICYWATCH_PROGRESS_SITES", 0))
    return _board


class Progress:
    """A Scrapy extension that puts each site its crawler crawls on the process's board."""

    def __init__(self, crawler, board: ProgressBoard):
        self.crawler = crawler
        self.board = board

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("POLICYWATCH_PROGRESS"):
            raise NotConfigured
        ext = cls(crawler, board_for(crawler.settings))
        crawler.signals.connect(ext.site_opened, signal=site_opened)
        crawler.signals.connect(ext.site_closed, signal=site_closed)
        return ext

    def site_opened(self, crawl) -> None:
        key, stats = crawl.site.key, crawl.stats
        self.board.add(key, lambda: SiteCounters.from_stats(key, stats.get_stats()))

    def site_closed(self, crawl, reason: str) -> None:
        self.board.finish(crawl.site.key)
