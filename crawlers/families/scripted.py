"""Client-rendered ("scripted") lists: the entries are data in a script, not links in the markup.

Portals such as sthjt.jiangxi.gov.cn serve a column page whose list is a JS literal
(``var listData = {articleList: [{"title": ..., "urls": "{\\"pc\\": \\"/...html\\"}", "pubDate": ...}]}``)
rendered by a template in the browser. This adapter reads those literals straight from the
served HTML; when they are absent (a page rendered by the browser, or a layout change) it falls
back to generic dated-link discovery on the DOM.

``Column.params`` (all optional; anything left out is found by looking at the data):

- ``var``: the variable holding the records, e.g. ``"listData"``;
- ``records``: dotted path to the record array inside it, e.g. ``"articleList"``;
- ``title`` / ``url`` / ``date``: the record fields, e.g. ``"title"``, ``"urls.pc"``, ``"pubDate"``
  (a field holding a JSON string, like ``urls``, is decoded before the path goes on);
- ``page_url``: the URL of page N, relative to the column URL, with ``{page}`` in it,
  e.g. ``"index.html?uid=380055&pageNum={page}"``;
- ``per_page``: entries per page, when the page's own script does not say;
- ``total``: dotted path to the column's entry count, e.g. ``"channelsTagSelf.articleCount"``.

``EntryList`` and ``pick_title`` are shared with the Hanweb and gkmlpt adapters; the DOM
fallback is ``listparse.html_list_page``.
"""

from __future__ import annotations

import json
import logging
import math
import re
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Iterable, Sequence
from urllib.parse import urljoin, urlsplit

from crawlers.families.base import Family
from crawlers.families.clues import Clue, SeenPage
from crawlers.families.listparse import decode, html_list_page
from crawlers.items import ListEntry, ListPage, PageRequest
from crawlers.parsing.dates import date_from_url, parse_date
from crawlers.parsing.detail import DetailRules
from crawlers.parsing.numbers import small_int
from crawlers.parsing.scan import contents, remove_tags

if TYPE_CHECKING:  # sites name their family: the spec validates against this registry
    from crawlers.sites.spec import Column, Site

log = logging.getLogger(__name__)

# -- entries --------------------------------------------------------------------------------

_TRUNCATED = re.compile(r"(\.\.\.|…|。。。)\s*$")


def pick_title(text: str | None, title_attr: str | None) -> str:
    """The link's title: the ``title`` attribute when the visible text is cut short or missing."""
    text = " ".join((text or "").split())
    attr = " ".join((title_attr or "").split())
    if not attr:
        return text
    if not text or _TRUNCATED.search(text):
        return attr
    stem = _TRUNCATED.sub("", text)
    return attr if len(attr) > len(stem) and attr.startswith(stem) else text


_BASE_HREF = re.compile(r"""<base\s[^<>]*href\s*=\s*["']([^"']+)["']""", re.I)


def page_base(page_url: str, html: str) -> str:
    """The URL relative links resolve against: ``<base href>`` when the page has one."""
    m = _BASE_HREF.search(html)
    return urljoin(page_url, m.group(1).strip()) if m and m.group(1).strip() else page_url


class EntryList:
    """Collects list entries: absolute URLs, on the site's domains, each URL once."""

    def __init__(self, site: Site, base_url: str):
        self.site = site
        self.base_url = base_url
        self.entries: list[ListEntry] = []
        self._seen: set[str] = set()
        self.off_site = 0

    def add(self, href: str | None, title: str, published: date | None = None,
            extra: dict[str, Any] | None = None) -> ListEntry | None:
        href = (href or "").strip()
        if not href or href.startswith(("javascript:", "#", "mailto:")):
            return None
        url = urljoin(self.base_url, href).split("#", 1)[0]
        if urlsplit(url).scheme not in ("http", "https"):
            return None
        if not self.site.allows_url(url):
            self.off_site += 1
            log.debug("%s: dropped off-site link %s", self.site.key, url)
            return None
        if url in self._seen:
            return None
        self._seen.add(url)
        entry = ListEntry(url=url, title=title, published_date=published or date_from_url(url),
                          extra=extra or {})
        self.entries.append(entry)
        return entry


# -- JS literals ----------------------------------------------------------------------------

