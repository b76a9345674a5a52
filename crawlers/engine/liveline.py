"""One line redrawn in place at the bottom of a terminal, under the log lines that go on above it.

While the line is shown, a log record written to the same terminal first clears it (a filter
on the root logger's handlers), so a log line never lands in the middle of it; the next draw
puts it back.
"""

from __future__ import annotations

import logging
import sys
import threading
from typing import TextIO

from crawlers.engine.progressline import PREFIX

CLEAR = "\r\033[K"  # back to the start of the line, erase it


class LiveLine(logging.Filter):
    """The live line on ``stream`` (stderr by default)."""

    def __init__(self, stream: TextIO | None = None):
        super().__init__()
        self.stream = stream
        self.shown = False
        self._lock = threading.RLock()
        self._handlers: list[logging.Handler] = []

    def _out(self) -> TextIO:
        return self.stream or sys.stderr

    def draw(self, line: str) -> None:
        """Show ``line`` in place of the one shown."""
        with self._lock:
            self._out().write(CLEAR + line)
            self._out().flush()
            self.shown = True

    def keep(self, line: str) -> None:
        """Write ``line`` for good (it scrolls up with the log); the live line comes back at
        the next draw."""
        with self._lock:
            self._out().write(CLEAR + line + "\n")
            self._out().flush()
            self.shown = False

    def filter(self, record: logging.LogRecord) -> bool:
        with self._lock:
            if self.shown:
                self._out().write(CLEAR)
                self._out().flush()
                self.shown = False
        return True

    def attach(self) -> None:
        """Clear the line before each log record the root logger writes to our terminal."""
        for handler in logging.getLogger().handlers:
            if getattr(handler, "stream", None) is self._out():
                handler.addFilter(self)
                self._handlers.append(handler)

    def detach(self) -> None:
        for handler in self._handlers:
            handler.removeFilter(self)
        self._handlers.clear()


def say(live: LiveLine | None, line: str, keep: bool, log: logging.Logger) -> None:
    """A progress line: on a terminal drawn on the live line (``keep``: left above it), in a
    log one INFO line marked with ``PREFIX`` (the round reads its crawls' lines by it)."""
    if live is not None:
        (live.keep if keep else live.draw)(line)
    else:
        log.info("%s%s", PREFIX, line)
