"""`policywatch probe SITE`: a maintainer's live check of one portal.

Fetches the site's first list page and the first document it links — politely: robots.txt is
read first and obeyed, the project's User-Agent is sent, one request at a time with the site's
delay between them — parses both with the site's CMS-family adapter, and says what was found,
what is missing, what is blocked and what looks wrong. It is how a site marked unverified gets
checked against the live portal, and how a maintainer sees that a layout changed; the two pages
can then be saved as the site's new fixtures.

No Scrapy here: a single manual check needs no reactor, only a careful plain HTTP client
(``PoliteFetcher``), which ``--replay URL`` points at the local replay portal for testing.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import urlsplit

from protego import Protego

from crawlers.engine.downloader import replay_url as replay_mapped
from crawlers.families import get_family
from crawlers.items import ListEntry, ListPage, PageRequest, PolicyItem
from crawlers.parsing.blocks import detect_block
from crawlers.parsing.detail import ParseError
from crawlers.parsing.display import pad
from crawlers.sites.spec import Site
from crawlers.tools.toolfetch import FetchError, Resolver, resolve_host
from crawlers.tools.toolfetch import fetch as bounded_fetch

log = logging.getLogger(__name__)

OK, BROKEN, BLOCKED = "ok", "broken", "blocked"
EXIT_CODES = {OK: 0, BROKEN: 1, BLOCKED: 2}
# Fields a policy page usually states; the first group missing means the parse is wrong.
REQUIRED_FIELDS = ("title", "published_date")
USUAL_FIELDS = ("doc_number", "issuer", "index_no", "topic", "written_date")
# Page furniture that must never be part of a document's text.
FURNITURE = ("版权所有", "ICP备", "网站标识码", "分享到", "打印本页", "关闭窗口", "上一篇", "下一篇",
             "当前位置", "扫一扫", "网站地图")
MIN_BODY = 50  # characters; a shorter body is a cover note or a wrong content selector


class ProbeError(RuntimeError):
    """A fetch could not be made at all (network, DNS, timeout)."""


@dataclass
class Fetched:
    """One response: what was asked, what came back."""

    url: str
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def content_type(self) -> str:
        for key, value in self.headers.items():
            if key.lower() == "content-type":
                return value
        return ""


class PoliteFetcher:
    """GETs/POSTs one page at a time: robots.txt first, the User-Agent, the site's delay."""

    def __init__(self, user_agent: str, delay: float, replay_url: str | None = None,
                 timeout: float = 30.0, sleep: Callable[[float], None] = time.sleep,
                 resolve: Resolver = resolve_host):
        self.user_agent = user_agent
        # The local replay portal needs no politeness; a real portal gets the site's pace.
        self.delay = 0.0 if replay_url else delay
        self.replay_url = replay_url
        self.timeout = timeout
        self._sleep = sleep
        self._resolve = resolve  # tests judge redirects with a fake resolver
        self._robots: dict[str, Protego | None] = {}
        self._last: float | None = None
        self.requests: list[str] = []  # what was fetched, in order (robots.txt included)

    def _target(self, url: str) -> str:
        return replay_mapped(self.replay_url, url) if self.replay_url else url

    def _wait(self) -> None:
        if self._last is not None and self.delay:
            remaining = self.delay - (time.monotonic() - self._last)
            if remaining > 0:
                self._sleep(remaining)

    def _open(self, url: str, data: bytes | None = None) -> Fetched:
        self._wait()
        self.requests.append(url)
        try:
            got = bounded_fetch(url, data=data, headers={"User-Agent": self.user_agent},
                                timeout=self.timeout, resolve=self._resolve, target=self._target)
            return Fetched(url, got.status, got.headers, got.body)
        except FetchError as exc:
            raise ProbeError(str(exc)) from None
        finally:
            self._last = time.monotonic()

    def allowed(self, url: str) -> bool:
        """Does the portal's robots.txt let our User-Agent fetch ``url``? (No robots.txt, or
        one that cannot be read, allows everything, as Scrapy's middleware treats it.)"""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self._robots:
            try:
                answer = self._open(origin + "/robots.txt")
            except ProbeError:
                answer = None
            if answer is not None and answer.status == 200 and answer.body.strip():
                self._robots[origin] = Protego.parse(answer.body.decode("utf-8", "replace"))
            else:
                self._robots[origin] = None
        rules = self._robots[origin]
        return rules is None or rules.can_fetch(url, self.user_agent)

    def fetch(self, page: PageRequest) -> Fetched:
        data = None
        if page.method == "POST":
            from urllib.parse import urlencode

            data = urlencode(dict(page.formdata)).encode("utf-8")
        return self._open(page.url, data)


