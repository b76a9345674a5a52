"""CPU-bound work of a crawl (list and detail parsing, classifying, attachment text) in worker
processes.

Text extraction (trafilatura and lxml, 10–40 ms a page), list parsing and the classifier run on
the CPU;
inside Scrapy's reactor they block every download and use one core. Here they run in a
pool of worker processes shared by every spider of the crawl process (one worker per core by
default) and are awaited with asyncio, so the reactor keeps fetching while the workers parse.

What a job needs travels with it (the ``Site`` dataclass, the family's name, the page's bytes and
headers): replay-only and config-declared sites are not in the registry a worker could look up.
A job's answer is plain data: an item (without the page's bytes, which the caller still holds),
or a refusal's reason and message (``ParseError`` does not pickle).

Workers ignore SIGINT (Ctrl-C stops the crawl, which finishes what it holds, while the workers
finish their jobs), exit when the crawl process is gone (even killed with SIGKILL), start from a
fresh interpreter (``forkserver``: forking the crawl process would copy its threads' locks).

Pages and files are hostile: every job has a wall-time limit, after which its worker is killed
and replaced and the job refused (``JobRefused``, reason ``time_limit``), and every worker an
address-space limit (``RLIMIT_AS``): a job that runs out is refused (``memory_limit``). A worker
killed from outside loses nothing: a job it had not taken goes to a new worker, a job it died
under is tried once more, then refused (``worker_died``). Refusals reach the callers as their
own kind of failure (a ``ParseError``, an unclassified document, an attachment without text).

Settings: ``POLICYWATCH_PARSE_WORKERS`` — the number of worker processes; unset means one per
core; 0 parses inside the crawl process (as before the pool existed, and without the limits);
``POLICYWATCH_JOB_TIME_LIMIT`` (seconds) and ``POLICYWATCH_WORKER_MEMORY_MB`` (0: none).
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import multiprocessing
import os
import resource
import signal
import sys
import threading
import time
import traceback
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Mapping

from scrapy import signals

from classifiers.classify import ClassifyError, classify
from crawlers.families import get_family
from crawlers.items import PolicyItem
from crawlers.parsing.errors import ParseError
from crawlers.parsing.filetext import FileLimitError, FileLimits, FileTextError, extract_file_text
from crawlers.parsing.textnorm import BodyForms
from crawlers.sites.spec import Site

logger = logging.getLogger(__name__)

# Imported once in the fork server, so every worker starts with them loaded.
_PRELOAD = ["crawlers.families", "crawlers.parsing.detail", "crawlers.parsing.filetext",
            "classifiers.classify", "crawlers.parsing.textnorm"]


def _main_module() -> list[str]:
    """The program's main module, for the fork server to import once: each worker runs the
    parent's main again as ``__mp_main__`` (multiprocessing's way), which costs ~1.5 s of CPU a
    worker when what it imports is not loaded yet, and nothing when it is. Run with ``-m``, the
    main is a named module; run as an installed script (``policywatch``), the module its entry
    function comes from."""
    main = sys.modules.get("__main__")
    name = getattr(getattr(main, "__spec__", None), "name", None)
    if not name or name == "__main__" or name.endswith(".__main__"):
        name = getattr(getattr(main, "main", None), "__module__", None)
    return [name] if name and name not in ("__main__", "__mp_main__") else []


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
    # A broken PDF makes pypdf warn once per object: a hostile file would flood the crawl's log.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
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

    try:
        item = get_family(family).parse_detail(site, url, body, headers, fetched_at)
    except ParseError as exc:
        return ("refused", exc.reason, exc.message)
    except Exception as exc:  # noqa: BLE001 — a parser's bug on this page refuses the page only
        return ("refused", "parser_error", _bug(exc))
    item.raw_body = None  # the crawl process holds the bytes: do not send them back
    return ("item", item, None)


def list_job(family: str, site: Site, column, page, body: bytes,
             headers: Mapping[str, str]) -> tuple[str, Any, Any]:
    """Parse one list page: ``("list", ListPage, None)`` or ``("refused", reason, message)``."""

    try:
        listing = get_family(family).parse_list(site, column, page, body, headers)
    except ParseError as exc:
        return ("refused", exc.reason, exc.message)
    except Exception as exc:  # noqa: BLE001 — a parser's bug on this page refuses the page only
        return ("refused", "parser_error", _bug(exc))
    return ("list", listing, None)


def _bug(exc: Exception) -> str:
    """A parser's exception, said in one line with where it was raised (for the maintainer)."""
    frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    where = f" at {Path(frame.filename).name}:{frame.lineno}" if frame else ""
    return f"{type(exc).__name__}: {exc}"[:280] + where


