"""`policywatch detect URL`: which CMS family runs a portal column, and a site spec to watch it.

Recognition is pure (``recognise``): a column page's bytes (and, when fetched, one of its
documents) in, the family and the clues that chose it out. Each clue names a family, a weight
and what was seen:

- ``govcn``: the host is www.gov.cn, or a JSON feed of its shapes (ZUIXINZHENGCE rows,
  ``searchVO.listVO``);
- ``gkmlpt``: ``/gkmlpt/`` in the URL, or the API's JSON (``articles`` with ``classify``);
- ``hanweb``: a ``<datastore>`` in the page, the ``dataproxy.jsp`` feed, ``/col/colN/``
  columns, ``/art/Y/M/D/art_N_N.html`` documents and JCMS assets (``/module/jslib/``);
- ``trs``: TRS WCM's pager ``createPageHTML(count, current, "index", "html")`` (numbers first),
  ``TRS_Editor``-style body elements, ``./YYYYMM/tYYYYMMDD_N.html`` documents (weak: copied);
- ``ucap``: the 开普云 pager ``createPageHTML('page_div', ...)``, ``<ucaptitle>``/``<ucapcontent>``,
  ``/xhtml/`` template paths and ``channelId`` meta tags; the national site-standard meta
  tags (SiteName, ColumnName...) count little, as every family writes them;
- ``scripted``: the entries are data in a script (``var listData = {...}``), not links;
- a list that is empty in the served HTML but filled by script (``fetch``/``$.ajax``, a
  template) needs the browser: the generic adapter reads the rendered page.

The family with the highest score wins if it reaches ``THRESHOLD``; else the column is an
unknown CMS and the generic adapter reads it. The winner is then tried: when its adapter finds
no entries and the generic adapter does, generic is used instead (and the report says so).

``detect_column`` does the fetching around it, as politely as ``policywatch probe`` (robots.txt,
User-Agent, the delay): the column page, the first list page the family asks for when that is
another URL (gkmlpt's API), the browser's rendering when needed, and one document.
``propose`` turns the result into a ``Site`` spec that ``policywatch watch add`` writes into the
config.
"""

from __future__ import annotations

import html as htmllib
import json
import logging
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Mapping
from urllib.parse import urlsplit

from crawlers.families import get_family
from crawlers.families.listparse import ParseError, decode, find_dated_items, load_page, page_count
from crawlers.items import ListEntry, ListPage, PageRequest, PolicyItem
from crawlers.parsing.scan import first_content, remove_blocks
from crawlers.sites.spec import FAMILIES, Column, Politeness, Site

log = logging.getLogger(__name__)

THRESHOLD = 5
# Who wins a tie: the most specific evidence first.
PRIORITY = ("govcn", "gkmlpt", "scripted", "hanweb", "ucap", "trs", "generic")
REQUIRED_FIELDS = ("title", "published_date")
USUAL_FIELDS = ("doc_number", "issuer", "index_no", "topic", "written_date")
PLACEHOLDER_DIVISION = "100000"  # a provisional spec's division until the issuer is known


@dataclass(frozen=True)
class Clue:
    """One thing seen on a page that points at a CMS family."""

    family: str
    weight: int
    reason: str


@dataclass
class Recognition:
    """The family a column runs, the clues, and what the spec needs beyond the URL."""

    family: str
    clues: list[Clue] = field(default_factory=list)
    needs_browser: bool = False
    params: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def scores(self) -> dict[str, int]:
        return scores(self.clues)

    def reasons(self, family: str | None = None) -> list[str]:
        """What was seen for ``family`` (default: the chosen one), strongest first."""
        family = family or self.family
        return [c.reason for c in sorted(self.clues, key=lambda c: -c.weight) if c.family == family]


def scores(clues: list[Clue]) -> dict[str, int]:
    out: dict[str, int] = {}
    for clue in clues:
        out[clue.family] = out.get(clue.family, 0) + clue.weight
    return out


def choose(clues: list[Clue]) -> str:
    """The family the clues point at, or ``generic`` when none reaches ``THRESHOLD``."""
    totals = scores(clues)
    ranked = sorted((f for f in totals if f != "generic"),
                    key=lambda f: (-totals[f], PRIORITY.index(f)))
    if ranked and totals[ranked[0]] >= THRESHOLD:
        return ranked[0]
    return "generic"


# --- clues ----------------------------------------------------------------------------------
_CREATE_PAGE = re.compile(r"(?<![\w.])(?<!function )createPageHTML\s*\(\s*(['\"]?)([\w$]*)")
_TRS_BODY = re.compile(r"""class\s*=\s*["'][^"']*\b(TRS_Editor|TRS_UEDITOR|trs_editor_view|trs_paper_default)\b""")
_TRS_DOC = re.compile(r"""href\s*=\s*["'][^"']*/(?:\d{6}/)?t(?:19|20)\d{6}_\d+\.s?html?["']""", re.I)
_HANWEB_ART = re.compile(r"""/art/(?:19|20)\d{2}/\d{1,2}/\d{1,2}/art_\d+_\d+\.html""")
_HANWEB_COL = re.compile(r"/col/col\d+/")
_UCAP_TAGS = re.compile(r"<ucap(?:title|content)\b", re.I)
_UCAP_ASSETS = re.compile(r"""(?:src|href)\s*=\s*["'][^"']*/ucap/|\bucap[-_](?:content|cms)\b""", re.I)
_HANWEB_ASSETS = re.compile(
    r"""["'][^"']*(?:/module/(?:jslib|web/jpage|visitcount|changepage)/|hanweb\.css|/jcms_files/)""", re.I)
