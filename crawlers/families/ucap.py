"""Ucap / 开普云 portals: ``list.shtml``, ``list_2.shtml``... and ``.detailContent`` pages.

List pages carry ``<li><a href title>…</a><span>date</span></li>`` items and a
``createPageHTML('page_div', count, current, 'list', 'shtml', total)`` call whose pages are
1-based (page 2 is ``list_2.shtml``). Detail pages announce themselves with
``<meta name="SiteName|ColumnName|ArticleTitle|PubDate|ContentSource">``, put a
``日期：… 来源：…`` line under the title, and keep the body in ``#detailContent`` /
``.detailContent`` (or ``<ucapcontent>`` inside ``#zoomcon`` on county portals).
"""

from __future__ import annotations

from crawlers.parsing.detail import DetailRules
from crawlers.families.base import Family

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
    detail_rules = DETAIL_RULES
    list_items = LIST_ITEMS