def classify_job(document) -> tuple[str, Any, Any, Any]:
    """Classify one document: ``("ok", columns, relevance, forms)`` or ``("failed", message,
    None, forms)``; ``forms`` are its text's ``BodyForms``, which the store would otherwise
    compute in the crawl process."""

    forms = BodyForms.of(document.text)
    try:
        result = classify(document)
    except ClassifyError as exc:
        return ("failed", str(exc), None, forms)
    return ("ok", result.columns(), result.relevance, forms)


def attachment_job(data: bytes, fmt: str, limits: FileLimits) -> tuple[str, Any, Any]:
    """Read one attachment's text: ``("text", text or None, None)`` or ``("refused", reason,
    message)`` (``unreadable``, or ``over_limit`` for a file over ``limits``)."""
    try:
        return ("text", extract_file_text(data, fmt, limits), None)
    except FileLimitError as exc:
        return ("refused", "over_limit", str(exc)[:300])
    except FileTextError as exc:
        return ("refused", "unreadable", str(exc)[:300])


# --- the shared pool ----------------------------------------------------------------------
class JobRefused(Exception):
    """A pool job that did not finish: ``reason`` is ``time_limit``, ``memory_limit`` or
    ``worker_died``; its worker was stopped and replaced."""

    def __init__(self, reason: str, message: str):
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class JobLimits:
    """What one pool job may use: wall-clock seconds (then its worker is killed) and the
    worker's address space (``RLIMIT_AS``; generous: a worker parsing real pages and files
    stays under a fifth of it)."""

    seconds: float = 60.0
    memory_mb: int = 2048

    def __post_init__(self) -> None:
        if not self.seconds > 0:
            raise ValueError(f"POLICYWATCH_JOB_TIME_LIMIT must be a positive number of seconds, not {self.seconds}")
        if self.memory_mb < 0:
            raise ValueError(f"POLICYWATCH_WORKER_MEMORY_MB must be 0 (no limit) or more, not {self.memory_mb}")


def limits_setting(settings) -> JobLimits:
    """``POLICYWATCH_JOB_TIME_LIMIT`` and ``POLICYWATCH_WORKER_MEMORY_MB`` as ``JobLimits``."""
    try:
        seconds = float(settings.get("POLICYWATCH_JOB_TIME_LIMIT") or JobLimits.seconds)
        memory = int(settings.get("POLICYWATCH_WORKER_MEMORY_MB") if
                     settings.get("POLICYWATCH_WORKER_MEMORY_MB") is not None else JobLimits.memory_mb)
    except (TypeError, ValueError):
        raise ValueError("POLICYWATCH_JOB_TIME_LIMIT and POLICYWATCH_WORKER_MEMORY_MB must be numbers") from None
    return JobLimits(seconds, memory)


def _worker_main(conn, crawl_pid: int, memory_mb: int) -> None:
    """A worker: answer jobs from ``conn`` until it closes. A job that runs out of memory is
    answered as refused and the worker exits (its heap is not to be trusted to shrink)."""
    _worker_init(crawl_pid)
    if memory_mb:
        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    while True:
        try:
            fn, args = conn.recv()
        except (EOFError, OSError):
            return
        try:
            answer = ("ok", fn(*args))
        except MemoryError:
            answer = None
            conn.send(("memory_limit", f"over the worker's {memory_mb} MB of memory"))
            os._exit(3)
        except BaseException as exc:  # noqa: BLE001 — the caller re-raises it, as an executor would
            answer = ("error", exc)
        try:
            conn.send(answer)
        except Exception as exc:  # noqa: BLE001 — an answer that does not pickle
            conn.send(("error", RuntimeError(f"{fn.__name__}: answer not sendable: {exc}")))