_UCAP_META = re.compile(r"""<meta\s+name\s*=\s*["'](?:SiteIDCode|ColumnName|ColumnType|ColumnDescription)["']""", re.I)
_CHANNEL_META = re.compile(r"""<meta\s+name\s*=\s*["']channelId["']""", re.I)
_XHTML_ASSETS = re.compile(r"""(?:src|href)\s*=\s*["'][^"']*/xhtml/""", re.I)
_GKMLPT = re.compile(r"/gkmlpt/")
_GKMLPT_SID = re.compile(r"""(?:[?&]sid=|\bsid\b["']?\s*[:=]\s*["']?)(\d+)""")
# Script that fills a list after the page loads, and templates it renders with.
_SCRIPT_FETCH = re.compile(
    r"\bfetch\s*\(|\$\.(?:ajax|get|post|getJSON)\s*\(|XMLHttpRequest|\baxios\b|\.load\s*\(\s*['\"]"
    r"|<script[^>]+type\s*=\s*[\"']text/(?:html|template|x-handlebars-template|x-template)[\"']", re.I)
_LOADING = re.compile(r"加载中|正在加载|loading", re.I)


def _json_of(body: bytes) -> Any:
    text = body.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text[:1] not in (b"{", b"["):
        return None
    try:
        return json.loads(text.decode("utf-8", "replace"))
    except ValueError:
        return None


def _json_clues(url: str, data: Any) -> list[Clue]:
    clues = []
    if isinstance(data, list) and data and isinstance(data[0], dict) and \
            {"TITLE", "URL"} <= set(data[0]):
        clues.append(Clue("govcn", 10, "a JSON feed of {TITLE, URL, DOCRELPUBTIME} rows "
                                       "(www.gov.cn's ZUIXINZHENGCE.json)"))
    if isinstance(data, dict):
        vo = data.get("searchVO")
        if isinstance(vo, dict) and ("listVO" in vo or "catMap" in vo):
            clues.append(Clue("govcn", 10, "a JSON answer with searchVO.listVO (www.gov.cn's 政策文件库)"))
        if isinstance(data.get("articles"), list) and ("classify" in data or "total" in data):
            clues.append(Clue("gkmlpt", 8, "a JSON answer with articles and classify (the gkmlpt API)"))
    return clues


def _host_clues(url: str) -> list[Clue]:
    host = (urlsplit(url).hostname or "").lower()
    clues = []
    if host == "www.gov.cn" or host.endswith(".www.gov.cn") or host == "gov.cn":
        clues.append(Clue("govcn", 10, f"the host {host} is the central government portal"))
    if _GKMLPT.search(urlsplit(url).path):
        clues.append(Clue("gkmlpt", 10, "/gkmlpt/ in the URL: Guangdong's 政府信息公开目录管理平台"))
    if _HANWEB_COL.search(urlsplit(url).path):
        clues.append(Clue("hanweb", 3, "a /col/colN/ column URL (Hanweb JCMS)"))
    if _HANWEB_ART.search(urlsplit(url).path):
        clues.append(Clue("hanweb", 3, "a /art/Y/M/D/art_N_N.html document URL (Hanweb JCMS)"))
    return clues


def _pager_clues(html: str) -> list[Clue]:
    for m in _CREATE_PAGE.finditer(html):
        quoted, first = m.group(1), m.group(2)
        if quoted:
            return [Clue("ucap", 7, f"the pager createPageHTML('{first}', count, current, ...) of "
                                    "开普云 (Ucap) templates, pages from 1")]
        if first:
            return [Clue("trs", 8, f"TRS WCM's pager createPageHTML({first}, current, \"index\", ...), "
                                   "pages from 0 (index_1 is page 2)")]
    return []


