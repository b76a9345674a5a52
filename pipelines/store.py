"""StorePipeline: write each document into the corpus and record the run.

Settings: ``POLICYWATCH_DB`` (the corpus path, required), ``POLICYWATCH_RUN_ID`` (a run the
caller already started, for a one-site crawl; otherwise one is started when each site's crawl
starts), ``POLICYWATCH_RUN_KIND`` (crawl/backfill/demo, for a run started here). A site's run is
finished when its crawl ends, with the counts from its counters, whoever started it: only the
crawl process knows them.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any, Mapping

from scrapy import signals
from twisted.internet import task

from crawlers.items import PolicyItem
from crawlers.items.sitecrawls import sends_site_signals, site_closed, site_opened, stats_for
from pipelines.attachments import site_for
from pipelines.dropping import drop
from pipelines.health import crawl_worked
from pipelines.presence import record_observations
from pipelines.runs import RUN_HEARTBEAT, beat_run, beat_runs, finish_run, reap_dead_runs, start_run
from pipelines.schema import open_corpus
from pipelines.siterows import record_site_failure, record_site_success, upsert_site
from pipelines.storing import Refused, store_document
from pipelines.unwritable import CorpusUnwritable, stop_crawl, stopped_reason, unwritable_reason

logger = logging.getLogger(__name__)

PREFIX = "policywatch/"
DOCUMENT_STAT = PREFIX + "documents/{kind}"


def counts_from_stats(stats: Mapping[str, Any]) -> dict[str, Any]:
    """The run's counts from a crawl's stats: pages, documents (new/revised/unchanged, and
    volatile: unchanged but kept as a sighting), failed and dropped by reason, blocked,
    attachments fetched/failed."""
    def by_reason(group: str) -> dict[str, int]:
        prefix = f"{PREFIX}{group}/"
        return {k[len(prefix):]: v for k, v in sorted(stats.items()) if k.startswith(prefix)}

    new, revised, unchanged = (
        stats.get(DOCUMENT_STAT.format(kind=k), 0) for k in ("new", "revised", "unchanged")
    )
    return {
        "pages": stats.get("response_received_count", 0),
        "documents": new + revised + unchanged,
        "new": new,
        "revised": revised,
        "unchanged": unchanged,
        # Of the unchanged: fetches whose only differences were volatile (kept as sightings).
        "volatile": stats.get(DOCUMENT_STAT.format(kind="volatile"), 0),
        "failed": by_reason("failed"),
        "blocked": stats.get(PREFIX + "blocked", 0),
        "backoff": stats.get(PREFIX + "backoff", 0),
        "retries": stats.get("retry/count", 0),
        "revisits": by_reason("revisit"),
        "skipped": by_reason("skipped"),
        "dropped": by_reason("dropped"),
        "attachments": by_reason("attachments"),
    }


def errors_from_stats(stats: Mapping[str, Any], failures=()) -> list[dict[str, Any]]:
    """The run's errors: the site's refusals (``SiteCrawl.failures``: url, reason, message,
    stage) then Scrapy's own error counters (downloader and spider exceptions, logged errors)."""
    prefixes = ("downloader/exception_type_count/", "spider_exceptions/", "log_count/ERROR")
    counters = [{"reason": k, "count": v} for k, v in sorted(stats.items()) if k.startswith(prefixes)]
    return [dict(f) for f in failures] + counters


def run_status(counts: Mapping[str, Any], finish_reason: str) -> str:
    """ok, partial (some pages failed), failed (stopped early, or nothing but failures) or
    blocked (anti-bot pages and nothing else). A crawl whose lists showed documents already
    stored worked, even when it stored nothing: a quiet day of a site whose few broken or
    blocked pages are refused again is partial, not failed."""
    failed = sum(counts["failed"].values())
    worked = crawl_worked(counts)
    if finish_reason != "finished":
        return "failed"
    if counts["blocked"] and not worked:
        return "blocked"
    if failed and not worked:
        return "failed"
    if failed or counts["blocked"]:
        return "partial"
    return "ok"