class _Worker:
    """One worker process and its pipe; runs one job at a time."""

    def __init__(self, context, memory_mb: int) -> None:
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_worker_main, args=(child, os.getpid(), memory_mb),
                                       name="policywatch-parse", daemon=True)
        self.process.start()
        child.close()

    def alive(self) -> bool:
        return self.process.exitcode is None

    def run(self, fn: Callable, args: tuple, seconds: float):
        """``fn(*args)`` in this worker; raises ``JobRefused`` (the worker then is dead) or
        ``_Lost`` (it died before taking the job)."""
        try:
            self.conn.send((fn, args))
        except (BrokenPipeError, ConnectionResetError, EOFError) as exc:
            self.stop()
            raise _Lost() from exc
        if not self.conn.poll(seconds):
            self.stop()
            raise JobRefused("time_limit", f"{fn.__name__} took more than {seconds:g} s; its worker was stopped")
        try:
            kind, value = self.conn.recv()
        except (EOFError, OSError, ConnectionResetError):
            self.stop()
            raise JobRefused("worker_died", f"{fn.__name__}: the worker died "
                                            f"(exit {self.process.exitcode})") from None
        if kind == "ok":
            return value
        if kind == "error":
            raise value
        self.stop()
        raise JobRefused(kind, f"{fn.__name__}: {value}")

    def stop(self) -> None:
        if self.process.exitcode is None:
            self.process.kill()
        self.process.join(5)
        self.conn.close()

    def close(self, timeout: float = 5.0) -> None:
        """Let the worker finish and exit (it sees its pipe close), else kill it."""
        self.conn.close()
        self.process.join(timeout)
        if self.process.exitcode is None:
            self.process.kill()
            self.process.join(5)


class _Lost(Exception):
    """The worker was already gone when a job was handed to it."""


class _SharedPool:
    """One set of worker processes per crawl process, created on first use, shut down when
    its last user is done. Each of ``workers`` threads owns one worker process and hands it
    one job at a time, so a job over its time limit is stopped by killing its own worker
    alone (a ``ProcessPoolExecutor`` cannot stop one job, and breaks whole when one worker dies)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._threads: ThreadPoolExecutor | None = None
        self._context = None
        self._local = threading.local()
        self._all: list[_Worker] = []
        self._workers = 0
        self._users = 0
        self.limits = JobLimits()

    def acquire(self, workers: int, limits: JobLimits | None = None) -> None:
        with self._lock:
            self._users += 1
            self._workers = max(self._workers, workers)
            if limits is not None:
                self.limits = limits

    def submit(self, fn: Callable, args: tuple) -> Future:
        with self._lock:
            if self._threads is None:
                self._context = multiprocessing.get_context("forkserver")
                self._context.set_forkserver_preload(_PRELOAD + _main_module())
                self._workers = self._workers or default_workers()
                self._threads = ThreadPoolExecutor(self._workers, thread_name_prefix="parse-pool")
                logger.info("parsing in %d worker process(es)", self._workers)
            return self._threads.submit(self._call, fn, args)

    def _call(self, fn: Callable, args: tuple):
        # A worker that died between jobs (killed from outside) loses nothing: the job goes
        # to a new one. A job whose worker dies under it is tried once more in a new worker,
        # then refused: a file that kills every worker must not stop the crawl.
        for attempt in (1, 2):
            worker = self._worker()
            try:
                return worker.run(fn, args, self.limits.seconds)
            except _Lost:
                continue
            except JobRefused as refused:
                if refused.reason != "worker_died" or attempt == 2:
                    raise
                logger.warning("a parse worker died under %s; trying it once more", fn.__name__)
        raise JobRefused("worker_died", f"{fn.__name__}: no worker could be started")

    def _worker(self) -> _Worker:
        worker = getattr(self._local, "worker", None)
        if worker is None or not worker.alive():
            worker = _Worker(self._context, self.limits.memory_mb)
            self._local.worker = worker
            with self._lock:
                self._all = [w for w in self._all if w.alive()] + [worker]
        return worker

    def pids(self) -> list[int]:
        """The live workers' process ids (for tests and progress displays)."""
        with self._lock:
            return [w.process.pid for w in self._all if w.alive()]

    def release(self) -> None:
        """One user is done; the last one shuts the pool down after its running jobs."""
        with self._lock:
            self._users -= 1
            last = self._users <= 0
            threads = self._threads if last else None
            if last:
                self._threads, self._workers, self._local = None, 0, threading.local()
                workers, self._all = self._all, []
                self.limits = JobLimits()
        if threads is not None:
            threads.shutdown(wait=True)
            for worker in workers:
                worker.close()


_POOL = _SharedPool()

