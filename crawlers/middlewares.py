"""Downloader middlewares of our own."""

from __future__ import annotations

import logging
import re

from scrapy import Request
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware
from scrapy.http import Response

logger = logging.getLogger(__name__)

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
            self.crawler.stats.inc_value("policywatch/backoff")

    def process_response(self, request: Request, response: Response) -> Response:
        if response.status in _SLOW_DOWN:
            self._slow_down(request, f"HTTP {response.status}")
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        self._slow_down(request, type(exception).__name__)
        return None


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