def page_clues(url: str, body: bytes, headers: Mapping[str, str] | None = None) -> list[Clue]:
    """Clues on any page of the portal (list or document): markup, scripts, URL."""
    data = _json_of(body)
    if data is not None:
        return _host_clues(url) + _json_clues(url, data)
    html = decode(body, headers)
    clues = _host_clues(url) + _pager_clues(html)
    if re.search(r"<datastore\b", html, re.I):
        clues.append(Clue("hanweb", 8, "a <datastore> of <record>s in a text/xml script (Hanweb jpage)"))
    if "dataproxy.jsp" in html:
        clues.append(Clue("hanweb", 6, "the list feed /module/web/jpage/dataproxy.jsp (Hanweb)"))
    arts = set(_HANWEB_ART.findall(html))
    if len(arts) >= 2:
        clues.append(Clue("hanweb", 3, f"{len(arts)} documents at /art/Y/M/D/art_N_N.html (Hanweb)"))
    trs_body = _TRS_BODY.search(html)
    if trs_body:
        clues.append(Clue("trs", 6, f"a TRS editor body element (.{trs_body.group(1)})"))
    trs_docs = len(set(_TRS_DOC.findall(html)))
    if trs_docs >= 2:
        clues.append(Clue("trs", 2, f"{trs_docs} documents named tYYYYMMDD_N.html "
                                    "(TRS WCM's naming, which other CMSs copy)"))
    if _HANWEB_ASSETS.search(html):
        clues.append(Clue("hanweb", 5, "Hanweb JCMS assets (/module/jslib/, hanweb.css, jcms_files)"))
    if _UCAP_TAGS.search(html):
        clues.append(Clue("ucap", 5, "<ucaptitle>/<ucapcontent> elements (开普云)"))
    if _UCAP_ASSETS.search(html) and not any(c.family == "govcn" for c in clues):
        clues.append(Clue("ucap", 2, "ucap assets or classes"))
    if _XHTML_ASSETS.search(html):
        clues.append(Clue("ucap", 2, "template assets under /xhtml/ (开普云 sites)"))
    if _CHANNEL_META.search(html):
        clues.append(Clue("ucap", 2, "a channelId meta tag (开普云 sites)"))
    if _UCAP_META.search(html):
        clues.append(Clue("ucap", 1, "the site-standard meta tags ColumnName/SiteIDCode "
                                     "(written by 开普云 templates, and by others)"))
    if re.search(r"\bgkmlpt\b", html) and not any(c.family == "gkmlpt" for c in clues):
        clues.append(Clue("gkmlpt", 6, "the page loads the gkmlpt catalogue"))
    return clues


def _script_records(html: str) -> tuple[str, str, int] | None:
    """The largest array of list entries held as script data: (variable, path, count)."""
    from crawlers.families.scripted import find_record_arrays, script_literals

    best = None
    for name, value in script_literals(html).items():
        for path, records in find_record_arrays(value):
            if best is None or len(records) > best[2]:
                best = (name, path, len(records))
    return best


def _scripted_params(html: str, column_url: str, var: str, path: str) -> tuple[dict[str, Any], list[str]]:
    """The scripted adapter's params: where the records are, and the URL of page N when the
    platform's convention gives it (a jpage-style ``params`` literal with a ``unitid``: pages
    are ``index.html?uid=UNIT&pageNum=N``, as on sthjt.jiangxi.gov.cn)."""
    from crawlers.families.scripted import script_literals

    params: dict[str, Any] = {"var": var}
    if path:
        params["records"] = path
    notes = []
    literals = script_literals(html)
    unit = None
    for value in literals.values():
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


def recognise(url: str, body: bytes, headers: Mapping[str, str] | None = None,
              detail: tuple[str, bytes, Mapping[str, str] | None] | None = None) -> Recognition:
    """The family of the column at ``url`` whose page is ``body`` (and of one of its documents,
    when ``detail`` gives its URL, bytes and headers). Pure."""
    clues = page_clues(url, body, headers)
    if detail is not None:
        # What the document adds: clues of its own, not the site-wide ones seen on the list.
        seen = {c.reason for c in clues}
        clues += [Clue(c.family, c.weight, f"document: {c.reason}") for c in page_clues(*detail)
                  if c.reason not in seen
                  and not c.reason.startswith(("/gkmlpt/ in the URL", "a /col/colN/", "the host"))]
    recognition = Recognition(family="generic", clues=clues)
    if _json_of(body) is None:
        _script_clues(recognition, url, decode(body, headers), body, headers)
    recognition.family = choose(recognition.clues)
    _family_params(recognition, url, body, headers)
    return recognition


def _script_clues(recognition: Recognition, url: str, html: str, body: bytes,
                  headers: Mapping[str, str] | None) -> None:
    try:
        markup = len(find_dated_items(load_page(url, body, headers)))
    except ParseError:
        markup = 0
    records = _script_records(html)
    if records is not None and records[2] > markup:
        name, path, count = records
        where = f"{name}.{path}" if path else name
        recognition.clues.append(Clue("scripted", 12, f"the entries are script data: {count} records in "
                                                     f"{where}, {markup} dated links in the markup"))
        recognition.params, recognition.notes = _scripted_params(html, url, name, path)
    elif records is not None:
        recognition.clues.append(Clue("scripted", 2, f"script data ({records[2]} records) that the markup "
                                                     "also shows"))
    elif markup == 0 and _SCRIPT_FETCH.search(html):
        recognition.needs_browser = True
        loading = " (it says 加载中)" if _LOADING.search(remove_blocks(html, ("script",), comments=False, replacement="")) else ""
        recognition.clues.append(Clue("generic", 0, "no list in the served HTML and a script that fetches "
                                                    f"one{loading}: only a browser sees the entries"))


