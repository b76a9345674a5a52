"""Hanweb 大汉 JCMS: column pages with an embedded datastore, and the dataproxy.jsp list feed.

A column page ``/col/colNNNN/index.html`` carries its first records in
``<script type="text/xml"><datastore><nextgroup>...</nextgroup><recordset><record><![CDATA[<li>...]]>``
and a jpage script (``perPage``, ``totalRecord``, ``groupSize``). The browser then asks the feed
for further records::

    POST /module/web/jpage/dataproxy.jsp?startrecord=61&endrecord=120&perpage=20
    col=1&appid=1&webid=3&path=/&columnid=4975&sourceContentType=1&unitid=12345
    &webname=...&permissiontype=0

and gets the same ``<datastore>`` back with ``<totalrecord>``/``<totalpage>``.

Page numbers here are jpage's: ``perpage`` records a page, and one feed request covers
``group`` pages (``groupSize``), so ``PageRequest.page`` is the first jpage page a request
covers and ``ListPage.total_pages`` is the feed's ``totalpage``. Only the following request is
returned, so that a daily run can stop at the first page of entries it already knows.

How a column declares its feed (``Column.params``; the column page itself supplies whatever is
left out, from its ``nextgroup`` link and jpage script):

- ``columnid`` (default: the NNNN of ``/col/colNNNN/``), ``unitid`` (the jpage instance, the
  id of the ``<div>`` around the datastore), ``webid``, ``webname``;
- ``path`` (``/``), ``sourceContentType`` (``1``), ``permissiontype`` (``0``), ``appid`` (``1``);
- ``perpage`` and ``group``: only when the page does not say (defaults 20 and 3);
- ``proxy``: the feed's path, default ``/module/web/jpage/dataproxy.jsp``.
"""

from __future__ import annotations

import html as htmllib
import logging
import math
import re
from typing import TYPE_CHECKING, Any, Sequence
from urllib.parse import parse_qsl, unquote, urlencode, urljoin, urlsplit

import lxml.html

from crawlers.families.base import Family
from crawlers.families.clues import Clue, SeenPage
from crawlers.families.listparse import decode, html_list_page
from crawlers.families.scripted import EntryList, page_base, pick_title
from crawlers.items import ListPage, PageRequest
from crawlers.parsing.dates import find_dates
from crawlers.parsing.detail import DetailRules, ParseError
from crawlers.parsing.scan import cdata, contents, first_content, opener, spans

if TYPE_CHECKING:  # sites name their family: the spec validates against this registry
    from crawlers.sites.spec import Column, Site

log = logging.getLogger(__name__)

PROXY_PATH = "/module/web/jpage/dataproxy.jsp"
FORM_FIELDS = ("col", "appid", "webid", "path", "columnid", "sourceContentType", "unitid",
               "webname", "permissiontype")
FORM_DEFAULTS = {"col": "1", "appid": "1", "path": "/", "sourceContentType": "1",
                 "permissiontype": "0"}
DEFAULT_PERPAGE = 20
DEFAULT_GROUP = 3

# The datastore, its records and nextgroup are found by linear scans (parsing.scan): as regular
# expressions they backtrack quadratically over unclosed tags.
_CDATA_END = re.compile(r"\]\]>")
_HREF = re.compile(r"""href\s*=\s*["']([^"']+)["']""", re.I)
# At most 9 digits: int() refuses a hostile 5,000-digit one with an error.
_XML_INT = {name: re.compile(rf"<{name}>\s*(\d{{1,9}})\s*</{name}>", re.I)
            for name in ("totalrecord", "totalpage")}
# jpage's options in the column page's script: $('#123').jpage({perPage: 20, totalRecord: 756, ...})
_JPAGE_INT = {name: re.compile(rf"""\b{name}\s*:\s*['"]?(\d{{1,9}})(?!\d)""")
              for name in ("perPage", "totalRecord", "groupSize")}
_UNIT_DIV = re.compile(r"""<div\s+id=["']?(\d+)["']?\s*>\s*<script\s+type=["']text/xml["']""", re.I)
_COLUMN_ID = re.compile(r"/col/col(\d+)/")
# What detect recognises Hanweb JCMS by: its URLs, its datastore and feed, its assets.
_ART = re.compile(r"""/art/(?:19|20)\d{2}/\d{1,2}/\d{1,2}/art_\d+_\d+\.html""")
_DATASTORE = re.compile(r"<datastore\b", re.I)
_ASSETS = re.compile(
    r"""["'][^"']*(?:/module/(?:jslib|web/jpage|visitcount|changepage)/|hanweb\.css|/jcms_files/)""", re.I)
# Where jpage renders the records in a browser, and static column lists.
RENDERED_ITEMS = (".default_pgContainer li", ".default_pgContainer tr", "ul.list > li")


