"""Downloader middlewares of our own."""

from __future__ import annotations

import logging
import re

from scrapy import Request
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadConnectionRefusedError,
    DownloadTimeoutError,
    IgnoreRequest,
)
from scrapy.http import Response
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet import error as twisted_error

from crawlers.engine.sitestats import request_site, request_stats
from crawlers.items.sitecrawls import SITE_META, site_of

logger = logging.getLogger(__name__)

# The host was never reached: it cannot be resolved, refuses connections, or no route leads to it.
_CANNOT_CONNECT = (CannotResolveHostError, DownloadConnectionRefusedError, twisted_error.DNSLookupError,
                   twisted_error.ConnectError)
# A timeout means "unreachable" only from a host that has not answered yet.
_TIMEOUTS = (DownloadTimeoutError, twisted_error.TimeoutError)

# Statuses that mean "slow down": the server is overloaded or rate-limiting us.
_SLOW_DOWN = {429, 503, 502, 504, 522, 524}


class BackoffMiddleware:
    """Doubles a download slot's delay when its server says "slow down" or times out.

    AutoThrottle lowers the delay again as healthy responses come back, so a portal that recovers
    is crawled at its normal pace; one that keeps failing is approached ever more slowly, up to
    ``POLICYWATCH_BACKOFF_MAX_DELAY`` seconds.
    """

    def __init__(self, crawler, max_delay: float):
        self.crawler = crawler
        self.max_delay = max_delay

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler, crawler.settings.getfloat("POLICYWATCH_BACKOFF_MAX_DELAY"))

    def _slow_down(self, request: Request, why: str) -> None:
        downloader = self.crawler.engine.downloader
        key = downloader.get_slot_key(request)
        slot = downloader.slots.get(key)
        if slot is None:
            return
        new_delay = min(self.max_delay, max(slot.delay * 2, 1.0))
        if new_delay > slot.delay:
            logger.info("backing off %s (%s): delay %.1fs -> %.1fs", key, why, slot.delay, new_delay)
            slot.delay = new_delay
            request_stats(self.crawler, request).inc_value("policywatch/backoff")

    def process_response(self, request: Request, response: Response) -> Response:
        if response.status in _SLOW_DOWN:
            self._slow_down(request, f"HTTP {response.status}")
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        if isinstance(exception, (Unreachable, *_CANNOT_CONNECT)):
            return None  # the server was never reached: nothing asked us to slow down
        self._slow_down(request, type(exception).__name__)
        return None


class Unreachable(IgnoreRequest):
    """The request's host could not be resolved or connected to (the spider records the
    failure under the reason ``unreachable``, its class name)."""


class UnreachableMiddleware:
    """Fails a crawl of an unreachable portal within seconds, with one line saying why.

    Until a host has answered once, its requests get a short timeout
    (``POLICYWATCH_FIRST_CONTACT_TIMEOUT``) and one retry (not ``RETRY_TIMES`` with growing
    delays). When the retry fails too — DNS, connection refused, no route, or a timeout — the
    host is unreachable: one warning is logged, and this request and every later one to the host
    fail at once with :class:`Unreachable` (an ``IgnoreRequest``: no traceback, not even from
    the robots.txt middleware). A host that has answered keeps Scrapy's usual retries.
    """

    def __init__(self, crawler, first_contact_timeout: float):
        self.crawler = crawler
        self.first_contact_timeout = first_contact_timeout
        self.answered: set[str] = set()
        self.unreachable: dict[str, str] = {}  # host -> why

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler, crawler.settings.getfloat("POLICYWATCH_FIRST_CONTACT_TIMEOUT"))

    def process_request(self, request: Request) -> None:
        host = urlparse_cached(request).netloc
        if host in self.unreachable:
            raise Unreachable(f"{host} is unreachable: {self.unreachable[host]}")
        if host not in self.answered:
            timeout = request.meta.get("download_timeout") or self.first_contact_timeout
            request.meta["download_timeout"] = min(timeout, self.first_contact_timeout)
        return None

    def process_response(self, request: Request, response: Response) -> Response:
        self.answered.add(urlparse_cached(request).netloc)
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        host = urlparse_cached(request).netloc
        if isinstance(exception, Unreachable) or host in self.answered:
            return None
        if not isinstance(exception, (*_CANNOT_CONNECT, *_TIMEOUTS)):
            return None
        if not request.meta.get("retry_times"):
            return None  # Scrapy's RetryMiddleware tries once more; the retry's failure ends here
        why = _why(exception)
        if host not in self.unreachable:
            self.unreachable[host] = why
            request_stats(self.crawler, request).inc_value("policywatch/unreachable")
            site = request_site(self.crawler, request) or "crawl"
            logger.warning("%s: %s is unreachable (%s); its requests fail without further retries",
                           site, host, why)
        raise Unreachable(f"{host} is unreachable: {why}")


class OffsiteRedirect(IgnoreRequest):
    """A redirect led off the site's declared domains (recorded as ``offsiteredirect``)."""


class OffsiteRedirectMiddleware:
    """Keeps redirects on the site's declared domains.

    Scrapy's offsite check skips ``dont_filter`` requests, and a redirect inherits the flag: a
    list page (always ``dont_filter``) redirecting to 127.0.0.1, 169.254.169.254 or any other
    host would be followed. A redirected request whose URL is off the site's domains is refused.
    """

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        came_from = request.meta.get("redirect_urls")
        if not came_from:
            return None
        site = site_of(self.crawler, request.meta.get(SITE_META)) \
            or getattr(self.crawler.spider, "site", None)
        if site is None or not hasattr(site, "allows_url") or site.allows_url(request.url):
            return None
        request_stats(self.crawler, request).inc_value("policywatch/offsite_redirect")
        raise OffsiteRedirect(f"{came_from[-1]} redirected to {request.url}, off the site's domains")


def _why(exception: Exception) -> str:
    """One line: what kind of failure, and the system's words for it."""
    if isinstance(exception, (CannotResolveHostError, twisted_error.DNSLookupError)):
        kind = "DNS lookup failed"
    elif isinstance(exception, (DownloadConnectionRefusedError, twisted_error.ConnectionRefusedError)):
        kind = "connection refused"
    elif isinstance(exception, _TIMEOUTS + (twisted_error.TCPTimedOutError,)):
        kind = "no answer in time"
    else:
        kind = "cannot connect"
    detail = " ".join(str(exception).split())[:200]
    return f"{kind}: {detail}" if detail else kind


# Scrapy reads a meta refresh from the first 4,096 characters of the page's text: at most
# 16 KB of GBK or UTF-8.
_REFRESH_SCAN_BYTES = 16 * 1024
_REFRESH = re.compile(rb"refresh", re.IGNORECASE)


class QuickMetaRefreshMiddleware(MetaRefreshMiddleware):
    """Scrapy's ``MetaRefreshMiddleware``, which decodes every HTML page to look for
    ``<meta http-equiv="refresh">`` (guessing the encoding with charset-normalizer when a page
    declares none: ~17 ms a page in the reactor), run only on pages whose first bytes say
    ``refresh`` at all. The page's own parser decodes it again in a worker anyway."""

    def process_response(self, request, response, spider=None):
        if not _REFRESH.search(response.body, 0, _REFRESH_SCAN_BYTES):
            return response
        return super().process_response(request, response)
