"""Run a crawl of some sites in this process and report what each one did.

One Scrapy crawler crawls every site of a run (``crawlers.engine.spiders.policy``): each site
keeps its own download slots, counters and row in ``runs``, and at most
``POLICYWATCH_ACTIVE_SITES`` crawl at once. Twisted's reactor cannot restart, so a process runs
one crawl. A distributed worker (``crawlers.engine.distributed``) runs one crawler per site
instead, started by a ``SiteFeeder`` as it takes each site's lease: a site's frontier is its own
queue in Redis.
"""

from __future__ import annotations

import copy
import logging
import signal
from datetime import date
from pathlib import Path
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.settings import BaseSettings, Settings, SettingsAttribute

from crawlers.engine import settings as default_settings
from crawlers.engine.rounds import STOP_STARTING
from crawlers.engine.sitereport import SiteRunReport
from crawlers.engine.sitesettings import REPLAY_CONCURRENCY
from crawlers.engine.spiders.policy import PolicySpider
from crawlers.sites.spec import Site

logger = logging.getLogger(__name__)


class CrawlSettings(Settings):
    """Scrapy settings that copy quickly. Every crawler copies its process's settings, and
    Scrapy's copy (a generic deep copy of some 230 settings) cost ~8 ms a site, a fifth of a
    quiet site's CPU; here only what can be changed in place (component tables, dicts, lists)
    is copied, immutable values are shared."""

    def copy(self) -> "CrawlSettings":
        return _copied(self)


def _copied(settings: BaseSettings) -> BaseSettings:
    new = object.__new__(type(settings))
    new.__dict__.update(settings.__dict__)
    attributes = {}
    for name, attribute in settings.attributes.items():
        twin = object.__new__(SettingsAttribute)
        twin.__dict__.update(attribute.__dict__)
        value = attribute.value
        if isinstance(value, BaseSettings):
            twin.value = _copied(value)
        elif isinstance(value, (dict, list, set)):
            twin.value = copy.deepcopy(value)
        attributes[name] = twin
    new.attributes = attributes
    return new


def build_settings(
    db_path: Path,
    *,
    run_kind: str = "crawl",
    replay_url: str | None = None,
    contact: str | None = None,
    log_level: str = "INFO",
    overrides: dict[str, Any] | None = None,
) -> Settings:
    """The Scrapy settings of a crawl into the corpus at ``db_path``. Each site's own pace and
    download handler are added by its spider (``crawlers.engine.sitesettings``)."""
    settings = CrawlSettings()
    settings.setmodule(default_settings, priority="project")
    settings.set("POLICYWATCH_DB", str(db_path), priority="project")
    settings.set("POLICYWATCH_RUN_KIND", run_kind, priority="project")
    settings.set("LOG_LEVEL", log_level, priority="project")
    if contact:
        settings.set("USER_AGENT", f"{settings['USER_AGENT']} contact: {contact}", priority="project")
    if replay_url:
        # Our own 127.0.0.1 portal needs no politeness; the crawl itself is the same.
        settings.set("POLICYWATCH_REPLAY_URL", replay_url, priority="project")
        settings.set("AUTOTHROTTLE_ENABLED", False, priority="project")
        settings.set("DOWNLOAD_DELAY", 0, priority="project")
        settings.set("RETRY_TIMES", 1, priority="project")
        settings.set("DOWNLOAD_TIMEOUT", 10, priority="project")
        # Every host is the one 127.0.0.1 server: keep as many connections open to it as
        # requests go at once (Scrapy keeps CONCURRENT_REQUESTS_PER_DOMAIN of them).
        settings.set("CONCURRENT_REQUESTS_PER_DOMAIN", REPLAY_CONCURRENCY, priority="project")
    for key, value in (overrides or {}).items():
        settings.set(key, value, priority="cmdline")
    return settings


def run_crawl(
    sites: list[Site],
    db_path: Path,
    *,
    run_kind: str = "crawl",
    replay_url: str | None = None,
    max_pages: int | None = None,
    mode: str = "full",
    since: date | None = None,
    until: date | None = None,
    revisit_budget: int | None = None,
    contact: str | None = None,
    log_level: int | None = None,
    overrides: dict[str, Any] | None = None,
    spider_class: type[PolicySpider] = PolicySpider,
    feeder_class: type["SiteFeeder"] | None = None,
) -> list[SiteRunReport]:
    """Crawl ``sites`` (one spider each) into ``db_path``; blocks until every spider is done.

    ``mode`` is full, incremental, sweep or backfill (``crawlers.engine.crawlplan``); ``spider_class`` a
    PolicySpider or a subclass (``crawlers.engine.distributed``), ``feeder_class`` what starts
    the sites (``SiteFeeder``, or the distributed worker's ``LeasedSiteFeeder``).

    Log output goes through the handlers the caller configured, at ``log_level`` (default: the
    root logger's level), not through a handler of Scrapy's own.
    """
    if not sites:
        raise ValueError("no sites to crawl")
    level = log_level if log_level is not None else logging.getLogger().getEffectiveLevel()
    settings = build_settings(
        db_path, run_kind=run_kind, replay_url=replay_url, contact=contact,
        log_level=logging.getLevelName(level),
        overrides={"LOG_INSTALL_ROOT_HANDLER": False, **(overrides or {})},
    )
    # One progress line for the process, however many sites it crawls (crawlers.engine.progress).
    settings.set("POLICYWATCH_PROGRESS_SITES", len(sites), priority="cmdline")
    process = CrawlerProcess(settings)
    # Scrapy's logging config sets its loggers to DEBUG; keep them at the caller's level.
    for name in ("scrapy", "scrapy_playwright", "twisted", "asyncio"):
        logging.getLogger(name).setLevel(max(level, logging.INFO) if name == "twisted" else level)
    arguments = dict(max_pages=max_pages, mode=mode, since=since, until=until,
                     revisit_budget=revisit_budget)
    active = settings.getint("POLICYWATCH_ACTIVE_SITES")
    if feeder_class is not None:
        active = min(active, settings.getint("POLICYWATCH_WORKER_ACTIVE_SITES"))
        return feeder_class(process, sites, spider_class, arguments, active).run()
    return _crawl_together(process, sites, spider_class, arguments, active)


