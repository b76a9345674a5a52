"""What an incremental crawl needs to know before it starts, and what it records after.

A daily crawl reads a column's list pages only until a page holds nothing new, fetches only new
detail pages, and re-checks known documents on a revisit schedule: recent documents often, old
ones rarely, at most a budget of them per site per run, with conditional requests (ETag /
Last-Modified) so an unchanged page costs a 304. Its cost grows with what is new, not with the
size of the archive.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import zlib
from datetime import date, datetime, timedelta, timezone

import sqlite_utils
from scrapy import signals

from crawlers.items import PolicyItem, Revisit
from crawlers.items.sitecrawls import stats_for
from crawlers.items.state import CrawlState, DueRevisit
from crawlers.parsing import clock
from crawlers.parsing.urls import canonical_url
from pipelines.health import last_sweeps
from pipelines.schema import open_corpus
from pipelines.unwritable import stop_crawl, unwritable_reason
from pipelines.values import decompress_raw

logger = logging.getLogger(__name__)

# Age of a document (by its publication date) → how long until it is checked again.
REVISIT_STEPS = (
    (timedelta(days=30), timedelta(days=1)),
    (timedelta(days=365), timedelta(days=7)),
)
REVISIT_OLD = timedelta(days=30)
# A document is due again this much before its interval has passed: a daily round starts at
# the same hour each day, a little before the moment its page was checked the day before.
REVISIT_EARLY = timedelta(hours=6)
DEFAULT_BUDGET = 30


def revisit_interval(published: date | str | None, now: datetime) -> timedelta:
    """How long until a document is checked again: daily while it is a month old, weekly in
    its first year, monthly after (and monthly when its date is unknown)."""
    if isinstance(published, str):
        try:
            published = date.fromisoformat(published[:10])
        except ValueError:
            published = None
    if published is None:
        return REVISIT_OLD
    age = now.date() - published
    for limit, interval in REVISIT_STEPS:
        if age <= limit:
            return interval
    return REVISIT_OLD


def _header(headers: dict[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def load_crawl_state(db: sqlite_utils.Database, site: str, now: datetime,
                     budget: int = DEFAULT_BUDGET, backfill: bool = False) -> CrawlState:
    """Known URLs of ``site``, the revisits due at ``now`` (oldest due first, at most
    ``budget``), and for a backfill the pages an unfinished earlier backfill left pending."""
    if "documents" not in db.table_names():
        return CrawlState()
    known = frozenset(r[0] for r in db.execute("select url from documents where site = ?", [site]))
    due: list[DueRevisit] = []
    if budget > 0:
        rows = db.execute(
            """select d.url, v.headers, d."column", v.raw, v.attachment_hashes from documents d
               left join versions v on v.id = d.current_version_id
               where d.site = ? and (d.next_check_at is null or d.next_check_at <= ?)
               order by d.next_check_at is not null, d.next_check_at, d.id
               limit ?""",
            [site, now.astimezone(timezone.utc).isoformat(timespec="seconds"), budget],
        ).fetchall()
        for url, headers_json, column, raw, attachment_hashes in rows:
            headers = json.loads(headers_json or "{}")
            due.append(DueRevisit(url, _header(headers, "etag"), _header(headers, "last-modified"),
                                  column, _body_sha1(raw, attachment_hashes)))
    pending: dict[str, list[dict]] = {}
    if backfill:
        for row in db.query(
            """select "column", url, method, formdata, page from backfill_pages
               where site = ? and state = 'pending' order by page, id""", [site]):
            pending.setdefault(row["column"], []).append(
                {"url": row["url"], "method": row["method"], "formdata": json.loads(row["formdata"]),
                 "page": row["page"]})
    return CrawlState(known=known, due=tuple(due), pending_pages=pending)


def _body_sha1(raw: bytes | None, attachment_hashes: str | None) -> str | None:
    """The SHA-1 of a version's stored response bytes, when it links no files (whose bytes may
    change behind the same page), else None."""
    if not raw or (attachment_hashes or "{}").strip() not in ("{}", ""):
        return None
    try:
        return hashlib.sha1(decompress_raw(raw)).hexdigest()
    except zlib.error:
        return None


def record_checks(db: sqlite_utils.Database, checks: list[tuple[str, str | None]], now: datetime) -> int:
    """Mark documents (url, published_date) as checked at ``now`` and schedule their next
    revisit; returns how many documents were updated. One transaction."""
    stamp = now.astimezone(timezone.utc).isoformat(timespec="seconds")
    updated = 0
    with db.atomic():
        for url, published in checks:
            interval = revisit_interval(published, now)
            next_at = (now + interval - min(REVISIT_EARLY, interval / 4)).astimezone(timezone.utc)
            # Checked and there: seen too (a 304 or the same bytes is stored as nothing else).
            cursor = db.execute(
                "update documents set last_checked = ?, next_check_at = ?, "
                "last_seen = max(last_seen, ?) where url = ?",
                [stamp, next_at.isoformat(timespec="seconds"), stamp, url])
            updated += cursor.rowcount
    return updated


def crawl_state_for(crawl, now: datetime) -> tuple[CrawlState, "BackfillCheckpoint | None"]:
    """What the corpus tells a site's crawl when it starts (the engine's
    ``POLICYWATCH_CRAWL_STATE``; ``crawl`` has the site, its mode, revisit budget, settings and
    crawler): its known URLs and due revisits, and for a backfill its pending list pages and the
    checkpoint they are recorded in. A full crawl is told nothing."""
    if crawl.mode == "full":
        return CrawlState(), None
    db_path = crawl.settings.get("POLICYWATCH_DB")
    budget = crawl.revisit_budget if crawl.revisit_budget is not None else \
        crawl.settings.getint("POLICYWATCH_REVISIT_BUDGET", DEFAULT_BUDGET)
    backfill = crawl.mode == "backfill"
    checkpoint = None
    if backfill:
        checkpoint = BackfillCheckpoint(db_path, crawl.site.key, crawl.crawler)
        checkpoint.reset_if_complete([c.name for c in crawl.site.columns])
    db = _state_reader(crawl.crawler, db_path)
    return load_crawl_state(db, crawl.site.key, now, budget=budget, backfill=backfill), checkpoint


def _state_reader(crawler, db_path: str) -> sqlite_utils.Database:
    """One connection to the corpus for every site's crawl state in a crawler, opened (and
    migrated, once) when the first site starts and closed with the spider: opening the corpus
    costs a few milliseconds, a site's state a fraction of one."""
    db = getattr(crawler, "policywatch_state_reader", None)
    if db is None:
        db = open_corpus(db_path)
        crawler.policywatch_state_reader = db

        def close(spider=None, reason=None) -> None:
            crawler.policywatch_state_reader = None
            db.close()

        crawler.signals.connect(close, signal=signals.spider_closed, weak=False)
    return db


