"""Portals of no known CMS family: find the list by its shape, not by its class names.

The list is the largest group of sibling elements each holding a link and a date (outside
navigation, footers and boxes titled 相关链接/热点推荐...); when the page has a pager, the
group the pager follows wins, so a column's short last page is not mistaken for a longer
sidebar. A date may sit beside the link or inside a card link, whole or split in a day and a
year-month. The column continues at the "下一页" link, the link numbered one past the current
page, or the page worked out from the "尾页" link and "共N页" (or a ``createPageHTML`` call).

Detail pages are read with the common parser: the metadata block (table, ``<dl>``, spans) and
the site-standard ``<meta>`` tags (ArticleTitle, PubDate, ContentSource). The family declares
no place for the body (``policywatch probe`` judges declared selectors), but looks first in
the containers of CMSs that have no adapter of their own here.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Mapping, Sequence

from crawlers.families.base import Family
from crawlers.families.clues import Clue, SeenPage
from crawlers.items import PolicyItem
from crawlers.parsing.detail import DetailRules, parse_detail_page
from crawlers.parsing.scan import remove_blocks

if TYPE_CHECKING:  # sites name their family: the spec validates against this registry
    from crawlers.sites.spec import Site

# Body containers of CMSs without an adapter: 博达 VSB (university and county portals) and
# WebPlus; after them the common parser tries the known families' containers, then trafilatura.
OTHER_CMS_CONTENT = ("#vsb_content", ".v_news_content", ".wp_articlecontent")
# Script that fills a list after the page loads, and templates it renders with.
_SCRIPT_FETCH = re.compile(
    r"\bfetch\s*\(|\$\.(?:ajax|get|post|getJSON)\s*\(|XMLHttpRequest|\baxios\b|\.load\s*\(\s*['\"]"
    r"|<script[^>]+type\s*=\s*[\"']text/(?:html|template|x-handlebars-template|x-template)[\"']", re.I)
_LOADING = re.compile(r"加载中|正在加载|loading", re.I)


class GenericFamily(Family):
    """Shape-based list reading for undeclared portals."""

    name = "generic"
    priority = 1000  # the fallback: chosen when no family's clues reach the threshold
    counts_pages_in_html = True
    detail_rules = DetailRules()

    def column_clues(self, page: SeenPage, earlier: Sequence[Clue]) -> list[Clue]:
        """A list that only script fills (no dated links served, a script that fetches them):
        the generic adapter reads it rendered by the browser."""
        # Entries held as script data are the scripted family's, which reads them unrendered.
        if any(c.family == "scripted" for c in earlier) or not _SCRIPT_FETCH.search(page.html) \
                or page.dated_links:
            return []
        markup = remove_blocks(page.html, ("script",), comments=False, replacement="")
        loading = " (it says 加载中)" if _LOADING.search(markup) else ""
        return [Clue(self.name, 0, "no list in the served HTML and a script that fetches "
                                   f"one{loading}: only a browser sees the entries", needs_browser=True)]

    def parse_detail(
        self, site: Site, url: str, body: bytes, headers: Mapping[str, str] | None = None,
        fetched_at: datetime | None = None,
    ) -> PolicyItem:
        rules = self.rules_for(site)
        rules = replace(rules, content=rules.content + OTHER_CMS_CONTENT)
        return parse_detail_page(url, body, headers or {}, site=site.key, rules=rules,
                                 fetched_at=fetched_at)
