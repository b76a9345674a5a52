"""A corpus that cannot be written any more: a full disk, an I/O error, a read-only file.

Such a write error is not one document's problem: every later write fails the same way. The
crawl stops at the first one (``stop_crawl``) instead of failing item after item; what it had
not stored stays pending, the run is recorded failed where the corpus still lets it, and the
command exits non-zero saying why. Freed space, the same command resumes.
"""

from __future__ import annotations

import logging
import sqlite3

from scrapy.logformatter import LogFormatter
from scrapy.utils.defer import deferred_from_coro

logger = logging.getLogger(__name__)

# SQLite's primary result codes that no retry of the same write can cure: a full disk, an I/O
# error, a read-only file, a corpus that cannot be opened or is corrupt.
_FATAL_CODES = frozenset({sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_READONLY,
                          sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB})
STOP_REASON = "corpus_unwritable"  # the crawl's finish reason
STAT = "policywatch/store/unwritable"  # the stat holding why


class CorpusUnwritable(RuntimeError):
    """An item not stored because the corpus cannot be written (see ``unwritable_reason``)."""


def unwritable_reason(exc: BaseException) -> str | None:
    """Why ``exc`` means the corpus cannot be written at all (one line), or None when it is an
    error of this write alone."""
    if not isinstance(exc, sqlite3.Error):
        return None
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None or code & 0xFF not in _FATAL_CODES:
        return None
    return str(exc)  # SQLite's own words: "database or disk is full", "disk I/O error"...


def stop_crawl(crawler, reason: str) -> None:
    """Stop ``crawler``'s spider because the corpus cannot be written; the first reason is the
    one kept (in the stat ``STAT``) and the crawl finishes with ``STOP_REASON``."""
    stats = crawler.stats
    if stats.get_value(STAT):
        return
    stats.set_value(STAT, reason)
    logger.error("the corpus cannot be written: %s; stopping the crawl", reason)
    engine = crawler.engine
    if engine is not None and engine.spider is not None:
        deferred_from_coro(engine.close_spider_async(reason=STOP_REASON))


def stopped_reason(crawler) -> str | None:
    """Why ``crawler`` was stopped by ``stop_crawl``, or None."""
    return crawler.stats.get_value(STAT)


class QuietLogFormatter(LogFormatter):
    """Scrapy's log formatter, but an item not stored because the crawl is stopping for an
    unwritable corpus is logged at DEBUG: the reason was said once, not once per item with a
    traceback."""

    def item_error(self, item, exception, response, spider):
        entry = super().item_error(item, exception, response, spider)
        if isinstance(exception, CorpusUnwritable):
            entry = {**entry, "level": logging.DEBUG}
        return entry
