"""One round of crawls: the due sites shared among a few crawl processes.

The round's sites are dealt to as few ``policywatch crawl SITE... --incremental`` processes as
the cores need (``max_parallel``, at most one per core); each process crawls its sites many at
once (``crawlers.engine.runner``: a download slot, run record and health per site; one site's
failure touches no other) and its parse pool serves them all. A process that crashes or hangs
takes only its own sites with it. Each process writes one line per site saying how that site's
crawl ended (``--outcomes``), so the round reports per site as before. Starts are staggered; a
stop request lets the running sites finish and starts no new ones (SIGUSR1 to each process).
The round says its progress in one line, from its crawls' own (``crawlers.engine.roundprogress``).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from crawlers.engine import settings as default_settings
from crawlers.engine.roundprogress import RoundProgress, follow

logger = logging.getLogger(__name__)
REPO = Path(__file__).resolve().parents[2]
CRAWL_TIMEOUT = 6 * 3600  # a crawl still running after this is killed; its sites are retried next round
# Sites one crawl process takes before the round starts another (up to the cores). One process
# of 2,000 sites crawls as fast as a bare Scrapy crawl of their requests (benchmarks/round.py),
# and each more costs its start and its parse pool.
SITES_PER_PROCESS = 3000
# Sent to a crawl process when the round is stopped: its running sites finish, no other starts.
STOP_STARTING = signal.SIGUSR1


@dataclass(frozen=True)
class CrawlOutcome:
    site: str
    returncode: int | None  # None: not started (the round was stopped first)
    seconds: float
    output_tail: str = ""

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def crawl_command(sites: str | list[str], db: Path, *, replay_url: str | None = None, contact: str = "",
                  mode: str = "incremental", config_path: str | Path | None = None,
                  outcomes: Path | None = None) -> list[str]:
    keys = [sites] if isinstance(sites, str) else list(sites)
    cmd = [sys.executable, "-m", "scheduler", "crawl", *keys, "--db", str(db)]
    if config_path:
        # The crawl finds config-declared ([[watch]]) sites in the same config.
        cmd += ["--config", str(config_path)]
    cmd.append({"incremental": "--incremental", "sweep": "--sweep"}.get(mode, "--full"))
    if replay_url:
        cmd += ["--replay", replay_url]
    if contact:
        cmd += ["--contact", contact]
    if outcomes is not None:
        cmd += ["--outcomes", str(outcomes)]
    return cmd


def crawl_processes(max_parallel: int, cores: int | None = None, sites: int | None = None) -> int:
    """How many crawl processes a round runs: one per ``SITES_PER_PROCESS`` sites, but no more
    than ``max_parallel`` nor the cores. A process's sites wait on their portals' delays, not
    on the CPU, and each process costs its own start and parse pool (~300 MB with its workers)."""
    wanted = -(-sites // SITES_PER_PROCESS) if sites else max_parallel
    return max(1, min(max_parallel, cores or os.cpu_count() or 1, wanted))


def deal(sites: list[str], groups: int) -> list[list[str]]:
    """``sites`` dealt round-robin into at most ``groups`` non-empty groups."""
    dealt = [sites[n::groups] for n in range(max(1, groups))]
    return [group for group in dealt if group]


def read_outcomes(path: Path) -> dict[str, dict]:
    """The per-site lines a crawl process wrote (``crawlers.engine.summary.site_outcomes``);
    a line cut short by a killed process is left out (its site counts as the process's)."""
    found: dict[str, dict] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return found
    for line in lines:
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict) and isinstance(row.get("site"), str):
            found[row["site"]] = row
    return found


