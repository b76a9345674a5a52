"""Naming and jurisdiction: what detect proposes to call a column and whose it is — the column's
and the issuer's names as the page states them, the issuer's division code and level (through
the gazetteer of ``classifiers.issuer``), the site key, the domains, and a provisional ``Site``."""

from __future__ import annotations

import html as htmllib
import re
from typing import Any
from urllib.parse import urlsplit

from classifiers.issuer import resolve_issuer
from crawlers.items import ListEntry
from crawlers.parsing.scan import first_content
from crawlers.parsing.text import join_cjk
from crawlers.sites.spec import Column, Politeness, Site

PLACEHOLDER_DIVISION = "100000"  # a provisional spec's division until the issuer is known

_META = re.compile(r"""<meta\s+[^<>]*name\s*=\s*["']({names})["'][^<>]*content\s*=\s*["']([^"']*)["']""", re.I)
_TITLE_SPLIT = re.compile(r"\s*(?:[-_|｜—–]+|\s{2,})\s*")
_ORG = re.compile(r"(?:政府|委员会|管委会|办公厅|办公室|局|厅|委|部|院|署|中心|办)$")


def _meta(html: str, *names: str) -> str:
    pattern = re.compile(_META.pattern.format(names="|".join(names)), re.I)
    m = pattern.search(html)
    return join_cjk(htmllib.unescape(m.group(2))) if m else ""


def page_names(html: str) -> tuple[str, str]:
    """(the column's name, the publishing organisation) as the page states them: the
    ColumnName/SiteName meta tags, else the parts of its <title>; empty when unknown."""
    column = _meta(html, "ColumnName")
    issuer = _meta(html, "SiteName")
    title = first_content(html, "title")
    parts = [p for p in _TITLE_SPLIT.split(htmllib.unescape(" ".join(title.split()))) if p] if title else []
    if not issuer:
        issuer = next((p for p in reversed(parts) if _ORG.search(p)), "")
    if not column:
        column = next((p for p in parts if p != issuer and not _ORG.search(p)), "")
    return column, issuer


def jurisdiction(issuer: str) -> tuple[str | None, str | None]:
    """(division code, level) of an organisation by its name, through the gazetteer."""
    if not issuer:
        return None, None
    info = resolve_issuer(issuer)
    if info.source != "issuer" or not info.division_code:
        return None, None
    return info.division_code, info.level


_GENERIC_LABELS = {"www", "gov", "com", "net", "org", "edu", "cn", "ac"}


def suggest_key(url: str, taken: set[str] = frozenset()) -> str:
    """An ASCII snake_case key from the column's host and path (``sthjt_jiangxi_col42150``),
    numbered when taken."""
    parts = urlsplit(url)
    host = [p for p in (parts.hostname or "site").lower().split(".") if p not in _GENERIC_LABELS]
    segments = [s for s in parts.path.split("/") if s and not re.match(r"^(?:index|list|default)\b", s)]
    tail = re.sub(r"\.[a-z]+$", "", segments[-1]) if segments else ""
    words = [re.sub(r"[^a-z0-9]+", "_", w.lower()).strip("_") for w in host[:2] + [tail]]
    key = "_".join(w for w in words if w) or "site"
    if not key[0].isalpha():
        key = "w_" + key
    candidate, n = key, 2
    while candidate in taken:
        candidate, n = f"{key}_{n}", n + 1
    return candidate


def site_domains(url: str, entries: list[ListEntry]) -> tuple[str, ...]:
    """The column's host and the hosts of its entries that share its registrable domain."""
    host = (urlsplit(url).hostname or "").lower()
    base = registrable(host)
    hosts = {host}
    for entry in entries:
        other = (urlsplit(entry.url).hostname or "").lower()
        if other and (other == base or other.endswith("." + base)):
            hosts.add(other)
    return tuple(sorted(hosts, key=lambda h: (h != host, h)))


def registrable(host: str) -> str:
    """The domain a portal's hosts share: ``jiangxi.gov.cn`` for www/sthjt.jiangxi.gov.cn."""
    labels = host.split(".")
    if len(labels) >= 3 and labels[-2] in {"gov", "com", "net", "org", "edu", "ac"} and labels[-1] == "cn":
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def provisional_site(url: str, family: str, *, params: dict[str, Any] | None = None,
                     needs_browser: bool = False, key: str = "detect", name: str = "待定",
                     division_code: str = PLACEHOLDER_DIVISION, level: str = "province",
                     column: str = "待定", domains: tuple[str, ...] | None = None,
                     delay: float = 2.0) -> Site:
    """A Site for reading the column with ``family`` (placeholders where nothing is known)."""
    host = (urlsplit(url).hostname or "").lower()
    return Site(key=key, name=name, division_code=division_code, level=level, family=family,
                domains=domains or (registrable(host),),
                columns=(Column(name=column, url=url, params=dict(params or {})),),
                politeness=Politeness(delay=delay), needs_browser=needs_browser)


__all__ = ["PLACEHOLDER_DIVISION", "jurisdiction", "page_names", "provisional_site", "registrable",
           "site_domains", "suggest_key"]
