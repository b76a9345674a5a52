"""Shared pieces for reading HTML list (column) pages of any CMS family.

Everything here is pure: the page's bytes, its URL and headers in; links, dates and page
requests out. Family adapters combine these with their own selectors:

- ``load_page``: decode the bytes and parse them, with ``<base href>`` honoured, after
  revealing list markup that portals ship inside HTML comments;
- ``entries_from_items``: one ``ListEntry`` per list item (link + date), absolute, on the
  site's domains, de-duplicated;
- ``find_dated_items``: the largest group of sibling elements that each hold a link and a
  date, for pages whose list markup nobody declared;
- ``page_script`` / ``script_page_url``: the ``createPageHTML(...)`` pagination call of TRS
  WCM and Ucap/开普云 templates, and the URL of page N it implies;
- ``find_next_link``: the "下一页" link, the link numbered one past the current page, or the
  page after this one worked out from the "尾页" link and the page count ("共N页");
- ``find_pager``: the pagination block, which sits right after a column's main list.

What counts as "not a list page" (``not_a_list``): empty bytes, a page without a single
link, or an HTTP error page (404, 页面不存在...). Such a page raises
``ParseError("not_a_list", ...)`` so that a broken or blocked column is never read as
"this column is now empty" (which would look like every document was withdrawn). A list
page whose list is present but empty parses to an empty ``ListPage``.
"""

from __future__ import annotations

import bisect
import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Mapping
from urllib.parse import urljoin, urlsplit

from parsel import Selector

from crawlers.items import ListEntry, ListPage, PageRequest
from crawlers.parsing.dates import date_from_url, find_dates
from crawlers.parsing.detail import ParseError
from crawlers.parsing.encoding import decode_text
from crawlers.parsing.numbers import small_int
from crawlers.parsing.scan import spans

if TYPE_CHECKING:  # sites name their family: the spec validates against this registry
    from crawlers.sites.spec import Column, Site

log = logging.getLogger(__name__)

NOT_A_LIST = "not_a_list"

# More links than any column page shows (a few hundred at most, an archive on one page a few
# thousand): reading each costs about a millisecond, so a hostile page of 100,000 is refused.
MAX_LINKS = 10_000
# Links that never lead to a document.
_SKIP_HREF = re.compile(r"^\s*(?:javascript:|mailto:|tel:|#|data:)", re.I)
# Titles a list shows cut short; the full title is then in the link's title attribute.
# Each run is tried from its first character only: from every one it would be quadratic.
_TRUNCATED = re.compile(r"(?:(?<!…)…+|(?<!\.)\.{2,}|(?<!。)。。+)\s*$")
# Where lists of links are furniture, not content (navigation, footers, "related links").
_FURNITURE = re.compile(
    r"(?:^|[\s_-])(?:nav|navbar|menu|footer|foot|breadcrumb|crumb|"
    r"links?|friend|yqlj|xglj|related|share|sitemap|banner|sidebar|dl_nav\d*)(?:$|[\s_-])",
    re.I,
)
_ERROR_TITLE = re.compile(
    r"(?:\b40[034]\b|\b50[023]\b|not found|页面不存在|页面未找到|找不到|访问出错|出错了|错误页|"
    r"无法访问|访问受限|禁止访问)",
    re.I,
)
NEXT_TEXTS = ("下一页", "下页", "后一页", ">", "›", "»", ">>")
LAST_TEXTS = ("尾页", "末页", "最后一页", "最末页")
_PAGER_TEXTS = frozenset(NEXT_TEXTS + LAST_TEXTS + ("上一页", "上页", "前一页", "首页", "<", "‹", "«", "<<"))
# "共12页", "共 12 页", "页次：1/12", "第1页/共12页", "1/12页": how many pages the column has.
_PAGE_COUNT = re.compile(r"共\s*(\d{1,5})\s*页|页次\s*[:：]?\s*\d{1,5}\s*/\s*(\d{1,5})|\d{1,5}\s*/\s*(\d{1,5})\s*页")
# Boxes whose heading says they are not the column's list: related links, hot topics, rankings.
_FURNITURE_HEADING = re.compile(
    r"相关(?:链接|文章|阅读|文件|新闻|信息|推荐|政策)|推荐阅读|延伸阅读|猜你喜欢|热点|热门|排行|"
    r"友情链接|专题专栏|网站导航|栏目导航")
