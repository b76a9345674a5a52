"""The one writer of a distributed crawl: documents and run records from Redis into the corpus.

``policywatch ingest --redis URL`` takes the messages the crawler processes pushed
(``pipelines.redisqueue``) in the order each sent them and stores them as a local crawl would:
``run-start`` opens a run in ``runs`` (and upserts the site), each ``document`` is stored with
``store_document`` (one transaction; a document already stored and unchanged adds nothing), and
``run-end`` finishes the run with the worker's counts and refusals plus the new / revised /
unchanged counts only the writer knows.

A message is moved to ``policywatch:items:ingesting`` while it is stored and removed after its
transaction committed; a writer that dies mid-way finds it there when it starts again and stores
it then (storing is idempotent), so nothing is lost.

A message that can never be stored — not JSON, not UTF-8, over ``MAX_MESSAGE_BYTES``, the wrong
shape, a run-start without its site, a document the corpus refuses — is a dead letter: moved in
one Redis transaction from the ingesting list to ``policywatch:items:dead`` (as JSON: reason,
time, size, the message), counted in ``policywatch:items:dead:count`` and in the corpus'
``dead_letters`` table (``policywatch status`` shows them), and on its run's record; the writer
goes on with the next message and never meets it again. A failure that is not the message's
fault — the disk full, the corpus locked or damaged, Redis gone — dead-letters nothing: the
writer stops (``IngestStopped``) and the message waits in the ingesting list for the next start.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from threading import Event
from types import SimpleNamespace
from typing import Any

import redis
import sqlite_utils

from crawlers.items.codec import MAX_MESSAGE_BYTES, decode, parse_message
from crawlers.parsing import clock
from crawlers.parsing.urls import canonical_url
from pipelines.knownurls import add_known, publish_known
from pipelines.redisqueue import INGESTING_KEY, ITEMS_KEY, decode_item
from pipelines.revisits import record_checks
from pipelines.runs import finish_run, start_run
from pipelines.schema import open_corpus
from pipelines.siterows import record_site_failure, record_site_success, upsert_site
from pipelines.store import run_status
from pipelines.storing import store_document

logger = logging.getLogger(__name__)

RUNS_KEY = "policywatch:ingest:runs"  # run key -> run id in the corpus (hash)
DEAD_KEY = "policywatch:items:dead"
DEAD_COUNT_KEY = "policywatch:items:dead:count"
MESSAGE_TYPES = ("run-start", "document", "run-end")
SITE_FIELDS = ("key", "name", "division_code", "level", "family", "domains")
HEAD_CHARS = 1000  # of a dead letter, kept in the corpus
DEAD_MESSAGE_CHARS = 1 << 20  # of an oversized dead letter, kept in Redis


class IngestStopped(RuntimeError):
    """The writer cannot go on for a reason that is not the message's (disk, corpus, Redis);
    the message stays queued for the next start."""


def _not_the_message(exc: BaseException) -> bool:
    """A failure of the machine, not of the message: storing it again later may work."""
    if isinstance(exc, (OSError, MemoryError, redis.RedisError)):
        return True
    # Locked, busy, full, I/O error, damaged file: the corpus' trouble. A constraint or a
    # value SQLite cannot hold is the message's.
    return isinstance(exc, sqlite3.DatabaseError) and not isinstance(
        exc, (sqlite3.IntegrityError, sqlite3.DataError))


@dataclass
class IngestReport:
    """What one ``ingest`` call stored."""

    messages: int = 0
    documents: dict[str, int] = field(default_factory=dict)  # new / revised / unchanged
    runs_finished: int = 0
    bad: int = 0  # dead letters


class Writer:
    """Stores the messages of ``policywatch:items`` into the corpus at ``db_path``."""

    def __init__(self, redis_client, db_path: Path):
        self.redis = redis_client
        self.db = open_corpus(db_path)
        self.report = IngestReport()
        self._kinds: dict[str, dict[str, int]] = {}
        self._dead: dict[str, int] = {}  # run key -> its dead letters
        # What incremental distributed crawls skip (pipelines.knownurls).
        publish_known(self.redis, self.db)

    def open_runs(self) -> int:
        """Runs started and not yet finished (a crawler is still sending)."""
        return self.redis.hlen(RUNS_KEY)

    def run(self, *, until_idle: float | None = None, stop: Event | None = None,
            poll: float = 1.0) -> IngestReport:
        """Store messages until ``stop`` is set, or — with ``until_idle`` — until no message came
        for that many seconds while no run is open."""
        for raw in self.redis.lrange(INGESTING_KEY, 0, -1)[::-1]:  # left behind by a dead writer
            logger.warning("storing a message a previous writer left unfinished")
            self._store(raw)
        idle_since = time.monotonic()
        while not (stop is not None and stop.is_set()):
            raw = self.redis.blmove(ITEMS_KEY, INGESTING_KEY, poll, "RIGHT", "LEFT")
            if raw is None:
                if until_idle is not None and time.monotonic() - idle_since >= until_idle \
                        and not self.open_runs():
                    break
                continue
            self._store(raw)
            idle_since = time.monotonic()
        return self.report

    def _store(self, raw: bytes) -> None:
        self.report.messages += 1
        message: Any = None
        try:
            message = parse_message(raw, MAX_MESSAGE_BYTES)  # tags decoded field by field
            kind = _check_message(message)
            if kind == "run-start":
                self._start(message)
            elif kind == "document":
                self._document(message)
            else:
                self._end(message)
        except Exception as exc:
            if _not_the_message(exc):
                raise IngestStopped(f"stopped: {type(exc).__name__}: {exc} (the message stays "
                                    "queued for the next start)") from None
            run = message.get("run") if isinstance(message, dict) else None
            self._dead_letter(raw, _reason(exc), run if isinstance(run, str) else None)
            return
        # Only now: the message's transaction has committed.
        self.redis.lrem(INGESTING_KEY, 1, raw)

    def _dead_letter(self, raw: bytes, reason: str, run: str | None) -> None:
        """Move ``raw`` from the ingesting list to the dead letters, in one Redis transaction,
        and record it in the corpus."""
        self.report.bad += 1
        at = clock.now().isoformat(timespec="seconds")
        text = raw[:DEAD_MESSAGE_CHARS].decode("utf-8", "backslashreplace")
        letter = {"reason": reason, "at": at, "size": len(raw), "run": run, "message": text,
                  "truncated": len(raw) > DEAD_MESSAGE_CHARS}
        pipe = self.redis.pipeline(transaction=True)
        pipe.lpush(DEAD_KEY, json.dumps(letter, ensure_ascii=False))
        pipe.incr(DEAD_COUNT_KEY)
        pipe.lrem(INGESTING_KEY, 1, raw)
        pipe.execute()
        # After Redis: a writer dying here undercounts one in the corpus, never loses the
        # message nor meets it again.
        with self.db.atomic():
            self.db.execute("INSERT INTO dead_letters (at, reason, run, size, head) VALUES (?, ?, ?, ?, ?)",
                            [at, reason, run, len(raw), text[:HEAD_CHARS]])
        if run is not None:
            self._dead[run] = self._dead.get(run, 0) + 1
        logger.error("dead letter (%d bytes%s): %s", len(raw), f", run {run}" if run else "", reason)

    def _run_id(self, run_key: str) -> int | None:
        value = self.redis.hget(RUNS_KEY, run_key)
        return int(value) if value is not None else None

    def _start(self, message: dict[str, Any]) -> None:
        run_key = message["run"]
        if self._run_id(run_key) is not None:
            return  # already opened (a message stored again after a writer died)
        declaration = message.get("site")
        missing = [f for f in SITE_FIELDS if not isinstance(declaration, dict) or f not in declaration]
        if missing:
            raise ValueError(f"run-start without the site's {', '.join(missing)}")
        if not all(isinstance(declaration[f], str) for f in SITE_FIELDS if f != "domains") or \
                not isinstance(declaration["domains"], list):
            raise ValueError("run-start with a site declaration of the wrong types")
        site = SimpleNamespace(enabled=bool(declaration.get("enabled", True)),
                               **{f: declaration[f] for f in SITE_FIELDS})
        upsert_site(self.db, site)
        started = datetime.fromisoformat(message["started_at"]) if message.get("started_at") else None
        run_id = start_run(self.db, site.key, message.get("kind") or "crawl", when=started)
        self.redis.hset(RUNS_KEY, run_key, run_id)
        logger.info("run %d opened for %s", run_id, run_key)

    def _document(self, message: dict[str, Any]) -> None:
        item = decode_item(decode(message.get("item")))
        run_id = self._run_id(message["run"])
        result = store_document(self.db, item, run_id)
        add_known(self.redis, item.site, canonical_url(item.url))
        published = item.published_date.isoformat() if item.published_date else None
        record_checks(self.db, [(item.url, published)], clock.now())
        kinds = self._kinds.setdefault(message["run"], {})
        kinds[result.kind] = kinds.get(result.kind, 0) + 1
        self.report.documents[result.kind] = self.report.documents.get(result.kind, 0) + 1

    def _end(self, message: dict[str, Any]) -> None:
        run_key = message["run"]
        run_id = self._run_id(run_key)
        if run_id is None:
            raise ValueError(f"run-end for {run_key}, which never started")
        counts = decode(message.get("counts") or {})
        if not isinstance(counts, dict) or not isinstance(counts.get("failed", {}), dict):
            raise ValueError("run-end with counts that are not an object")
        kinds = self._kinds.pop(run_key, {})
        for kind in ("new", "revised", "unchanged"):
            counts[kind] = kinds.get(kind, 0)
        counts["documents"] = sum(kinds.values())
        counts.setdefault("failed", {})
        counts.setdefault("blocked", 0)
        errors = decode(message.get("errors") or [])
        if not isinstance(errors, list):
            raise ValueError("run-end with errors that are not a list")
        dead = self._dead.pop(run_key, 0)
        if dead:  # documents of this run that never reached the corpus
            counts["failed"] = {**counts["failed"], "dead_letter": dead}
            errors.append({"reason": "dead_letter", "count": dead,
                           "message": f"see {DEAD_KEY} and policywatch status"})
        reason = message.get("reason") or "finished"
        if reason != "finished":
            errors.append({"reason": "finish_reason", "message": reason})
        status = run_status(counts, reason)
        finished = datetime.fromisoformat(message["finished_at"]) if message.get("finished_at") else None
        finish_run(self.db, run_id, counts, errors, status, when=finished)
        site = message.get("site")
        if site:
            if status in ("ok", "partial"):
                record_site_success(self.db, site)
            else:
                record_site_failure(self.db, site, f"distributed run {status}: {reason}")
        self.redis.hdel(RUNS_KEY, run_key)
        self.report.runs_finished += 1
        logger.info("run %d finished (%s): %s", run_id, status, kinds)

    def close(self) -> None:
        self.db.close()


def _check_message(message: Any) -> str:
    """A message's type, after checking the fields every message has; ``ValueError`` if not."""
    if not isinstance(message, dict):
        raise ValueError(f"a message is a JSON object, not a {type(message).__name__}")
    kind = message.get("type")
    if kind not in MESSAGE_TYPES:
        raise ValueError(f"unknown message type {str(kind)[:40]!r}")
    run = message.get("run")
    if not isinstance(run, str) or not run or len(run) > 300:
        raise ValueError(f"{kind} without a run key")
    return kind


