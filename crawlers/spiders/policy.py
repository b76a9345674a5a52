"""PolicySpider: a site's columns → list pages → detail pages → PolicyItems.

Callbacks stay thin: every page is handed to the site's CMS-family adapter (pure), and every
refusal (a WAF page, an error page, a page that is not a document) is counted under
``policywatch/failed/<reason>`` and kept in ``spider.failures`` for the run record.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.http import FormRequest, Request, Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from ..families import get_family
from ..items import Attachment, ListEntry, PageRequest, PolicyItem
from ..parsing.blocks import detect_block
from ..parsing.detail import ParseError
from ..sites.spec import Column, Site

# Links that go straight to a file rather than to a page about it.
FILE_EXTENSIONS = ("pdf", "doc", "docx", "wps", "ofd", "xls", "xlsx", "et", "zip", "rar")
MAX_FAILURES_KEPT = 200


class PolicySpider(scrapy.Spider):
    """Crawls one site. ``max_pages`` caps the list pages read per column."""

    name = "policy"

    def __init__(self, site: Site, max_pages: int | None = None, **kwargs: Any):
        super().__init__(name=f"policy:{site.key}", **kwargs)
        self.site = site
        self.family = get_family(site.family)
        self.allowed_domains = list(site.domains)
        self.max_pages = max_pages
        self.failures: list[dict[str, str]] = []

    # --- requests -----------------------------------------------------------------------
    async def start(self):
        for column in self.site.columns:
            yield self._list_request(self.family.first_page(self.site, column), column)

    def _meta(self, browser: bool = False) -> dict[str, Any]:
        meta: dict[str, Any] = {}
        if not self.site.politeness.obey_robots:
            meta["dont_obey_robotstxt"] = True
        if browser:
            meta["playwright"] = True
            # Script-rendered lists arrive after "load": wait until the page stops fetching.
            meta["playwright_page_goto_kwargs"] = {"wait_until": "networkidle"}
        return meta

    def _list_request(self, page: PageRequest, column: Column) -> Request:
        kwargs = dict(
            callback=self.parse_list,
            errback=self.on_error,
            cb_kwargs={"column": column, "page": page},
            meta=self._meta(page.browser),
            # A Hanweb feed's pages differ only in the query; pages are never duplicates.
            dont_filter=True,
        )
        if page.method == "POST":
            return FormRequest(page.url, formdata=dict(page.formdata), **kwargs)
        return Request(page.url, **kwargs)

    # --- callbacks ----------------------------------------------------------------------
    def parse_list(self, response: Response, column: Column, page: PageRequest):
        stats = self.crawler.stats
        stats.inc_value("policywatch/pages/list")
        headers = response.headers.to_unicode_dict()
        verdict = detect_block(response.status, headers, response.body)
        if verdict is not None:
            self._fail(response.url, "blocked" if verdict.is_block else verdict.kind, f"{verdict.kind}: {verdict.evidence}", "list")
            return
        try:
            listing = self.family.parse_list(self.site, column, page, response.body, headers)
        except ParseError as exc:
            self._fail(response.url, exc.reason, exc.message, "list")
            return
        if not listing.entries:
            self._fail(response.url, "empty_list", "no entries found on the list page", "list")
        for entry in listing.entries:
            if not self.site.allows_url(entry.url):
                stats.inc_value("policywatch/skipped/offsite")
                continue
            meta = self._meta()
            if _is_file_url(entry.url):
                # The entry is the file itself: it may be as big as an attachment may be.
                meta["download_maxsize"] = self.settings.getint("POLICYWATCH_ATTACHMENT_MAX_BYTES")
            yield Request(
                entry.url,
                callback=self.parse_detail,
                errback=self.on_error,
                cb_kwargs={"column": column.name, "entry": entry},
                meta=meta,
            )
        limit = min(column.max_pages, self.max_pages or column.max_pages)
        for next_page in listing.next_pages:
            if next_page.page <= limit:
                yield self._list_request(next_page, column)

    def parse_detail(self, response: Response, column: str, entry: ListEntry):
        self.crawler.stats.inc_value("policywatch/pages/detail")
        fetched_at = datetime.now(timezone.utc)
        headers = response.headers.to_unicode_dict()
        if _is_file(response, entry.url):
            yield self._file_document(response, column, entry, fetched_at)
            return
        try:
            item = self.family.parse_detail(self.site, response.url, response.body, headers, fetched_at)
        except ParseError as exc:
            self._fail(response.url, exc.reason, exc.message, "detail")
            return
        item.column = column
        item.http_status = response.status
        # The list page's date and title are weaker than the page's own, but better than none.
        if item.published_date is None and entry.published_date is not None:
            item.published_date = entry.published_date
            item.provenance["published_date"] = "list"
        self.crawler.stats.inc_value("policywatch/items")
        yield item

    def _file_document(self, response: Response, column: str, entry: ListEntry,
                       fetched_at: datetime) -> PolicyItem:
        """A list entry that links straight to a PDF/DOC: the file is the document."""
        self.crawler.stats.inc_value("policywatch/items")
        return PolicyItem(
            url=response.url,
            site=self.site.key,
            title=entry.title,
            published_date=entry.published_date,
            attachments=[Attachment(
                url=response.url, name=entry.title, data=response.body,
                content_type=response.headers.get("Content-Type", b"").decode("latin-1") or None,
            )],
            column=column,
            fetched_at=fetched_at,
            http_status=response.status,
            http_headers=response.headers.to_unicode_dict(),
            provenance={"title": "list", "published_date": "list"},
            text_source="attachment_pending",
        )

    def on_error(self, failure: Failure):
        request = failure.request
        stage = "list" if request.callback == self.parse_list else "detail"
        if failure.check(HttpError):
            response = failure.value.response
            verdict = detect_block(response.status, response.headers.to_unicode_dict(), response.body)
            if verdict is not None and verdict.is_block:
                self._fail(request.url, "blocked", f"{verdict.kind}: {verdict.evidence}", stage)
            else:
                self._fail(request.url, f"http_{response.status}", f"HTTP {response.status}", stage)
        elif failure.check(IgnoreRequest) and "robots.txt" in str(failure.value):
            self._fail(request.url, "robots_forbidden", "the portal's robots.txt forbids this page", stage)
        else:
            self._fail(request.url, type(failure.value).__name__.lower(), str(failure.value)[:300], stage)

    def _fail(self, url: str, reason: str, message: str, stage: str) -> None:
        stats = self.crawler.stats
        stats.inc_value(f"policywatch/failed/{reason}")
        if reason == "blocked":
            stats.inc_value("policywatch/blocked")
        self.logger.warning("%s page refused (%s): %s — %s", stage, reason, url, message)
        if len(self.failures) < MAX_FAILURES_KEPT:
            self.failures.append({"url": url, "reason": reason, "message": message, "stage": stage})


def _is_file(response: Response, url: str) -> bool:
    content_type = response.headers.get("Content-Type", b"").decode("latin-1").lower()
    if content_type.startswith(("application/pdf", "application/msword", "application/vnd.",
                                "application/zip", "application/octet-stream")):
        return True
    return _is_file_url(url)


def _is_file_url(url: str) -> bool:
    path = url.split("?", 1)[0].lower()
    return path.rsplit(".", 1)[-1] in FILE_EXTENSIONS
