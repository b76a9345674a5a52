"""The typed, validated declaration of one watched portal.

A site module under ``crawlers/sites/`` defines ``SITE = Site(...)``; everything a maintainer
needs to say about a portal is here, and a mistake fails at import with a message naming the
site and the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from crawlers.families import family_names

LEVELS = ("national", "province", "prefecture", "county")
ORIGINS = ("registry", "config", "replay")
_KEY_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_DIVISION_RE = re.compile(r"^\d{6}$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Result-page readers of the keyword-discovery adapter (crawlers/engine/search_discovery.py):
# TRS 智能检索 (irs-c-web), Hanweb jsearchfront, and any list of dated result links.
SEARCH_RESULTS = ("irs", "jsearch", "generic")
# What keyword discovery asks a portal's site search by default: 元宇宙 and the core
# technologies of TAXONOMY.md that name the field.
SEARCH_TERMS = ("元宇宙", "虚拟现实", "增强现实", "数字孪生", "数字人")


class SiteSpecError(ValueError):
    """A site declaration is invalid."""


@dataclass(frozen=True)
class Column:
    """A list (column) page to watch, e.g. 政策文件 or 通知公告.

    ``params`` carries what a CMS family needs beyond the URL (Hanweb's columnid/unitid/webid
    for its dataproxy.jsp feed, for instance).
    """

    name: str
    url: str
    params: dict[str, Any] = field(default_factory=dict)
    # Pages to read at most in one walk of the column (a backfill may raise it).
    max_pages: int = 50


@dataclass(frozen=True)
class Politeness:
    """How gently to treat the portal."""

    concurrency: int = 1  # simultaneous requests to the portal's domains (1-2)
    delay: float = 2.0  # seconds between requests, AutoThrottle's floor
    obey_robots: bool = True
    # Required when obey_robots is False: the written reason a maintainer gives.
    robots_reason: str = ""


@dataclass(frozen=True)
class Selectors:
    """Per-site overrides, as CSS selectors; empty means the family's defaults."""

    title: str = ""
    content: str = ""  # the element holding the document body
    metadata: str = ""  # the element holding the 索引号/文号/... table
    list_item: str = ""  # one element per entry on a list page
    next_page: str = ""  # the "下一页" link


@dataclass(frozen=True)
class Search:
    """A portal's site search, queried for ``terms`` to find documents without walking columns.

    ``url`` is a template holding ``{query}`` (the term, URL-encoded) and, when the search
    pages, ``{page}`` (1-based). ``results`` names the reader of its result pages (one of
    ``SEARCH_RESULTS``). Result links are followed only onto the site's own domains.
    """

    url: str
    results: str = "generic"
    terms: tuple[str, ...] = SEARCH_TERMS
    max_pages: int = 1
    browser: bool = False  # result pages that only a browser renders


@dataclass(frozen=True)
class Site:
    """One portal: who it belongs to, what to watch, and how to read it."""

    key: str
    name: str  # Chinese name of the portal or issuer, e.g. 江西省人民政府
    division_code: str  # GB/T 2260 code of the jurisdiction, e.g. 360000
    level: str  # national / province / prefecture / county
    family: str  # CMS family: a name registered in crawlers.families
    domains: tuple[str, ...]
    columns: tuple[Column, ...]
    politeness: Politeness = Politeness()
    selectors: Selectors = Selectors()
    needs_browser: bool = False
    # Where the structure was checked: a saved real page, or the family's known layout only.
    evidence: str = ""
    verified_on: str = ""  # YYYY-MM-DD
    enabled: bool = True
    # Crawl on its own interval (hours) instead of with the daily round; None: daily.
    interval_hours: float | None = None
    # Why the portal is listed but never crawled (e.g. its robots.txt forbids the column);
    # a site with a reason must also say enabled=False.
    blocked_reason: str = ""
    search: Search | None = None
    # Where the site is declared: the registry (crawlers/sites/), the config's [[watch]] tables,
    # or the replay portal (tests and the demo).
    origin: str = "registry"

    def __post_init__(self) -> None:
        validate(self)

    def allows_url(self, url: str) -> bool:
        """Is ``url`` on one of the site's declared domains?"""
        host = (urlsplit(url).hostname or "").lower()
        return any(host == d or host.endswith("." + d) for d in self.domains)


def validate(site: Site) -> None:
    def fail(field_name: str, why: str) -> None:
        raise SiteSpecError(f"site {site.key!r}: {field_name}: {why}")

    if not _KEY_RE.match(site.key or ""):
        fail("key", "must be ASCII snake_case (e.g. jx_gov)")
    if not site.name:
        fail("name", "the Chinese name is required")
    if not _DIVISION_RE.match(site.division_code or ""):
        fail("division_code", f"{site.division_code!r} is not a 6-digit GB/T 2260 code")
    if site.level not in LEVELS:
        fail("level", f"{site.level!r} is not one of {', '.join(LEVELS)}")
    if site.origin not in ORIGINS:
        fail("origin", f"{site.origin!r} is not one of {', '.join(ORIGINS)}")
    if site.family not in family_names():
        fail("family", f"{site.family!r} is not one of {', '.join(family_names())}")
    if not site.domains:
        fail("domains", "at least one domain is required")
    if not site.columns:
        fail("columns", "at least one column to watch is required")
    for column in site.columns:
        parts = urlsplit(column.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            fail("columns", f"{column.url!r} is not an absolute http(s) URL")
        if not site.allows_url(column.url):
            fail("columns", f"{column.url!r} is not on the declared domains {site.domains}")
        if column.max_pages < 1:
            fail("columns", f"{column.name}: max_pages must be at least 1")
    p = site.politeness
    if not 1 <= p.concurrency <= 2:
        fail("politeness.concurrency", "must be 1 or 2 requests at a time")
    if p.delay < 0.5:
        fail("politeness.delay", "must be at least 0.5 s between requests")
    if site.interval_hours is not None and not 1 <= site.interval_hours <= 24 * 7:
        fail("interval_hours", "must be between 1 and 168 hours")
    if not p.obey_robots and not p.robots_reason.strip():
        fail("politeness.robots_reason", "ignoring robots.txt needs a written reason")
    if site.verified_on and not _DATE_RE.match(site.verified_on):
        fail("verified_on", f"{site.verified_on!r} is not a YYYY-MM-DD date (or empty: unverified)")
    if site.blocked_reason.strip() and site.enabled:
        fail("enabled", "a site with a blocked_reason is not crawled: set enabled=False")
    if site.search is not None:
        _validate_search(site, fail)


def _validate_search(site: Site, fail) -> None:
    search = site.search
    if "{query}" not in search.url:
        fail("search.url", f"{search.url!r} has no {{query}} placeholder")
    probe = search.url.replace("{query}", "q").replace("{page}", "1")
    parts = urlsplit(probe)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        fail("search.url", f"{search.url!r} is not an absolute http(s) URL")
    if not site.allows_url(probe):
        fail("search.url", f"{search.url!r} is not on the declared domains {site.domains}")
    if search.results not in SEARCH_RESULTS:
        fail("search.results", f"{search.results!r} is not one of {', '.join(SEARCH_RESULTS)}")
    if not search.terms or any(not t.strip() for t in search.terms):
        fail("search.terms", "at least one non-empty term is required")
    if search.max_pages < 1:
        fail("search.max_pages", "must be at least 1")
    if search.max_pages > 1 and "{page}" not in search.url:
        fail("search.max_pages", "reading more than one result page needs a {page} placeholder")
