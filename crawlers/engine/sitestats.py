"""Each site's own counters, in a crawler that crawls many sites.

``SiteStats`` has the methods of Scrapy's stats collector that policywatch uses; every count a
run record, the progress line or the round's outcome reads (``policywatch/...``, pages received,
retries, download exceptions) is kept per site. Scrapy's own collector still counts the whole
process. ``SiteStatsMiddleware`` counts what only the downloader sees, per request's site.
"""

from __future__ import annotations

from typing import Any

from scrapy.http import Request
from scrapy.utils.httpobj import urlparse_cached

from crawlers.items.sitecrawls import SITE_META, stats_for


class SiteStats:
    """One site's counters (the part of ``scrapy.statscollectors.StatsCollector`` we use)."""

    __slots__ = ("_stats",)

    def __init__(self) -> None:
        self._stats: dict[str, Any] = {}

    def get_value(self, key: str, default: Any = None) -> Any:
        return self._stats.get(key, default)

    def get_stats(self) -> dict[str, Any]:
        return self._stats

    def set_value(self, key: str, value: Any) -> None:
        self._stats[key] = value

    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None:
        self._stats[key] = self._stats.get(key, start) + count

    def max_value(self, key: str, value: Any) -> None:
        self._stats[key] = max(self._stats.get(key, value), value)

    def min_value(self, key: str, value: Any) -> None:
        self._stats[key] = min(self._stats.get(key, value), value)


def request_site(crawler, request: Request) -> str | None:
    """The key of the site a request is for: its ``SITE_META``; for a request made for a host
    (robots.txt), a running site on that host, or the one site of a one-site spider."""
    key = request.meta.get(SITE_META)
    if key:
        return key
    spider = getattr(crawler, "spider", None)
    on_host = getattr(spider, "site_on_host", None)
    key = on_host(urlparse_cached(request).hostname) if on_host is not None else None
    return key or getattr(getattr(spider, "site", None), "key", None)


def request_stats(crawler, request: Request):
    return stats_for(crawler, request_site(crawler, request))


class SiteStatsMiddleware:
    """Counts, per site, what Scrapy's downloader middlewares count per crawler: retries and
    download exceptions (the run record's ``retries`` and errors). Responses received are
    counted by the spider (Scrapy's ``response_received`` signal)."""

    def __init__(self, crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        retries = request.meta.get("retry_times")
        if retries and request.meta.get("policywatch_retry_counted") != retries:
            request.meta["policywatch_retry_counted"] = retries
            request_stats(self.crawler, request).inc_value("retry/count")
        return None

    def process_exception(self, request: Request, exception: Exception) -> None:
        kind = type(exception)
        request_stats(self.crawler, request).inc_value(
            f"downloader/exception_type_count/{kind.__module__}.{kind.__name__}")
        return None
