"""The download handler of sites whose lists only a browser renders: scrapy-playwright's, with
the replay portal for the pages that need no browser. Named by dotted path in those sites'
settings (``crawlers.engine.sitesettings``), so only their crawls import Playwright."""

from __future__ import annotations

from scrapy import Request
from scrapy.http import Response
from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler

from crawlers.engine.downloader import fetch


class ReplayAwareBrowserHandler(ScrapyPlaywrightDownloadHandler):
    """scrapy-playwright's handler: the browser for pages that ask for it, HTTP for the rest."""

    def __init__(self, crawler):
        super().__init__(crawler)
        self._replay = crawler.settings.get("POLICYWATCH_REPLAY_URL") or ""

    async def download_request(self, request: Request) -> Response:
        if request.meta.get("playwright"):
            return await super().download_request(request)
        return await fetch(self, self._replay, request)