class BackfillCheckpoint:
    """The backfill's progress in the corpus: which list pages were discovered and which are
    done (every entry stored or deliberately refused: ``crawlers.engine.pageledger``). A page is
    marked done only after its documents were stored, so a backfill killed at any moment resumes
    from its pending pages and loses nothing. A write the corpus refuses for good (a full disk)
    stops the crawl (``crawler``) and leaves the page as it was."""

    def __init__(self, db_path: str, site: str, crawler=None):
        self.db = open_corpus(db_path)
        self.site = site
        self.crawler = crawler

    def _write(self, sql: str, params: list) -> bool:
        try:
            with self.db.atomic():
                self.db.execute(sql, params)
            return True
        except sqlite3.Error as exc:
            reason = unwritable_reason(exc)
            if reason is None:
                raise
            if self.crawler is not None:
                stop_crawl(self.crawler, reason)
            else:
                logger.error("backfill checkpoint not written: %s", reason)
            return False

    def reset_if_complete(self, columns: list[str]) -> None:
        """A finished backfill leaves no pending pages: a new one starts from the first page."""
        with self.db.atomic():
            for column in columns:
                pending = self.db.execute(
                    """select count(*) from backfill_pages where site = ? and "column" = ?
                       and state = 'pending'""", [self.site, column]).fetchone()[0]
                if not pending:
                    self.db.execute('delete from backfill_pages where site = ? and "column" = ?',
                                    [self.site, column])

    def discovered(self, column: str, url: str, method: str, formdata: dict, page: int) -> bool:
        """Record a list page as pending (unless known); False when the corpus refused."""
        return self._write(
            """insert or ignore into backfill_pages
               (site, "column", url, method, formdata, page, discovered_at)
               values (?, ?, ?, ?, ?, ?, ?)""",
            [self.site, column, url, method, json.dumps(formdata, sort_keys=True), page,
             clock.now().isoformat(timespec="seconds")])

    def done(self, column: str, url: str, formdata: dict, entries: int) -> bool:
        """Mark a list page done; False when the corpus refused (it stays pending)."""
        return self._write(
            """update backfill_pages set state = 'done', entries = ?, done_at = ?
               where site = ? and "column" = ? and url = ? and formdata = ?""",
            [entries, clock.now().isoformat(timespec="seconds"), self.site,
             column, url, json.dumps(formdata, sort_keys=True)])

    def close(self) -> None:
        self.db.close()