def _reason(exc: Exception) -> str:
    """One line saying why a message was dead-lettered."""
    text = " ".join(str(exc).split())[:300]
    if isinstance(exc, (ValueError, KeyError)) and not isinstance(exc, sqlite3.Error):
        return text if not isinstance(exc, KeyError) else f"missing field {text}"
    return f"{type(exc).__name__}: {text}"


@dataclass(frozen=True)
class DeadLetters:
    """What ``policywatch status`` says of the writer's dead letters."""

    count: int
    last_at: str | None = None
    last_reason: str | None = None

    def line(self) -> str:
        last = f" (last: {self.last_at}, {self.last_reason}; kept in {DEAD_KEY})" if self.count else ""
        return f"dead letters: {self.count}{last}"

    def to_json(self) -> dict[str, Any]:
        return {"count": self.count, "last_at": self.last_at, "last_reason": self.last_reason}


def dead_letters(db: sqlite_utils.Database) -> DeadLetters:
    """The corpus' count of distributed-crawl messages the writer could not store, and the last."""
    count = db.execute("SELECT count(*) FROM dead_letters").fetchone()[0]
    last = db.execute("SELECT at, reason FROM dead_letters ORDER BY id DESC LIMIT 1").fetchone()
    return DeadLetters(count, *(last or (None, None)))


def dead_letter_line(db: sqlite_utils.Database) -> str | None:
    """``status``'s line on the corpus's dead letters; None when there are none."""
    found = dead_letters(db)
    return found.line() if found.count else None
