"""robots.txt for every request, including those that wait while it is being fetched.

Scrapy's ``RobotsTxtMiddleware`` fetches a host's robots.txt once and parks the requests that
arrive meanwhile on one Deferred. In Scrapy 2.19 only the first two of those waiters receive
the parser: the Deferred's result is consumed by the first conversions to a future, and every
later waiter gets ``None``, which the middleware reads as "no robots.txt, allow everything". A
site whose crawl starts with several requests (columns plus site-search terms) would then fetch
forbidden pages. This subclass asks the parser table again when the wait returned nothing.
"""

from __future__ import annotations

from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.http import Request
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred


class SharedRobotsTxtMiddleware(RobotsTxtMiddleware):
    """Scrapy's robots.txt middleware, with the parser handed to every waiting request."""

    async def robot_parser(self, request: Request):
        parser = await super().robot_parser(request)
        if parser is None:
            # The wait may have lost the result; the table holds the parser once it is parsed
            # (and None only when robots.txt could not be fetched at all).
            known = self._parsers.get(urlparse_cached(request).netloc)
            if known is not None and not isinstance(known, Deferred):
                return known
        return parser