# Results are unpickled in the pool's threads and freed in the reactor's: with glibc each
# thread allocates from its own arena, and memory freed across arenas stays with the process.
# Handing it back now and then keeps a long backfill's RSS flat.
TRIM_EVERY = 500


def _trim_heap() -> None:
    try:

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to trim
        pass


@dataclass
class PoolStats:
    jobs: int = 0
    inline: int = 0  # done in-process: no pool configured, or the pool already released
    refused: int = 0  # over the time limit, out of memory, or killed their worker twice


class ParsePool:
    """The Scrapy extension that gives a crawler its door to the pool, as
    ``crawler.policywatch_offload``: the item pipelines find it there (they reach the engine
    through Scrapy, not by importing it). Extensions are built before the pipelines."""

    @classmethod
    def from_crawler(cls, crawler) -> "ParsePool":
        crawler.policywatch_offload = OffloadedWork.from_crawler(crawler)
        return cls()


class OffloadedWork:
    """A crawler's door to the shared pool: ``await parse_detail(...)``, ``await classify(...)``.

    With 0 workers every job runs in-process, as a plain function call.
    """

    def __init__(self, workers: int, crawler=None, limits: JobLimits | None = None):
        self.workers = workers
        self.crawler = crawler  # its stats exist only once the crawl starts
        self.counts = PoolStats()
        self._released = False
        if workers:
            _POOL.acquire(workers, limits)

    @classmethod
    def from_crawler(cls, crawler) -> "OffloadedWork":
        """The crawler's offloader (one per crawler, made on first ask), released when the
        engine stops: after the scraper finished every response it held."""
        existing = getattr(crawler, "_policywatch_offload", None)
        if existing is not None:
            return existing
        work = cls(workers_setting(crawler.settings), crawler, limits_setting(crawler.settings))
        crawler._policywatch_offload = work
        crawler.signals.connect(work.close, signal=signals.engine_stopped)
        return work

    async def parse_detail(self, site: Site, url: str, body: bytes, headers: Mapping[str, str],
                           fetched_at: datetime | None) -> PolicyItem:
        """The site family's ``parse_detail`` of the page, run in a worker; raises
        ``ParseError`` as the family does, and for a job the pool refused."""
        try:
            kind, first, second = await self._run(parse_job, site.family, site, url, body,
                                                  dict(headers), fetched_at)
        except JobRefused as refused:
            raise ParseError(refused.reason, refused.message) from None
        if kind == "refused":
            raise ParseError(first, second)
        first.raw_body = body
        return first

    async def parse_list(self, site: Site, column, page, body: bytes,
                         headers: Mapping[str, str]):
        """The site family's ``parse_list`` of the page (a ``ListPage``), run in a worker;
        raises ``ParseError`` as the family does, and for a job the pool refused."""
        try:
            kind, first, second = await self._run(list_job, site.family, site, column, page, body,
                                                  dict(headers))
        except JobRefused as refused:
            raise ParseError(refused.reason, refused.message) from None
        if kind == "refused":
            raise ParseError(first, second)
        return first

    async def classify(self, document) -> tuple[str, Any, Any, Any]:
        """``classify_job(document)`` run in a worker; a refused job is ``("failed", why,
        None, None)`` (the document is stored untagged)."""
        try:
            return await self._run(classify_job, document)
        except JobRefused as refused:
            return ("failed", str(refused), None, None)

    async def attachment_text(self, data: bytes, fmt: str, limits: FileLimits) -> tuple[str, Any, Any]:
        """``attachment_job`` run in a worker: ``("text", text, None)`` or ``("refused",
        reason, message)``, also for a job the pool refused (``time_limit``...)."""
        try:
            return await self._run(attachment_job, data, fmt, limits)
        except JobRefused as refused:
            return ("refused", refused.reason, refused.message)

    async def _run(self, fn: Callable, *args):
        if not self.workers or self._released:
            self.counts.inline += 1
            return fn(*args)
        try:
            result = await asyncio.wrap_future(_POOL.submit(fn, args))
        except JobRefused as refused:
            self.counts.refused += 1
            self._count(f"offload/refused/{refused.reason}")
            logger.warning("pool job refused: %s", refused)
            raise
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
        logger.info("offloaded %d job(s) to %d worker process(es), %d refused; %d done in-process",
                    self.counts.jobs, self.workers, self.counts.refused, self.counts.inline)
        if self.workers:
            _POOL.release()
