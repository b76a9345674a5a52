"""Progress of a long crawl (a backfill): list pages, documents, rate and ETA.

On a terminal one line is redrawn in place; otherwise (cron, logs) a plain line is logged every
``POLICYWATCH_PROGRESS_INTERVAL`` seconds. Enabled by the runner for backfills.
"""

from __future__ import annotations

import logging
import sys
import time

from scrapy import signals
from scrapy.exceptions import NotConfigured
from twisted.internet import task

logger = logging.getLogger(__name__)


def format_duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def progress_line(site: str, stats: dict, elapsed: float) -> str:
    """One line: pages read (of the total the portal announces), documents, rate, ETA."""
    pages = stats.get("policywatch/pages/list", 0)
    total = sum(v for k, v in stats.items() if k.startswith("policywatch/pages/total/")) or None
    new = stats.get("policywatch/documents/new", 0)
    seen = new + stats.get("policywatch/documents/revised", 0) + stats.get("policywatch/documents/unchanged", 0)
    refused = sum(v for k, v in stats.items() if k.startswith("policywatch/failed/"))
    known = stats.get("policywatch/skipped/known", 0)
    rate = seen / elapsed if elapsed > 0 else 0.0
    line = f"{site}: list pages {pages}" + (f"/{total}" if total else "")
    line += f" · documents {seen} ({new} new, {known} already stored, {refused} refused)"
    line += f" · {rate:.1f} docs/s · {format_duration(elapsed)}"
    if total and pages:
        remaining = max(0, total - pages) * (elapsed / pages)
        line += f" · ETA {format_duration(remaining)}"
    return line


class Progress:
    """A Scrapy extension that shows ``progress_line`` while the spider runs."""

    def __init__(self, crawler, interval: float, tty: bool):
        self.crawler = crawler
        self.interval = interval
        self.tty = tty
        self.started = time.monotonic()
        self.task: task.LoopingCall | None = None
        self.last_log = 0.0

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("POLICYWATCH_PROGRESS"):
            raise NotConfigured
        tty = sys.stderr.isatty()
        interval = 0.5 if tty else crawler.settings.getfloat("POLICYWATCH_PROGRESS_INTERVAL", 30.0)
        ext = cls(crawler, interval, tty)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def _site(self) -> str:
        spider = self.crawler.spider
        return getattr(getattr(spider, "site", None), "key", getattr(spider, "name", "crawl"))

    def show(self, final: bool = False) -> None:
        line = progress_line(self._site(), self.crawler.stats.get_stats(), time.monotonic() - self.started)
        if self.tty:
            sys.stderr.write("\r\033[K" + line + ("\n" if final else ""))
            sys.stderr.flush()
        else:
            logger.warning("progress: %s", line)

    def spider_opened(self, spider) -> None:
        self.started = time.monotonic()
        self.task = task.LoopingCall(self.show)
        self.task.start(self.interval, now=False)

    def spider_closed(self, spider, reason: str) -> None:
        if self.task is not None and self.task.running:
            self.task.stop()
        self.show(final=True)
