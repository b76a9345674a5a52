"""Guangdong's 政府信息公开目录管理平台 (gkmlpt), shared by most Guangdong portals.

The catalogue page (``/gkmlpt/index``) is a client-side app; its data comes from a JSON API::

    GET /gkmlpt/api/all/{CATEGORY}?page=N&sid=SID
    {"classify": {"id": .., "name": .., "post_count": 245},
     "articles": [{"id": 3871234, "title": .., "url": "http://.../gkmlpt/content/3/3871/post_3871234.html",
                   "post_url": .., "document_number": "粤府办〔2022〕7号", "identifier": "00694..../2022-00123",
                   "publisher": .., "date": 1650988800, "first_publish_time": 1651201543,
                   "display_publish_time": 1651201543, "created_at": "2022-04-29 11:05:43",
                   "classify_theme_name": .., "attachment": [..], "is_abolished": 0, ..}],
     "total": 245}

Dates are epoch seconds (China time). The API serves 100 articles a page. Detail pages
``/gkmlpt/content/X/Y/post_ID.html`` hold a ``.classify`` metadata table (索引号, 分类, 发布机构,
成文日期, 名称, 文号, 发布日期) and the body in ``.article-content``.

``Column.params``: ``sid`` (the portal's site id, required unless the column URL is an API URL),
``category`` (the catalogue node; ``0`` is everything), ``per_page`` (default 100).
"""

from __future__ import annotations

import json
import logging
import math
import re
from typing import TYPE_CHECKING, Any, Sequence
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from crawlers.families.base import Family
from crawlers.families.clues import Clue, SeenPage
from crawlers.families.scripted import EntryList, as_date
from crawlers.items import ListPage, PageRequest
from crawlers.parsing.detail import DetailRules, ParseError
from crawlers.parsing.numbers import small_int

if TYPE_CHECKING:  # sites name their family: the spec validates against this registry
    from crawlers.sites.spec import Column

log = logging.getLogger(__name__)

_GKMLPT = re.compile(r"/gkmlpt/")
_GKMLPT_WORD = re.compile(r"\bgkmlpt\b")
_SID = re.compile(r"""(?:[?&]sid=|\bsid\b["']?\s*[:=]\s*["']?)(\d+)""")

PER_PAGE = 100
# Publication date fields, most telling first.
_PUBLISHED = ("first_publish_time", "publish_time", "display_publish_time", "created_at")


def api_url(column: Column, page: int) -> str:
    """The list API URL of page ``page`` of a column."""
    parts = urlsplit(column.url)
    if "/gkmlpt/api/" in parts.path:
        query = dict(parse_qsl(parts.query))
        query["page"] = str(page)
        return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))
    prefix, marker, _ = parts.path.partition("/gkmlpt/")
    if not marker:
        raise ValueError(f"column {column.name!r}: {column.url} is not a gkmlpt URL")
    sid = column.params.get("sid")
    if not sid:
        raise ValueError(f"column {column.name!r}: gkmlpt needs Column.params['sid']")
    category = column.params.get("category", 0)
    path = f"{prefix}/gkmlpt/api/all/{category}"
    return urlunsplit((parts.scheme, parts.netloc, path,
                       urlencode({"page": page, "sid": sid}), ""))


def _extra(article: dict) -> dict:
    """What the feed tells about a document before its page is fetched."""
    extra = {
        "doc_number": (article.get("document_number") or "").strip() or None,
        "index_no": (article.get("identifier") or "").strip() or None,
        "issuer": (article.get("publisher") or "").strip() or None,
        "written_date": as_date(article.get("date")) if article.get("date") else None,
        "topic": (article.get("classify_theme_name") or "").strip() or None,
        "abolished": bool(article.get("is_abolished")),
        "expired": bool(article.get("is_expired")),
        "id": article.get("id"),
    }
    return {k: v for k, v in extra.items() if v not in (None, False)}


class GkmlptFamily(Family):
    """Guangdong gkmlpt: the JSON list API and the ``post_ID.html`` content pages."""

    name = "gkmlpt"
    priority = 20
    settled_by_column = True
    detail_rules = DetailRules(
        title=(".content .title", ".content-title", ".article-title", "h1"),
        content=(".article-content", ".content .article", ".content"),
        metadata=(".classify table", ".classify", ".introduce table"),
        furniture=(".share", ".bdsharebuttonbox", ".print", ".close", ".relevant", ".related",
                   ".qrcode", ".article-tool", ".tools", "script", "style"),
    )

    def page_clues(self, page: SeenPage, earlier: Sequence[Clue]) -> list[Clue]:
        """/gkmlpt/ in the URL, the API's JSON, or a page loading the catalogue."""
        clues = []
        if _GKMLPT.search(page.path):
            clues.append(Clue(self.name, 10, "/gkmlpt/ in the URL: Guangdong's 政府信息公开目录管理平台",
                              of_column_url=True))
        data = page.data
        if isinstance(data, dict) and isinstance(data.get("articles"), list) \
                and ("classify" in data or "total" in data):
            clues.append(Clue(self.name, 8, "a JSON answer with articles and classify (the gkmlpt API)"))
        if page.is_html and not clues and _GKMLPT_WORD.search(page.html):
            clues.append(Clue(self.name, 6, "the page loads the gkmlpt catalogue"))
        return clues

    def column_params(self, page: SeenPage) -> tuple[dict[str, Any], list[str]]:
        """The catalogue's site id (``sid``), from the page or its URL; an API URL needs none."""
        if "/gkmlpt/api/" in page.url:
            return {}, []
        sid = _SID.search(page.html) or _SID.search(page.url)
        if sid is None:
            return {}, ["the gkmlpt site id (sid) is not on the page: give the API URL "
                        "(/gkmlpt/api/all/CATEGORY?sid=N) instead"]
        return ({"sid": sid.group(1), "category": 0},
                [f"the catalogue's site id is {sid.group(1)} (all categories)"])

    def first_page(self, site, column):
        return PageRequest(url=api_url(column, 1), page=1)

    def parse_list(self, site, column, request, body, headers=None) -> ListPage:
        try:
            data = json.loads(body.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise ParseError("not_a_list", f"{request.url}: the gkmlpt API did not answer JSON ({exc})") from None
        if not isinstance(data, dict) or not isinstance(data.get("articles"), list):
            raise ParseError("not_a_list", f"{request.url}: no 'articles' array in the gkmlpt answer")
        entries = EntryList(site, request.url)
        for article in data["articles"]:
            if not isinstance(article, dict):
                continue
            title = " ".join(str(article.get("title") or "").split())
            href = article.get("url") or article.get("post_url")
            if not title or not href:
                continue
            published = next((as_date(article[k]) for k in _PUBLISHED if article.get(k)), None)
            entries.add(href, title, published, extra=_extra(article))
        per_page = int(column.params.get("per_page", PER_PAGE))
        total = data.get("total") or (data.get("classify") or {}).get("post_count")
        total_pages = math.ceil(small_int(total) / per_page) if small_int(total) else None
        nxt = request.page + 1
        next_pages = []
        if data["articles"] and nxt <= column.max_pages and (total_pages is None or nxt <= total_pages):
            next_pages = [PageRequest(url=api_url(column, nxt), page=nxt)]
        return ListPage(entries=entries.entries, next_pages=next_pages, total_pages=total_pages)