def _crawl_together(process: CrawlerProcess, sites: list[Site], spider_class: type[PolicySpider],
                    arguments: dict[str, Any], active: int) -> list[SiteRunReport]:
    """Every site in one crawler; a stop request (SIGUSR1 from a stopped round) lets the running
    sites finish and starts no other."""
    crawler = process.create_crawler(spider_class)
    previous = signal.signal(STOP_STARTING, lambda signum, frame: _stop_starting(crawler))
    try:
        done = process.crawl(crawler, sites=sites, active=active, **arguments)
        done.addErrback(_crawl_failed)
        process.start()
    finally:
        signal.signal(STOP_STARTING, previous)
    spider = crawler.spider
    if spider is None:  # it could not start (a bug, a bad setting): said by _crawl_failed
        return [SiteRunReport(site=site.key, finish_reason="not_started") for site in sites]
    return [spider.report_of(site) for site in sites]


def _stop_starting(crawler) -> None:
    if crawler.spider is not None:
        crawler.spider.stop_starting()


def _crawl_failed(failure) -> None:
    logger.error("the crawl failed: %s", failure.getErrorMessage())


class SiteFeeder:
    """Keeps up to ``active`` sites crawling in one CrawlerProcess, one crawler each (a
    distributed worker's way: ``LeasedSiteFeeder``): a site starts when another ends, until none
    is left or the operator stops the crawl (a Ctrl-C's shutdown starts no more). Each site's
    report is taken when it ends and its crawler let go."""

    stop_after_crawl = True  # the reactor stops when no site is left running

    def __init__(self, process: CrawlerProcess, sites: list[Site], spider_class: type[PolicySpider],
                 arguments: dict[str, Any], active: int) -> None:
        self.process = process
        self.spider_class = spider_class
        self.arguments = arguments
        self.active = max(1, active)
        self.sites = sites
        self.waiting = list(reversed(list(enumerate(sites))))
        self.reports: dict[int, SiteRunReport] = {}
        self.started: dict[int, tuple[Site, Any]] = {}  # running: their crawlers
        self.stopping = False

    def run(self) -> list[SiteRunReport]:
        self.running = 0
        # A stopped round (crawlers.engine.rounds) lets the running sites finish, starts none.
        previous = signal.signal(STOP_STARTING, self._stop_starting)
        try:
            self._start_next()
            self.process.start(stop_after_crawl=self.stop_after_crawl)
        finally:
            signal.signal(STOP_STARTING, previous)
        for n, (site, crawler) in self.started.items():  # the reactor stopped under them
            self.reports.setdefault(n, self._report(site, crawler))
        for n, site in enumerate(self.sites):  # the operator stopped the crawl before these
            self.reports.setdefault(n, SiteRunReport(site=site.key, finish_reason="not_started"))
        return [self.reports[n] for n in range(len(self.sites))]

    def _stop_starting(self, signum, frame) -> None:
        if not self.stopping:
            logger.warning("asked to stop: %d running site(s) finish, %d not started",
                           self.running, len(self.waiting))
        self.stopping = True

    def _start_next(self) -> None:
        """Start one waiting site, then (on the reactor's next turn, so that the running sites'
        responses are read between two starts and their latencies, which AutoThrottle paces
        by, stay true) the next, while fewer than ``active`` run."""
        if self.stopping or not self.waiting or self.running >= self.active:
            return
        n, site = self.waiting.pop()
        crawler = self.process.create_crawler(self.spider_class)
        self.started[n] = (site, crawler)
        self.running += 1
        done = self.process.crawl(crawler, site=site, **self.arguments)
        # Chained synchronously: the next site is added before the process sees none active.
        done.addBoth(self._ended, n, site, crawler)
        if self.waiting and self.running < self.active:
            from twisted.internet import reactor  # the one CrawlerProcess installed

            reactor.callLater(0, self._start_next)

    @staticmethod
    def _report(site: Site, crawler) -> SiteRunReport:
        spider = crawler.spider
        if spider is None:
            return SiteRunReport(site=site.key, finish_reason="not_started")
        return spider.report_of(site)

    def _ended(self, result, n: int, site: Site, crawler) -> None:
        del self.started[n]
        report = self.reports[n] = self._report(site, crawler)
        if hasattr(result, "getErrorMessage"):  # the crawl could not start (a bad site, a bug)
            logger.error("%s: the crawl failed: %s", site.key, result.getErrorMessage())
        self.running -= 1
        if report.interrupted:
            self.stopping = True
        self._start_next()
