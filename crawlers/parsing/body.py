"""The document's body text: the content element, cleared of page furniture, as plain text.

Order: the content selectors (the family's and the site's, then the containers common CMSs
use) → trafilatura on that element; when nothing matches, trafilatura on the whole page;
when trafilatura finds nothing, the page's most text-dense block. trafilatura runs at most
once per page. Dates are never taken from trafilatura (it misreads 2023年5月22日).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import lru_cache

import trafilatura
from lxml.cssselect import CSSSelector

from crawlers.parsing.metadata import FURNITURE_HINT
from crawlers.parsing.text import normalize_text, squash

log = logging.getLogger(__name__)

# Containers of the document body in the CMS families we know, tried after the rules' own.
KNOWN_CONTENT = (
    "#UCAP-CONTENT", "#zoom", "#Zoom", "#zoomcon", ".TRS_Editor", "#detailContent",
    ".detailContent", ".pages_content", ".article-content", ".xxgk-content", "#xxgk_content",
    ".main-txt", ".wzxq_content", ".article_con", "#article_content", ".con_text", "#fontzoom",
)
# Furniture inside or around content, by class/id (in addition to metadata.FURNITURE_HINT).
DEFAULT_FURNITURE = (
    "#qr_container", "#div_div", "#qrcode", "#qrcodeCanvas", "#qrcodeTable", ".bdsharebuttonbox",
    ".share", ".article-share", ".m-share", ".pageSource", ".prenextBox", ".xxgk_xglj",
    ".article-reldocuments", ".main-word", ".article-btn", "#pagination", "canvas",
)
_FURNITURE_CLASS = re.compile(
    r"qr_?code|qr_container|ewm|erweima|sweep|print|fontsize|font-size|zihao|changeSize|pagesource"
    r"|xglj|xgwj|xgjd|reldoc|related|relevant|visit|counter|llcs|prenext|goTop|gotop", re.I)
# Possessive whitespace (\s*+): with plain \s* the spaces between repeated widgets could be
# split between neighbours in every way, and a line of ten "打印  " took 28 s.
_FURNITURE_LINE = re.compile(
    r"^(?:[【\[]?\s*+(?:打印本?页?|关闭本?页?|关闭窗口|返回顶部|保存|收藏|纠错|分享)\s*+[】\]]?\s*+)+$"
    r"|^扫一扫在手机(?:上)?打开当前页面?$|^扫一扫.{0,10}$"
    r"|^字号\s*[:：]?.{0,20}$|^【?\s*字体\s*[:：].{0,20}$"
    r"|^(?:浏览次数|访问量|阅读次数|点击数|点击量|浏览量)\s*[:：]?\s*\d*\s*次?$"
    r"|^页面生成时间|^当前位置\s*[:：]|^您当前所在位置|^分享到?\s*[:：]?.{0,30}$"
    r"|^[（(]?\s*责任编辑\s*[:：].{0,30}$"
)
_RELATED = re.compile(r"^(?:相关链接|相关稿件|相关文件|相关解读|相关阅读|关联稿件|相关新闻|政策解读)\s*[:：]?")
_SKIP = {"script", "style", "noscript", "template", "select", "option", "textarea", "iframe",
         "button", "input", "canvas", "svg", "head", "title"}
_BLOCK = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "section",
          "article", "dd", "dt", "dl", "ul", "ol", "blockquote", "pre", "center", "form",
          "header", "footer", "hr", "main", "aside", "nav", "tbody", "thead"}
_PAGE_FURNITURE_TAGS = ("header", "footer", "nav", "aside")


@dataclass
class Body:
    """The extracted text, the element it came from (None for the whole page) and how
    (``selector``, ``known``, ``trafilatura``, ``dense_block``)."""

    text: str
    element: object | None
    method: str


@lru_cache(maxsize=256)
def _css(selector: str) -> CSSSelector:
    return CSSSelector(selector)


def select_first(root, selectors) -> object | None:
    """The first element matched by the first selector (in order) that matches anything."""
    for selector in selectors:
        if not selector:
            continue
        found = _css(selector)(root)
        if found:
            return found[0]
    return None


def find_content(root, selectors) -> tuple[object | None, str]:
    """The content element by the rules' selectors, else by the known containers; with how."""
    el = select_first(root, selectors)
    if el is not None and squash("".join(el.itertext())):
        return el, "selector"
    for selector in KNOWN_CONTENT:
        for el in _css(selector)(root):
            if len(squash("".join(el.itertext()))) >= 10:
                return el, "known"
    return None, ""