@dataclass
class ProbeReport:
    """What the probe saw, in the order it saw it."""

    site: Site
    verdict: str = OK
    notes: list[tuple[str, str]] = field(default_factory=list)  # (severity, message)
    list_page: Fetched | None = None
    listing: ListPage | None = None
    entry: ListEntry | None = None
    detail_page: Fetched | None = None
    item: PolicyItem | None = None

    def note(self, severity: str, message: str) -> None:
        self.notes.append((severity, message))
        if severity == BLOCKED:
            self.verdict = BLOCKED
        elif severity == BROKEN and self.verdict == OK:
            self.verdict = BROKEN

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.verdict]

    @property
    def can_save(self) -> bool:
        """Both pages parsed: they can become the site's fixtures."""
        return self.listing is not None and self.item is not None

    def missing(self) -> list[str]:
        if self.item is None:
            return []
        return [name for name in (*REQUIRED_FIELDS, *USUAL_FIELDS) if getattr(self.item, name) in (None, "")]


def _check_response(report: ProbeReport, fetched: Fetched, what: str) -> bool:
    """Is this a page at all? Notes a block or an error page; True when it can be parsed."""
    verdict = detect_block(fetched.status, fetched.headers, fetched.body)
    if verdict is not None:
        if verdict.is_block:
            report.note(BLOCKED, f"{what} {fetched.url} is a {verdict.kind} page ({verdict.evidence})")
        else:
            report.note(BROKEN, f"{what} {fetched.url}: {verdict.kind} ({verdict.evidence})")
        return False
    if fetched.status >= 400:
        report.note(BROKEN, f"{what} {fetched.url} answered HTTP {fetched.status}")
        return False
    return True


def _fetch(report: ProbeReport, fetcher: PoliteFetcher, page: PageRequest, what: str) -> Fetched | None:
    if not fetcher.allowed(page.url):
        report.note(BLOCKED, f"the portal's robots.txt forbids the {what} {page.url}")
        return None
    try:
        return fetcher.fetch(page)
    except ProbeError as exc:
        report.note(BROKEN, str(exc))
        return None


def probe_site(site: Site, fetcher: PoliteFetcher) -> ProbeReport:
    """Fetch and parse the site's first list page and its first document; judge them."""
    report = ProbeReport(site)
    if site.blocked_reason:
        report.note(BLOCKED, f"the registry lists {site.key} as not crawled: {site.blocked_reason}")
        return report
    if site.needs_browser:
        report.note("note", "this site's list is drawn by script in a browser; the probe reads the "
                            "HTML as served, without running it")
    family = get_family(site.family)
    column = site.columns[0]
    first = family.first_page(site, column)
    fetched = _fetch(report, fetcher, first, "list page")
    if fetched is None:
        return report
    report.list_page = fetched
    if not _check_response(report, fetched, "list page"):
        return report
    try:
        report.listing = family.parse_list(site, column, first, fetched.body, fetched.headers)
    except ParseError as exc:
        report.note(BROKEN, f"the list page does not parse as {site.family}: {exc.message}")
        return report
    entries = [e for e in report.listing.entries if site.allows_url(e.url)]
    if not entries:
        report.note(BROKEN, f"0 entries on the list page {fetched.url} (the {site.family} list "
                            "selectors match nothing: has the layout changed?)")
        return report
    report.note(OK, f"{len(entries)} entries on the list page, "
                    f"{len(report.listing.next_pages)} further page(s) announced")
    if not any(e.published_date for e in entries):
        report.note("suspicious", "no entry on the list page shows a date")

    report.entry = entries[0]
    detail = _fetch(report, fetcher, PageRequest(url=report.entry.url), "document")
    if detail is None:
        return report
    report.detail_page = detail
    if not _check_response(report, detail, "document"):
        return report
    try:
        report.item = family.parse_detail(site, detail.url, detail.body, detail.headers)
    except ParseError as exc:
        severity = BLOCKED if exc.reason == "blocked" else BROKEN
        report.note(severity, f"the document {detail.url} does not parse ({exc.reason}): {exc.message}")
        return report
    _judge_item(report)
    return report