class JSLiteralError(ValueError):
    """A script literal could not be read as data."""


# (?<![\w$]): a name starts after a non-name character, so "$a$a$a…" is not re-read from each "a".
_ASSIGN = re.compile(r"(?:\bvar|\blet|\bconst|\bwindow\.)?\s*(?<![\w$])([A-Za-z_$][\w$]*)\s*=\s*(?=[\[{])")
# Deeper nesting than any real list's data is a hostile page (and Python's recursion limit).
MAX_DEPTH = 64
_IDENT = re.compile(r"[A-Za-z_$][\w$]*")
_NUMBER = re.compile(r"-?(?:0[xX][0-9a-fA-F]+|\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)")
_KEYWORDS = {"true": True, "false": False, "null": None, "undefined": None}
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}


class _Reader:
    """A small reader for JS object/array literals: JSON plus single quotes, unquoted keys,
    trailing commas and comments. Anything executable (calls, operators) is an error."""

    def __init__(self, text: str, pos: int):
        self.text = text
        self.pos = pos
        self.depth = 0
        self.reach = pos  # the furthest offset read, so a caller never reads it again

    def fail(self, why: str) -> JSLiteralError:
        self.reach = max(self.reach, self.pos)
        snippet = self.text[self.pos:self.pos + 30].replace("\n", " ")
        return JSLiteralError(f"{why} at offset {self.pos} near {snippet!r}")

    def skip(self) -> None:
        text = self.text
        while self.pos < len(text):
            ch = text[self.pos]
            if ch.isspace():
                self.pos += 1
            elif text.startswith("//", self.pos):
                end = text.find("\n", self.pos)
                self.pos = len(text) if end < 0 else end + 1
            elif text.startswith("/*", self.pos):
                end = text.find("*/", self.pos + 2)
                if end < 0:
                    self.reach = len(text)
                    raise self.fail("unclosed comment")
                self.pos = end + 2
            else:
                return

    def value(self) -> Any:
        self.skip()
        if self.pos >= len(self.text):
            raise self.fail("unexpected end")
        ch = self.text[self.pos]
        if ch in "{[":
            if self.depth >= MAX_DEPTH:
                raise self.fail(f"nested deeper than {MAX_DEPTH}")
            self.depth += 1
            value = self.obj() if ch == "{" else self.arr()
            self.depth -= 1
            return value
        if ch in "\"'`":
            return self.string()
        m = _NUMBER.match(self.text, self.pos)
        if m:
            self.pos = m.end()
            raw = m.group(0)
            return int(raw, 16) if raw.lower().startswith(("0x", "-0x")) else (
                float(raw) if any(c in raw for c in ".eE") else int(raw))
        m = _IDENT.match(self.text, self.pos)
        if m and m.group(0) in _KEYWORDS:
            self.pos = m.end()
            return _KEYWORDS[m.group(0)]
        raise self.fail("not a literal")

    def string(self) -> str:
        quote = self.text[self.pos]
        self.pos += 1
        out = []
        text = self.text
        while self.pos < len(text):
            ch = text[self.pos]
            if ch == quote:
                self.pos += 1
                return "".join(out)
            if ch == "\\":
                nxt = text[self.pos + 1:self.pos + 2]
                if nxt == "u":
                    out.append(chr(int(text[self.pos + 2:self.pos + 6], 16)))
                    self.pos += 6
                    continue
                if nxt == "x":
                    out.append(chr(int(text[self.pos + 2:self.pos + 4], 16)))
                    self.pos += 4
                    continue
                if nxt == "\n":  # line continuation
                    self.pos += 2
                    continue
                out.append(_ESCAPES.get(nxt, nxt))
                self.pos += 2
                continue
            if quote == "`" and text.startswith("${", self.pos):
                raise self.fail("template literal with substitutions")
            out.append(ch)
            self.pos += 1
        raise self.fail("unclosed string")

    def key(self) -> str:
        self.skip()
        ch = self.text[self.pos:self.pos + 1]
        if ch in ("'", '"'):
            return self.string()
        m = _IDENT.match(self.text, self.pos) or _NUMBER.match(self.text, self.pos)
        if not m:
            raise self.fail("not an object key")
        self.pos = m.end()
        return m.group(0)

    def obj(self) -> dict[str, Any]:
        self.pos += 1
        out: dict[str, Any] = {}
        while True:
            self.skip()
            if self.text.startswith("}", self.pos):
                self.pos += 1
                return out
            k = self.key()
            self.skip()
            if not self.text.startswith(":", self.pos):
                raise self.fail("expected ':'")
            self.pos += 1
            out[k] = self.value()
            self.skip()
            if self.text.startswith(",", self.pos):
                self.pos += 1
            elif not self.text.startswith("}", self.pos):
                raise self.fail("expected ',' or '}'")

    def arr(self) -> list[Any]:
        self.pos += 1
        out: list[Any] = []
        while True:
            self.skip()
            if self.text.startswith("]", self.pos):
                self.pos += 1
                return out
            out.append(self.value())
            self.skip()
            if self.text.startswith(",", self.pos):
                self.pos += 1
            elif not self.text.startswith("]", self.pos):
                raise self.fail("expected ',' or ']'")


