"""Run a crawl of some sites in this process and report what each one did.

One Scrapy process crawls every site of a run, one spider per site (so each site gets its own
stats and its own row in ``runs``); Twisted's reactor cannot restart, so a process runs one crawl.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from crawlers.engine import settings as default_settings
from crawlers.sites.spec import Site
from crawlers.engine.sitesettings import REPLAY_CONCURRENCY
from crawlers.engine.spiders.policy import PolicySpider

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
    unwritable: str = ""  # why the corpus could not be written, when that stopped the crawl

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
        )


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
    settings = Settings()
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
) -> list[SiteRunReport]:
    """Crawl ``sites`` (one spider each) into ``db_path``; blocks until every spider is done.

    ``mode`` is full, incremental, sweep or backfill (``crawlers.engine.crawlplan``); ``spider_class`` a
    PolicySpider or a subclass (``crawlers.engine.distributed``).

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
    crawlers = []
    for site in sites:
        crawler = process.create_crawler(spider_class)
        crawlers.append((site, crawler))
        process.crawl(crawler, site=site, max_pages=max_pages, mode=mode, since=since, until=until,
                      revisit_budget=revisit_budget)
    process.start()
    reports = []
    for site, crawler in crawlers:
        spider = crawler.spider
        failures = getattr(spider, "failures", []) if spider else []
        reports.append(SiteRunReport.from_stats(site.key, crawler.stats.get_stats(), failures))
    return reports