class StorePipeline:
    """Store documents (new / revised / unchanged, counted in their site's counters) and record
    one run per site: started when the site's crawl starts (``site_opened``), finished when it
    ends (``site_closed``) with its counts, refusals and sightings."""

    def __init__(self, crawler, db_path: str, run_id: int | None, run_kind: str):
        self.crawler = crawler
        self.db_path = db_path
        self.preset_run = run_id  # a run the caller started: the one site's
        self.run_kind = run_kind
        self.db = None
        self.runs: dict[str, int] = {}  # site -> its running run
        self._upserted: set[str] = set()
        self._heartbeat: task.LoopingCall | None = None
        self._whole: _WholeCrawl | None = None  # a spider that is not policywatch's

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        db_path = settings.get("POLICYWATCH_DB")
        if not db_path:
            raise ValueError("POLICYWATCH_DB is not set: StorePipeline needs the corpus path")
        run_id = settings.getint("POLICYWATCH_RUN_ID") or None
        pipeline = cls(crawler, db_path, run_id, settings.get("POLICYWATCH_RUN_KIND", "crawl"))
        crawler.signals.connect(pipeline.site_opened, signal=site_opened)
        crawler.signals.connect(pipeline.site_closed, signal=site_closed)
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def open_spider(self) -> None:
        self.db = open_corpus(self.db_path)
        # A run left 'running' by a process that died is recorded killed before ours start.
        reap_dead_runs(self.db)
        self._heartbeat = task.LoopingCall(self._beat)
        self._heartbeat.start(RUN_HEARTBEAT.total_seconds(), now=False)
        logger.info("storing into %s", self.db_path)
        spider = self.crawler.spider
        if not sends_site_signals(spider):
            self._whole = _WholeCrawl(self.crawler, spider)
            if self._whole.key:
                self.site_opened(self._whole)

    def site_opened(self, crawl) -> None:
        key = crawl.key
        self._upsert_site(key, crawl.site)
        if self.preset_run is not None:
            run_id, self.preset_run = self.preset_run, None
            beat_run(self.db, run_id)
        else:
            run_id = start_run(self.db, key, self.run_kind)
        self.runs[key] = run_id
        logger.debug("%s: run %d", key, run_id)

    def _beat(self) -> None:
        try:
            beat_runs(self.db, list(self.runs.values()))
        except sqlite3.Error as exc:  # a full disk: the store itself will say so
            logger.warning("runs not marked alive (%s)", exc)

    def _upsert_site(self, key: str, site=None) -> None:
        if key in self._upserted:
            return
        self._upserted.add(key)
        site = site or site_for(self.crawler, key)
        if site is None:
            logger.warning("site %r is not declared; stored without its declaration", key)
        else:
            upsert_site(self.db, site)

    def process_item(self, item):
        if not isinstance(item, PolicyItem):
            return item
        stopped = stopped_reason(self.crawler)
        if stopped:
            # Not stored, and not dropped either: its list page stays pending for the resume.
            raise CorpusUnwritable(stopped)
        stats = stats_for(self.crawler, item.site)
        try:
            if item.site:
                self._upsert_site(item.site)
            result = store_document(self.db, item, self.runs.get(item.site) or self._any_run())
        except Refused as refused:
            drop(stats, refused.reason, refused.message)
        except sqlite3.Error as exc:
            reason = unwritable_reason(exc)
            if reason is None:
                raise
            stop_crawl(self.crawler, reason)
            raise CorpusUnwritable(reason) from exc
        stats.inc_value(DOCUMENT_STAT.format(kind=result.kind))
        if result.sighting_id is not None:  # unchanged, but new bytes: kept as a sighting
            stats.inc_value(DOCUMENT_STAT.format(kind="volatile"))
        logger.debug("%s %s (document %d)", result.kind, item.url, result.document_id)
        return item

    def _any_run(self) -> int | None:
        # An item of a site this crawl does not run (a hand-made item): the crawl's first run.
        return next(iter(self.runs.values()), None)

    def site_closed(self, crawl, reason: str) -> None:
        run_id = self.runs.pop(crawl.key, None)
        if self.db is None or run_id is None:
            return
        try:
            self._record_observations_if_possible(crawl, run_id)
            try:
                self._record_run(crawl, run_id, reason)
            except sqlite3.Error as exc:
                if unwritable_reason(exc) is None:
                    raise
                # A full write-ahead log may still fit into the database file: one more try.
                self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                self._record_run(crawl, run_id, reason)
        except sqlite3.Error as exc:
            if unwritable_reason(exc) is None:
                raise
            # The run stays 'running' with our pid: the next crawl or `status` records it killed.
            logger.error("run %d not recorded: %s", run_id, exc)

    def spider_closed(self, spider, reason: str) -> None:
        if self.db is None:  # the spider never opened (e.g. a start-up error)
            return
        if self._heartbeat is not None and self._heartbeat.running:
            self._heartbeat.stop()
        try:
            if self._whole is not None and self._whole.key:
                self.site_closed(self._whole, reason)
        finally:
            self.db.close()
            self.db = None

    def _record_observations_if_possible(self, crawl, run_id: int) -> None:
        try:
            self._record_observations(crawl, run_id)
        except sqlite3.Error as exc:
            if unwritable_reason(exc) is None:
                raise
            logger.error("run %d: sightings not recorded: %s", run_id, exc)

    def _record_run(self, crawl, run_id: int, reason: str) -> None:
        stats = crawl.stats.get_stats()
        counts = counts_from_stats(stats)
        status = run_status(counts, reason)
        # Which kind of crawl it was: the schedule finds a site's last sweep by it.
        counts["mode"] = crawl.mode
        errors = errors_from_stats(stats, crawl.failures)
        if reason != "finished":
            errors.append({"reason": "finish_reason", "message": reason})
        unwritable = stopped_reason(self.crawler)
        if unwritable:
            errors.append({"reason": "corpus_unwritable", "message": unwritable})
        finish_run(self.db, run_id, counts, errors, status)
        key = crawl.key
        if status in ("ok", "partial"):
            record_site_success(self.db, key)
        else:
            record_site_failure(self.db, key, _failure_reason(status, counts, reason, unwritable))

    def _record_observations(self, crawl, run_id: int) -> None:
        """Hand the site's sightings (present, gone, listed) to the corpus, which records
        absences and the withdrawals that are due. ``POLICYWATCH_CHECK_DAY`` (YYYY-MM-DD) names
        the check day when it is not today (the demo replays several days in minutes)."""
        seen = crawl.observations
        if seen is None:
            return
        key = crawl.key
        result = record_observations(
            self.db, key, run_id, present=seen.present, gone=seen.gone,
            listed=seen.listed, complete=seen.complete_columns, oldest=seen.oldest,
            day=self.crawler.settings.get("POLICYWATCH_CHECK_DAY") or None,
        )
        crawl.stats.set_value(PREFIX + "observed/absent", result.absent)
        crawl.stats.set_value(PREFIX + "observed/withdrawn", len(result.withdrawn))
        if result.withdrawn or result.moved or result.restored:
            logger.info("%s: %d withdrawn, %d moved, %d restored", key,
                        len(result.withdrawn), len(result.moved), len(result.restored))


class _WholeCrawl:
    """A spider that is not policywatch's (a test's, a tool's) as one site's crawl: its ``site``
    (or ``site_key``), the crawler's counters, its ``failures`` and ``observations`` if any."""

    def __init__(self, crawler, spider) -> None:
        site = getattr(spider, "site", None)
        self.site = site if hasattr(site, "key") else None
        self.key = self.site.key if self.site is not None else (site or getattr(spider, "site_key", None))
        self.mode = getattr(spider, "mode", None)
        self.stats = crawler.stats
        self.failures = getattr(spider, "failures", [])
        self.observations = getattr(spider, "observations", None)


def _failure_reason(status: str, counts: Mapping[str, Any], finish_reason: str,
                    unwritable: str | None = None) -> str:
    if unwritable:
        return f"the corpus cannot be written: {unwritable}"
    if status == "blocked":
        return f"blocked on {counts['blocked']} page(s)"
    if finish_reason != "finished":
        return f"crawl stopped: {finish_reason}"
    failed = ", ".join(f"{k}={v}" for k, v in counts["failed"].items())
    return f"no documents; failed: {failed}"
