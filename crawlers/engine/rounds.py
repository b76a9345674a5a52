"""One round of crawls: every due site in its own process, a few at a time.

Each site's crawl is a separate ``policywatch crawl SITE --incremental`` process (Twisted's
reactor cannot restart, and a site that hangs, crashes or is blocked must not touch the others).
Starts are staggered; a stop request lets running crawls finish and starts no new ones. The
round says its progress in one line, from its crawls' own (``crawlers.engine.roundprogress``).
"""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from crawlers.engine import settings as default_settings
from crawlers.engine.roundprogress import RoundProgress, follow

logger = logging.getLogger(__name__)
REPO = Path(__file__).resolve().parents[2]
CRAWL_TIMEOUT = 6 * 3600  # a crawl still running after this is killed; its site is retried next round


@dataclass(frozen=True)
class CrawlOutcome:
    site: str
    returncode: int | None  # None: not started (the round was stopped first)
    seconds: float
    output_tail: str = ""

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def crawl_command(site: str, db: Path, *, replay_url: str | None = None, contact: str = "",
                  mode: str = "incremental", config_path: str | Path | None = None) -> list[str]:
    cmd = [sys.executable, "-m", "scheduler", "crawl", site, "--db", str(db)]
    if config_path:
        # The crawl finds config-declared ([[watch]]) sites in the same config.
        cmd += ["--config", str(config_path)]
    cmd.append({"incremental": "--incremental", "sweep": "--sweep"}.get(mode, "--full"))
    if replay_url:
        cmd += ["--replay", replay_url]
    if contact:
        cmd += ["--contact", contact]
    return cmd


def run_round(sites: list[str], db: Path, *, max_parallel: int = 2, stagger: float = 2.0,
              replay_url: str | None = None, contact: str = "",
              stop: threading.Event | None = None,
              config_path: str | Path | None = None,
              sweep: frozenset[str] | set[str] = frozenset(),
              progress_interval: float = default_settings.POLICYWATCH_PROGRESS_INTERVAL,
              ) -> list[CrawlOutcome]:
    """Crawl ``sites`` incrementally (those in ``sweep`` with a sweep), at most
    ``max_parallel`` at once; never raises for a site's failure. Off a terminal the round's
    progress is logged every ``progress_interval`` seconds and when a site finishes."""
    stop = stop or threading.Event()
    progress = RoundProgress(sites, interval=progress_interval)
    start_lock = threading.Lock()
    last_start = [0.0]

    def crawl(site: str) -> CrawlOutcome:
        with start_lock:  # stagger the starts so portals on one host are not hit at once
            wait = last_start[0] + stagger - time.monotonic()
            if wait > 0 and stop.wait(wait):
                return CrawlOutcome(site, None, 0.0)
            if stop.is_set():
                return CrawlOutcome(site, None, 0.0)
            last_start[0] = time.monotonic()
        started = time.monotonic()
        logger.info("crawl of %s starting", site)
        progress.site_started(site)
        try:
            mode = "sweep" if site in sweep else "incremental"
            code, tail = follow(crawl_command(site, db, replay_url=replay_url, contact=contact,
                                              config_path=config_path, mode=mode),
                                REPO, CRAWL_TIMEOUT, lambda line: progress.heard(site, line))
        except subprocess.TimeoutExpired as exc:
            code, tail = -9, f"killed after {CRAWL_TIMEOUT} s: {str(exc.output or '')[-1000:]}"
        progress.site_finished(site)
        seconds = time.monotonic() - started
        if code == 0:
            logger.info("crawl of %s finished in %.0f s", site, seconds)
        else:
            logger.warning("crawl of %s failed (exit %s) after %.0f s:\n%s", site, code, seconds, tail)
        return CrawlOutcome(site, code, seconds, tail)

    with progress, ThreadPoolExecutor(max_workers=max(1, max_parallel),
                                      thread_name_prefix="crawl") as pool:
        return list(pool.map(crawl, sites))


# Set when the operator asks the schedule to stop (SIGTERM/SIGINT): rounds start no new crawl.
STOP = threading.Event()
