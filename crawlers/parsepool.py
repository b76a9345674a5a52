"""CPU-bound work of a crawl (list and detail parsing, classifying) in a process pool.

Text extraction (trafilatura and lxml, 10–40 ms a page), list parsing and the classifier run on
the CPU;
inside Scrapy's reactor they block every download and use one core. Here they run in a
``ProcessPoolExecutor`` shared by every spider of the crawl process (one worker per core by
default) and are awaited with asyncio, so the reactor keeps fetching while the workers parse.

What a job needs travels with it (the ``Site`` dataclass, the family's name, the page's bytes and
headers): replay-only and config-declared sites are not in the registry a worker could look up.
A job's answer is plain data: an item (without the page's bytes, which the caller still holds),
or a refusal's reason and message (``ParseError`` does not pickle).

Workers ignore SIGINT (Ctrl-C stops the crawl, which finishes what it holds, while the workers
finish their jobs), exit when the crawl process is gone (even killed with SIGKILL), start from a
fresh interpreter (``forkserver``: forking the crawl process would copy its threads' locks), and
a broken pool (a worker killed) is replaced while the job it lost is done in-process: no page is
lost to a dead worker.

Setting: ``POLICYWATCH_PARSE_WORKERS`` — the number of worker processes; unset means one per
core; 0 parses inside the crawl process (as before the pool existed).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Mapping

from scrapy import signals

from .items import PolicyItem
from .parsing.errors import ParseError
from .sites.spec import Site

logger = logging.getLogger(__name__)

# Imported once in the fork server, so every worker starts with them loaded.
_PRELOAD = ["crawlers.families", "crawlers.parsing.detail", "classifiers.classify", "pipelines.textnorm"]


def default_workers() -> int:
    """One worker per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def workers_setting(settings) -> int:
    """``POLICYWATCH_PARSE_WORKERS`` as a number of workers (unset: one per core)."""
    value = settings.get("POLICYWATCH_PARSE_WORKERS")
    if value in (None, "", "auto"):
        return default_workers()
    try:
        workers = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"POLICYWATCH_PARSE_WORKERS must be a number of processes, not {value!r}") from None
    if workers < 0:
        raise ValueError(f"POLICYWATCH_PARSE_WORKERS must be 0 or more, not {workers}")
    return workers


# --- what runs in a worker ----------------------------------------------------------------
def _worker_init(crawl_pid: int) -> None:
    # Ctrl-C reaches the whole process group: the crawl process decides when to stop, and
    # the jobs it is waiting for must still be answered.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with, args=(crawl_pid,), name="orphan-watch", daemon=True).start()


def _exit_with(crawl_pid: int, interval: float = 0.5) -> None:
    # A worker blocks reading its job queue, whose writing end it holds itself, and keeps the
    # fork server alive (it holds the server's liveness pipe): killed with SIGKILL, the crawl
    # process would leave both behind for ever. A worker whose crawl process is gone exits.
    while _running(crawl_pid):
        time.sleep(interval)
    os._exit(1)


def _running(pid: int) -> bool:
    """Is ``pid`` alive and not a zombie (killed, not yet reaped by its parent)?"""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[0] not in (b"Z", b"X")
    except FileNotFoundError:
        return False
    except OSError:  # no /proc here: ask the kernel whether the pid exists
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True


def parse_job(family: str, site: Site, url: str, body: bytes, headers: Mapping[str, str],
              fetched_at: datetime | None) -> tuple[str, Any, Any]:
    """Parse one detail page: ``("item", PolicyItem without raw_body, None)`` or
    ``("refused", reason, message)``."""
    from .families import get_family

    try:
        item = get_family(family).parse_detail(site, url, body, headers, fetched_at)
    except ParseError as exc:
        return ("refused", exc.reason, exc.message)
    item.raw_body = None  # the crawl process holds the bytes: do not send them back
    return ("item", item, None)


def list_job(family: str, site: Site, column, page, body: bytes,
             headers: Mapping[str, str]) -> tuple[str, Any, Any]:
    """Parse one list page: ``("list", ListPage, None)`` or ``("refused", reason, message)``."""
    from .families import get_family

    try:
        listing = get_family(family).parse_list(site, column, page, body, headers)
    except ParseError as exc:
        return ("refused", exc.reason, exc.message)
    return ("list", listing, None)


def classify_job(document) -> tuple[str, Any, Any, Any]:
    """Classify one document: ``("ok", columns, relevance, forms)`` or ``("failed", message,
    None, forms)``; ``forms`` are its text's ``BodyForms``, which the store would otherwise
    compute in the crawl process."""
    from classifiers.classify import ClassifyError, classify
    from pipelines.textnorm import BodyForms

    forms = BodyForms.of(document.text)
    try:
        result = classify(document)
    except ClassifyError as exc:
        return ("failed", str(exc), None, forms)
    return ("ok", result.columns(), result.relevance, forms)