def _family_params(recognition: Recognition, url: str, body: bytes,
                   headers: Mapping[str, str] | None) -> None:
    if recognition.family == "gkmlpt" and "/gkmlpt/api/" not in url:
        html = decode(body, headers)
        sid = _GKMLPT_SID.search(html) or _GKMLPT_SID.search(url)
        if sid:
            recognition.params = {"sid": sid.group(1), "category": 0}
            recognition.notes.append(f"the catalogue's site id is {sid.group(1)} (all categories)")
        else:
            recognition.notes.append("the gkmlpt site id (sid) is not on the page: give the API URL "
                                     "(/gkmlpt/api/all/CATEGORY?sid=N) instead")
    if recognition.family == "hanweb":
        from crawlers.families.hanweb import feed_params

        form = feed_params(Column(name="c", url=url), decode(body, headers))
        missing = [k for k in ("columnid", "unitid", "webid") if k not in form]
        if missing:
            recognition.notes.append("the Hanweb feed cannot be followed past the column page: "
                                     f"{', '.join(missing)} not on the page (declare them in params)")
        else:
            recognition.notes.append("the Hanweb feed's columnid/unitid/webid are read from the column "
                                     f"page ({form['columnid']}/{form['unitid']}/{form['webid']})")
    if recognition.family != "scripted" and any(c.family == "scripted" and c.weight >= 12
                                                 for c in recognition.clues):
        recognition.params = {}


# --- names ----------------------------------------------------------------------------------
_META = re.compile(r"""<meta\s+[^<>]*name\s*=\s*["']({names})["'][^<>]*content\s*=\s*["']([^"']*)["']""", re.I)
_TITLE_SPLIT = re.compile(r"\s*(?:[-_|｜—–]+|\s{2,})\s*")
_ORG = re.compile(r"(?:政府|委员会|管委会|办公厅|办公室|局|厅|委|部|院|署|中心|办)$")


def _meta(html: str, *names: str) -> str:
    from crawlers.parsing.text import join_cjk

    pattern = re.compile(_META.pattern.format(names="|".join(names)), re.I)
    m = pattern.search(html)
    return join_cjk(htmllib.unescape(m.group(2))) if m else ""


def page_names(html: str) -> tuple[str, str]:
    """(the column's name, the publishing organisation) as the page states them: the
    ColumnName/SiteName meta tags, else the parts of its <title>; empty when unknown."""
    column = _meta(html, "ColumnName")
    issuer = _meta(html, "SiteName")
    title = first_content(html, "title")
    parts = [p for p in _TITLE_SPLIT.split(htmllib.unescape(" ".join(title.split()))) if p] if title else []
    if not issuer:
        issuer = next((p for p in reversed(parts) if _ORG.search(p)), "")
    if not column:
        column = next((p for p in parts if p != issuer and not _ORG.search(p)), "")
    return column, issuer


def jurisdiction(issuer: str) -> tuple[str | None, str | None]:
    """(division code, level) of an organisation by its name, through the gazetteer."""
    if not issuer:
        return None, None
    from classifiers.issuer import resolve_issuer

    info = resolve_issuer(issuer)
    if info.source != "issuer" or not info.division_code:
        return None, None
    return info.division_code, info.level


_GENERIC_LABELS = {"www", "gov", "com", "net", "org", "edu", "cn", "ac"}


def suggest_key(url: str, taken: set[str] = frozenset()) -> str:
    """An ASCII snake_case key from the column's host and path (``sthjt_jiangxi_col42150``),
    numbered when taken."""
    parts = urlsplit(url)
    host = [p for p in (parts.hostname or "site").lower().split(".") if p not in _GENERIC_LABELS]
    segments = [s for s in parts.path.split("/") if s and not re.match(r"^(?:index|list|default)\b", s)]
    tail = re.sub(r"\.[a-z]+$", "", segments[-1]) if segments else ""
    words = [re.sub(r"[^a-z0-9]+", "_", w.lower()).strip("_") for w in host[:2] + [tail]]
    key = "_".join(w for w in words if w) or "site"
    if not key[0].isalpha():
        key = "w_" + key
    candidate, n = key, 2
    while candidate in taken:
        candidate, n = f"{key}_{n}", n + 1
    return candidate


def site_domains(url: str, entries: list[ListEntry]) -> tuple[str, ...]:
    """The column's host and the hosts of its entries that share its registrable domain."""
    host = (urlsplit(url).hostname or "").lower()
    base = registrable(host)
    hosts = {host}
    for entry in entries:
        other = (urlsplit(entry.url).hostname or "").lower()
        if other and (other == base or other.endswith("." + base)):
            hosts.add(other)
    return tuple(sorted(hosts, key=lambda h: (h != host, h)))


def registrable(host: str) -> str:
    """The domain a portal's hosts share: ``jiangxi.gov.cn`` for www/sthjt.jiangxi.gov.cn."""
    labels = host.split(".")
    if len(labels) >= 3 and labels[-2] in {"gov", "com", "net", "org", "edu", "ac"} and labels[-1] == "cn":
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def provisional_site(url: str, family: str, *, params: dict[str, Any] | None = None,
                     needs_browser: bool = False, key: str = "detect", name: str = "待定",
                     division_code: str = PLACEHOLDER_DIVISION, level: str = "province",
                     column: str = "待定", domains: tuple[str, ...] | None = None,
                     delay: float = 2.0) -> Site:
    """A Site for reading the column with ``family`` (placeholders where nothing is known)."""
    host = (urlsplit(url).hostname or "").lower()
    return Site(key=key, name=name, division_code=division_code, level=level, family=family,
                domains=domains or (registrable(host),),
                columns=(Column(name=column, url=url, params=dict(params or {})),),
                politeness=Politeness(delay=delay), needs_browser=needs_browser)