# Lists that split a date in two, a big day and a small year-month: <b>20</b><span>2024-05</span>.
_SPLIT_DATE = re.compile(
    r"(?<![\d-])(?P<d>[0-3]?\d)\s+(?P<y>(?:19|20)\d{2})\s*[-/.年]\s*(?P<m>[01]?\d)\s*月?(?![\d-])"
    r"|(?<!\d)(?P<y2>(?:19|20)\d{2})\s*[-/.年]\s*(?P<m2>[01]?\d)\s*月?\s+(?P<d2>[0-3]?\d)(?![\d-])")

_COMMENT_OPEN, _COMMENT_CLOSE = re.compile("<!--"), re.compile("-->")
_LINK_IN_COMMENT = re.compile(r"<li\b[^<>]*>\s*<a\b[^<>]*href", re.I)


@dataclass(frozen=True)
class Page:
    """A parsed HTML page: its selector, the URL links resolve against, and its text."""

    url: str
    base: str
    sel: Selector
    html: str


def decode(body: bytes, headers: Mapping[str, str] | None = None) -> str:
    """The page's text, decoded as detail pages are (parsing.encoding: declarations are hints,
    UTF-8 with a few bad bytes stays UTF-8, GBK under a UTF-8 header is read as GBK)."""
    return decode_text(body, headers)[0]


def reveal_commented_lists(html: str) -> str:
    """Un-comment comment blocks that hold list items with links.

    Some Gansu provincial templates (jyt.gansu.gov.cn) ship the static list inside an HTML
    comment and render the visible one with script; the commented copy is the list.
    """
    out: list[str] = []
    copied = 0
    for start, inner_start, inner_end, end in spans(html, _COMMENT_OPEN, _COMMENT_CLOSE):
        inner = html[inner_start:inner_end]
        if _LINK_IN_COMMENT.search(inner):
            out += [html[copied:start], inner]
            copied = end
    out.append(html[copied:])
    return "".join(out)


def load_page(url: str, body: bytes, headers: Mapping[str, str] | None = None) -> Page:
    """Decode and parse a list page; raise ``ParseError(not_a_list)`` on an error page."""
    if not body or not body.strip():
        raise ParseError(NOT_A_LIST, f"{url}: empty response")
    html = reveal_commented_lists(decode(body, headers))
    sel = Selector(text=html)
    base_href = sel.css("base::attr(href)").get()
    base = urljoin(url, base_href.strip()) if base_href and base_href.strip() else url
    title = " ".join(sel.css("title::text").getall()).strip()
    if title and _ERROR_TITLE.search(title) and len(title) < 40:
        raise ParseError(NOT_A_LIST, f"{url}: error page ({title!r})")
    links = int(float(sel.xpath("count(//a[@href])").get()))
    if not links:
        raise ParseError(NOT_A_LIST, f"{url}: no links at all, not a list page")
    if links > MAX_LINKS:
        raise ParseError(NOT_A_LIST, f"{url}: {links:,} links, more than a list page holds ({MAX_LINKS:,})")
    return Page(url=url, base=base, sel=sel, html=html)


_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))


def clean_text(text: str | None) -> str:
    """Whitespace collapsed (full-width spaces included), zero-width marks removed, stripped."""
    return " ".join((text or "").translate(_ZERO_WIDTH).split())


def split_dates(text: str | None) -> list:
    """Dates written in two parts, a day and a year-month (``20 2024-05``) or a year-month and
    a day (``2024-05 20``), as card lists show them; valid dates only, in order."""
    from datetime import date as _date

    found = []
    for m in _SPLIT_DATE.finditer(clean_text(text)):
        y, mo, d = (m["y"], m["m"], m["d"]) if m["y"] else (m["y2"], m["m2"], m["d2"])
        try:
            found.append(_date(int(y), int(mo), int(d)))
        except ValueError:
            continue
    return found