def _judge_item(report: ProbeReport) -> None:
    item = report.item
    missing = report.missing()
    for name in REQUIRED_FIELDS:
        if name in missing:
            report.note(BROKEN, f"the document has no {name}")
    usual = [n for n in USUAL_FIELDS if n in missing]
    if usual:
        report.note("missing", "not found on the document: " + ", ".join(usual))
    body = item.body_text or ""
    declared = get_family(report.site.family).rules_for(report.site).content
    how = item.provenance.get("body_text", "")
    if declared and how != "selector" and item.text_source == "page":
        # The family says where its body is; a body found elsewhere means the layout moved.
        report.note(BROKEN, f"none of the content selectors ({', '.join(declared[:4])}"
                            f"{', …' if len(declared) > 4 else ''}) matches: the body was guessed"
                            f"{f' ({how})' if how else ''}")
    if len(body) < MIN_BODY and item.text_source == "page":
        report.note(BROKEN, f"the body is only {len(body)} characters (wrong content selector?)")
    leaked = [f for f in FURNITURE if f in body]
    if leaked:
        report.note("suspicious", "page furniture in the body: " + ", ".join(leaked))
    if item.title and item.title.strip() in (report.site.name, "首页"):
        report.note("suspicious", f"the title {item.title!r} is the portal's name, not the document's")
    if report.entry and report.entry.title and item.title and \
            report.entry.title.replace(" ", "") not in item.title.replace(" ", "") and \
            item.title.replace(" ", "") not in report.entry.title.replace(" ", ""):
        report.note("suspicious", f"the list calls it {report.entry.title!r}, the page {item.title!r}")


# --- output -----------------------------------------------------------------------------
FIELD_LABELS = (
    ("title", "标题"), ("doc_number", "文号"), ("issuer", "发文机关"), ("index_no", "索引号"),
    ("topic", "主题分类"), ("written_date", "成文日期"), ("published_date", "发布日期"),
)


def render(report: ProbeReport) -> str:
    """The report as a maintainer reads it in a terminal."""
    site = report.site
    lines = [f"probe {site.key} — {site.name} ({site.family}"
             f"{', browser' if site.needs_browser else ''})",
             "  status in the registry: " + (f"verified {site.verified_on}" if site.verified_on
                                              else "unverified") + f"; evidence: {site.evidence or '-'}"]
    if report.list_page is not None:
        lines.append(f"list page  {report.list_page.url}  HTTP {report.list_page.status}, "
                     f"{len(report.list_page.body)} bytes")
    if report.listing is not None:
        for entry in report.listing.entries[:5]:
            day = entry.published_date.isoformat() if entry.published_date else "no date   "
            lines.append(f"    {day}  {entry.title}")
        if len(report.listing.entries) > 5:
            lines.append(f"    … {len(report.listing.entries) - 5} more")
    if report.detail_page is not None:
        lines.append(f"document   {report.detail_page.url}  HTTP {report.detail_page.status}, "
                     f"{len(report.detail_page.body)} bytes")
    if report.item is not None:
        item = report.item
        for name, label in FIELD_LABELS:
            value = getattr(item, name)
            shown = value.isoformat() if hasattr(value, "isoformat") else value
            lines.append(f"    {pad(label, 10)}{shown if shown else '— missing'}")
        text = " ".join((item.body_text or "").split())
        lines.append(f"    {pad('正文', 10)}{len(item.body_text or '')} characters: {text[:60]}{'…' if len(text) > 60 else ''}")
        if item.attachments:
            lines.append(f"    {pad('附件', 10)}{len(item.attachments)}: " + ", ".join(a.name for a in item.attachments[:3]))
    for severity, message in report.notes:
        lines.append(f"[{severity}] {message}")
    lines.append(f"verdict: {report.verdict.upper()}")
    return "\n".join(lines)


__all__ = ["BLOCKED", "BROKEN", "OK", "PoliteFetcher", "ProbeError", "ProbeReport", "probe_site", "render"]
