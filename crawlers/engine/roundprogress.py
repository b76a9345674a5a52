"""Progress of a round whose crawls run in processes of their own: one line for the round.

Each crawl logs its own progress (``crawlers.engine.progress``); the round reads those lines
from the crawl's output as they come (``follow``), passes them on to its own log, and says the
round in one line ("3/40 sites done · 1,234 documents · 3.2/s · ETA 4 min"): redrawn in place
on a terminal, logged at INFO when a site finishes and every ``interval`` seconds otherwise.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from crawlers.engine.liveline import LiveLine, say
from crawlers.engine.progressline import (
    PREFIX,
    BatchState,
    SiteState,
    parse_round_line,
    parse_site_line,
    totals_line,
)

logger = logging.getLogger(__name__)
TTY_INTERVAL = 0.5
TAIL_CHARS = 2000  # of a crawl's output, kept to say why it failed


class RoundProgress:
    """The round's sites as their crawls report them."""

    def __init__(self, sites: list[str], *, tty: bool | None = None, interval: float = 30.0,
                 stream: TextIO | None = None, clock: Callable[[], float] = time.monotonic):
        self.sites = set(sites)
        self.total = len(self.sites)
        self.tty = sys.stderr.isatty() if tty is None else tty
        self.interval = TTY_INTERVAL if self.tty else interval
        self.live = LiveLine(stream) if self.tty else None
        self.clock = clock
        self.started = clock()
        self.states: dict[str, SiteState] = {}
        self._since: dict[str, float] = {}
        self._batch_of: dict[str, str] = {}  # site -> the crawl process crawling it (its label)
        self.batches: dict[str, BatchState] = {}  # what each process says of all its sites
        self._lock = threading.RLock()  # a site's state and the line it makes are said together
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def site_started(self, site: str, batch: str | None = None) -> None:
        """``site``'s crawl started, in the crawl process ``batch`` (by default its own)."""
        with self._lock:
            self._since[site] = self.clock()
            self._batch_of[site] = batch or site
            self.states[site] = SiteState(site, 0, 0, None, False)

    def heard(self, site: str, text: str) -> None:
        """A line of the output of the crawl process ``site`` (its first site's key): a progress
        line of one of the round's sites updates that site and is passed on; the process's own
        line for all its sites updates what the round knows of them, between their ends."""
        if PREFIX not in text:
            return
        with self._lock:
            elapsed = self.clock() - self._since.get(site, self.started)
            batch = parse_round_line(text, elapsed)
            if batch is not None:
                self.batches[site] = batch
                return
            state = parse_site_line(text, elapsed)
            if state is None or state.site not in self.sites:
                return
            if state.done or not self.tty:  # on a terminal the round's own line says the rest
                self._say(text.rsplit(PREFIX, 1)[-1].strip(), keep=True)
            self._update(state)

    def site_finished(self, site: str) -> None:
        """``site``'s crawl ended (whether or not it said its last line)."""
        with self._lock:
            last = self.states.get(site, SiteState(site, 0, 0, None, False))
            self._update(SiteState(site, last.documents, last.answered, 0.0, True))

    def _update(self, state: SiteState) -> None:
        before = self.states.get(state.site)
        finished = state.done and not (before is not None and before.done)
        self.states[state.site] = state
        if finished and not self.tty:  # a log says the round each time a site is done
            self._say(self.line(), keep=True)

    def line(self) -> str:
        with self._lock:
            groups: dict[str, list[SiteState]] = {}
            for site, state in self.states.items():
                groups.setdefault(self._batch_of.get(site, site), []).append(state)
            done = documents = answered = 0
            lefts: list[float | None] = []
            for batch, states in groups.items():
                said = self.batches.get(batch)
                batch_done = sum(1 for s in states if s.done)
                batch_documents = sum(s.documents for s in states)
                batch_answered = sum(s.answered for s in states)
                if said is not None and said.documents > batch_documents:
                    # The process's line is newer than its sites' last lines.
                    batch_documents, batch_answered = said.documents, max(batch_answered, said.answered)
                    lefts.append(None)
                else:
                    lefts.extend(s.left for s in states)
                done += max(batch_done, said.done if said is not None else 0)
                documents += batch_documents
                answered += batch_answered
            left = None if any(x is None for x in lefts) else sum(lefts)
            if left is not None and self.total > len(self.states) and self.states:
                left += (self.total - len(self.states)) * (answered + left) / len(self.states)
            return totals_line(done, self.total, documents, answered, left, self.clock() - self.started,
                               by_sites=bool(self.batches))

    def __enter__(self) -> RoundProgress:
        if self.live is not None:
            self.live.attach()
        self._ticker = threading.Thread(target=self._tick, name="round-progress", daemon=True)
        self._ticker.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        if self.live is not None:
            self._say(self.line(), keep=True)
            self.live.detach()

    def _tick(self) -> None:
        while not self._stop.wait(self.interval):
            with self._lock:
                self._say(self.line(), keep=False)

    def _say(self, line: str, keep: bool) -> None:
        say(self.live, line, keep, logger)


def follow(cmd: list[str], cwd: Path, timeout: float, on_line: Callable[[str], None], *,
           stop: threading.Event | None = None, stop_signal: int | None = None) -> tuple[int, str]:
    """Run ``cmd``, handing each line of its output (stdout and stderr) to ``on_line`` as it
    comes; its exit status and the tail of its output. When ``stop`` is set the process is sent
    ``stop_signal`` once (a crawl then starts no more sites). Killed after ``timeout`` seconds:
    ``subprocess.TimeoutExpired`` with the tail as its output."""
    process = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               encoding="utf-8", errors="replace")
    killed = threading.Event()

    def kill() -> None:
        killed.set()
        process.kill()

    timer = threading.Timer(timeout, kill)
    timer.daemon = True
    timer.start()
    if stop is not None and stop_signal is not None:
        def ask_to_stop() -> None:  # the output loop below blocks: a watcher asks, once
            while process.poll() is None:
                if stop.wait(0.5):
                    if process.poll() is None:
                        process.send_signal(stop_signal)
                    return

        threading.Thread(target=ask_to_stop, name="round-stop", daemon=True).start()
    tail: deque[str] = deque()
    size = 0
    try:
        for line in process.stdout:
            on_line(line)
            tail.append(line)
            size += len(line)
            while size > TAIL_CHARS and len(tail) > 1:
                size -= len(tail.popleft())
        code = process.wait()
    finally:
        timer.cancel()
        process.stdout.close()
    output = "".join(tail)[-TAIL_CHARS:]
    if killed.is_set():
        raise subprocess.TimeoutExpired(cmd, timeout, output=output)
    return code, output