def text_dates(text: str | None) -> list:
    """The dates in a list item's text: whole dates, else dates split in two parts."""
    return find_dates(text) or split_dates(text)


# An element of a card link that holds only its date (<span class="time">2024-05-20</span>).
_DATE_ONLY_MAX = 24


_CARD_BLOCKS = {"div", "p", "h1", "h2", "h3", "h4", "h5", "h6", "dl", "ul"}
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]{3,}")


def _elements(node) -> list:
    """The element descendants of an lxml node (comments and scripts left out)."""
    return [el for el in node.iterdescendants() if isinstance(el.tag, str) and el.tag != "script"]


def _date_parts(node) -> list:
    """lxml elements inside a (card) link whose whole text is a date."""
    parts = []
    for el in _elements(node):
        text = clean_text(" ".join(el.itertext()))
        if text and len(text) <= _DATE_ONLY_MAX and text_dates(text) and \
                not _CJK_RUN.search(re.sub(r"[年月日]", "", text)):
            parts.append(el)
    return parts


_TITLE_CLASS = re.compile(r"tit|bt|name|subject|headline", re.I)


def _card_title(anchor: Selector) -> str:
    """A card link's title: its heading (h1-h6), else a part classed as a title, else its
    first part that is not its date; empty when the link is not a card."""
    node = anchor.root
    if len(node) == 0:  # text only: the common link
        return ""
    date_parts = _date_parts(node)
    if not date_parts and not any(isinstance(el.tag, str) and el.tag in _CARD_BLOCKS for el in node):
        return ""
    candidates = []
    for el in _elements(node):
        if any(el is part or part in el.iterancestors() for part in date_parts):
            continue
        text = clean_text("".join(el.itertext()))
        if len(text) < 4 or text_dates(text) and len(text) <= _DATE_ONLY_MAX:
            continue
        rank = 0 if re.fullmatch(r"h[1-6]", el.tag) else 1 if _TITLE_CLASS.search(el.get("class", "")) else 2
        candidates.append((rank, text))
    if not candidates:
        return ""
    return min(candidates, key=lambda c: c[0])[1]


def link_title(anchor: Selector) -> str:
    """The link's title: its ``title`` attribute when the text is cut short (…/...), is
    only the beginning of the attribute, or wraps it in a label ("政务信息 …"); a card link's
    heading; else its text."""
    attr = clean_text(anchor.attrib.get("title", ""))
    card = _card_title(anchor)
    # Text nodes are joined without spaces: <em> highlights split words, not sentences.
    text = card or clean_text("".join(anchor.css("::text").getall()))
    if not attr:
        return text
    if not text or _TRUNCATED.search(text):
        return attr
    squashed_text, squashed_attr = text.replace(" ", ""), attr.replace(" ", "")
    if len(attr) >= 4 and (squashed_attr.startswith(squashed_text) or squashed_attr in squashed_text):
        return attr
    return text


def absolute_url(page: Page, href: str | None) -> str | None:
    """``href`` resolved against the page (and its ``<base>``); None for non-links."""
    if not href or _SKIP_HREF.match(href):
        return None
    url = urljoin(page.base, href.strip())
    if urlsplit(url).scheme not in ("http", "https"):
        return None
    return url.split("#", 1)[0]


def _primary_anchor(item: Selector) -> Selector | None:
    """The item's document link: among real links, those with a ``title`` attribute first
    (lists put the full title there; a source or column link beside it has none), then
    the one with the longest title."""
    best, best_key = None, (False, 0)
    for anchor in item.css("a[href]"):
        if _SKIP_HREF.match(anchor.attrib.get("href", "")):
            continue
        key = (bool(clean_text(anchor.attrib.get("title", ""))), len(link_title(anchor)))
        if key[1] and key > best_key:
            best, best_key = anchor, key
    return best


_PUBLISHED_LABEL = re.compile(r"发布(?:日期|时间)\s*[:：]?")


