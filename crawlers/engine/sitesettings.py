"""The sites' own crawler settings: their hosts' download slots, the download handler, the browser.

The spider applies them in ``from_crawler`` (Scrapy freezes a crawler's settings only after),
so a crawl started by policywatch and one started by ``scrapy crawl policy -a site=KEY`` run
with the same politeness. Set at the spider's priority: ``-s`` on the command line still wins.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from scrapy.settings import Settings

from crawlers.sites.spec import Site

PLAIN_HANDLER = "crawlers.engine.downloader.ReplayAwareDownloadHandler"
BROWSER_HANDLER = "crawlers.engine.browserhandler.ReplayAwareBrowserHandler"
# Our own 127.0.0.1 replay portal needs no politeness, but one request at a time would make
# Scrapy's per-request turnaround (~70 ms here) dominate every test crawl.
REPLAY_CONCURRENCY = 4


def uses_browser(site: Site) -> bool:
    """Does any page of the site need Playwright (a script-rendered list or site search)?"""
    return site.needs_browser or (site.search is not None and site.search.browser)


def site_hosts(site: Site) -> set[str]:
    """Every host the site's requests go to: its declared domains and its columns' hosts."""
    hosts = set(site.domains) | {urlsplit(c.url).hostname or "" for c in site.columns}
    return {h for h in hosts if h}


def apply_site_settings(settings: Settings, sites: Site | Iterable[Site]) -> None:
    """Give ``settings`` (not yet frozen) each site's pace on each of its hosts and the download
    handler they need: only a crawl with a site that needs the browser starts a Playwright
    driver (its handler downloads the other pages as the plain one does). A host of two sites
    keeps the first one's pace: one slot, one pace, whoever asks."""
    if settings.frozen:
        # A crawler made by scrapy.utils.test.get_crawler is frozen already; it downloads nothing.
        return
    sites = [sites] if isinstance(sites, Site) else list(sites)
    replay = bool(settings.get("POLICYWATCH_REPLAY_URL"))
    slots = dict(settings.getdict("DOWNLOAD_SLOTS"))
    for site in sites:
        slot: dict[str, Any] = {"concurrency": site.politeness.concurrency, "delay": site.politeness.delay}
        if replay:
            slot = {"concurrency": REPLAY_CONCURRENCY, "delay": 0}
        for host in site_hosts(site):
            slots.setdefault(host, dict(slot))
    settings.set("DOWNLOAD_SLOTS", slots, priority="spider")

    browser = any(uses_browser(site) for site in sites)
    handler = BROWSER_HANDLER if browser else PLAIN_HANDLER
    settings.set("DOWNLOAD_HANDLERS", {"http": handler, "https": handler}, priority="spider")
    if browser and replay:
        # Chromium resolves every portal host to the one replay server.
        port = urlsplit(settings.get("POLICYWATCH_REPLAY_URL")).port
        launch = dict(settings.getdict("PLAYWRIGHT_LAUNCH_OPTIONS"))
        launch["args"] = list(launch.get("args", [])) + [
            f"--host-resolver-rules=MAP * 127.0.0.1:{port}, EXCLUDE 127.0.0.1"
        ]
        settings.set("PLAYWRIGHT_LAUNCH_OPTIONS", launch, priority="spider")