def parse_js_literal(text: str, start: int = 0) -> tuple[Any, int]:
    """Read the object/array literal at ``text[start:]``; return it and the offset after it."""
    reader = _Reader(text, start)
    try:
        value = reader.value()
    except (ValueError, IndexError) as exc:  # JSLiteralError, or a bad \u escape
        error = exc if isinstance(exc, JSLiteralError) else JSLiteralError(f"{exc} at offset {reader.pos}")
        error.reach = max(reader.reach, reader.pos)
        raise error from None
    return value, reader.pos


def script_literals(html: str) -> dict[str, Any]:
    """Every ``NAME = {...}`` / ``NAME = [...]`` literal assigned in the page's scripts.

    Assignments whose right side is not plain data (a function call, an expression) are skipped.
    """
    found: dict[str, Any] = {}
    for code in contents(html, "script"):
        pos = 0
        while (m := _ASSIGN.search(code, pos)) is not None:
            # The search resumes after what a literal read, failed or not: re-reading it from
            # each assignment nested inside it would be quadratic in a hostile script.
            try:
                value, pos = parse_js_literal(code, m.end())
            except (JSLiteralError, ValueError, IndexError) as exc:
                log.debug("skipped script assignment %s: %s", m.group(1), exc)
                pos = max(m.end(), getattr(exc, "reach", m.end()))
                continue
            found.setdefault(m.group(1), value)
    return found


# -- records --------------------------------------------------------------------------------

_URLISH = re.compile(r"^(?:https?://|/|\./|\.\./)?[\w\-./%?=&]*\.(?:s?html?|jsp|aspx?|php)(?:[?#].*)?$|^https?://", re.I)
_CJK = re.compile(r"[\u4e00-\u9fff]")
_TITLE_KEYS = ("title", "showTitle", "name", "docTitle", "articleTitle")
_URL_KEYS = ("url", "urls", "pcUrl", "link", "href", "docUrl", "articleUrl", "post_url")
_DATE_KEYS = ("pubDate", "date", "publishTime", "publish_time", "time", "releaseTime",
              "first_publish_time", "display_publish_time", "createTime", "created_at")
_CHINA = timezone(timedelta(hours=8))


def _decoded(value: Any) -> Any:
    """A string holding JSON (``"{\\"pc\\": \\"/a.html\\"}"``) as the data it holds."""
    if isinstance(value, str) and value.strip()[:1] in "{[":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def get_path(data: Any, path: str) -> Any:
    """``data`` followed along a dotted path (``"urls.pc"``), decoding JSON strings on the way."""
    for part in path.split("."):
        data = _decoded(data)
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return _decoded(data)