def _item_dates(item: Selector) -> list:
    """The dates an item shows beside its link (not inside the title): the one labelled
    发布日期/发布时间 first when there are several; else the date part of a card link."""
    texts = item.xpath(".//text()[not(ancestor::a) and not(ancestor::script)]").getall()
    text = " ".join(texts)
    label = _PUBLISHED_LABEL.search(text)
    dates = text_dates(text[label.end():]) if label else []
    dates = dates or text_dates(text)
    if dates:
        return dates
    anchor = _primary_anchor(item)
    if anchor is not None:
        for part in _date_parts(anchor.root):
            dates = text_dates(" ".join(part.itertext()))
            if dates:
                return dates
    return []


def item_date(item: Selector, url: str | None = None):
    """The date an item shows beside its link (not inside the title): the one labelled
    发布日期/发布时间 when the item shows several, else the first; a card link's date part;
    else the URL's date."""
    dates = _item_dates(item)
    if dates:
        return dates[0]
    return date_from_url(url) if url else None


def entry_from_item(page: Page, item: Selector) -> ListEntry | None:
    """A list entry from one list item, or None when it holds no document link."""
    anchor = _primary_anchor(item)
    if anchor is None:
        return None
    url = absolute_url(page, anchor.attrib.get("href"))
    title = link_title(anchor)
    if not url or not title:
        return None
    return ListEntry(url=url, title=title, published_date=item_date(item, url))


def dedupe_entries(site: Site, entries: Iterable[ListEntry | None]) -> list[ListEntry]:
    """Entries on the site's domains, first occurrence of each URL kept, order kept."""
    seen: set[str] = set()
    out: list[ListEntry] = []
    for entry in entries:
        if entry is None or entry.url in seen:
            continue
        if not site.allows_url(entry.url):
            log.debug("dropping off-site link %s", entry.url)
            continue
        seen.add(entry.url)
        out.append(entry)
    return out


def entries_from_items(site: Site, page: Page, items: Iterable[Selector]) -> list[ListEntry]:
    """One entry per list item that holds a document link."""
    return dedupe_entries(site, (entry_from_item(page, item) for item in items))


def select_items(page: Page, selectors: Iterable[str]) -> list[Selector]:
    """The elements matched by the first selector that matches any item with a link."""
    for css in selectors:
        if not css:
            continue
        items = [i for i in page.sel.css(css) if i.css("a[href]")]
        if items:
            return items
    return []


_HEADING_TAGS = {"h1", "h2", "h3", "h4", "h5", "h6", "div", "p", "span", "strong", "b", "dt", "th",
                 "caption", "legend"}


def _heading_says_furniture(node: Selector) -> bool:
    """Is ``node`` a box titled 相关链接/热点推荐/...: its first child or the element just
    before it is a short heading with such words?"""
    for heading in (*node.xpath("./*[1]"), *node.xpath("preceding-sibling::*[1]")):
        if heading.root.tag not in _HEADING_TAGS:
            continue
        text = clean_text(" ".join(heading.xpath(".//text()").getall()))
        if text and len(text) <= 12 and _FURNITURE_HEADING.search(text) and not find_dates(text):
            return True
    return False


def _is_furniture(element: Selector) -> bool:
    nodes = [element, *reversed(element.xpath("ancestor::*"))]
    for depth, node in enumerate(nodes):
        if node.root.tag in ("nav", "footer", "header", "aside"):
            return True
        marks = f"{node.attrib.get('class', '')} {node.attrib.get('id', '')}"
        if marks.strip() and _FURNITURE.search(marks):
            return True
        # A box's title is close to its list: look two levels up at most.
        if depth <= 2 and _heading_says_furniture(node):
            return True
    return False


def _holds_dated_link(child: Selector) -> bool:
    # Counted on the lxml tree: most elements hold no link, and parsel's per-call cost adds up.
    anchors = [a for a in child.root.iter("a") if a.get("href") is not None and not _SKIP_HREF.match(a.get("href"))]
    if not anchors or len(anchors) > 3:
        return False
    anchor = _primary_anchor(child)
    if anchor is None or len(link_title(anchor)) < 4:
        return False
    return bool(_item_dates(child))


