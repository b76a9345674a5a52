"""The one writer of a distributed crawl: documents and run records from Redis into the corpus.

``policywatch ingest --redis URL`` takes the messages the crawler processes pushed
(``pipelines.redisqueue``) in the order each sent them and stores them as a local crawl would:
``run-start`` opens a run in ``runs`` (and upserts the site), each ``document`` is stored with
``store_document`` (one transaction; a document already stored and unchanged adds nothing), and
``run-end`` finishes the run with the worker's counts and refusals plus the new / revised /
unchanged counts only the writer knows.

A message is moved to ``policywatch:items:ingesting`` while it is stored and removed after its
transaction committed; a writer that dies mid-way finds it there when it starts again and stores
it then (storing is idempotent), so nothing is lost. A message that cannot be stored (bad JSON,
a refused document) is logged and counted, never retried for ever.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from threading import Event
from types import SimpleNamespace
from typing import Any

from .corpus import (
    Refused, canonical_url, finish_run, open_corpus, record_site_failure, record_site_success,
    start_run, store_document, upsert_site,
)
from .knownurls import add_known, publish_known
from .redisqueue import INGESTING_KEY, ITEMS_KEY, _decode, decode_item
from .revisits import record_checks
from .store import run_status

logger = logging.getLogger(__name__)

RUNS_KEY = "policywatch:ingest:runs"  # run key -> run id in the corpus (hash)


@dataclass
class IngestReport:
    """What one ``ingest`` call stored."""

    messages: int = 0
    documents: dict[str, int] = field(default_factory=dict)  # new / revised / unchanged
    runs_finished: int = 0
    bad: int = 0


class Writer:
    """Stores the messages of ``policywatch:items`` into the corpus at ``db_path``."""

    def __init__(self, redis_client, db_path: Path):
        self.redis = redis_client
        self.db = open_corpus(db_path)
        self.report = IngestReport()
        self._kinds: dict[str, dict[str, int]] = {}
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
        try:
            message = json.loads(raw)
            kind = message.get("type")
            if kind == "run-start":
                self._start(message)
            elif kind == "document":
                self._document(message)
            elif kind == "run-end":
                self._end(message)
            else:
                raise ValueError(f"unknown message type {kind!r}")
        except (ValueError, KeyError, TypeError, Refused) as exc:
            self.report.bad += 1
            logger.error("message not stored: %s (%s)", exc, raw[:200])
        # Only now: the message's transaction has committed (or it can never be stored).
        self.redis.lrem(INGESTING_KEY, 1, raw)

    def _run_id(self, run_key: str) -> int | None:
        value = self.redis.hget(RUNS_KEY, run_key)
        return int(value) if value is not None else None

    def _start(self, message: dict[str, Any]) -> None:
        run_key = message["run"]
        if self._run_id(run_key) is not None:
            return  # already opened (a message stored again after a writer died)
        declaration = message.get("site")
        site_key = None
        if declaration:
            site = SimpleNamespace(**declaration)
            site_key = site.key
            upsert_site(self.db, site)
        started = datetime.fromisoformat(message["started_at"]) if message.get("started_at") else None
        run_id = start_run(self.db, site_key, message.get("kind") or "crawl", when=started)
        self.redis.hset(RUNS_KEY, run_key, run_id)
        logger.info("run %d opened for %s", run_id, run_key)

    def _document(self, message: dict[str, Any]) -> None:
        item = decode_item(message["item"])
        run_id = self._run_id(message["run"])
        result = store_document(self.db, item, run_id)
        add_known(self.redis, item.site, canonical_url(item.url))
        published = item.published_date.isoformat() if item.published_date else None
        record_checks(self.db, [(item.url, published)], datetime.now().astimezone())
        kinds = self._kinds.setdefault(message["run"], {})
        kinds[result.kind] = kinds.get(result.kind, 0) + 1
        self.report.documents[result.kind] = self.report.documents.get(result.kind, 0) + 1

    def _end(self, message: dict[str, Any]) -> None:
        run_key = message["run"]
        run_id = self._run_id(run_key)
        if run_id is None:
            raise ValueError(f"run-end for {run_key}, which never started")
        counts = _decode(message.get("counts") or {})
        kinds = self._kinds.pop(run_key, {})
        for kind in ("new", "revised", "unchanged"):
            counts[kind] = kinds.get(kind, 0)
        counts["documents"] = sum(kinds.values())
        counts.setdefault("failed", {})
        counts.setdefault("blocked", 0)
        errors = _decode(message.get("errors") or [])
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
