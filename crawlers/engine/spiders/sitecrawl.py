"""One site's crawl: its columns → list pages → detail pages → PolicyItems.

A ``SiteCrawl`` is the part of a crawl that belongs to one site: its plan (full, incremental,
sweep or backfill: ``crawlers.engine.crawlplan``), its counters, its refusals, its sightings and
its backfill checkpoint. The spider (``crawlers.engine.spiders.policy``) runs many of them at
once and hands each its responses; every page goes to the site's CMS-family adapter (pure),
parsed in the parse pool. Every refusal (a WAF page, an error page, a page that is not a
document) is counted under ``policywatch/failed/<reason>`` and kept in ``failures`` for the run
record. Every request carries the site's key (``SITE_META``), so the spider, the middlewares and
the pipelines know whose it is.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from scrapy.exceptions import IgnoreRequest
from scrapy.http import FormRequest, Request, Response
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.misc import load_object
from twisted.python.failure import Failure

from crawlers.engine.crawlplan import CrawlPlan, canonical
from crawlers.engine.middlewares import OffsiteRedirect, Unreachable
from crawlers.engine.observations import Observations
from crawlers.engine.pageledger import PageLedger
from crawlers.engine.progressline import (
    ANSWERED,
    LIST_BEFORE,
    LIST_FAILED,
    LIST_READ,
    LIST_REQUESTED,
    LISTED,
    QUEUED,
)
from crawlers.engine.search_discovery import parse_results, search_pages
from crawlers.engine.sitestats import SiteStats
from crawlers.families import get_family
from crawlers.items import Attachment, ListEntry, PageRequest, PolicyItem, Revisit
from crawlers.items.sitecrawls import SITE_META
from crawlers.items.state import CrawlState
from crawlers.parsing import clock
from crawlers.parsing.blocks import detect_block
from crawlers.parsing.detail import ParseError
from crawlers.sites.spec import Column, Site

# Links that go straight to a file rather than to a page about it.
FILE_EXTENSIONS = ("pdf", "doc", "docx", "wps", "ofd", "xls", "xlsx", "et", "zip", "rar")
MAX_FAILURES_KEPT = 200
# Detail pages go before the next list page: the frontier then holds about one list page of
# entries, however long the archive (a backfill does not queue the whole column in memory).
DETAIL_PRIORITY = 1
BACKFILL_MAX_PAGES = 1_000_000  # no limit in practice: an archive ends where its pages end
# A detail page's refusal that is final: the page is gone or is not ours to fetch. Any other
# failure (a time-out, a server error, a WAF page) may pass: its list page stays pending.
FINAL_HTTP_STATUSES = frozenset({400, 401, 404, 410, 451})
SAME_BYTES = "policywatch_body_sha1"  # a revisit's meta: the SHA-1 of its version's bytes


class SiteCrawl:
    """One site's crawl inside ``spider``. ``mode`` is full, incremental, sweep or backfill;
    ``max_pages`` caps the list pages read per column; ``since``/``until`` bound a backfill.
    The requests it makes call back the spider, which hands the response back here (by the
    request's ``SITE_META``): a callback is a spider method, so a request can be queued as JSON."""

    def __init__(self, spider, site: Site, *, offload=None, max_pages: int | None = None,
                 mode: str = "full", since: date | None = None, until: date | None = None,
                 revisit_budget: int | None = None):
        self.spider = spider
        self.crawler = spider.crawler
        self.settings = spider.settings
        self.offload = offload
        self.site = site
        self.key = site.key
        self.family = get_family(site.family)
        self.max_pages = max_pages
        self.mode = mode
        self.plan = CrawlPlan(mode=mode, since=since, until=until)
        self.revisit_budget = revisit_budget
        self.stats = SiteStats()
        self.logger = logging.getLogger(f"policy:{site.key}")
        self.failures: list[dict[str, str]] = []
        # Pages seen present, gone and listed: what withdrawal detection needs (StorePipeline).
        self.observations = Observations()
        self.checkpoint = None  # backfill: pipelines.revisits.BackfillCheckpoint
        self.ledger: PageLedger | None = None  # backfill: when a list page is done
        self._list_pages: set[tuple] = set()  # list pages requested in this run

    # --- requests -----------------------------------------------------------------------
    async def start(self):
        if self.site.blocked_reason:
            # Listed, never crawled: the registry says why (robots.txt forbids the column...).
            self._fail(self.site.columns[0].url, "not_crawled", self.site.blocked_reason, "list")
            return
        state = self._crawl_state() if self.mode != "full" else CrawlState()
        self.plan.known = state.known
        for column in self.site.columns:
            pending = state.pending_pages.get(column.name)
            if pending:
                self.logger.info("resuming the backfill of %s at %d pending list page(s)",
                                 column.name, len(pending))
                # The pages before the first pending one were read by an earlier run.
                self.stats.inc_value(LIST_BEFORE, min(p["page"] for p in pending) - 1)
                # All of them first: the one before a pending page links to it too, and
                # a page is read once a run (``_list_request``).
                requests = [self._list_request(PageRequest(
                    url=page["url"], method=page["method"], page=page["page"],
                    formdata=tuple(sorted(page["formdata"].items())),
                    browser=self.site.needs_browser), column) for page in pending]
                for request in requests:
                    if request is not None:
                        yield request
            else:
                first = self.family.first_page(self.site, column)
                if self._discovered(column, first):
                    request = self._list_request(first, column)
                    if request is not None:
                        yield request
        # Keyword discovery: the site's own search, asked for 元宇宙 and related terms.
        for found in search_pages(self.site):
            yield self._search_request(found.term, found.request)
        if self.mode in ("incremental", "sweep"):
            for due in state.due:
                yield Request(
                    due.url, callback=self.spider.parse_detail, errback=self.spider.on_error,
                    headers=due.conditional_headers(),
                    cb_kwargs={"column": due.column, "entry": ListEntry(url=due.url, title="")},
                    meta={**self._meta(), "handle_httpstatus_list": [304], "policywatch_revisit": True,
                          SAME_BYTES: due.body_sha1},
                    dont_filter=True,
                )
                self.stats.inc_value("policywatch/revisit/requested")
                self.stats.inc_value(QUEUED)

    def _crawl_state(self) -> CrawlState:
        """What the corpus tells this site's crawl, from the loader the settings name
        (``POLICYWATCH_CRAWL_STATE``, the corpus' ``pipelines.revisits.crawl_state_for``); a
        backfill also gets the checkpoint its list pages are recorded in."""
        load = load_object(self.settings["POLICYWATCH_CRAWL_STATE"])
        state, checkpoint = load(self, clock.now())
        if checkpoint is not None:
            self.checkpoint = checkpoint
            self.ledger = PageLedger(self._page_done)
        return state

    def _meta(self, browser: bool = False) -> dict[str, Any]:
        meta: dict[str, Any] = {SITE_META: self.key}
        if not self.site.politeness.obey_robots:
            meta["dont_obey_robotstxt"] = True
        if browser:
            meta["playwright"] = True
            # Script-rendered lists arrive after "load": wait until the page stops fetching.
            meta["playwright_page_goto_kwargs"] = {"wait_until": "networkidle"}
        return meta

    def _list_request(self, page: PageRequest, column: Column) -> Request | None:
        """The request for a list page, or None when this run already asked for it."""
        key = self._list_key(column, page)
        if key in self._list_pages:
            return None
        self._list_pages.add(key)
        self.observations.list_requested(column.name)
        self.stats.inc_value(LIST_REQUESTED)
        kwargs = dict(
            callback=self.spider.parse_list,
            errback=self.spider.on_error,
            cb_kwargs={"column": column, "page": page},
            meta=self._meta(page.browser),
            # A Hanweb feed's pages differ only in the query; pages are never duplicates.
            dont_filter=True,
        )
        if page.method == "POST":
            return FormRequest(page.url, formdata=dict(page.formdata), **kwargs)
        return Request(page.url, **kwargs)

    # --- callbacks ----------------------------------------------------------------------
    async def parse_list(self, response: Response, column: Column, page: PageRequest):
        stats = self.stats
        stats.inc_value("policywatch/pages/list")
        headers = response.headers.to_unicode_dict()
        verdict = detect_block(response.status, headers, response.body)
        if verdict is not None:
            self.observations.list_failed(column.name)
            self._fail(response.url, "blocked" if verdict.is_block else verdict.kind,
                       f"{verdict.kind}: {verdict.evidence}", "list")
            stats.inc_value(LIST_READ)
            return
        try:
            listing = await self.offload.parse_list(self.site, self._walked(column), page,
                                                    response.body, headers)
        except ParseError as exc:
            self.observations.list_failed(column.name)
            self._fail(response.url, exc.reason, exc.message, "list")
            stats.inc_value(LIST_READ)
            return
        if not listing.entries:
            self._fail(response.url, "empty_list", "no entries found on the list page", "list")
        if listing.total_pages:
            stats.max_value(f"policywatch/pages/total/{column.name}", listing.total_pages)
        on_site = []
        for entry in listing.entries:
            if self.site.allows_url(entry.url):
                on_site.append(entry)
            else:
                stats.inc_value("policywatch/skipped/offsite")
        decision = self.plan.decide(on_site)
        stats.inc_value("policywatch/skipped/known", decision.skipped_known)
        stats.inc_value("policywatch/skipped/out_of_dates", decision.skipped_dates)
        page_key = self._list_key(column, page)
        if self.ledger is not None:
            # Entries asked for in this run, by this page or an earlier one: the page waits
            # for each; the known, out-of-dates and off-site ones are settled already.
            self.ledger.listed(page_key, len(listing.entries), {
                url for url in (canonical(e.url) for e in on_site) if url in self.plan.requested})
        stats.inc_value(LISTED, len(decision.fetch))
        stats.inc_value(QUEUED, len(decision.fetch))
        for entry in decision.fetch:
            meta = self._meta()
            meta["policywatch_entry"] = canonical(entry.url)
            if _is_file_url(entry.url):
                # The entry is the file itself: it may be as big as an attachment may be.
                meta["download_maxsize"] = self.settings.getint("POLICYWATCH_ATTACHMENT_MAX_BYTES")
            yield Request(
                entry.url,
                callback=self.spider.parse_detail,
                errback=self.spider.on_error,
                cb_kwargs={"column": column.name, "entry": entry},
                meta=meta,
                priority=DETAIL_PRIORITY,
            )
        limit = self._walked(column).max_pages
        self.observations.list_read(column.name, page.page, listing.entries, pages_left_out=any(
            not decision.follow_next or p.page > limit for p in listing.next_pages))
        recorded = True
        if decision.follow_next:
            for next_page in listing.next_pages:
                if next_page.page <= limit:
                    if not self._discovered(column, next_page):
                        recorded = False
                        continue
                    request = self._list_request(next_page, column)
                    if request is not None:
                        yield request
        else:
            stats.inc_value("policywatch/pages/stopped_early")
        if self.ledger is not None and recorded:
            self.ledger.parsed(page_key)
        stats.inc_value(LIST_READ)  # after its next pages were asked for: progress sees them pending

    def _search_request(self, term: str, page: PageRequest) -> Request:
        return Request(page.url, callback=self.spider.parse_search, errback=self.spider.on_error,
                       cb_kwargs={"term": term, "page": page}, meta=self._meta(page.browser),
                       dont_filter=True)

    def parse_search(self, response: Response, term: str, page: PageRequest):
        """A site-search result page: its links on the site's domains become detail requests
        (see ``crawlers.engine.search_discovery``); a term with no results is not a failure."""
        stats = self.stats
        stats.inc_value("policywatch/pages/search")
        headers = response.headers.to_unicode_dict()
        verdict = detect_block(response.status, headers, response.body)
        if verdict is not None:
            self._fail(response.url, "blocked" if verdict.is_block else verdict.kind,
                       f"{verdict.kind}: {verdict.evidence}", "search")
            return
        try:
            listing = parse_results(self.site, term, page, response.body, headers)
        except ParseError as exc:
            self._fail(response.url, exc.reason, exc.message, "search")
            return
        stats.inc_value("policywatch/search/results", len(listing.entries))
        fetch = self.plan.decide(listing.entries).fetch
        stats.inc_value(QUEUED, len(fetch))
        for entry in fetch:
            meta = {**self._meta(), "policywatch_entry": canonical(entry.url)}
            yield Request(entry.url, callback=self.spider.parse_detail, errback=self.spider.on_error,
                          cb_kwargs={"column": f"站内搜索：{term}", "entry": entry}, meta=meta,
                          priority=DETAIL_PRIORITY)
        for following in listing.next_pages:
            yield self._search_request(term, following)

    async def parse_detail(self, response: Response, column: str | None, entry: ListEntry):
        """A detail page → a PolicyItem; the parse itself runs in a worker process while the
        reactor goes on fetching (``self.offload``)."""
        stats = self.stats
        stats.inc_value("policywatch/pages/detail")
        stats.inc_value(ANSWERED)
        fetched_at = clock.now()
        if response.status == 304:  # a conditional revisit: the page has not changed
            stats.inc_value("policywatch/revisit/not_modified")
            self.observations.detail_present(response.url)
            yield Revisit(url=response.url, site=self.site.key, status=304)
            return
        if _same_bytes(response):  # answered 200 with what its current version was read from
            stats.inc_value("policywatch/revisit/same_bytes")
            stats.inc_value("policywatch/documents/unchanged")
            self.observations.detail_present(response.url)
            yield Revisit(url=response.url, site=self.site.key, status=response.status)
            return
        headers = response.headers.to_unicode_dict()
        if _is_file(response, entry.url):
            self.observations.detail_present(response.url, entry.url)
            yield self._file_document(response, column, entry, fetched_at)
            return
        try:
            item = await self.offload.parse_detail(self.site, response.url, response.body, headers,
                                                   fetched_at)
        except ParseError as exc:
            # Read and refused (not a document, an error page...): that entry's fate is final.
            self._fail(response.url, exc.reason, exc.message, "detail", response.meta, final=True)
            return
        item.column = column
        item.http_status = response.status
        # The list page's date and title are weaker than the page's own, but better than none.
        if item.published_date is None and entry.published_date is not None:
            item.published_date = entry.published_date
            item.provenance["published_date"] = "list"
        stats.inc_value("policywatch/items")
        self.observations.detail_present(response.url, entry.url)
        yield item

    def _file_document(self, response: Response, column: str | None, entry: ListEntry,
                       fetched_at: datetime) -> PolicyItem:
        """A list entry that links straight to a PDF/DOC: the file is the document."""
        self.stats.inc_value("policywatch/items")
        return PolicyItem(
            url=response.url,
            site=self.site.key,
            title=entry.title,
            published_date=entry.published_date,
            attachments=[Attachment(
                url=response.url, name=entry.title, data=response.body,
                content_type=response.headers.get("Content-Type", b"").decode("latin-1") or None,
            )],
            column=column,
            fetched_at=fetched_at,
            http_status=response.status,
            http_headers=response.headers.to_unicode_dict(),
            provenance={"title": "list", "published_date": "list"},
            text_source="attachment_pending",
        )

    def on_error(self, failure: Failure):
        request = failure.request
        stage = "list" if request.callback == self.spider.parse_list else "detail"
        meta = request.meta if stage == "detail" else None
        if stage == "list":
            self.observations.list_failed(request.cb_kwargs["column"].name)
            self.stats.inc_value(LIST_FAILED)
        elif request.callback == self.spider.parse_detail:
            self.stats.inc_value(ANSWERED)
        if failure.check(HttpError):
            response = failure.value.response
            if request.callback == self.spider.parse_detail:
                self.observations.detail_failed(request.url, response.status)
            verdict = detect_block(response.status, response.headers.to_unicode_dict(), response.body)
            if verdict is not None and verdict.is_block:
                self._fail(request.url, "blocked", f"{verdict.kind}: {verdict.evidence}", stage, meta)
            else:
                self._fail(request.url, f"http_{response.status}", f"HTTP {response.status}", stage, meta,
                           final=response.status in FINAL_HTTP_STATUSES)
        elif failure.check(IgnoreRequest) and "robots.txt" in str(failure.value):
            self._fail(request.url, "robots_forbidden", "the portal's robots.txt forbids this page", stage, meta,
                       final=True)
        elif failure.check(Unreachable):  # the portal may answer next time: the page stays pending
            self._fail(request.url, "unreachable", str(failure.value)[:300], stage, meta)
        elif failure.check(OffsiteRedirect):
            self._fail(request.url, "offsiteredirect", str(failure.value)[:300], stage, meta, final=True)
        elif failure.check(IgnoreRequest):  # off the site's domains, or another policy's refusal
            self._fail(request.url, "ignored", str(failure.value)[:300], stage, meta, final=True)
        else:
            self._fail(request.url, type(failure.value).__name__.lower(), str(failure.value)[:300], stage, meta)

    def _fail(self, url: str, reason: str, message: str, stage: str, meta: dict | None = None,
              final: bool = False) -> None:
        """Count and keep a refused page. For a detail page, ``final`` says the refusal is its
        entry's fate (a backfill may mark its list page done); otherwise the page stays
        pending, to be read again on resume."""
        stats = self.stats
        stats.inc_value(f"policywatch/failed/{reason}")
        if reason == "blocked":
            stats.inc_value("policywatch/blocked")
        # An unreachable host was said once, by the middleware; each of its pages is counted.
        level = logging.DEBUG if reason == "unreachable" else logging.WARNING
        self.logger.log(level, "%s page refused (%s): %s — %s", stage, reason, url, message)
        if len(self.failures) < MAX_FAILURES_KEPT:
            self.failures.append({"url": url, "reason": reason, "message": message, "stage": stage})
        entry = (meta or {}).get("policywatch_entry")
        if self.ledger is not None and entry is not None:
            (self.ledger.settled if final else self.ledger.failed)(entry)

    def _walked(self, column: Column) -> Column:
        """The column with this crawl's page limit: a backfill or a sweep walks the whole
        archive (or ``max_pages``); other crawls stop at the column's own limit."""
        if self.mode in ("backfill", "sweep"):
            return replace(column, max_pages=self.max_pages or BACKFILL_MAX_PAGES)
        if self.max_pages and self.max_pages < column.max_pages:
            return replace(column, max_pages=self.max_pages)
        return column

    # --- backfill checkpoint --------------------------------------------------------------
    def _list_key(self, column: Column, page: PageRequest) -> tuple:
        # The checkpoint's key of a page (a Hanweb feed's pages differ only in their form data).
        return (column.name, page.url, json.dumps(dict(page.formdata), sort_keys=True))

    def _discovered(self, column: Column, page: PageRequest) -> bool:
        """Record a list page in the checkpoint before it is requested; False when the corpus
        could not record it (the crawl is stopping)."""
        if self.checkpoint is None:
            return True
        return self.checkpoint.discovered(column.name, page.url, page.method, dict(page.formdata),
                                          page.page)

    # --- what became of an entry: told by the spider, from Scrapy's item signals, which come
    # after the pipelines stored (or dropped) the item: only then is its entry's fate known.
    def item_failed(self, item, response, failure) -> None:
        stats = self.stats
        stats.inc_value("policywatch/failed/not_stored")
        # The first few say why; after a full disk every item fails the same way.
        if failure is not None and stats.get_value("policywatch/failed/not_stored") <= 3 \
                and len(self.failures) < MAX_FAILURES_KEPT:
            url = getattr(item, "url", None) or getattr(response, "url", "")
            self.failures.append({"url": url, "reason": "not_stored", "stage": "store",
                                  "message": f"{type(failure.value).__name__}: {failure.value}"[:300]})
        self.entry_fate(response, settled=False)

    def request_dropped(self, request) -> None:
        if request.callback == self.spider.parse_detail:
            self.stats.inc_value(ANSWERED)  # never to be fetched: not left to do either
        entry = request.meta.get("policywatch_entry")
        if entry is not None and self.ledger is not None:
            self.ledger.failed(entry)  # never fetched: its pages stay pending

    def entry_fate(self, response, settled: bool) -> None:
        if self.ledger is None or response is None or not hasattr(response, "meta"):
            return
        entry = response.meta.get("policywatch_entry")
        if entry is not None:
            (self.ledger.settled if settled else self.ledger.failed)(entry)

    def _page_done(self, key: tuple, entries: int) -> None:
        column, url, formdata = key
        if self.checkpoint.done(column, url, json.loads(formdata), entries):
            self.stats.inc_value("policywatch/backfill/pages_done")

    def close(self) -> None:
        """The site's crawl ended: its backfill checkpoint is let go."""
        if self.checkpoint is not None:
            if self.ledger is not None and self.ledger.pending():
                self.logger.info("%d list page(s) left pending for the resume", self.ledger.pending())
            self.checkpoint.close()
            self.checkpoint = None


def _same_bytes(response: Response) -> bool:
    """A revisit answered, unredirected, with the very bytes its document's current version was
    read from (``SAME_BYTES``): reading them again would read the same. Hashing costs some
    microseconds; parsing, classifying and comparing them, milliseconds."""
    known = response.meta.get(SAME_BYTES)
    return bool(known) and response.status == 200 and not response.meta.get("redirect_urls") \
        and hashlib.sha1(response.body).hexdigest() == known


def _is_file(response: Response, url: str) -> bool:
    content_type = response.headers.get("Content-Type", b"").decode("latin-1").lower()
    if content_type.startswith(("application/pdf", "application/msword", "application/vnd.",
                                "application/zip", "application/octet-stream")):
        return True
    return _is_file_url(url)


def _is_file_url(url: str) -> bool:
    path = url.split("?", 1)[0].lower()
    return path.rsplit(".", 1)[-1] in FILE_EXTENSIONS