def _pager_anchor(anchor: Selector) -> bool:
    text = clean_text("".join(anchor.css("::text").getall()))
    return text in _PAGER_TEXTS or (text.isdigit() and len(text) <= 4)


def find_pager(page: Page) -> Selector | None:
    """The pagination block: the innermost element holding at least two pager links
    (首页, 上一页, page numbers, 下一页, 尾页) of which one moves forward or is a number."""
    # Each holder is judged once: thousands of numbered links in one box (a hostile page)
    # would otherwise have that box's links counted again from every one of them.
    judged: dict[object, bool] = {}  # holder element -> is it the pager
    for anchor in page.sel.css("a"):
        if not _pager_anchor(anchor):
            continue
        for holder in reversed(anchor.xpath("ancestor::*")):
            if holder.root.tag in ("body", "html"):
                break
            if holder.root in judged:
                if judged[holder.root]:
                    return holder
                break
            links = [a for a in holder.css("a") if _pager_anchor(a)]
            if len(links) >= 2:
                texts = {clean_text("".join(a.css("::text").getall())) for a in links}
                judged[holder.root] = bool(texts & set(NEXT_TEXTS + LAST_TEXTS)
                                           or sum(t.isdigit() for t in texts) >= 2)
                if judged[holder.root]:
                    return holder
                break
    return None


class _Order:
    """Document order of a page's elements and links, computed once: asked per group with
    XPath (count(preceding::*)), it costs the whole page each time, quadratic over many groups."""

    def __init__(self, root):
        self.position: dict[object, int] = {}
        self.anchors: list[int] = []  # positions of the <a> elements, ascending
        for i, el in enumerate(root.iter("*")):  # elements only, as XPath's * counts them
            self.position[el] = i
            if el.tag == "a":
                self.anchors.append(i)

    def anchors_before(self, el) -> int:
        """``count(preceding::a)``: links before ``el`` in document order, not its ancestors."""
        before = bisect.bisect_left(self.anchors, self.position[el])
        return before - sum(1 for a in el.iterancestors("a"))


# A group followed by the pager within this many links is the list the pager pages.
PAGER_REACH = 3


def _closeness_to_pager(members: list[Selector], pager: Selector, pager_at: int, order: _Order) -> int:
    """How closely the pager follows the group: PAGER_REACH when no link stands between
    them, down to 0 with PAGER_REACH links between; -1 when the pager does not follow it."""
    last = members[-1].root
    end = order.position[last] + sum(1 for _ in last.iterdescendants("*"))
    if pager_at <= end:
        return -1
    own = sum(1 for _ in last.iter("a"))
    between = order.anchors_before(pager.root) - (order.anchors_before(last) + own)
    return int(PAGER_REACH - between) if between <= PAGER_REACH else -1


def find_dated_items(page: Page) -> list[Selector]:
    """The main list of an undeclared page: the largest group of same-tag siblings that
    each hold a link and a date shown beside it, outside navigation, footers and
    related-links boxes. When the page has a pager, the group closest before it wins (a
    column's last page may list fewer documents than a sidebar of hot topics). Ties go to
    the group with the longer titles."""
    pager = find_pager(page)
    order = _Order(page.sel.root) if pager is not None else None
    pager_at = order.position[pager.root] if pager is not None else 0
    best: list[Selector] = []
    best_score = (-2, 0, 0)
    # Without a pager a list has two items at least; with one, a last page may hold one.
    for parent in page.sel.xpath("//body//*[count(*) >= 1]" if pager is not None else "//body//*[count(*) >= 2]"):
        groups: dict[str, list[Selector]] = {}
        for child in parent.xpath("./*"):
            if isinstance(child.root.tag, str) and _holds_dated_link(child):
                groups.setdefault(child.root.tag, []).append(child)
        for members in groups.values():
            closeness = _closeness_to_pager(members, pager, pager_at, order) if pager is not None else -1
            # One document is a list only where the pager follows it at once (a last page).
            if len(members) < (1 if closeness == PAGER_REACH else 2):
                continue
            title_len = sum(len(link_title(_primary_anchor(m))) for m in members)
            score = (closeness, len(members), title_len)
            if score > best_score and not _is_furniture(parent):
                best, best_score = members, score
    return best


