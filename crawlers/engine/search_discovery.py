"""Keyword discovery: ask a portal's own site search for 元宇宙 and related terms.

A site that declares ``Site.search`` (a URL template with ``{query}`` and optionally ``{page}``,
the reader of its result pages, the terms) is queried once per term at the start of a crawl;
result links on the site's domains are then fetched as detail pages like any list entry, so a
portal's relevant documents are found without walking all its columns. The requests go through
the crawl's downloader like every other page: robots.txt, the User-Agent and the site's pace
apply to them too.

Everything here is pure (bytes in, entries out). Result-page readers (``Search.results``):

- ``irs``: TRS 智能检索 (``/irs-c-web/``), the search many TRS portals run (九江's
  zmhd.jiujiang.gov.cn): one ``div.item`` per result with ``a.title`` (a ``span.type_title``
  label inside the link, ``<em>`` around the hits, the clean title in the ``title``
  attribute) and ``span.sourceTime`` (发布时间：2025-11-05 16:28:36); service results come as
  ``div.jcse-result-box``.
- ``jsearch``: Hanweb 大汉 jsearchfront (``/jsearchfront/search.do``): ``div.jcse-result-box``
  per result, links often wrapped in ``/jsearchfront/visit/link.do?url=<the page>``.
- ``generic``: the largest list of dated links on the page (``crawlers.families.listparse``).

Search engines wrap result links in click-counting redirects (``link.do?url=...``); the page
itself is what the crawl wants, so a wrapper's ``url`` parameter is followed instead.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Iterable, Mapping
from urllib.parse import parse_qsl, quote, urlsplit

from parsel import Selector

from crawlers.families.listparse import (
    Page,
    absolute_url,
    clean_text,
    dedupe_entries,
    find_dated_items,
    item_date,
    link_title,
    load_page,
)
from crawlers.items import ListEntry, ListPage, PageRequest
from crawlers.parsing.dates import find_dates
from crawlers.sites.spec import Search, Site

log = logging.getLogger(__name__)

# Where the result list sits on an irs-c-web page (the right-hand "您可能感兴趣" box is not it).
_IRS_CONTAINERS = (".js_basic_result_content", ".basic_result_content", ".search-result", "body")
_IRS_ITEMS = ("div.item, div.jcse-result-box",)
_JSEARCH_ITEMS = ("div.jcse-result-box", ".jcse-result-list li", "ul.search-list > li")
_WRAPPER_PARAMS = ("url", "u", "target", "redirect")
_TAG = re.compile(r"<[^>]{0,80}>")


@dataclass(frozen=True)
class SearchPage:
    """One result page to fetch: the term asked and the request for it."""

    term: str
    request: PageRequest


def search_url(search: Search, term: str, page: int = 1) -> str:
    """The result-page URL of ``term`` (page ``page``, 1-based) of a site's search."""
    return search.url.replace("{query}", quote(term, safe="")).replace("{page}", str(page))


def search_pages(site: Site) -> list[SearchPage]:
    """The first result page of every term the site's search is asked, in term order
    (none when the site declares no search or is not crawled)."""
    search = site.search
    if search is None or site.blocked_reason:
        return []
    seen: set[str] = set()
    pages = []
    for term in search.terms:
        term = term.strip()
        if not term or term in seen:
            continue
        seen.add(term)
        pages.append(SearchPage(term, PageRequest(url=search_url(search, term, 1), page=1,
                                                  browser=search.browser)))
    return pages


def unwrap(url: str) -> str:
    """The page behind a search engine's click-counting redirect (``.../link.do?url=...``);
    ``url`` itself when it is not one."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key.lower() in _WRAPPER_PARAMS and value.startswith(("http://", "https://")):
            return value
    return url


def _title(anchor: Selector) -> str:
    """The result's title: the link's ``title`` attribute (free of <em> hit marks), else its
    text without the type label (政务信息, 政策文件...) the engine puts in front."""
    # Some engines put the highlighted title, tags and all, in the attribute too.
    attr = clean_text(_TAG.sub("", anchor.attrib.get("title", "")))
    if attr:
        return attr
    texts = anchor.xpath(".//text()[not(ancestor::*[contains(@class, 'type_title')])]").getall()
    return clean_text("".join(texts)) or link_title(anchor)


def _entry(page: Page, item: Selector, anchor_css: str) -> ListEntry | None:
    anchor = item.css(anchor_css)
    anchor = anchor[0] if anchor else None
    if anchor is None:
        for candidate in item.css("a[href]"):
            if absolute_url(page, candidate.attrib.get("href")):
                anchor = candidate
                break
    if anchor is None:
        return None
    url = absolute_url(page, anchor.attrib.get("href"))
    title = _title(anchor)
    if not url or not title:
        return None
    url = unwrap(url)
    stamp = " ".join(item.css(".sourceTime ::text, .jcse-news-date ::text, .date ::text, "
                              ".time ::text").getall())
    dates = find_dates(stamp)
    published = dates[0] if dates else item_date(item, url)
    return ListEntry(url=url, title=title, published_date=published)


def _items(page: Page, containers: Iterable[str], items: Iterable[str]) -> list[Selector]:
    """The result items inside the first result container the page has; an empty container
    means no results (the sidebar's "您可能感兴趣" items are not results)."""
    for container_css in containers:
        found = page.sel.css(container_css)
        if not found:
            continue
        for item_css in items:
            hits = found[0].css(item_css)
            if hits:
                return list(hits)
        return []
    return []


def parse_results(site: Site, term: str, request: PageRequest, body: bytes,
                  headers: Mapping[str, str] | None = None) -> ListPage:
    """The entries of one result page (on the site's domains only) and the next result page.

    A page with no results parses to an empty ``ListPage``: a term the portal has never
    used is not an error. An error page raises ``ParseError("not_a_list")``.
    """
    search = site.search
    if search is None:
        raise ValueError(f"site {site.key!r} declares no search")
    page = load_page(request.url, body, headers)
    if search.results == "irs":
        entries = [_entry(page, item, "a.title") for item in _items(page, _IRS_CONTAINERS, _IRS_ITEMS)]
    elif search.results == "jsearch":
        entries = [_entry(page, item, ".jcse-news-title a, a.title")
                   for item in _items(page, ("body",), _JSEARCH_ITEMS)]
    else:
        entries = [_entry(page, item, "a") for item in find_dated_items(page)]
    found = dedupe_entries(site, entries)
    dropped = sum(1 for e in entries if e is not None) - len(found)
    if dropped:
        log.debug("%s: %d result(s) for %r are off the site's domains", site.key, dropped, term)
    following = request.page + 1
    next_pages = []
    if entries and "{page}" in search.url and following <= search.max_pages:
        next_pages = [PageRequest(url=search_url(search, term, following), page=following,
                                  browser=request.browser)]
    return ListPage(entries=found, next_pages=next_pages)


__all__ = ["SearchPage", "parse_results", "search_pages", "search_url", "unwrap"]