# --- the shared pool ----------------------------------------------------------------------
class _SharedPool:
    """One process pool per crawl process, created on first use, shut down when its last
    user is done."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None
        self._workers = 0
        self._users = 0

    def acquire(self, workers: int) -> None:
        with self._lock:
            self._users += 1
            self._workers = max(self._workers, workers)

    def executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                context = multiprocessing.get_context("forkserver")
                context.set_forkserver_preload(_PRELOAD)
                self._executor = ProcessPoolExecutor(
                    max_workers=self._workers or default_workers(), mp_context=context,
                    initializer=_worker_init, initargs=(os.getpid(),))
                logger.info("parsing in %d worker process(es)", self._workers)
            return self._executor

    def replace_broken(self, broken: Executor) -> None:
        """Drop a broken executor (a worker died); the next job starts a new one."""
        with self._lock:
            if self._executor is broken:
                self._executor = None
        broken.shutdown(wait=False, cancel_futures=True)

    def release(self) -> None:
        """One user is done; the last one shuts the pool down after its running jobs."""
        with self._lock:
            self._users -= 1
            executor = self._executor if self._users <= 0 else None
            if executor is not None:
                self._executor = None
                self._workers = 0
        if executor is not None:
            executor.shutdown(wait=True)


_POOL = _SharedPool()

# Results are unpickled in the pool's result thread and freed in the reactor's: with glibc each
# thread allocates from its own arena, and memory freed across arenas stays with the process.
# Handing it back now and then keeps a long backfill's RSS flat.
TRIM_EVERY = 500


def _trim_heap() -> None:
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to trim
        pass


@dataclass
class PoolStats:
    jobs: int = 0
    inline: int = 0  # done in-process: no pool configured, or a broken pool's lost job


class OffloadedWork:
    """A crawler's door to the shared pool: ``await parse_detail(...)``, ``await classify(...)``.

    With 0 workers every job runs in-process, as a plain function call.
    """

    def __init__(self, workers: int, crawler=None):
        self.workers = workers
        self.crawler = crawler  # its stats exist only once the crawl starts
        self.counts = PoolStats()
        self._released = False
        if workers:
            _POOL.acquire(workers)

    @classmethod
    def from_crawler(cls, crawler) -> "OffloadedWork":
        """The crawler's offloader (one per crawler, made on first ask), released when the
        engine stops: after the scraper finished every response it held."""
        existing = getattr(crawler, "_policywatch_offload", None)
        if existing is not None:
            return existing
        work = cls(workers_setting(crawler.settings), crawler)
        crawler._policywatch_offload = work
        crawler.signals.connect(work.close, signal=signals.engine_stopped)
        return work

    async def parse_detail(self, site: Site, url: str, body: bytes, headers: Mapping[str, str],
                           fetched_at: datetime | None) -> PolicyItem:
        """The site family's ``parse_detail`` of the page, run in a worker; raises
        ``ParseError`` as the family does."""
        kind, first, second = await self._run(parse_job, site.family, site, url, body, dict(headers),
                                              fetched_at)
        if kind == "refused":
            raise ParseError(first, second)
        first.raw_body = body
        return first

    async def parse_list(self, site: Site, column, page, body: bytes,
                         headers: Mapping[str, str]):
        """The site family's ``parse_list`` of the page (a ``ListPage``), run in a worker;
        raises ``ParseError`` as the family does."""
        kind, first, second = await self._run(list_job, site.family, site, column, page, body,
                                              dict(headers))
        if kind == "refused":
            raise ParseError(first, second)
        return first

    async def classify(self, document) -> tuple[str, Any, Any, Any]:
        """``classify_job(document)`` run in a worker."""
        return await self._run(classify_job, document)

    async def _run(self, fn: Callable, *args):
        if not self.workers or self._released:
            self.counts.inline += 1
            return fn(*args)
        executor = _POOL.executor()
        try:
            future = executor.submit(fn, *args)
            result = await asyncio.wrap_future(future)
        except BrokenProcessPool:
            # A worker died (killed, out of memory): its jobs are lost to the pool, not to us.
            logger.warning("a parse worker died; starting a new pool and doing this job here")
            _POOL.replace_broken(executor)
            self.counts.inline += 1
            self._count("offload/broken_pool")
            return fn(*args)
        self.counts.jobs += 1
        if self.counts.jobs % TRIM_EVERY == 0:
            _trim_heap()
        return result

    @property
    def stats(self):
        return getattr(self.crawler, "stats", None) if self.crawler is not None else None

    def _count(self, key: str) -> None:
        if self.stats is not None:
            self.stats.inc_value(f"policywatch/{key}")

    def close(self) -> None:
        """Release the pool (the last crawler of the process shuts it down)."""
        if self._released:
            return
        self._released = True
        if self.stats is not None:
            self.stats.set_value("policywatch/offload/jobs", self.counts.jobs)
            self.stats.set_value("policywatch/offload/inline", self.counts.inline)
        logger.info("offloaded %d job(s) to %d worker process(es); %d done in-process",
                    self.counts.jobs, self.workers, self.counts.inline)
        if self.workers:
            _POOL.release()