# --- the whole detection: fetch, recognise, read, propose -------------------------------------
OK, BROKEN, BLOCKED = "ok", "broken", "blocked"


@dataclass
class Fetch:
    """A page as detect saw it (fetched, read from a file, or rendered by the browser)."""

    url: str
    status: int
    headers: dict[str, str]
    body: bytes
    source: str = "fetched"  # fetched / file / browser


@dataclass
class Detection:
    """Everything ``policywatch detect`` found about a column."""

    url: str
    verdict: str = OK
    recognition: Recognition | None = None
    list_page: Fetch | None = None
    listing: ListPage | None = None
    detail_page: Fetch | None = None
    item: PolicyItem | None = None
    notes: list[tuple[str, str]] = field(default_factory=list)  # (severity, message)
    site: Site | None = None  # the proposed spec
    column_name: str = ""
    issuer: str = ""
    division_known: bool = False
    fetched: list[str] = field(default_factory=list)

    def note(self, severity: str, message: str) -> None:
        self.notes.append((severity, message))
        if severity == BLOCKED:
            self.verdict = BLOCKED
        elif severity == BROKEN and self.verdict == OK:
            self.verdict = BROKEN

    @property
    def family(self) -> str | None:
        return self.recognition.family if self.recognition else None

    def missing(self) -> list[str]:
        if self.item is None:
            return []
        return [n for n in (*REQUIRED_FIELDS, *USUAL_FIELDS) if getattr(self.item, n) in (None, "")]

    @property
    def exit_code(self) -> int:
        return {OK: 0, BROKEN: 1, BLOCKED: 2}[self.verdict]


def _blocked(detection: Detection, page: Fetch, what: str) -> bool:
    from crawlers.parsing.blocks import detect_block

    verdict = detect_block(page.status, page.headers, page.body)
    if verdict is not None:
        detection.note(BLOCKED if verdict.is_block else BROKEN,
                       f"the {what} {page.url} is a {verdict.kind} page ({verdict.evidence})")
        return True
    if page.status >= 400:
        detection.note(BROKEN, f"the {what} {page.url} answered HTTP {page.status}")
        return True
    return False


class _Fetcher:
    """The polite fetcher of ``policywatch probe`` (robots.txt, User-Agent, delay), recording
    refusals on the detection."""

    def __init__(self, detection: Detection, fetcher):
        self.detection = detection
        self.fetcher = fetcher

    def get(self, request: PageRequest, what: str) -> Fetch | None:
        from crawlers.tools.probe import ProbeError

        if self.fetcher is None:
            return None
        if not self.fetcher.allowed(request.url):
            self.detection.note(BLOCKED, f"the portal's robots.txt forbids the {what} {request.url}")
            return None
        try:
            got = self.fetcher.fetch(request)
        except ProbeError as exc:
            self.detection.note(BROKEN, str(exc))
            return None
        self.detection.fetched.append(request.url)
        return Fetch(got.url, got.status, got.headers, got.body)


def detect_column(url: str, fetcher=None, *, body: bytes | None = None,
                  headers: Mapping[str, str] | None = None, detail: Fetch | None = None,
                  browser: bool | None = None, renderer=None, family: str | None = None) -> Detection:
    """Recognise the column at ``url``, read its first list page and one document, and propose
    a spec. ``fetcher`` is a ``probe.PoliteFetcher`` (None: offline, ``body`` is the saved
    column page and ``detail`` an optional saved document). ``browser``: render a list that
    only script fills (None: when ``renderer`` is given). ``family`` forces the family."""
    detection = Detection(url=url)
    net = _Fetcher(detection, fetcher)
    if body is not None:
        column_page = Fetch(url, 200, dict(headers or {}), body, source="file")
    else:
        column_page = net.get(PageRequest(url=url), "column page")
        if column_page is None:
            if fetcher is None:
                detection.note(BROKEN, "nothing to read: no page given and no fetcher")
            return detection
    detection.list_page = column_page
    gkmlpt_url = bool(_GKMLPT.search(urlsplit(url).path))
    if _blocked(detection, column_page, "column page") and not gkmlpt_url:
        return detection
    recognition = recognise(url, column_page.body, column_page.headers)
    if family:
        if family not in FAMILIES:
            raise ValueError(f"unknown family {family!r}; known: {', '.join(FAMILIES)}")
        recognition.clues.append(Clue(family, 100, "chosen by the user (--family)"))
        recognition.family = family
    detection.recognition = recognition
    if detection.verdict != OK and not (gkmlpt_url and recognition.family == "gkmlpt"):
        return detection
    if detection.verdict != OK:
        # The catalogue page itself may be unreachable; its API is what gets crawled.
        detection.notes.clear()
        detection.verdict = OK

    listing = _read_list(detection, net, column_page, browser, renderer)
    if listing is None:
        return detection
    entries = listing.entries
    if not entries:
        detection.note(BROKEN, f"0 entries on the first list page (the {recognition.family} adapter "
                               "finds no dated links there)")
    else:
        detection.note(OK, f"{len(entries)} entries on the first list page")
        _read_document(detection, net, entries[0], detail)
    _propose(detection)
    return detection


