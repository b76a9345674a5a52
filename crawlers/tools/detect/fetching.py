"""Fetching for detect: the polite fetcher of ``policywatch probe`` (robots.txt, User-Agent,
delay; bounded requests through ``crawlers.tools.toolfetch``), the check that a page is no
refusal (WAF, challenge, error), and the browser for lists that only script fills. Every
refusal is a note on the detection."""

from __future__ import annotations

from typing import Callable
from urllib.parse import urlsplit

from crawlers.engine.settings import PLAYWRIGHT_LAUNCH_OPTIONS
from crawlers.items import PageRequest
from crawlers.parsing.blocks import detect_block
from crawlers.tools.detect.result import BLOCKED, BROKEN, Detection, Fetch
from crawlers.tools.probe import PoliteFetcher, ProbeError

Renderer = Callable[[str], str]


def refused(detection: Detection, page: Fetch, what: str) -> bool:
    """Is ``page`` a refusal (a WAF, challenge or error page, an HTTP error)? Noted if so."""
    verdict = detect_block(page.status, page.headers, page.body)
    if verdict is not None:
        detection.note(BLOCKED if verdict.is_block else BROKEN,
                       f"the {what} {page.url} is a {verdict.kind} page ({verdict.evidence})")
        return True
    if page.status >= 400:
        detection.note(BROKEN, f"the {what} {page.url} answered HTTP {page.status}")
        return True
    return False


class DetectFetcher:
    """The polite fetcher (None: offline), recording refusals on the detection."""

    def __init__(self, detection: Detection, fetcher: PoliteFetcher | None):
        self.detection = detection
        self.fetcher = fetcher

    def get(self, request: PageRequest, what: str) -> Fetch | None:
        if self.fetcher is None:
            return None
        if not self.fetcher.allowed(request.url):
            self.detection.note(BLOCKED, f"the portal's robots.txt forbids the {what} {request.url}")
            return None
        try:
            got = self.fetcher.fetch(request)
        except ProbeError as exc:
            self.detection.note(BROKEN, str(exc))
            return None
        self.detection.fetched.append(request.url)
        return Fetch(got.url, got.status, got.headers, got.body)

    def render(self, renderer: Renderer) -> Fetch | None:
        """The column page as the browser renders it (robots.txt permitting)."""
        detection = self.detection
        if self.fetcher is not None and not self.fetcher.allowed(detection.url):
            detection.note(BLOCKED, f"the portal's robots.txt forbids the column page {detection.url}")
            return None
        try:
            html = renderer(detection.url)
        except RenderError as exc:
            detection.note(BROKEN, f"the browser could not render {detection.url}: {exc}")
            return None
        detection.fetched.append(f"{detection.url} (browser)")
        return Fetch(detection.url, 200, {"Content-Type": "text/html; charset=utf-8"},
                     html.encode("utf-8"), source="browser")


class RenderError(RuntimeError):
    """The browser could not load the page."""


def chromium_renderer(replay_url: str | None = None, user_agent: str | None = None) -> Renderer:
    """A function rendering a URL in the system Chromium (Playwright) and returning its DOM;
    with ``replay_url``, every host resolves to the local replay portal (as crawls do)."""

    def render(url: str) -> str:
        # Playwright is heavy and optional: imported only when a page is rendered.
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright

        options = dict(PLAYWRIGHT_LAUNCH_OPTIONS)
        args = list(options.pop("args", []))
        if replay_url:
            port = urlsplit(replay_url).port
            args.append(f"--host-resolver-rules=MAP * 127.0.0.1:{port}, EXCLUDE 127.0.0.1")
        try:
            with sync_playwright() as pw:
                chromium = pw.chromium.launch(args=args, **options)
                try:
                    page = chromium.new_page(user_agent=user_agent) if user_agent else chromium.new_page()
                    page.goto(url, wait_until="networkidle", timeout=30_000)
                    return page.content()
                finally:
                    chromium.close()
        except PlaywrightError as exc:
            raise RenderError(str(exc).splitlines()[0]) from exc

    return render


__all__ = ["DetectFetcher", "RenderError", "Renderer", "chromium_renderer", "refused"]
