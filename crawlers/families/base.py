"""The contract every CMS-family adapter fulfils.

An adapter knows one CMS family's list pages (how to find the entries, how pagination works)
and its detail pages (which selectors hold the title, the metadata table and the body). All
methods are pure: bytes in, items out; no network, no clock.
"""

from __future__ import annotations

from datetime import datetime
from typing import Mapping

from crawlers.items import ListPage, PageRequest, PolicyItem
from crawlers.parsing.detail import DetailRules, parse_detail_page
from crawlers.sites.spec import Column, Site
from crawlers.families.listparse import html_list_page


class Family:
    """Base adapter: subclasses set ``name``, ``detail_rules`` and ``list_items``, and override
    ``parse_list`` where their lists are not plain HTML (feeds, script data)."""

    name: str = ""
    detail_rules: DetailRules = DetailRules()
    # CSS selectors of one list entry each, tried in order (the site's override first); when
    # none matches, the largest group of dated links on the page is the list.
    list_items: tuple[str, ...] = ()

    def first_page(self, site: Site, column: Column) -> PageRequest:
        """The request for a column's first list page."""
        return PageRequest(url=column.url, page=1, browser=site.needs_browser)

    def parse_list(
        self, site: Site, column: Column, request: PageRequest, body: bytes,
        headers: Mapping[str, str] | None = None,
    ) -> ListPage:
        """Entries on one list page and the requests for the pages after it."""
        return html_list_page(site, column, request, body, headers, self.list_items)

    def rules_for(self, site: Site) -> DetailRules:
        """The family's detail rules with the site's selector overrides applied."""
        return self.detail_rules.with_overrides(site.selectors)

    def parse_detail(
        self, site: Site, url: str, body: bytes, headers: Mapping[str, str] | None = None,
        fetched_at: datetime | None = None,
    ) -> PolicyItem:
        """The policy document on a detail page; raises ``ParseError`` on a page that is not one."""
        return parse_detail_page(
            url, body, headers or {}, site=site.key, rules=self.rules_for(site),
            fetched_at=fetched_at,
        )
