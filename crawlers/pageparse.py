"""Parse one saved page outside a crawl: what `policywatch parse` and fixture recording use."""

from __future__ import annotations

from datetime import datetime
from typing import Mapping

from classifiers.classify import Document
from crawlers.families import get_family
from crawlers.items import ListPage, PageRequest, PolicyItem
from crawlers.parsing.detail import ParseError, parse_detail_page
from crawlers.sites import Site, all_sites, get_site

__all__ = ["ParseError", "parse_saved_page", "parse_saved_list", "read_document", "site_for_url"]


def site_for_url(url: str) -> Site | None:
    """The registered site whose domains hold ``url``, if any."""
    for site in all_sites():
        if site.allows_url(url):
            return site
    return None


def parse_saved_page(
    body: bytes, url: str, headers: Mapping[str, str] | None = None, site_key: str | None = None,
    fetched_at: datetime | None = None, site: Site | None = None,
) -> PolicyItem:
    """Parse a detail page with its site's family adapter (the generic rules for unknown hosts).
    The site is ``site`` (one declared in a config), else the registry's ``site_key``, else the
    registry site whose domains hold ``url``."""
    if site is None:
        site = get_site(site_key) if site_key else site_for_url(url)
    if site is None:
        rules = get_family("generic").detail_rules
        return parse_detail_page(url, body, headers or {}, site="", rules=rules, fetched_at=fetched_at)
    return get_family(site.family).parse_detail(site, url, body, headers or {}, fetched_at)


def read_document(body: bytes, url: str) -> Document:
    """A saved page as the classifiers read it (their ``PageReader``: the front door passes this
    to training and evaluation); raises ``ParseError`` (a ValueError) for a page that is not a
    document."""
    item = parse_saved_page(body, url)
    return Document(title=item.title, text=item.body_text, issuer=item.issuer)


def parse_saved_list(body: bytes, url: str, site: Site, column_name: str | None = None,
                     headers: Mapping[str, str] | None = None) -> ListPage:
    """Parse a list page of ``site`` (its first column unless ``column_name`` says which)."""
    columns = {c.name: c for c in site.columns}
    if column_name is not None and column_name not in columns:
        raise KeyError(f"site {site.key!r} has no column {column_name!r}; it has {', '.join(columns)}")
    column = columns[column_name] if column_name else site.columns[0]
    family = get_family(site.family)
    return family.parse_list(site, column, PageRequest(url=url), body, headers or {})