def _ints(pattern_map: dict[str, re.Pattern], text: str) -> dict[str, int]:
    out = {}
    for name, pattern in pattern_map.items():
        m = pattern.search(text)
        if m:
            out[name] = int(m.group(1))
    return out


def _unquote_fully(value: str) -> str:
    # nextgroup links often carry webname percent-encoded twice (%25E6...).
    for _ in range(3):
        decoded = unquote(value)
        if decoded == value:
            break
        value = decoded
    return value


def feed_params(column: Column, page_text: str = "") -> dict[str, str]:
    """The feed's form fields: the column's declared params over what the page says, over defaults."""
    return feed_form(column.url, column.params, page_text)


def feed_form(url: str, params: dict[str, Any], page_text: str = "") -> dict[str, str]:
    """``feed_params`` of a column given by its URL and declared params."""
    found: dict[str, str] = dict(FORM_DEFAULTS)
    m = _COLUMN_ID.search(url)
    if m:
        found["columnid"] = m.group(1)
    unit = _UNIT_DIV.search(page_text)
    if unit:
        found["unitid"] = unit.group(1)
    nextgroup = next(spans(page_text, opener("nextgroup"), _CDATA_END, tag=True), None)
    inner = page_text[nextgroup[1]:nextgroup[2]].lstrip() if nextgroup else ""
    href = _HREF.search(inner[9:]) if inner.startswith("<![CDATA[") else None
    if href:
        query = urlsplit(htmllib.unescape(href.group(1))).query
        for key, value in parse_qsl(query, keep_blank_values=True):
            if key in FORM_FIELDS and value:
                found[key] = _unquote_fully(value).strip("'\"") if key in ("webname", "path") else value
    for key in FORM_FIELDS:
        if key in params:
            found[key] = str(params[key])
    return {k: found[k] for k in FORM_FIELDS if k in found}


def feed_request(column: Column, base_url: str, form: dict[str, str], first_page: int,
                 perpage: int, group: int) -> PageRequest:
    """The POST for ``group`` jpage pages starting at ``first_page``."""
    start = (first_page - 1) * perpage + 1
    end = (first_page - 1 + group) * perpage
    query = urlencode({"startrecord": start, "endrecord": end, "perpage": perpage})
    url = urljoin(base_url, column.params.get("proxy", PROXY_PATH)) + "?" + query
    return PageRequest(url=url, method="POST", formdata=tuple(sorted(form.items())),
                       page=first_page)


def parse_records(site: Site, base_url: str, fragments: list[str]) -> EntryList:
    """Entries from the ``<li>`` (or ``<tr>``) fragments of ``<record>`` elements."""
    entries = EntryList(site, base_url)
    for fragment in fragments:
        if not fragment.strip():
            continue
        node = lxml.html.fragment_fromstring(fragment, create_parent="div")
        for a in node.iter("a"):
            href = a.get("href")
            title = pick_title(a.text_content(), a.get("title"))
            if not href or not title:
                continue
            # The date is the record's other text (<b>/<span>), or the readlabel attribute.
            rest = node.text_content().replace(a.text_content(), " ")
            labels = " ".join(node.xpath(".//@readlabel"))
            dates = find_dates(rest) or find_dates(labels)
            entries.add(href, title, dates[0] if dates else None)
            break  # one entry per record; further links are 附件/解读 extras
    return entries