def remove_furniture(scope, extra_selectors=(), whole_page: bool = False) -> None:
    """Drop page furniture from ``scope`` in place: the given selectors, the defaults, elements
    whose class/id says furniture, and short elements whose text is furniture wording."""
    doomed = []
    for selector in tuple(extra_selectors) + DEFAULT_FURNITURE:
        doomed.extend(_css(selector)(scope))
    for el in scope.iter():
        if el is scope or not isinstance(el.tag, str):
            continue
        hint = f"{el.get('class', '')} {el.get('id', '')}"
        if hint.strip() and (_FURNITURE_CLASS.search(hint) or (whole_page and FURNITURE_HINT.search(hint))):
            doomed.append(el)
        elif whole_page and el.tag in _PAGE_FURNITURE_TAGS:
            doomed.append(el)
        elif el.tag in ("p", "div", "span", "li", "dl", "dt", "td", "ul", "table", "h2", "h3", "h4"):
            text = squash("".join(el.itertext()))
            if not text or len(text) > 300:
                continue
            if len(text) <= 60 and _FURNITURE_LINE.match(text):
                doomed.append(el)
            elif _RELATED.match(text) and _link_share(el, text) >= 0.5:
                doomed.append(el)
    for el in doomed:
        drop(el)


def drop(el) -> None:
    """Remove an element but keep its tail text (which belongs to the parent)."""
    parent = el.getparent()
    if parent is None:
        return
    el.drop_tree() if hasattr(el, "drop_tree") else parent.remove(el)


def _link_share(el, text: str) -> float:
    linked = sum(len(squash("".join(a.itertext()))) for a in el.iter("a"))
    label = _RELATED.match(text)
    rest = len(text) - (label.end() if label else 0)
    return linked / rest if rest > 0 else 1.0


def render_text(el) -> str:
    """Plain text of an element, one block per line (our own, for the fallback and for checking
    that trafilatura did not throw away most of a chosen element)."""
    parts: list[str] = []

    def walk(e) -> None:
        tag = e.tag.lower() if isinstance(e.tag, str) else None
        if tag is None or tag in _SKIP:
            if e.tail:
                parts.append(e.tail)
            return
        block = tag in _BLOCK
        if block:
            parts.append("\n")
        if e.text:
            parts.append(e.text)
        for child in e:
            walk(child)
        if block:
            parts.append("\n")
        elif tag in ("td", "th"):
            parts.append(" ")
        if e.tail and e is not el:
            parts.append(e.tail)

    walk(el)
    return normalize_text("".join(parts))


def _trafilatura(tree) -> str:
    try:
        text = trafilatura.extract(
            tree, include_tables=True, include_comments=False, include_images=False,
            include_links=False, favor_recall=True, deduplicate=False, fast=True,
        )
    except (ValueError, TypeError, AttributeError) as exc:  # malformed trees trafilatura rejects
        log.debug("trafilatura failed: %s", exc)
        return ""
    return normalize_text(text or "")


def densest_block(root):
    """The element holding the most non-link text in its direct text-bearing children."""
    scores: dict[object, int] = {}
    for el in root.iter("p", "div", "span", "font", "td", "li", "h3", "h4", "section"):
        if any(isinstance(c.tag, str) and c.tag in _BLOCK for c in el):
            continue  # only leaf blocks carry their text up
        text = squash("".join(el.itertext()))
        links = sum(len(squash("".join(a.itertext()))) for a in el.iter("a"))
        score = len(text) - 2 * links
        parent = el.getparent()
        if score > 0 and parent is not None:
            scores[parent] = scores.get(parent, 0) + score
    if not scores:
        return None
    return max(scores, key=scores.get)


def extract_body(root, content_selectors=(), furniture_selectors=(), drop_elements=(),
                 content=None, how: str = "") -> Body:
    """The body text of a parsed page (the tree is modified: furniture is removed). Pass
    ``content``/``how`` when ``find_content`` already ran, so selectors are not tried twice."""
    for el in drop_elements:
        drop(el)
    if content is None:
        content, how = find_content(root, content_selectors)
    if content is not None:
        remove_furniture(content, furniture_selectors)
        own = render_text(content)
        text = _trafilatura(content)
        # trafilatura judges short chosen elements (a one-line notice) as boilerplate; the
        # selector already told us this element is the document, so keep our rendering.
        if len(text) < 0.6 * len(own):
            text = own
        return Body(text, content, how)
    body = root.find("body") if root.tag == "html" else root
    scope = body if body is not None else root
    remove_furniture(scope, furniture_selectors, whole_page=True)
    text = _trafilatura(root)
    if len(text) >= 20:
        return Body(text, None, "trafilatura")
    block = densest_block(scope)
    if block is not None:
        return Body(render_text(block), block, "dense_block")
    return Body(render_text(scope), scope, "dense_block")
