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

LEVELS = ("national", "province", "prefecture", "county")
FAMILIES = ("trs", "hanweb", "govcn", "ucap", "gkmlpt", "scripted", "generic")
_KEY_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_DIVISION_RE = re.compile(r"^\d{6}$")


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
class Site:
    """One portal: who it belongs to, what to watch, and how to read it."""

    key: str
    name: str  # Chinese name of the portal or issuer, e.g. 江西省人民政府
    division_code: str  # GB/T 2260 code of the jurisdiction, e.g. 360000
    level: str  # national / province / prefecture / county
    family: str  # CMS family, one of FAMILIES
    domains: tuple[str, ...]
    columns: tuple[Column, ...]
    politeness: Politeness = Politeness()
    selectors: Selectors = Selectors()
    needs_browser: bool = False
    # Where the structure was checked: a saved real page, or the family's known layout only.
    evidence: str = ""
    verified_on: str = ""  # YYYY-MM-DD
    enabled: bool = True

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
    if site.family not in FAMILIES:
        fail("family", f"{site.family!r} is not one of {', '.join(FAMILIES)}")
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
    if not p.obey_robots and not p.robots_reason.strip():
        fail("politeness.robots_reason", "ignoring robots.txt needs a written reason")