def run_round(sites: list[str], db: Path, *, max_parallel: int = 2, stagger: float = 2.0,
              replay_url: str | None = None, contact: str = "",
              stop: threading.Event | None = None,
              config_path: str | Path | None = None,
              sweep: frozenset[str] | set[str] = frozenset(),
              cores: int | None = None,
              progress_interval: float = default_settings.POLICYWATCH_PROGRESS_INTERVAL,
              ) -> list[CrawlOutcome]:
    """Crawl ``sites`` incrementally (those in ``sweep`` with a sweep) in at most
    ``crawl_processes(max_parallel)`` processes at once; one outcome per site, in the order
    given; never raises for a site's failure. Off a terminal the round's progress is logged
    every ``progress_interval`` seconds and when a site finishes."""
    progress = RoundProgress(sites, interval=progress_interval)
    stop = stop or threading.Event()
    start_lock = threading.Lock()
    last_start = [0.0]
    processes = crawl_processes(max_parallel, cores, len(sites))
    plain = [s for s in sites if s not in sweep]
    batches = [(group, "incremental") for group in deal(plain, processes)]
    batches += [(group, "sweep") for group in deal([s for s in sites if s in sweep], processes)]

    def crawl(batch: tuple[list[str], str]) -> list[CrawlOutcome]:
        keys, mode = batch
        with start_lock:  # stagger the starts so portals on one host are not hit at once
            wait = last_start[0] + stagger - time.monotonic()
            if (wait > 0 and stop.wait(wait)) or stop.is_set():
                return [CrawlOutcome(site, None, 0.0) for site in keys]
            last_start[0] = time.monotonic()
        return _crawl_batch(keys, mode, db, stop, progress, replay_url=replay_url,
                            contact=contact, config_path=config_path)

    with progress, ThreadPoolExecutor(max_workers=processes, thread_name_prefix="crawl") as pool:
        outcomes = {o.site: o for done in pool.map(crawl, batches) for o in done}
    return [outcomes[site] for site in sites]


def _crawl_batch(keys: list[str], mode: str, db: Path, stop: threading.Event,
                 progress: RoundProgress, *, replay_url: str | None, contact: str,
                 config_path: str | Path | None) -> list[CrawlOutcome]:
    """One crawl process of ``keys``, its progress lines passed to ``progress`` as they come;
    each site's outcome from the line the process wrote for it, or the process's own status
    when it wrote none (it crashed or was killed). A stop request asks the process once to
    start no more sites; it is killed after ``CRAWL_TIMEOUT``."""
    started = time.monotonic()
    what = keys[0] if len(keys) == 1 else f"{len(keys)} sites ({keys[0]}, ...)"
    logger.info("crawl of %s starting", what)
    for site in keys:
        progress.site_started(site, batch=keys[0])
    with tempfile.TemporaryDirectory(prefix="policywatch-round-") as scratch:
        outcomes_path = Path(scratch) / "outcomes.jsonl"
        command = crawl_command(keys, db, replay_url=replay_url, contact=contact,
                                config_path=config_path, mode=mode, outcomes=outcomes_path)
        try:
            code, tail = follow(command, REPO, CRAWL_TIMEOUT,
                                lambda line: progress.heard(keys[0], line),
                                stop=stop, stop_signal=STOP_STARTING)
        except subprocess.TimeoutExpired as exc:
            logger.error("crawl process of %s killed after %d s", what, CRAWL_TIMEOUT)
            code, tail = -9, f"killed after {CRAWL_TIMEOUT} s: {str(exc.output or '')[-1000:]}"
        found = read_outcomes(outcomes_path)
    for site in keys:
        progress.site_finished(site)
    seconds = time.monotonic() - started
    if code == 0:
        logger.info("crawl of %s finished in %.0f s", what, seconds)
    else:
        logger.warning("crawl of %s ended with exit %s after %.0f s:\n%s", what, code, seconds, tail)
    outcomes = []
    for site in keys:
        row = found.get(site)
        if row is None:
            outcomes.append(CrawlOutcome(site, code if code != 0 else -1, seconds, tail))
        else:
            outcomes.append(CrawlOutcome(site, row.get("exit"), float(row.get("seconds") or 0.0),
                                         row.get("why") or ""))
    return outcomes


# Set when the operator asks the schedule to stop (SIGTERM/SIGINT): rounds start no new crawl.
STOP = threading.Event()
