"""Ucap / 开普云 portals: ``list.shtml``, ``list_2.shtml``... and ``.detailContent`` pages.

List pages carry ``<li><a href title>…</a><span>date</span></li>`` items and a
``createPageHTML('page_div', count, current, 'list', 'shtml', total)`` call whose pages are
1-based (page 2 is ``list_2.shtml``). Detail pages announce themselves with
``<meta name="SiteName|ColumnName|ArticleTitle|PubDate|ContentSource">``, put a
``日期：… 来源：…`` line under the title, and keep the body in ``#detailContent`` /
``.detailContent`` (or ``<ucapcontent>`` inside ``#zoomcon`` on county portals).
"""

from __future__ import annotations

import re
from typing import Sequence

from crawlers.families.base import Family
from crawlers.families.clues import Clue, SeenPage, pager_call
from crawlers.parsing.detail import DetailRules

# What detect recognises 开普云 by; the site-standard meta tags count little, as every family
# writes them.
_TAGS = re.compile(r"<ucap(?:title|content)\b", re.I)
_ASSETS = re.compile(r"""(?:src|href)\s*=\s*["'][^"']*/ucap/|\bucap[-_](?:content|cms)\b""", re.I)
_XHTML_ASSETS = re.compile(r"""(?:src|href)\s*=\s*["'][^"']*/xhtml/""", re.I)
_CHANNEL_META = re.compile(r"""<meta\s+name\s*=\s*["']channelId["']""", re.I)
_STANDARD_META = re.compile(
    r"""<meta\s+name\s*=\s*["'](?:SiteIDCode|ColumnName|ColumnType|ColumnDescription)["']""", re.I)

LIST_ITEMS = (
    "ul.list > li",
    ".list ul > li",
    ".xxgk_list li",
    ".common_newslist > li",
    ".news_list li",
    ".newslist li",
    ".zfxxgk_zdgkc li",
    "ul.jytxxgklist > li",
)

DETAIL_RULES = DetailRules(
    title=("ucaptitle", "h1.article-title", ".main h1", ".detail-title", "h1"),
    content=("#detailContent", ".detailContent", "ucapcontent", "#zoomcon", ".article-content"),
    metadata=(".meta-data", ".xxgk_table table", "table.xxgk-table"),
    furniture=(
        ".m-share",
        ".share",
        "#changeSize",
        ".changeSize",
        "#div_div",
        "#qr_container",
        ".xxgk_xglj",
        ".article-reldocuments",
        ".article-attr",
        ".BreadcrumbNav",
    ),
)


class UcapFamily(Family):
    """Ucap/开普云 list pages and detail pages."""

    name = "ucap"
    priority = 50
    counts_pages_in_html = True
    detail_rules = DETAIL_RULES
    list_items = LIST_ITEMS

    def page_clues(self, page: SeenPage, earlier: Sequence[Clue]) -> list[Clue]:
        """The 1-based pager call, <ucap*> elements, /ucap/ and /xhtml/ assets, channelId meta."""
        if not page.is_html:
            return []
        html = page.html
        clues = []
        call = pager_call(html)
        if call is not None and call[0]:
            clues.append(Clue(self.name, 7, f"the pager createPageHTML('{call[1]}', count, current, ...) of "
                                            "开普云 (Ucap) templates, pages from 1"))
        if _TAGS.search(html):
            clues.append(Clue(self.name, 5, "<ucaptitle>/<ucapcontent> elements (开普云)"))
        # www.gov.cn's own pages load ucap assets: there they say nothing of the family.
        if _ASSETS.search(html) and not any(c.family == "govcn" for c in earlier):
            clues.append(Clue(self.name, 2, "ucap assets or classes"))
        if _XHTML_ASSETS.search(html):
            clues.append(Clue(self.name, 2, "template assets under /xhtml/ (开普云 sites)"))
        if _CHANNEL_META.search(html):
            clues.append(Clue(self.name, 2, "a channelId meta tag (开普云 sites)"))
        if _STANDARD_META.search(html):
            clues.append(Clue(self.name, 1, "the site-standard meta tags ColumnName/SiteIDCode "
                                            "(written by 开普云 templates, and by others)"))
        return clues