def _read_list(detection: Detection, net: _Fetcher, column_page: Fetch, browser, renderer) -> ListPage | None:
    recognition = detection.recognition
    site = provisional_site(detection.url, recognition.family, params=recognition.params,
                            needs_browser=recognition.needs_browser)
    adapter = get_family(site.family)
    try:
        first = adapter.first_page(site, site.columns[0])
    except ValueError as exc:
        detection.note(BROKEN, str(exc))
        return None
    page = column_page
    if first.url != detection.url or first.method != "GET":
        page = net.get(first, "list page")
        if page is None:
            if net.fetcher is None:
                detection.note(BROKEN, f"offline: the first list page is {first.url}, not the saved page")
            return None
        if _blocked(detection, page, "list page"):
            return None
        detection.list_page = page
    listing = _parse_list(detection, site, first, page)
    if listing is None:
        return None
    if not listing.entries and recognition.family != "generic":
        generic = provisional_site(detection.url, "generic", needs_browser=recognition.needs_browser)
        fallback = _parse_list(detection, generic, PageRequest(url=page.url), page, quiet=True)
        if fallback is not None and fallback.entries:
            recognition.clues.append(Clue("generic", 0, f"the {recognition.family} adapter found no entries; "
                                                        f"the generic adapter found {len(fallback.entries)}"))
            recognition.family, recognition.params = "generic", {}
            listing = fallback
    use_browser = browser if browser is not None else renderer is not None
    if not listing.entries and recognition.needs_browser:
        if use_browser and renderer is not None:
            rendered = _render(detection, net, renderer)
            if rendered is not None:
                generic = provisional_site(detection.url, "generic", needs_browser=True)
                listing = _parse_list(detection, generic, PageRequest(url=detection.url, browser=True),
                                      rendered) or listing
                recognition.family, recognition.params = "generic", {}
                if listing.entries:
                    recognition.clues.append(Clue("generic", 0, f"rendered in Chromium, the page lists "
                                                                f"{len(listing.entries)} entries"))
        else:
            detection.note("missing", "the list is filled by script: run detect with --browser to "
                                      "render it (the proposed spec crawls it with the browser)")
    detection.listing = listing
    return listing


def _parse_list(detection: Detection, site: Site, request: PageRequest, page: Fetch,
                quiet: bool = False) -> ListPage | None:
    try:
        return get_family(site.family).parse_list(site, site.columns[0], request, page.body, page.headers)
    except (ParseError, ValueError) as exc:
        if not quiet:
            detection.note(BROKEN, f"the list page does not parse as {site.family}: "
                                   f"{getattr(exc, 'message', exc)}")
        return None


def _render(detection: Detection, net: _Fetcher, renderer) -> Fetch | None:
    if net.fetcher is not None and not net.fetcher.allowed(detection.url):
        detection.note(BLOCKED, f"the portal's robots.txt forbids the column page {detection.url}")
        return None
    try:
        html = renderer(detection.url)
    except RenderError as exc:
        detection.note(BROKEN, f"the browser could not render {detection.url}: {exc}")
        return None
    detection.fetched.append(f"{detection.url} (browser)")
    page = Fetch(detection.url, 200, {"Content-Type": "text/html; charset=utf-8"},
                 html.encode("utf-8"), source="browser")
    detection.list_page = page
    return page


def _read_document(detection: Detection, net: _Fetcher, entry: ListEntry, detail: Fetch | None) -> None:
    if detail is not None and detail.source == "file":
        # A saved document stands for the list's first entry (its links resolve against it).
        detail = Fetch(entry.url, detail.status, detail.headers, detail.body, source="file")
    page = detail if detail is not None else net.get(PageRequest(url=entry.url), "document")
    if page is None:
        if net.fetcher is None:
            detection.note("missing", "offline: no document page given (--detail-file)")
        return
    detection.detail_page = page
    if _blocked(detection, page, "document"):
        return
    recognition = detection.recognition
    forced = any(c.weight >= 100 for c in recognition.clues)
    if not forced and recognition.family not in ("scripted", "gkmlpt", "govcn") \
            and not recognition.needs_browser and page.source != "browser":
        # The document's own markup may settle a close call (TRS_Editor, ucapcontent...).
        before = recognition.family
        again = recognise(detection.url, detection.list_page.body, detection.list_page.headers,
                          detail=(page.url, page.body, page.headers))
        if again.family != before and again.family not in ("scripted",):
            site = provisional_site(detection.url, again.family, params=again.params)
            request = PageRequest(url=detection.list_page.url)
            relisted = _parse_list(detection, site, request, detection.list_page, quiet=True)
            if relisted is not None and len(relisted.entries) >= len(detection.listing.entries):
                detection.recognition, detection.listing = again, relisted
        else:
            detection.recognition.clues = again.clues
    site = provisional_site(detection.url, detection.recognition.family)
    try:
        detection.item = get_family(site.family).parse_detail(site, page.url, page.body, page.headers)
    except ParseError as exc:
        severity = BLOCKED if exc.reason == "blocked" else BROKEN
        detection.note(severity, f"the document {page.url} does not parse ({exc.reason}): {exc.message}")
        return
    missing = detection.missing()
    for name in REQUIRED_FIELDS:
        if name in missing:
            detection.note(BROKEN, f"the document has no {name}")
    usual = [n for n in USUAL_FIELDS if n in missing]
    if usual:
        detection.note("missing", "not found on the document: " + ", ".join(usual))


