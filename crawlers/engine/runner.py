"""Run a crawl of some sites in this process and report what each one did.

One Scrapy process crawls every site of a run, one spider (one crawler) per site, so each site
keeps its own download slots, stats, pipelines and row in ``runs``; Twisted's reactor cannot
restart, so a process runs one crawl. At most ``POLICYWATCH_ACTIVE_SITES`` sites crawl at once:
the next starts when one ends, and an ended site's crawler (its state, its frontier) is let go,
so a round of thousands of portals holds only its active sites in memory.
"""

from __future__ import annotations

import copy
import logging
import signal
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.settings import BaseSettings, Settings, SettingsAttribute

from crawlers.engine import settings as default_settings
from crawlers.engine.rounds import STOP_STARTING
from crawlers.engine.sitesettings import REPLAY_CONCURRENCY
from crawlers.engine.spiders.policy import PolicySpider
from crawlers.sites.spec import Site

logger = logging.getLogger(__name__)


@dataclass
class SiteRunReport:
    """What one site's crawl did, from its Scrapy stats."""

    site: str
    list_pages: int = 0
    detail_pages: int = 0
    items: int = 0
    new: int = 0
    revised: int = 0
    unchanged: int = 0
    known: int = 0  # list entries skipped as already stored (incremental, sweep, backfill)
    failed: dict[str, int] = field(default_factory=dict)
    failures: list[dict[str, str]] = field(default_factory=list)
    finish_reason: str = ""
    unwritable: str = ""
    seconds: float = 0.0  # from the spider's opening to its closing  # why the corpus could not be written, when that stopped the crawl

    @property
    def broken(self) -> bool:
        """Nothing worked (as ``pipelines.health.crawl_worked`` says of a run) and pages were
        refused. (A quiet day of a site whose broken pages are refused again is not broken.)
        An item that failed in a pipeline (``not_stored``) did not work."""
        reached_the_end = self.items - self.failed.get("not_stored", 0)
        return reached_the_end <= 0 and self.known == 0 and bool(self.failed)

    @property
    def interrupted(self) -> bool:
        """Stopped by the operator (Ctrl-C, SIGTERM): Scrapy's shutdown."""
        return self.finish_reason == "shutdown"

    @property
    def stopped(self) -> bool:
        """Ended before its work was done, for whatever reason (no reason at all: the spider
        never closed, e.g. a second Ctrl-C forced the process down)."""
        return self.finish_reason != "finished"

    @property
    def blocked(self) -> int:
        return self.failed.get("blocked", 0)

    @classmethod
    def from_stats(cls, site: str, stats: dict[str, Any], failures: list[dict[str, str]]) -> "SiteRunReport":
        prefix = "policywatch/failed/"
        return cls(
            site=site,
            list_pages=stats.get("policywatch/pages/list", 0),
            detail_pages=stats.get("policywatch/pages/detail", 0),
            items=stats.get("policywatch/items", 0),
            new=stats.get("policywatch/documents/new", 0),
            revised=stats.get("policywatch/documents/revised", 0),
            unchanged=stats.get("policywatch/documents/unchanged", 0),
            known=stats.get("policywatch/skipped/known", 0),
            failed={k[len(prefix):]: v for k, v in stats.items() if k.startswith(prefix)},
            failures=list(failures),
            finish_reason=str(stats.get("finish_reason", "")),
            unwritable=str(stats.get("policywatch/store/unwritable") or ""),
            seconds=float(stats.get("elapsed_time_seconds") or 0.0),
        )


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
    reports = (feeder_class or SiteFeeder)(process, sites, spider_class, arguments,
                         settings.getint("POLICYWATCH_ACTIVE_SITES")).run()
    return reports


class SiteFeeder:
    """Keeps up to ``active`` sites crawling in one CrawlerProcess: a site starts when another
    ends, until none is left or the operator stops the crawl (a Ctrl-C's shutdown starts no
    more). Each site's report is taken when it ends and its crawler let go."""

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
        failures = getattr(spider, "failures", []) if spider else []
        return SiteRunReport.from_stats(site.key, crawler.stats.get_stats(), failures)

    def _ended(self, result, n: int, site: Site, crawler) -> None:
        del self.started[n]
        report = self.reports[n] = self._report(site, crawler)
        if hasattr(result, "getErrorMessage"):  # the crawl could not start (a bad site, a bug)
            logger.error("%s: the crawl failed: %s", site.key, result.getErrorMessage())
        self.running -= 1
        if report.interrupted:
            self.stopping = True
        self._start_next()