class HanwebFamily(Family):
    """Hanweb 大汉 JCMS: datastore column pages, the dataproxy.jsp feed, #zoom detail pages."""

    name = "hanweb"
    priority = 40
    detail_rules = DetailRules(
        title=(".sp_title", "p.con-title", ".con-title", ".article_title", ".artile_title",
               "#title", "h1"),
        content=("#zoom", "#Zoom", ".article_zoom", ".bfr_article_content", ".main-txt",
                 ".bt_content", ".article-content"),
        metadata=(".xxgkTitle table", "table.xxgk_table", ".xxgk_table", ".xxgk-table",
                  "table.xxgk", ".xxgk_box table"),
        furniture=(".main-word", ".bdsharebuttonbox", "#qr_container", ".newnewerm", ".ie8sys",
                   ".prevPage", ".nextPage", ".xg-box", ".xgbd", ".print", ".printer", ".close",
                   ".small-title", ".position", ".bt-position", ".footer", "script", "style"),
    )

    def page_clues(self, page: SeenPage, earlier: Sequence[Clue]) -> list[Clue]:
        """/col/ and /art/ URLs, the datastore and its dataproxy.jsp feed, JCMS assets."""
        clues = []
        if _COLUMN_ID.search(page.path):
            clues.append(Clue(self.name, 3, "a /col/colN/ column URL (Hanweb JCMS)", of_column_url=True))
        if _ART.search(page.path):
            clues.append(Clue(self.name, 3, "a /art/Y/M/D/art_N_N.html document URL (Hanweb JCMS)"))
        if not page.is_html:
            return clues
        html = page.html
        if _DATASTORE.search(html):
            clues.append(Clue(self.name, 8, "a <datastore> of <record>s in a text/xml script (Hanweb jpage)"))
        if "dataproxy.jsp" in html:
            clues.append(Clue(self.name, 6, "the list feed /module/web/jpage/dataproxy.jsp (Hanweb)"))
        arts = set(_ART.findall(html))
        if len(arts) >= 2:
            clues.append(Clue(self.name, 3, f"{len(arts)} documents at /art/Y/M/D/art_N_N.html (Hanweb)"))
        if _ASSETS.search(html):
            clues.append(Clue(self.name, 5, "Hanweb JCMS assets (/module/jslib/, hanweb.css, jcms_files)"))
        return clues

    def column_params(self, page: SeenPage) -> tuple[dict[str, Any], list[str]]:
        """Nothing to declare when the column page says the feed's ids; a note either way."""
        form = feed_form(page.url, {}, page.html)
        missing = [k for k in ("columnid", "unitid", "webid") if k not in form]
        if missing:
            return {}, ["the Hanweb feed cannot be followed past the column page: "
                        f"{', '.join(missing)} not on the page (declare them in params)"]
        return {}, ["the Hanweb feed's columnid/unitid/webid are read from the column "
                    f"page ({form['columnid']}/{form['unitid']}/{form['webid']})"]

    def parse_list(self, site, column, request, body, headers=None) -> ListPage:
        text = decode(body, headers)
        datastore = first_content(text, "datastore")
        if request.method == "POST":
            if datastore is None:
                raise ParseError("not_a_list", f"{request.url}: the Hanweb feed answered without a <datastore>")
            return self._parse_feed(site, column, request, datastore)
        return self._parse_column_page(site, column, request, body, headers, text, datastore)

    def _parse_feed(self, site, column, request, store: str) -> ListPage:
        fragments = [cdata(r) for r in contents(store, "record")]
        entries = parse_records(site, request.url, fragments)
        totals = _ints(_XML_INT, store)
        query = dict(parse_qsl(urlsplit(request.url).query))
        try:
            start, end = int(query["startrecord"]), int(query["endrecord"])
            perpage = int(query.get("perpage") or DEFAULT_PERPAGE)
        except (KeyError, ValueError):
            raise ParseError("not_a_list", f"{request.url}: a feed request needs startrecord/endrecord/perpage") from None
        total_pages = totals.get("totalpage") or (
            math.ceil(totals["totalrecord"] / perpage) if "totalrecord" in totals else None)
        group = max(1, math.ceil((end - start + 1) / perpage))
        next_pages = []
        if fragments:
            nxt = (end // perpage) + 1
            next_pages = self._bounded(column, total_pages, nxt, lambda: feed_request(
                column, request.url, dict(request.formdata), nxt, perpage, group))
        return ListPage(entries=entries.entries, next_pages=next_pages, total_pages=total_pages)

    def _parse_column_page(self, site, column, request, body, headers, text: str, datastore) -> ListPage:
        if datastore is None:
            # Some Hanweb columns are static lists (信息公开 tables), or the browser rendered
            # the datastore into markup; read them like any list page.
            log.info("%s/%s: no datastore on the column page; reading its markup",
                     site.key, column.name)
            return html_list_page(site, column, request, body, headers, RENDERED_ITEMS)
        base = page_base(request.url, text)
        fragments = [cdata(r) for r in contents(datastore, "record")]
        entries = parse_records(site, base, fragments)
        options = _ints(_JPAGE_INT, text)
        perpage = options.get("perPage") or int(column.params.get("perpage", DEFAULT_PERPAGE))
        group = options.get("groupSize") or int(column.params.get("group", DEFAULT_GROUP))
        total_pages = math.ceil(options["totalRecord"] / perpage) if "totalRecord" in options else None
        covered = max(1, math.ceil(len(fragments) / perpage))
        nxt = covered + 1
        form = feed_params(column, text)
        missing = [k for k in ("webid", "unitid", "columnid") if k not in form]
        next_pages: list[PageRequest] = []
        if missing:
            log.warning("%s/%s: cannot follow the Hanweb feed, %s unknown (declare them in "
                        "Column.params)", site.key, column.name, ", ".join(missing))
        elif fragments and (total_pages is not None or len(fragments) >= perpage * group):
            next_pages = self._bounded(column, total_pages, nxt, lambda: feed_request(
                column, base, form, nxt, perpage, group))
        return ListPage(entries=entries.entries, next_pages=next_pages, total_pages=total_pages)

    @staticmethod
    def _bounded(column: Column, total_pages: int | None, nxt: int, make) -> list[PageRequest]:
        if nxt > column.max_pages or (total_pages is not None and nxt > total_pages):
            return []
        return [make()]