def _propose(detection: Detection) -> None:
    """The proposed spec: names from the page, the jurisdiction from the issuer's name, a key
    from the URL; placeholders (待定, division 100000) and a note where nothing is known."""
    recognition = detection.recognition
    page = detection.list_page
    html = decode(page.body, page.headers) if page is not None and _json_of(page.body) is None else ""
    column, issuer = page_names(html)
    data = _json_of(page.body) if page is not None and not html else None
    if not column and isinstance(data, dict) and isinstance(data.get("classify"), dict):
        column = str(data["classify"].get("name") or "").strip()  # the gkmlpt catalogue node
    if not issuer and detection.item is not None and detection.item.issuer:
        issuer = detection.item.issuer
    detection.column_name, detection.issuer = column, issuer
    division, level = jurisdiction(issuer)
    detection.division_known = bool(division)
    unknown = [what for what, value in (("the column's name (--name)", column),
                                        ("the issuer (--issuer)", issuer),
                                        ("the division code and level (--division, --level)", division))
               if not value]
    if unknown:
        detection.note("missing", "watch add needs " + ", ".join(unknown) + ": the pages do not say")
    from crawlers.tools.watch import known_sites

    entries = detection.listing.entries if detection.listing else []
    try:
        detection.site = provisional_site(
            detection.url, recognition.family, params=recognition.params,
            needs_browser=recognition.needs_browser, name=issuer or "待定", column=column or "待定",
            key=suggest_key(detection.url, {s.key for s in known_sites(replay=True)}),
            division_code=division or PLACEHOLDER_DIVISION, level=level or "province",
            domains=site_domains(detection.url, entries))
    except ValueError as exc:  # SiteSpecError: an URL no spec can hold
        detection.note(BROKEN, f"no spec can be proposed: {exc}")


def pagination(detection: Detection) -> str:
    """The pagination found on the first list page, in words."""
    listing = detection.listing
    if listing is None:
        return "unknown"
    total = listing.total_pages
    if listing.next_pages:
        nxt = listing.next_pages[0]
        how = f"{nxt.method} " if nxt.method != "GET" else ""
        return (f"page 2 at {how}{nxt.url}" + (f"; {total} pages in all" if total else ""))
    if total and total > 1:
        return f"{total} pages announced, but no URL for page 2"
    if detection.list_page is not None and detection.recognition and detection.recognition.family in (
            "generic", "trs", "ucap"):
        try:
            count = page_count(load_page(detection.list_page.url, detection.list_page.body,
                                         detection.list_page.headers))
        except ParseError:
            count = None
        if count and count > 1:
            return f"{count} pages announced (共{count}页), but no link to page 2"
    return "none: the column is one page"


# --- the browser ------------------------------------------------------------------------------
class RenderError(RuntimeError):
    """The browser could not load the page."""


def chromium_renderer(replay_url: str | None = None, user_agent: str | None = None):
    """A function rendering a URL in the system Chromium (Playwright) and returning its DOM;
    with ``replay_url``, every host resolves to the local replay portal (as crawls do)."""
    from crawlers.engine.settings import PLAYWRIGHT_LAUNCH_OPTIONS

    def render(url: str) -> str:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright

        options = dict(PLAYWRIGHT_LAUNCH_OPTIONS)
        args = list(options.pop("args", []))
        if replay_url:
            port = urlsplit(replay_url).port
            args.append(f"--host-resolver-rules=MAP * 127.0.0.1:{port}, EXCLUDE 127.0.0.1")
        try:
            with sync_playwright() as pw:
                chromium = pw.chromium.launch(args=args, **options)
                try:
                    page = chromium.new_page(user_agent=user_agent) if user_agent else chromium.new_page()
                    page.goto(url, wait_until="networkidle", timeout=30_000)
                    return page.content()
                finally:
                    chromium.close()
        except PlaywrightError as exc:
            raise RenderError(str(exc).splitlines()[0]) from exc

    return render


# --- output -----------------------------------------------------------------------------------
FIELD_LABELS = (
    ("title", "标题"), ("doc_number", "文号"), ("issuer", "发文机关"), ("index_no", "索引号"),
    ("topic", "主题分类"), ("written_date", "成文日期"), ("published_date", "发布日期"),
)


