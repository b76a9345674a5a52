"""www.gov.cn, the central government portal: its policy lists are JSON feeds.

Two feeds, both read here:

- 最新政策 (https://www.gov.cn/zhengce/zuixin/): the page is rendered by script from
  ``ZUIXINZHENGCE.json``, an array of ``{"TITLE", "SUB_TITLE", "URL", "DOCRELPUBTIME"}``;
  the whole feed is one page.
- 国务院政策文件库 (sousuo.www.gov.cn/search-gov/data?t=zhengcelibrary_gw&...&p=1&n=20):
  ``{"searchVO": {"listVO": [...], "totalCount": N}}`` (or the same under
  ``searchVO.catMap.<cat>``), rows ``{"title", "url", "pubtimeStr": "2023.05.25",
  "pcode": 文号, "puborg": 发文机关}``; the next page is the same URL with ``p`` + 1.

Static HTML lists (the older ``home.htm``/``home_N.htm`` pages, 部门文件 lists) are read
from their ``.list li`` items with ``span.date``.

Detail pages (/zhengce/content/YYYYMM/content_N.htm, /zhengce/zhengceku/...) carry the
metadata in ``table.bd1`` (索引号, 主题分类, 发文机关, 成文日期, 标题, 发文字号, 发布日期) and
the body in ``#UCAP-CONTENT``.
"""

from __future__ import annotations

import json
import math
import re
from typing import TYPE_CHECKING, Any, Mapping, Sequence
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from crawlers.families.base import Family
from crawlers.families.clues import Clue, SeenPage
from crawlers.families.listparse import NOT_A_LIST, clean_text, decode, dedupe_entries, limit_pages
from crawlers.items import ListEntry, ListPage, PageRequest
from crawlers.parsing.dates import parse_date
from crawlers.parsing.detail import DetailRules, ParseError
from crawlers.parsing.numbers import small_int

if TYPE_CHECKING:  # sites name their family: the spec validates against this registry
    from crawlers.sites.spec import Column, Site

LIST_ITEMS = (
    ".news_box .list li",
    "div.list_1 li",
    "div.list li",
    ".listTxt li",
    "ul.list01 li",
)

# Row keys of the two feeds: (url, title, date, doc number, issuer).
_FEED_KEYS = {
    "zuixin": ("URL", "TITLE", "DOCRELPUBTIME", None, None),
    "library": ("url", "title", "pubtimeStr", "pcode", "puborg"),
}
_HIGHLIGHT = re.compile(r"</?em>", re.I)

DETAIL_RULES = DetailRules(
    title=("div.article h1", ".share-title", "#ti", ".article h1", "h1"),
    content=("#UCAP-CONTENT", ".pages_content", ".article-content", ".trs_editor_view"),
    metadata=("table.bd1", ".policyLibraryOverview_header table", ".zcwj-table table"),
    furniture=(
        "#div_div",
        "#qr_container",
        ".sweep",
        ".share",
        ".pages_print",
        ".xg-list",
        ".related",
        ".editor",
        "#pagination",
        ".pageInfo",
    ),
)


def _looks_like_json(body: bytes, headers: Mapping[str, str] | None) -> bool:
    for key, value in (headers or {}).items():
        if key.lower() == "content-type" and "json" in value.lower():
            return True
    return body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"[", b"{")


def _library_block(data: dict) -> dict | None:
    """The ``{"listVO": [...], "totalCount": N}`` part of a 政策文件库 response."""
    vo = data.get("searchVO")
    if not isinstance(vo, dict):
        return None
    if isinstance(vo.get("listVO"), list):
        return vo
    for block in (vo.get("catMap") or {}).values():
        if isinstance(block, dict) and isinstance(block.get("listVO"), list):
            return block
    return None