@dataclass(frozen=True)
class PageScript:
    """A ``createPageHTML`` call: how many pages, which one this is, and the file names.

    TRS WCM writes ``createPageHTML(countPage, currentPage, "index", "html")`` with a
    0-based current page (page 1 is index.html, page 2 index_1.html); the Ucap/开普云
    page.js writes ``createPageHTML('page_div', count, current, 'list', 'shtml', total)``
    with a 1-based one (page 2 is list_2.shtml).
    """

    count: int
    current: int  # 1-based page number of the page holding the call
    prefix: str
    ext: str
    zero_based: bool


_CALL = re.compile(r"(?<![\w.])(?<!function )createPageHTML\s*\(([^()]*)\)")
_ARG = re.compile(r"""\s*(?:"([^"]*)"|'([^']*)'|([A-Za-z_$][\w$.]*)|(-?\d{1,9}))\s*""")


# A name starts after a non-name character ("$a$a…" is not re-read from each "a"); at most 9
# digits, which int() reads without refusing.
_SCRIPT_VAR = re.compile(r"(?<![\w$])(?:var\s+)?([A-Za-z_$][\w$]*)\s*=\s*(\d{1,9})\s*[;,\n]")


def _script_vars(html: str) -> dict[str, int]:
    return {m[1]: int(m[2]) for m in _SCRIPT_VAR.finditer(html)}


def page_script(html: str) -> PageScript | None:
    """The first resolvable ``createPageHTML(...)`` call in ``html`` (4 to 6 arguments;
    numbers may be given as variables assigned earlier, like TRS's ``var countPage = 9``)."""
    variables = None
    for call in _CALL.finditer(html):
        args: list[str | int] = []
        for raw in call.group(1).split(","):
            m = _ARG.fullmatch(raw)
            if not m:
                args = []
                break
            if m.group(4) is not None:
                args.append(int(m.group(4)))
            elif m.group(3) is not None:
                if variables is None:
                    variables = _script_vars(html)
                if m.group(3) not in variables:
                    args = []
                    break
                args.append(variables[m.group(3)])
            else:
                args.append(m.group(1) if m.group(1) is not None else m.group(2))
        zero_based = bool(args) and isinstance(args[0], int)
        rest = args if zero_based else args[1:]
        if len(rest) < 4 or not all(isinstance(v, int) for v in rest[:2]):
            continue
        count, current, prefix, ext = rest[:4]
        if not isinstance(prefix, str) or not isinstance(ext, str) or not prefix or not ext:
            continue
        return PageScript(
            count=count, current=current + 1 if zero_based else max(current, 1),
            prefix=prefix, ext=ext.lstrip("."), zero_based=zero_based,
        )
    return None


def script_page_url(page_url: str, script: PageScript, number: int) -> str:
    """The URL of page ``number`` (1-based) of the column ``script`` paginates."""
    if number <= 1:
        name = f"{script.prefix}.{script.ext}"
    else:
        suffix = number - 1 if script.zero_based else number
        name = f"{script.prefix}_{suffix}.{script.ext}"
    return urljoin(page_url, name)


def script_next_pages(page: Page, column: Column, request: PageRequest) -> tuple[list[PageRequest], int | None]:
    """The next page a ``createPageHTML`` call announces, and the column's page count."""
    script = page_script(page.html)
    if script is None:
        return [], None
    # The page's own statement of which page it is wins over the number we asked for.
    following = script.current + 1
    if following > script.count:
        return [], script.count
    url = script_page_url(page.url, script, following)
    return limit_pages(column, [PageRequest(url=url, page=following, browser=request.browser)]), script.count