def _value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def to_json(detection: Detection) -> dict[str, Any]:
    """The detection as JSON for tools (``policywatch detect --json``)."""
    recognition = detection.recognition
    out: dict[str, Any] = {
        "url": detection.url,
        "verdict": detection.verdict,
        "family": detection.family,
        "why": recognition.reasons() if recognition else [],
        "scores": recognition.scores if recognition else {},
        "needs_browser": recognition.needs_browser if recognition else False,
        "notes": [{"severity": s, "message": m} for s, m in detection.notes]
                 + [{"severity": "info", "message": n} for n in (recognition.notes if recognition else [])],
        "fetched": detection.fetched,
        "list": None,
        "document": None,
        "missing": detection.missing(),
        "proposed": None,
    }
    if detection.listing is not None:
        out["list"] = {
            "url": detection.list_page.url if detection.list_page else detection.url,
            "entries": [{"url": e.url, "title": e.title, "published_date": _value(e.published_date)}
                        for e in detection.listing.entries],
            "next_pages": [{"url": r.url, "method": r.method, "page": r.page} for r in detection.listing.next_pages],
            "total_pages": detection.listing.total_pages,
            "pagination": pagination(detection),
        }
    if detection.item is not None:
        data = detection.item.to_json()
        data["body_text"] = data["body_text"][:500]
        out["document"] = data
    if detection.site is not None:
        out["proposed"] = proposed_table(detection, unknown=None)
    return out


def proposed_table(detection: Detection, unknown: Any = "?") -> dict[str, Any]:
    """The proposed ``[[watch]]`` table, with ``unknown`` where the pages did not say (the
    column's name, the issuer, the jurisdiction): ``watch add`` needs them as options."""
    from crawlers.tools.watch import spec_table

    table = spec_table(detection.site, detection)
    if not detection.column_name:
        table["name"] = unknown
    if not detection.issuer:
        table["issuer"] = unknown
    if not detection.division_known:
        table["division_code"] = table["level"] = unknown
    return table


def render(detection: Detection) -> str:
    """The detection as a researcher reads it in a terminal."""
    from crawlers.parsing.display import pad
    from crawlers.tools.watch import table_toml

    recognition = detection.recognition
    lines = [f"detect {detection.url}"]
    if recognition is not None:
        reasons = recognition.reasons()
        known = recognition.family != "generic" or any(c.family == "generic" for c in recognition.clues)
        head = (f"family: {recognition.family}" if recognition.family != "generic" or not known
                else "family: generic")
        if recognition.family == "generic" and not reasons:
            head += " (no known CMS family recognised: the generic adapter reads it)"
        lines.append(head + (", with the browser" if recognition.needs_browser else ""))
        for reason in reasons:
            lines.append(f"  because: {reason}")
        others = {f: s for f, s in recognition.scores.items() if f != recognition.family and s > 0}
        for family_name, score in sorted(others.items(), key=lambda x: -x[1]):
            lines.append(f"  also seen ({family_name}, {score}): " + "; ".join(recognition.reasons(family_name)))
        for note in recognition.notes:
            lines.append(f"  note: {note}")
    if detection.list_page is not None:
        page = detection.list_page
        lines.append(f"list page  {page.url}  ({page.source}, HTTP {page.status}, {len(page.body)} bytes)")
    if detection.listing is not None:
        entries = detection.listing.entries
        lines.append(f"  {len(entries)} entries on the first page")
        for entry in entries[:8]:
            day = entry.published_date.isoformat() if entry.published_date else "no date   "
            lines.append(f"    {day}  {entry.title}")
        if len(entries) > 8:
            lines.append(f"    … {len(entries) - 8} more")
        lines.append(f"  pagination: {pagination(detection)}")
    if detection.detail_page is not None:
        page = detection.detail_page
        lines.append(f"document   {page.url}  ({page.source}, HTTP {page.status}, {len(page.body)} bytes)")
    if detection.item is not None:
        item = detection.item
        for name, label in FIELD_LABELS:
            shown = _value(getattr(item, name))
            lines.append(f"    {pad(label, 10)}{shown if shown else '— missing'}")
        text = " ".join((item.body_text or "").split())
        lines.append(f"    {pad('正文', 10)}{len(item.body_text or '')} characters: "
                     f"{text[:60]}{'…' if len(text) > 60 else ''}")
        if item.attachments:
            lines.append(f"    {pad('附件', 10)}{len(item.attachments)}: "
                         + ", ".join(a.name for a in item.attachments[:3]))
    for severity, message in detection.notes:
        lines.append(f"[{severity}] {message}")
    if detection.site is not None and detection.verdict == OK:
        lines.append("proposed site (policywatch watch add writes it into the config):")
        lines += ["  " + line for line in table_toml(proposed_table(detection)).splitlines()]
    lines.append(f"verdict: {detection.verdict.upper()}")
    return "\n".join(lines)


__all__ = ["BLOCKED", "BROKEN", "OK", "Clue", "Detection", "Recognition", "RenderError", "choose",
           "chromium_renderer", "detect_column", "page_clues", "page_names", "recognise", "render",
           "suggest_key", "to_json"]