def _feed_entries(site: Site, base_url: str, rows: list, keys: tuple) -> list[ListEntry]:
    url_key, title_key, date_key, number_key, issuer_key = keys
    entries = []
    for row in rows:
        if not isinstance(row, dict) or not row.get(url_key):
            continue
        title = clean_text(_HIGHLIGHT.sub("", str(row.get(title_key) or "")))
        if not title:
            continue
        extra: dict[str, Any] = {}
        if number_key and row.get(number_key):
            extra["doc_number"] = clean_text(str(row[number_key]))
        if issuer_key and row.get(issuer_key):
            extra["issuer"] = clean_text(str(row[issuer_key]))
        if row.get("SUB_TITLE"):
            extra["subtitle"] = clean_text(str(row["SUB_TITLE"]))
        entries.append(ListEntry(
            url=urljoin(base_url, str(row[url_key]).strip()),
            title=title,
            published_date=parse_date(str(row.get(date_key) or "")),
            extra=extra,
        ))
    return dedupe_entries(site, entries)


def library_page_url(url: str, page: int) -> str:
    """The 政策文件库 query ``url`` asking for page ``page`` (its ``p`` parameter)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "p"]
    query.append(("p", str(page)))
    return urlunsplit(parts._replace(query=urlencode(query)))


def parse_feed(site: Site, column: Column, request: PageRequest, body: bytes,
               headers: Mapping[str, str] | None = None) -> ListPage:
    """A www.gov.cn JSON list feed (最新政策 array or 政策文件库 search response)."""
    try:
        data = json.loads(decode(body, headers).lstrip("\ufeff"))
    except ValueError as exc:  # JSONDecodeError, or a number of more than 4,300 digits
        raise ParseError(NOT_A_LIST, f"{request.url}: not a JSON feed: {exc}") from None
    if isinstance(data, list):
        return ListPage(entries=_feed_entries(site, request.url, data, _FEED_KEYS["zuixin"]), total_pages=1)
    block = _library_block(data) if isinstance(data, dict) else None
    if block is None:
        raise ParseError(NOT_A_LIST, f"{request.url}: JSON without a policy list (no searchVO.listVO)")
    entries = _feed_entries(site, request.url, block["listVO"], _FEED_KEYS["library"])
    query = dict(parse_qsl(urlsplit(request.url).query))
    per_page = int(query.get("n") or 0) or len(block["listVO"]) or 1
    current = int(query.get("p") or request.page or 1)
    total = math.ceil((small_int(block.get("totalCount")) or 0) / per_page) or 1
    nexts = []
    if current < total and block["listVO"]:
        nexts = limit_pages(column, [PageRequest(url=library_page_url(request.url, current + 1),
                                                 page=current + 1, browser=request.browser)])
    return ListPage(entries=entries, next_pages=nexts, total_pages=total)


class GovCnFamily(Family):
    """www.gov.cn policy feeds and detail pages."""

    name = "govcn"
    priority = 10
    settled_by_column = True
    detail_rules = DETAIL_RULES
    list_items = LIST_ITEMS

    def page_clues(self, page: SeenPage, earlier: Sequence[Clue]) -> list[Clue]:
        """The central portal's host, and JSON of its feeds' shapes."""
        clues = []
        host = page.host
        if host == "www.gov.cn" or host.endswith(".www.gov.cn") or host == "gov.cn":
            clues.append(Clue(self.name, 10, f"the host {host} is the central government portal",
                              of_column_url=True))
        data = page.data
        if isinstance(data, list) and data and isinstance(data[0], dict) and {"TITLE", "URL"} <= set(data[0]):
            clues.append(Clue(self.name, 10, "a JSON feed of {TITLE, URL, DOCRELPUBTIME} rows "
                                             "(www.gov.cn's ZUIXINZHENGCE.json)"))
        if isinstance(data, dict):
            vo = data.get("searchVO")
            if isinstance(vo, dict) and ("listVO" in vo or "catMap" in vo):
                clues.append(Clue(self.name, 10, "a JSON answer with searchVO.listVO (www.gov.cn's 政策文件库)"))
        return clues

    def parse_list(
        self, site: Site, column: Column, request: PageRequest, body: bytes,
        headers: Mapping[str, str] | None = None,
    ) -> ListPage:
        """Entries of a JSON feed or a static list page, and the next page."""
        if not body or not body.strip():
            raise ParseError(NOT_A_LIST, f"{request.url}: empty response")
        if _looks_like_json(body, headers):
            return parse_feed(site, column, request, body, headers)
        return super().parse_list(site, column, request, body, headers)