def page_count(page: Page) -> int | None:
    """How many pages the column has, as the pager says it ("共12页", "页次：1/12")."""
    pager = find_pager(page)
    scopes = [pager] if pager is not None else []
    scopes.append(page.sel)
    for scope in scopes:
        text = clean_text(" ".join(scope.xpath(".//text()[not(ancestor::script)]").getall()))
        m = _PAGE_COUNT.search(text)
        if m:
            return int(next(g for g in m.groups() if g))
    return None


_NUMBER = re.compile(r"(\d+)")


def _page_from_last(page: Page, request: PageRequest, last_url: str, count: int | None) -> str | None:
    """The URL of the page after this one, from the 尾页 link and the page count: the last
    number in the 尾页 URL is the count plus a fixed offset (index_11.html for 12 pages:
    TRS numbers from 0; list_12.htm: from 1), and page N has N plus that offset."""
    if not count:
        return None
    parts = urlsplit(last_url)
    tail = parts.path.rsplit("/", 1)[-1] + ("?" + parts.query if parts.query else "")
    m = None
    for m in _NUMBER.finditer(tail):  # the last number; (\d+)(?!.*\d) would be quadratic
        pass
    if not m or small_int(m.group(0)) is None:
        return None
    offset = int(m.group(1)) - count
    following = (request.page or 1) + 1
    if following > count or following + offset < 0:
        return None
    start = len(last_url) - len(tail) + m.start(1)
    return last_url[:start] + str(following + offset) + last_url[start + len(m.group(1)):]


def find_next_link(page: Page, request: PageRequest) -> str | None:
    """The "下一页" link (also 下页, 后一页, >), else the pagination link numbered one past
    the current page, else the page after this one worked out from the "尾页" link and the
    page count (pagers whose 下一页 is a script call)."""
    numbered = last = None
    wanted = str((request.page or 1) + 1)
    for anchor in page.sel.css("a[href]"):
        text = clean_text("".join(anchor.css("::text").getall()) or anchor.attrib.get("title", ""))
        url = absolute_url(page, anchor.attrib.get("href"))
        if not url or url == page.url:
            continue
        if text in NEXT_TEXTS:
            return url
        if numbered is None and text == wanted:
            numbered = url
        if last is None and text in LAST_TEXTS:
            last = url
    if numbered is not None:
        return numbered
    if last is not None:
        return _page_from_last(page, request, last, page_count(page))
    return None


def limit_pages(column: Column, requests: Iterable[PageRequest]) -> list[PageRequest]:
    """The requests whose page number is within the column's ``max_pages``."""
    return [r for r in requests if r.page <= column.max_pages]


def next_pages(page: Page, column: Column, request: PageRequest) -> tuple[list[PageRequest], int | None]:
    """Where the column continues: the ``createPageHTML`` script if there is one, else the
    "下一页"/numbered/尾页 link. Returns the requests and the page count when the page says it."""
    requests, total = script_next_pages(page, column, request)
    if requests or total is not None:
        return requests, total
    total = page_count(page)
    following = (request.page or 1) + 1
    if total is not None and following > total:
        return [], total
    url = find_next_link(page, request)
    if url is None:
        return [], total
    return limit_pages(column, [PageRequest(url=url, page=following, browser=request.browser)]), total


def html_list_page(
    site: Site, column: Column, request: PageRequest, body: bytes,
    headers: Mapping[str, str] | None, item_selectors: Iterable[str],
) -> ListPage:
    """A list page read with the given item selectors (site override first), falling back
    to the largest group of dated links; pagination from script or links."""
    page = load_page(request.url, body, headers)
    selectors = [site.selectors.list_item, *item_selectors]
    items = select_items(page, selectors) or find_dated_items(page)
    entries = entries_from_items(site, page, items)
    nexts, total = next_pages(page, column, request)
    if site.selectors.next_page:
        href = page.sel.css(site.selectors.next_page).attrib.get("href")
        url = absolute_url(page, href)
        if url:
            following = (request.page or 1) + 1
            nexts = limit_pages(column, [PageRequest(url=url, page=following, browser=request.browser)])
    return ListPage(entries=entries, next_pages=nexts, total_pages=total)