def as_date(value: Any) -> date | None:
    """A record's date: a date string, or epoch seconds/milliseconds (China time)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)) or (isinstance(value, str) and value.isdigit() and len(value) >= 9):
        stamp = float(value)
        if stamp > 1e11:  # milliseconds
            stamp /= 1000
        if stamp <= 0:
            return None
        return datetime.fromtimestamp(stamp, _CHINA).date()
    return parse_date(str(value))


def _url_of(value: Any) -> str | None:
    value = _decoded(value)
    if isinstance(value, str):
        return value if _URLISH.match(value.strip()) else None
    if isinstance(value, dict):
        for k in ("pc", "url", "href", "link"):
            if isinstance(value.get(k), str) and _URLISH.match(value[k].strip()):
                return value[k]
    return None


def _title_of(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    text = " ".join(remove_tags(value, "").split())
    return text if len(text) >= 4 and _CJK.search(text) else None


def _first_key(record: dict, keys: Iterable[str], test) -> str | None:
    for k in keys:
        if k in record and test(record[k]):
            return k
    for k, v in record.items():
        if test(v):
            return k
    return None


def _looks_like_entries(items: list) -> bool:
    records = [r for r in items if isinstance(r, dict)]
    if not records or len(records) < len(items) / 2:
        return False
    sample = records[:5]
    return all(_first_key(r, _TITLE_KEYS, _title_of) and _first_key(r, _URL_KEYS, _url_of)
               for r in sample)


def find_record_arrays(data: Any, path: str = "") -> list[tuple[str, list]]:
    """Arrays inside ``data`` whose items look like list entries (a title and a URL each)."""
    found: list[tuple[str, list]] = []
    data = _decoded(data)
    if isinstance(data, list):
        if _looks_like_entries(data):
            return [(path, data)]
        for i, item in enumerate(data[:3]):
            found += find_record_arrays(item, f"{path}.{i}".lstrip("."))
    elif isinstance(data, dict):
        for k, v in data.items():
            found += find_record_arrays(v, f"{path}.{k}".lstrip("."))
    return found


# -- the adapter ----------------------------------------------------------------------------

_PER_PAGE_KEYS = ("perPage", "pageSize", "per_page", "perpage", "rows", "limit")
_TOTAL_PAGE_KEYS = ("totalPage", "totalPages", "pageCount", "totalpage")
_TOTAL_KEYS = ("total", "totalCount", "totalRecord", "totalrecord", "articleCount", "count")


def _find_number(literals: dict[str, Any], keys: Iterable[str]) -> int | None:
    """The first integer found under one of ``keys``, at the top of any literal."""
    for value in literals.values():
        if isinstance(value, dict):
            for k in keys:
                v = value.get(k)
                if small_int(v):
                    return small_int(v)
    return None


def _page_number_url(column: Column, template: str, page: int) -> str:
    return urljoin(column.url, template.format(page=page))


def script_records(html: str) -> tuple[str, str, int] | None:
    """The largest array of list entries held as script data: (variable, path, count)."""
    best = None
    for name, value in script_literals(html).items():
        for path, records in find_record_arrays(value):
            if best is None or len(records) > best[2]:
                best = (name, path, len(records))
    return best


def scripted_params(html: str, column_url: str, var: str, path: str) -> tuple[dict[str, Any], list[str]]:
    """The params of a column whose records are ``var``.``path``, and the URL of page N when the
    platform's convention gives it (a jpage-style ``params`` literal with a ``unitid``: pages
    are ``index.html?uid=UNIT&pageNum=N``, as on sthjt.jiangxi.gov.cn)."""
    params: dict[str, Any] = {"var": var}
    if path:
        params["records"] = path
    notes = []
    unit = None
    for value in script_literals(html).values():
        if isinstance(value, dict) and value.get("unitid") and ("perPage" in value or "current" in value):
            unit = str(value["unitid"])
            break
    name = urlsplit(column_url).path.rsplit("/", 1)[-1] or "index.html"
    if unit and name.startswith("index."):
        params["page_url"] = f"{name}?uid={unit}&pageNum={{page}}"
        notes.append(f"page N of the column is {name}?uid={unit}&pageNum=N (the platform's "
                     "convention for a jpage-style params literal with unitid)")
    else:
        notes.append("the script pages its data but the page does not say the URL of page 2: "
                     "only the first page is read unless params.page_url is declared")
    return params, notes


# What the templates render the data into (sthjt.jiangxi.gov.cn: ul.List_list).
RENDERED_ITEMS = ("ul.List_list > li", ".list_list li", "ul.list > li")


class ScriptedFamily(Family):
    """Lists carried as script data (``var listData = {...}``), with a DOM fallback."""

    name = "scripted"
    priority = 30
    settled_by_column = True
    detail_rules = DetailRules(
        title=(".article-title", ".detail-title", ".content-title", "h1", ".title"),
        content=(".article-content", "#zoom", ".zoom", ".article_con", ".TRS_Editor",
                 ".content", ".jgz_box"),
        metadata=(".xxgk-table", ".xxgk_table", "table.xxgk", ".article-info table"),
        furniture=(".share", ".bdsharebuttonbox", ".article-tools", ".print", ".qrcode",
                   ".related", ".xgxx", ".Location", ".footer", "script", "style"),
    )

    def column_clues(self, page: SeenPage, earlier: Sequence[Clue]) -> list[Clue]:
        """Entries held as script data, and more of them than the markup shows."""
        records = script_records(page.html)
        if records is None:
            return []
        name, path, count = records
        markup = page.dated_links
        if count > markup:
            where = f"{name}.{path}" if path else name
            return [Clue(self.name, 12, f"the entries are script data: {count} records in "
                                        f"{where}, {markup} dated links in the markup")]
        return [Clue(self.name, 2, f"script data ({count} records) that the markup also shows")]

    def column_params(self, page: SeenPage) -> tuple[dict[str, Any], list[str]]:
        records = script_records(page.html)
        if records is None:
            return {}, []
        return scripted_params(page.html, page.url, records[0], records[1])

    def parse_list(self, site, column, request, body, headers=None) -> ListPage:
        html = decode(body, headers)
        literals = script_literals(html)
        entries = self._script_entries(site, column, request.url, html, literals)
        if entries is None:
            # A browser-rendered DOM (or a changed layout): the list is markup now, and its
            # pagination is the page's own links.
            log.info("%s/%s: no script data; reading the page's markup", site.key, column.name)
            return html_list_page(site, column, request, body, headers, RENDERED_ITEMS)
        total_pages = self._total_pages(column, literals)
        return ListPage(entries=entries, next_pages=self._next(column, request, total_pages, entries),
                        total_pages=total_pages)

    def _script_entries(self, site, column, page_url, html, literals) -> list[ListEntry] | None:
        params = column.params
        candidates: list[tuple[str, list]] = []
        names = [params["var"]] if params.get("var") else list(literals)
        for name in names:
            if name not in literals:
                continue
            data = literals[name]
            if params.get("records"):
                records = get_path(data, params["records"])
                if isinstance(records, list):
                    candidates.append((f"{name}.{params['records']}", records))
            else:
                candidates += [(f"{name}.{p}".rstrip("."), arr) for p, arr in find_record_arrays(data)]
        if not candidates:
            if params.get("var"):
                log.warning("%s/%s: script variable %r with records not found",
                            site.key, column.name, params["var"])
            return None
        where, records = max(candidates, key=lambda c: len(c[1]))
        log.debug("%s/%s: %d records in %s", site.key, column.name, len(records), where)
        out = EntryList(site, page_base(page_url, html))
        for record in records:
            if not isinstance(record, dict):
                continue
            title_key = params.get("title") or _first_key(record, _TITLE_KEYS, _title_of)
            url_key = params.get("url") or _first_key(record, _URL_KEYS, _url_of)
            date_key = params.get("date") or _first_key(record, _DATE_KEYS, lambda v: as_date(v) is not None)
            title = _title_of(get_path(record, title_key)) if title_key else None
            url = _url_of(get_path(record, url_key)) if url_key else None
            if not title or not url:
                continue
            published = as_date(get_path(record, date_key)) if date_key else None
            out.add(url, title, published)
        return out.entries

    def _total_pages(self, column, literals) -> int | None:
        params = column.params
        total_pages = _find_number(literals, _TOTAL_PAGE_KEYS)
        if total_pages:
            return total_pages
        per_page = params.get("per_page") or _find_number(literals, _PER_PAGE_KEYS)
        total = None
        if params.get("total"):
            name, _, path = params["total"].partition(".")
            raw = get_path(literals.get(name), path) if path else literals.get(name)
            total = small_int(raw)
        if total is None:
            total = _find_number(literals, _TOTAL_KEYS)
        if total and per_page:
            return math.ceil(total / int(per_page))
        return None

    def _next(self, column, request, total_pages, entries) -> list[PageRequest]:
        template = column.params.get("page_url")
        if not template or not entries:
            return []
        nxt = request.page + 1
        if nxt > column.max_pages or (total_pages is not None and nxt > total_pages):
            return []
        return [PageRequest(url=_page_number_url(column, template, nxt), page=nxt,
                            browser=request.browser)]
