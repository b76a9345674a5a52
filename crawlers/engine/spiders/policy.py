"""PolicySpider: one Scrapy spider that crawls many sites at once, each as its own ``SiteCrawl``.

A crawl process runs one crawler, so what a crawler costs (its engine, downloader, middlewares,
pipelines, some 30–40 ms of CPU and ~2 MB) is paid once, not once a site. Each site keeps what
is its own: its hosts' download slots (delay, one request at a time, AutoThrottle, robots.txt),
its counters (``SiteStats``), refusals, sightings, run record and health. Up to ``active`` sites
crawl at once (``POLICYWATCH_ACTIVE_SITES``); the next starts when one ends, and an ended site's
state is let go, so the frontier holds a few pages per active site.

A site has ended when every request it made has been answered, refused or dropped and every
item it yielded has left the pipelines: the spider holds a ticket for each of its requests
(``policywatch_ticket`` in the request's meta, which redirects and retries inherit) and counts
its items in flight. Its ``site_closed`` signal then lets the pipelines record its run, and its
report (``SiteRunReport``) is kept for the caller. A site whose spider closes first (Ctrl-C, a
full disk) ends with the spider's reason.

Callbacks stay thin: each hands the response to the site's crawl, by the request's
``SITE_META``. ``scrapy crawl policy -a site=KEY`` crawls one site the same way.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from datetime import date
from typing import Any

import scrapy
from scrapy import signals
from scrapy.http import Request, Response
from twisted.internet import task
from twisted.python.failure import Failure

from crawlers.engine.parsepool import OffloadedWork
from crawlers.engine.sitereport import SiteRunReport
from crawlers.engine.sitesettings import apply_site_settings, site_hosts
from crawlers.engine.sitestats import SiteStats, request_site
from crawlers.engine.spiderargs import spider_arguments
from crawlers.engine.spiders.sitecrawl import SiteCrawl
from crawlers.items import sitecrawls as site_signals
from crawlers.items.sitecrawls import SITE_META
from crawlers.sites.spec import Site

logger = logging.getLogger(__name__)
TICKET = "policywatch_ticket"
UNWRITABLE_STAT = "policywatch/store/unwritable"
# How often the spider looks for sites whose last request went unaccounted (a safety net: every
# request ends in a callback, an errback or a drop, so this finds none).
LEAK_CHECK_SECONDS = 5.0
REPORT_FAILURES = 20


class PolicySpider(scrapy.Spider):
    """Crawls ``sites`` (or the one ``site``), ``active`` of them at once. The other arguments
    are every site's: ``mode`` (full, incremental, sweep or backfill), ``max_pages``,
    ``since``/``until`` (a backfill's dates), ``revisit_budget``."""

    name = "policy"
    crawl_class = SiteCrawl
    # A site ends when its last request is settled. A distributed worker's site ends with its
    # spider instead: its frontier is in Redis, not in this process's tickets.
    ends_sites_when_settled = True

    def __init__(self, site: Site | None = None, sites: list[Site] | None = None,
                 active: int | None = None, max_pages: int | None = None, mode: str = "full",
                 since: date | None = None, until: date | None = None,
                 revisit_budget: int | None = None, **kwargs: Any):
        chosen = list(sites or ([site] if site is not None else []))
        if not chosen:
            raise ValueError("the policy spider needs a site")
        if len({s.key for s in chosen}) != len(chosen):
            raise ValueError("a site is named twice")
        one = chosen[0] if len(chosen) == 1 else None
        super().__init__(name=f"policy:{one.key}" if one else "policy", **kwargs)
        self.sites = chosen
        self.site = one  # the one site of a one-site crawl (a distributed worker's spider)
        self.active = max(1, active or len(chosen))
        self.mode = mode
        self.arguments = dict(max_pages=max_pages, mode=mode, since=since, until=until,
                              revisit_budget=revisit_budget)
        self.allowed_domains = sorted({d for s in chosen for d in s.domains})
        self.waiting = list(reversed(chosen))
        self.crawls: dict[str, SiteCrawl] = {}  # running
        self.reports: dict[str, SiteRunReport] = {}  # ended
        self.stopping = False
        self._room: asyncio.Event | None = None
        self._tickets = itertools.count(1)
        self._held: dict[str, set[int]] = {}  # site -> tickets of its unsettled requests
        self._items: dict[str, int] = {}  # site -> its items in the pipelines
        self._starting: set[str] = set()  # sites whose start requests are still coming
        self._started_at: dict[str, float] = {}
        self._hosts: dict[str, set[str]] = {}  # host -> the running sites that crawl it
        self._leak_check: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        if "sites" not in kwargs:
            # `scrapy crawl policy -a site=KEY ...` passes strings; policywatch passes Sites.
            kwargs = spider_arguments(crawler.settings, kwargs)
        spider = super().from_crawler(crawler, *args, **kwargs)
        apply_site_settings(crawler.settings, spider.sites)
        _widen_concurrency(crawler.settings, spider.sites, spider.active)
        # List and detail pages are parsed in the crawl's process pool (crawlers.engine.parsepool).
        spider.offload = OffloadedWork.from_crawler(crawler)
        connect = crawler.signals.connect
        connect(spider._item_stored, signal=signals.item_scraped)
        connect(spider._item_refused, signal=signals.item_dropped)
        connect(spider._item_failed, signal=signals.item_error)
        connect(spider._request_dropped, signal=signals.request_dropped)
        connect(spider._response_received, signal=signals.response_received)
        connect(spider._spider_error, signal=signals.spider_error)
        connect(spider._closed, signal=signals.spider_closed)
        return spider

    # --- the sites ----------------------------------------------------------------------
    def stats_of(self, key: str | None) -> SiteStats | None:
        """The counters of a running site (``crawlers.engine.sitestats.stats_for``)."""
        crawl = self.crawls.get(key) if key else None
        return crawl.stats if crawl is not None else None

    def site_of(self, key: str | None) -> Site | None:
        crawl = self.crawls.get(key) if key else None
        return crawl.site if crawl is not None else None

    def crawl_of(self, key: str | None) -> SiteCrawl | None:
        return self.crawls.get(key) if key else None

    def site_on_host(self, host: str | None) -> str | None:
        """The key of a running site that crawls ``host`` (for a request made for a host, not
        a site: robots.txt)."""
        keys = self._hosts.get(host or "")
        return next(iter(keys)) if keys else None

    def stop_starting(self) -> None:
        """The operator asked the crawl to stop: the running sites finish, no other starts."""
        if not self.stopping:
            logger.warning("asked to stop: %d running site(s) finish, %d not started",
                           len(self.crawls), len(self.waiting))
        self.stopping = True
        if self._room is not None:
            self._room.set()

    async def start(self):
        if self.ends_sites_when_settled:
            self._leak_check = task.LoopingCall(self._find_leaks)
            self._leak_check.start(LEAK_CHECK_SECONDS, now=False)
        while True:
            while self.waiting and not self.stopping and len(self.crawls) < self.active:
                crawl = self._open(self.waiting.pop())
                try:
                    async for request in crawl.start():
                        yield self._outgoing(crawl, request)
                except Exception as exc:  # its state could not be read: this site alone fails
                    logger.error("%s: the crawl could not start: %s", crawl.key, exc)
                    crawl.stats.inc_value("policywatch/failed/start")
                    crawl.failures.append({"url": crawl.site.columns[0].url if crawl.site.columns else "",
                                           "reason": "start", "stage": "start",
                                           "message": f"{type(exc).__name__}: {exc}"[:300]})
                    self._starting.discard(crawl.key)
                    self._end(crawl.key, "start_failed")
                    continue
                finally:
                    self._starting.discard(crawl.key)
                self._maybe_ended(crawl.key)
            if not self.waiting or self.stopping:
                return
            self._room = asyncio.Event()
            await self._room.wait()
            self._room = None

    def _open(self, site: Site) -> SiteCrawl:
        crawl = self.crawl_class(self, site, offload=self.offload, **self.arguments)
        self.crawls[site.key] = crawl
        self._held[site.key] = set()
        self._items[site.key] = 0
        self._starting.add(site.key)
        self._started_at[site.key] = time.monotonic()
        for host in site_hosts(site):
            self._hosts.setdefault(host, set()).add(site.key)
        self.crawler.signals.send_catch_log(site_signals.site_opened, crawl=crawl)
        return crawl

    def _outgoing(self, crawl: SiteCrawl, output: Any) -> Any:
        """Hold a ticket for each request the site makes, count each item it yields."""
        if isinstance(output, Request):
            output.meta.setdefault(SITE_META, crawl.key)
            ticket = output.meta.setdefault(TICKET, next(self._tickets))
            self._held[crawl.key].add(ticket)
        elif output is not None:
            self._items[crawl.key] += 1
        return output

    def _settle(self, key: str | None, meta: dict | None) -> None:
        held = self._held.get(key)
        if held is not None and meta is not None:
            held.discard(meta.get(TICKET))
            self._maybe_ended(key)

    def _item_done(self, key: str | None) -> None:
        if key in self._items:
            self._items[key] -= 1
            self._maybe_ended(key)

    def _maybe_ended(self, key: str) -> None:
        if (self.ends_sites_when_settled and key in self.crawls and key not in self._starting
                and not self._held[key] and self._items[key] <= 0):
            # On the reactor's next turn: the signal or callback that settled it finishes first.
            from twisted.internet import reactor

            reactor.callLater(0, self._end_if_settled, key)

    def _end_if_settled(self, key: str) -> None:
        if key in self.crawls and key not in self._starting and not self._held[key] \
                and self._items[key] <= 0:
            self._end(key, "finished")

    def _end(self, key: str, reason: str) -> None:
        """The site's crawl ended: its run is recorded (``site_closed``), its report kept, its
        state let go, and the next waiting site may start."""
        crawl = self.crawls.get(key)
        if crawl is None:
            return
        stats = crawl.stats
        stats.set_value("finish_reason", reason)
        stats.set_value("elapsed_time_seconds", time.monotonic() - self._started_at.pop(key))
        unwritable = self.crawler.stats.get_value(UNWRITABLE_STAT)
        if unwritable:
            stats.set_value(UNWRITABLE_STAT, unwritable)
        try:
            self.crawler.signals.send_catch_log(site_signals.site_closed, crawl=crawl, reason=reason)
        finally:
            crawl.close()
            # The run record holds its refusals; the report, kept until the process ends, a few.
            self.reports[key] = SiteRunReport.from_stats(key, stats.get_stats(),
                                                         crawl.failures[:REPORT_FAILURES])
            del self.crawls[key]
            del self._held[key]
            del self._items[key]
            for host in site_hosts(crawl.site):
                self._hosts.get(host, set()).discard(key)
            if self._room is not None:
                self._room.set()

    def _find_leaks(self) -> None:
        """Sites still running though the engine has nothing left of them: ended, said."""
        if not self.crawls or not _engine_at_rest(self.crawler):
            return
        for key in [k for k in self.crawls if k not in self._starting]:
            if not self._held[key] and self._items[key] <= 0:
                continue  # settled: its end is on its way (``_end_if_settled``)
            logger.warning("%s: %d request(s) and %d item(s) unaccounted for; the site's crawl "
                           "is ended", key, len(self._held[key]), self._items[key])
            self._end(key, "finished")

    def report_of(self, site: Site) -> SiteRunReport:
        """The site's report; one never started says ``not_started``. One still running when
        the reactor stopped under it was stopped by the operator (a second Ctrl-C or SIGTERM
        forces the stop): it says what it did so far, ``shutdown``; its run stays ``running``,
        to be recorded killed by the next writer."""
        if site.key in self.reports:
            return self.reports[site.key]
        crawl = self.crawls.get(site.key)
        if crawl is not None:
            stats = {**crawl.stats.get_stats(), "finish_reason": "shutdown"}
            return SiteRunReport.from_stats(site.key, stats, crawl.failures[:REPORT_FAILURES])
        return SiteRunReport(site=site.key, finish_reason="not_started")

    # --- callbacks: each hands the response to its site's crawl ---------------------------
    def _crawl_for(self, meta: dict) -> SiteCrawl | None:
        crawl = self.crawls.get(meta.get(SITE_META)) if meta.get(SITE_META) else self._only()
        if crawl is None:
            logger.debug("a response for a site no longer crawled: %s", meta.get(SITE_META))
        return crawl

    def _only(self) -> SiteCrawl | None:
        return next(iter(self.crawls.values())) if len(self.crawls) == 1 else None

    async def _relay(self, response: Response, outputs) -> Any:
        crawl_key = response.meta.get(SITE_META)
        try:
            async for output in outputs:
                yield self._outgoing(self.crawls[crawl_key], output) if crawl_key in self.crawls \
                    else output
        finally:
            self._settle(crawl_key, response.meta)

    async def parse_list(self, response: Response, **kwargs):
        crawl = self._crawl_for(response.meta)
        if crawl is not None:
            async for output in self._relay(response, crawl.parse_list(response, **kwargs)):
                yield output

    async def parse_detail(self, response: Response, **kwargs):
        crawl = self._crawl_for(response.meta)
        if crawl is not None:
            async for output in self._relay(response, crawl.parse_detail(response, **kwargs)):
                yield output

    async def parse_search(self, response: Response, **kwargs):
        crawl = self._crawl_for(response.meta)
        if crawl is not None:
            async for output in self._relay(response, _aiter(crawl.parse_search(response, **kwargs))):
                yield output

    def on_error(self, failure: Failure) -> None:
        request = failure.request
        crawl = self._crawl_for(request.meta)
        try:
            if crawl is not None:
                crawl.on_error(failure)
        finally:
            self._settle(request.meta.get(SITE_META), request.meta)

    # --- Scrapy's signals, for the site they concern ---------------------------------------
    def _site_key(self, item, response) -> str | None:
        meta = getattr(response, "meta", None) if isinstance(response, Response) else None
        return (meta or {}).get(SITE_META) or getattr(item, "site", None)

    def _item_stored(self, item, response=None, spider=None, **kwargs) -> None:
        key = self._site_key(item, response)
        crawl = self.crawls.get(key)
        if crawl is not None:
            crawl.entry_fate(response, settled=True)
        self._item_done(key)

    def _item_refused(self, item, response=None, spider=None, **kwargs) -> None:
        key = self._site_key(item, response)
        crawl = self.crawls.get(key)
        if crawl is not None:
            crawl.entry_fate(response, settled=True)  # dropped with its counted reason
        self._item_done(key)

    def _item_failed(self, item, response=None, spider=None, failure=None, **kwargs) -> None:
        key = self._site_key(item, response)
        crawl = self.crawls.get(key)
        if crawl is not None:
            crawl.item_failed(item, response, failure)
        self._item_done(key)

    def _request_dropped(self, request, spider=None, **kwargs) -> None:
        key = request.meta.get(SITE_META)
        crawl = self.crawls.get(key)
        if crawl is not None:
            crawl.request_dropped(request)
        self._settle(key, request.meta)

    def _response_received(self, response, request, spider=None, **kwargs) -> None:
        # A robots.txt is its host's: counted for the site that crawls the host.
        crawl = self.crawls.get(request_site(self.crawler, request))
        if crawl is not None:
            crawl.stats.inc_value("response_received_count")

    def _spider_error(self, failure, response=None, spider=None, **kwargs) -> None:
        crawl = self.crawls.get(getattr(response, "meta", {}).get(SITE_META)) if response else None
        if crawl is not None:
            crawl.stats.inc_value("spider_exceptions/count")
            crawl.stats.inc_value(f"spider_exceptions/{type(failure.value).__name__}")

    def _closed(self, spider, reason: str) -> None:
        if spider is not self:
            return
        if self._leak_check is not None and self._leak_check.running:
            self._leak_check.stop()
        for key in list(self.crawls):
            self._end(key, reason)


def _widen_concurrency(settings, sites: list[Site], active: int) -> None:
    """Room in the downloader for one request of every active site: each site's own slot keeps
    its pace, and a request waiting out its slot's delay counts against the total."""
    if settings.frozen or settings.getpriority("CONCURRENT_REQUESTS") >= 40:  # set on the command line
        return
    running = sites[:max(1, active)]
    wanted = sum(max(1, s.politeness.concurrency) * max(1, len(site_hosts(s))) for s in running)
    if wanted > settings.getint("CONCURRENT_REQUESTS"):
        settings.set("CONCURRENT_REQUESTS", wanted, priority="spider")


def _engine_at_rest(crawler) -> bool:
    """Nothing downloading, queued or being scraped (whatever ``start()`` still has to give)."""
    try:
        engine = crawler.engine
    except RuntimeError:  # the crawl has not started
        return False
    if engine is None or getattr(engine, "_slot", None) is None:
        return False
    scraper_slot = engine.scraper.slot
    return (not engine.downloader.active and not engine._slot.scheduler.has_pending_requests()
            and (scraper_slot is None or scraper_slot.is_idle()))


async def _aiter(iterable):
    for value in iterable:
        yield value