class RevisitPipeline:
    """After the store: every document fetched (stored, unchanged or 304) gets its next revisit
    time. Runs last; checks are written in batches (a lost batch only means an earlier revisit)."""

    BATCH = 100

    def __init__(self, crawler, db_path: str):
        self.crawler = crawler
        self.db_path = db_path
        self.pending: list[tuple[str, str | None]] = []
        self.db = None
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler, crawler.settings.get("POLICYWATCH_DB"))

    def process_item(self, item):
        if isinstance(item, PolicyItem):
            published = item.published_date.isoformat() if item.published_date else None
            self.pending.append((_canonical(item.url), published))
        elif isinstance(item, Revisit):
            self.pending.append((_canonical(item.url), None))
        else:
            return item
        # Counted for the item's site now: the batch is written later, for many sites at once.
        stats_for(self.crawler, item.site).inc_value("policywatch/revisit/scheduled")
        if len(self.pending) >= self.BATCH:
            self.flush()
        return item

    def flush(self) -> None:
        if not self.pending or not self.db_path:
            return
        try:
            self._flush()
        except sqlite3.Error as exc:
            reason = unwritable_reason(exc)
            if reason is None:
                raise
            stop_crawl(self.crawler, reason)
            self.pending = []  # a lost batch only means an earlier revisit

    def _flush(self) -> None:
        if self.db is None:
            self.db = open_corpus(self.db_path)
        # A 304 carries no date: keep the document's own for the interval.
        checks = []
        for url, published in self.pending:
            if published is None:
                row = self.db.execute("select published_date from documents where url = ?", [url]).fetchone()
                published = row[0] if row else None
            checks.append((url, published))
        record_checks(self.db, checks, clock.now())
        self.pending = []

    def spider_closed(self, spider, reason: str) -> None:
        self.flush()
        if self.db is not None:
            self.db.close()
            self.db = None


def _canonical(url: str) -> str:
    try:
        return canonical_url(url)
    except ValueError:
        return url


def sites_due_a_sweep(db: sqlite_utils.Database, sites: list[str], every_days: int,
                      now: datetime) -> set[str]:
    """The sites whose last sweep that did not fail (``runs.counts`` says ``mode: sweep``)
    started ``every_days`` or more ago — half a day's slack, so a daily job that starts a few
    minutes earlier than last week still sweeps. A site never swept has its own day in the
    period (by its key), so that a new corpus does not sweep every site on one day. Empty when
    ``every_days`` is 0."""
    if every_days <= 0 or not sites:
        return set()
    last = last_sweeps(db, sites)
    cutoff = now - timedelta(days=every_days) + timedelta(hours=12)
    today = now.date().toordinal() % every_days
    return {site for site in sites
            if (zlib.crc32(site.encode()) % every_days == today if last.get(site) is None
                else datetime.fromisoformat(last[site]) <= cutoff)}
