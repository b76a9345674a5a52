"""The contract every CMS-family adapter fulfils.

An adapter knows one CMS family's list pages (how to find the entries, how pagination works),
its detail pages (which selectors hold the title, the metadata table and the body), and what
marks the family on a page (the clues ``policywatch detect`` weighs). All methods are pure:
bytes in, items out; no network, no clock.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from crawlers.families.clues import Clue, SeenPage
from crawlers.families.listparse import html_list_page
from crawlers.items import ListPage, PageRequest, PolicyItem
from crawlers.parsing.detail import DetailRules, parse_detail_page

if TYPE_CHECKING:  # sites name their family: the spec validates against this registry
    from crawlers.sites.spec import Column, Site


class Family:
    """Base adapter: subclasses set ``name``, ``priority``, ``detail_rules`` and ``list_items``,
    say what marks them (``page_clues``, ``column_clues``), and override ``parse_list`` where their
    lists are not plain HTML (feeds, script data). An adapter is registered once, in
    ``crawlers.families``."""

    # The name a site declares in ``Site.family``: ASCII snake_case.
    name: str = ""
    # Who wins a tie in detection: the most specific evidence first (lowest first).
    priority: int = 100
    # Recognised by what the column page alone shows (its host, its API's JSON, its script
    # data): one of its documents does not overturn that.
    settled_by_column: bool = False
    # Its list pages are HTML that may announce their count (共N页) without linking page 2.
    counts_pages_in_html: bool = False
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

    def page_clues(self, page: SeenPage, earlier: Sequence[Clue]) -> list[Clue]:
        """What marks the family on any page of a portal (list or document, HTML or JSON);
        ``earlier`` holds the clues of the families before it in priority."""
        return []

    def column_clues(self, page: SeenPage, earlier: Sequence[Clue]) -> list[Clue]:
        """What marks it on a column's HTML list page only, after every family's page clues."""
        return []

    def column_params(self, page: SeenPage) -> tuple[dict[str, Any], list[str]]:
        """What a column of this family needs beyond its URL (``Column.params``), as its list
        page shows it, and notes on what the page does not say."""
        return {}, []
