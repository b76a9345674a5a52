"""Download handlers that send every request to the local replay portal when one is set.

With ``POLICYWATCH_REPLAY_URL`` set (``http://127.0.0.1:PORT``), a request for
``https://www.gov.cn/zhengce/x.htm`` is fetched over real HTTP from
``http://127.0.0.1:PORT/https/www.gov.cn/zhengce/x.htm`` and its response handed back under the
original URL, so everything above the downloader (robots.txt, offsite filtering, redirects,
parsers) sees the portal's own URLs. Without the setting they are Scrapy's own handlers.

Browser pages (``meta["playwright"]``) go through ``crawlers.engine.browserhandler``, named only
in the settings of a site that needs the browser (so nothing else imports Playwright); they reach
the replay portal differently: the runner starts Chromium with a host-resolver rule that sends
every host to the portal, which then routes by the Host header (http only).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from scrapy import Request
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.http import Response
from scrapy.utils.defer import maybe_deferred_to_future


def replay_url(base: str, url: str) -> str:
    """Where the replay portal serves ``url``."""
    parts = urlsplit(url)
    mapped = f"{base.rstrip('/')}/{parts.scheme}/{parts.netloc}{parts.path or '/'}"
    return f"{mapped}?{parts.query}" if parts.query else mapped


async def fetch(handler: HTTP11DownloadHandler, replay: str, request: Request) -> Response:
    """``request`` through ``handler`` (Scrapy's HTTP/1.1), from the replay portal when one is set."""
    if not replay:
        return await HTTP11DownloadHandler.download_request(handler, request)
    mapped = request.replace(url=replay_url(replay, request.url))
    response = await HTTP11DownloadHandler.download_request(handler, mapped)
    return _under_url(response, request)


def _under_url(response: Response, request: Request) -> Response:
    """``response`` under the request's own URL. Not ``response.replace()``: it reads every
    attribute, a text response's ``encoding`` too, which makes Scrapy guess the encoding of
    a page that declares none (charset-normalizer, ~17 ms a page) whether or not anyone asks."""
    kept = {name: getattr(response, name) for name in Response.attributes
            if name not in ("url", "request")}
    return type(response)(url=request.url, request=request, **kept)


class ReplayAwareDownloadHandler(HTTP11DownloadHandler):
    """Scrapy's HTTP/1.1 handler, redirected to the replay portal when one is configured."""

    def __init__(self, crawler):
        super().__init__(crawler)
        self._replay = crawler.settings.get("POLICYWATCH_REPLAY_URL") or ""

    async def download_request(self, request: Request) -> Response:
        return await fetch(self, self._replay, request)

    async def close(self) -> None:
        await _close_pool(self)


async def _close_pool(handler: HTTP11DownloadHandler) -> None:
    """Scrapy's close, without its race: it ends the wait for the connections to close with a
    timer that calls the wait's Deferred, and cancels the timer only when the awaiting coroutine
    resumes, a loop turn later. A crawl process running hundreds of sites can be that turn late
    (a traceback, AlreadyCalledError, per closing site); here the timer fires only an uncalled
    Deferred."""
    from twisted.internet import reactor  # the one the crawl process installed

    closed = handler._pool.closeCachedConnections()

    def give_up() -> None:
        if not closed.called:
            closed.callback(None)

    timer = reactor.callLater(handler._disconnect_timeout, give_up)
    try:
        await maybe_deferred_to_future(closed)
    finally:
        if timer.active():
            timer.cancel()
