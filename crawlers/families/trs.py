"""TRS WCM (拓尔思) portals: static list pages paginated by ``createPageHTML``.

A TRS column is ``.../index.html`` (or ``.shtml``); its later pages are ``index_1.html``,
``index_2.html``..., announced by ``createPageHTML(countPage, currentPage, "index", "html")``
with a 0-based current page (see ``listparse.PageScript``). The same call with a leading
container id and 1-based pages (``createPageHTML('page_div', 12, 1, 'list', 'shtml', 230)``)
is read too, as provincial clusters built on TRS-style templates (jyt.gansu.gov.cn) use it.

Detail pages keep the body in a TRS editor element (``.TRS_Editor``, ``.TRS_UEDITOR``,
``.trs_editor_view``) or the portal's ``.view`` / ``#zoom`` / ``.article-content``.
"""

from __future__ import annotations

import re
from typing import Sequence

from crawlers.families.base import Family
from crawlers.families.clues import Clue, SeenPage, pager_call
from crawlers.parsing.detail import DetailRules

# What detect recognises TRS WCM by, besides its pager: its editor's body classes, and its
# document naming (weak: other CMSs copy it).
_BODY = re.compile(r"""class\s*=\s*["'][^"']*\b(TRS_Editor|TRS_UEDITOR|trs_editor_view|trs_paper_default)\b""")
_DOC = re.compile(r"""href\s*=\s*["'][^"']*/(?:\d{6}/)?t(?:19|20)\d{6}_\d+\.s?html?["']""", re.I)

# One element per entry on TRS list pages, most specific first.
LIST_ITEMS = (
    "dl.sxinfo-pubfiles-item",  # www.shanxi.gov.cn 政策文件库
    "ul.jytxxgklist > li",  # jyt.gansu.gov.cn 信息公开 columns
    ".zfxxgk_zdgkc li",
    "ul.list > li",
    ".list ul > li",
    ".news-list li",
    ".newslist li",
    ".list_con li",
    "table.list tr",
)

DETAIL_RULES = DetailRules(
    title=(
        ".detail-article-title h2",
        ".sxgzk-detail-title",
        ".article-title",
        ".detail-title",
        ".title h1",
        "h1",
    ),
    content=(
        ".trs_editor_view",
        ".TRS_UEDITOR",
        ".TRS_Editor",
        ".view",
        "#zoom",
        ".article-content",
        ".article-body",
        "#detailContent",
    ),
    metadata=(
        "table.affairs-detail-table",
        ".affairs-detail-head table",
        ".xxgk_table table",
        "table.xxgk-table",
        ".xxgk-info table",
    ),
    furniture=(
        ".article-infos-func",
        ".article-share-cnt",
        ".affairs-detail-qcode",
        ".shanxi-gov-page-box",
        ".share",
        ".bdsharebuttonbox",
        "#div_div",
        "#qr_container",
        ".qrcode",
        ".xgwj",
        ".xglj",
        ".related",
        ".print-close",
    ),
)


class TRSFamily(Family):
    """TRS WCM list pages and detail pages."""

    name = "trs"
    priority = 60
    counts_pages_in_html = True
    detail_rules = DETAIL_RULES
    list_items = LIST_ITEMS

    def page_clues(self, page: SeenPage, earlier: Sequence[Clue]) -> list[Clue]:
        """The 0-based pager call, TRS editor body elements, ./YYYYMM/tYYYYMMDD_N.html documents."""
        if not page.is_html:
            return []
        html = page.html
        clues = []
        call = pager_call(html)
        if call is not None and not call[0]:
            clues.append(Clue(self.name, 8, f"TRS WCM's pager createPageHTML({call[1]}, current, \"index\", ...), "
                                            "pages from 0 (index_1 is page 2)"))
        body = _BODY.search(html)
        if body:
            clues.append(Clue(self.name, 6, f"a TRS editor body element (.{body.group(1)})"))
        docs = len(set(_DOC.findall(html)))
        if docs >= 2:
            clues.append(Clue(self.name, 2, f"{docs} documents named tYYYYMMDD_N.html "
                                            "(TRS WCM's naming, which other CMSs copy)"))
        return clues

