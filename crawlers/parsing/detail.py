"""Detail pages → PolicyItem: the metadata table, the <meta> tags, then the body.

Trust order, field by field (``PolicyItem.provenance`` records which one gave each value):

- title: metadata table 标题/名称 (``table``) > ``rules.title`` selectors (``selector``) >
  <meta name="ArticleTitle"> (``meta``) > og:title/<title> without the site name
  (``title_tag``) > the first page heading (``heading``).
- published_date: table 发布日期/公开日期/发布时间 (``table``) > <meta PubDate> or
  firstpublishedtime (``meta``; skipped in favour of the page's own date line when it is
  merely the page-generation time) > a 日期：/时间： line near the title (``date_line``) >
  the date in the URL (``url``).
- written_date: table 成文日期/制发日期/发文日期/生成日期 (``table``) > the date line that
  closes the body, under the issuers' names (``body``).
- doc_number: table 文号/发文字号 (``table``) > a line of the body's first lines that is only
  a number like 国办发〔2022〕16号 (``body``); brackets are normalised to 〔〕.
- issuer: table 发文机关/发布机构/主办单位/责任部门 (``table``) > <meta ContentSource>
  (``meta``) > table 来源/信息来源 (``table``). Signatures at the end of the body are NOT read:
  joint documents list several issuers and the choice would be a guess.
- index_no, topic: the table only.

``item.text_source`` is ``"page"`` normally, and ``"attachment_pending"`` when the page's body
is only a cover note (shorter than ``COVER_NOTE_MAX`` characters) and a document attachment
(PDF/DOC/DOCX/WPS/OFD/TXT) is listed: the attachments pipeline then fills ``body_text`` from
the file and sets ``text_source = "attachment"``.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Mapping
from urllib.parse import urljoin

import lxml.html
from lxml import etree

from crawlers.items import Attachment, PolicyItem
from crawlers.parsing.attachments import DOCUMENT_EXTENSIONS, attachment_blocks, file_extension, find_attachments
from crawlers.parsing.blocks import detect_block
from crawlers.parsing.body import extract_body, find_content, select_first
from crawlers.parsing.dates import date_from_url, parse_date
from crawlers.parsing.encoding import decode_html
from crawlers.parsing.errors import ParseError
from crawlers.parsing.metadata import (
    find_doc_number,
    find_metadata,
    is_empty_value,
    is_furniture,
    normalize_doc_number,
    read_meta_tags,
)
from crawlers.parsing.text import join_cjk, squash

log = logging.getLogger(__name__)

__all__ = ["COVER_NOTE_MAX", "DetailRules", "NO_BODY_MIN", "ParseError", "parse_detail_page"]

# A body shorter than this, with a document attachment, is only a cover note.
COVER_NOTE_MAX = 300
# A body shorter than this, without attachments, is no document at all.
NO_BODY_MIN = 20


@dataclass(frozen=True)
class DetailRules:
    """Where a CMS family keeps things on its detail pages, as CSS selectors tried in order.

    Site overrides (``Site.selectors``) are put in front of the family's defaults.
    """

    title: tuple[str, ...] = ()
    content: tuple[str, ...] = ()
    metadata: tuple[str, ...] = ()
    # Elements that are page furniture inside or around the content (share bars, QR codes,
    # related links, print/close buttons); removed before the body text is taken.
    furniture: tuple[str, ...] = ()

    def with_overrides(self, selectors) -> "DetailRules":
        """These rules with a site's ``Selectors`` overrides tried first."""
        def front(value: str, defaults: tuple[str, ...]) -> tuple[str, ...]:
            return ((value,) + defaults) if value else defaults

        return replace(
            self,
            title=front(selectors.title, self.title),
            content=front(selectors.content, self.content),
            metadata=front(selectors.metadata, self.metadata),
        )


def parse_detail_page(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    site: str,
    rules: DetailRules = DetailRules(),
    fetched_at: datetime | None = None,
    status: int | None = None,
) -> PolicyItem:
    """Parse a detail page; raise ``ParseError`` for anything that is not a policy document.

    Reasons: ``empty`` (no bytes), ``binary`` (a file served as a page), ``blocked`` (WAF,
    JavaScript challenge, login wall), ``error_page`` (404/5xx, or an error page served with
    200), ``truncated`` (the HTML stops before its end), ``no_title``, ``no_body``.
    ``status`` is the HTTP status when the caller knows it.
    """
    header_map = _plain_headers(headers)
    text, encoding = decode_html(body, header_map)
    verdict = detect_block(status, header_map, text)
    if verdict is not None:
        reason = "blocked" if verdict.is_block else "error_page"
        raise ParseError(reason, f"{verdict.kind} page at {url}: {verdict.evidence}")
    cut = truncation(text)
    if cut:
        raise ParseError("truncated", f"{url}: {cut}")
    root = _parse_tree(text, url)

    meta_tags = read_meta_tags(root)
    content, how = find_content(root, rules.content)
    scope = select_first(root, rules.metadata) if rules.metadata else None
    table = find_metadata(root, content)
    if scope is not None:
        # The family knows where its table is: read it first, the page scan fills the gaps.
        scoped = find_metadata(scope)
        for name, value in scoped.fields.items():
            table.fields[name] = value
            table.labels[name] = scoped.labels[name]
    fields = table.fields
    prov: dict[str, str] = {}

    title = _title(root, rules, fields, meta_tags, prov)
    if not title:
        raise ParseError("no_title", f"{url}: no title in the metadata table, <meta>, <title> or headings")

    base = _base_url(root, url)
    attachments = _attachments(root, content, base)
    extracted = extract_body(
        root, furniture_selectors=rules.furniture, content=content, how=how,
        drop_elements=[c for c in table.containers if len(squash("".join(c.itertext()))) < 600],
    )
    body_text = extracted.text
    # file_extension, not Attachment.extension: Hanweb serves downfile.jsp?filename=….pdf.
    has_document_file = any(file_extension(a.url, a.name) in DOCUMENT_EXTENSIONS for a in attachments)
    if len(body_text) < NO_BODY_MIN and not attachments:
        raise ParseError("no_body", f"{url}: the page has no document text ({len(body_text)} characters)")
    text_source = "attachment_pending" if has_document_file and len(body_text) < COVER_NOTE_MAX else "page"

    item = PolicyItem(
        url=url,
        site=site,
        title=title,
        body_text=body_text,
        attachments=attachments,
        fetched_at=fetched_at,
        raw_body=body,
        raw_encoding=encoding,
        http_status=status,
        http_headers=header_map,
        provenance=prov,
        text_source=text_source,
    )
    item.doc_number = _doc_number(fields, body_text, prov)
    item.issuer = _issuer(fields, meta_tags, prov)
    item.index_no = _plain(fields, "index_no", prov)
    item.topic = _plain(fields, "topic", prov)
    item.validity = _plain(fields, "validity", prov)
    item.written_date = _written_date(fields, body_text, prov)
    item.published_date = _published_date(fields, meta_tags, url, prov)
    prov["body_text"] = extracted.method
    return item


# --- checks ------------------------------------------------------------------------------

_CLOSE_HTML = re.compile(r"</html\s*>|</body\s*>", re.I)
_OPEN_DOC = re.compile(r"<html\b|<body\b", re.I)
_DIV_OPEN = re.compile(r"<div\b", re.I)
_DIV_CLOSE = re.compile(r"</div\s*>", re.I)


def truncation(html: str) -> str | None:
    """Why the page looks cut off, or None. A page is truncated when it opened a document
    (<html>/<body>) but has neither </body> nor </html>, AND its markup is unfinished: it ends
    inside text or a tag, or leaves <div> elements open. Fragments (no <html>/<body>) and
    sloppy templates that omit only the closing tags are not truncated."""
    if _CLOSE_HTML.search(html) or not _OPEN_DOC.search(html):
        return None
    tail = html.rstrip()
    if not tail.endswith(">"):
        return "the HTML ends in the middle of text or a tag, with no </body> or </html>"
    unclosed = len(_DIV_OPEN.findall(html)) - len(_DIV_CLOSE.findall(html))
    if unclosed > 0:
        return f"the HTML ends with {unclosed} <div> elements still open and no </body> or </html>"
    return None


_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


_CLOSE_DOC = re.compile(r"</(?:html|body)\s*>", re.I)


def _parse_tree(text: str, url: str):
    # lxml refuses str input carrying an encoding declaration, and NUL/control characters.
    text = _CONTROL.sub("", _XML_DECL.sub("", text, count=1))
    # A stray </html> mid-page (www.gov.cn has one after its header scripts) makes libxml2
    # start a second document element and strand the content outside the tree's root.
    text = _CLOSE_DOC.sub("", text)
    try:
        return lxml.html.document_fromstring(text)
    except (etree.ParserError, ValueError) as exc:
        raise ParseError("empty", f"{url}: no HTML document could be parsed ({exc})") from exc


def _plain_headers(headers) -> dict[str, str]:
    """Headers as a str -> str dict (Scrapy gives bytes keys and lists of bytes values)."""
    out: dict[str, str] = {}
    for key, value in (headers or {}).items():
        if isinstance(value, (list, tuple)):
            value = value[0] if value else ""
        k = key.decode("latin-1") if isinstance(key, bytes) else str(key)
        out[k] = value.decode("latin-1") if isinstance(value, bytes) else str(value)
    return out


def _base_url(root, url: str) -> str:
    base = root.find(".//base")
    href = base.get("href") if base is not None else None
    return urljoin(url, href) if href else url


# --- fields ------------------------------------------------------------------------------

_TITLE_SEPARATORS = re.compile(r"\s*(?:_|\||｜|\s-{1,2}\s|\s—{1,2}\s|\s–\s)\s*")


def clean_title_tag(title: str, site_names=()) -> str:
    """A <title> without the site name: ``…_中国政府网`` / ``… - 江西省人民政府`` suffixes
    and ``江西省人民政府 政策文件 …`` prefixes (SiteName and ColumnName meta values)."""
    title = squash(title)
    parts = [p for p in _TITLE_SEPARATORS.split(title) if p]
    if len(parts) > 1:
        title = max(parts, key=len)
    for name in site_names:
        if name and title.startswith(name + " ") and len(title) > len(name) + 4:
            title = title[len(name) + 1:].lstrip()
    return title


def _title(root, rules, fields, meta_tags, prov) -> str:
    candidates = []
    if fields.get("title"):
        candidates.append((fields["title"], "table"))
    if rules.title:
        el = select_first(root, rules.title)
        if el is not None:
            candidates.append(("".join(el.itertext()), "selector"))
    candidates.append((meta_tags.get("articletitle", ""), "meta"))
    tag = root.find(".//title")
    og = meta_tags.get("og:title", "")
    names = [meta_tags.get("sitename", ""), meta_tags.get("columnname", "")]
    candidates.append((clean_title_tag(og, names) if og else "", "title_tag"))
    if tag is not None and tag.text:
        candidates.append((clean_title_tag("".join(tag.itertext()), names), "title_tag"))
    for heading in root.iter("h1", "h2"):
        if not any(is_furniture(a) for a in heading.iterancestors()):
            candidates.append(("".join(heading.itertext()), "heading"))
            break
    for value, source in candidates:
        value = join_cjk(value)
        if value:
            prov["title"] = source
            return value
    return ""


def _plain(fields, name, prov) -> str | None:
    value = fields.get(name)
    if is_empty_value(value):
        return None
    prov[name] = "table"
    return value


def _doc_number(fields, body_text, prov) -> str | None:
    number = normalize_doc_number(fields.get("doc_number"))
    if number:
        prov["doc_number"] = "table"
        return number
    number = find_doc_number(body_text)
    if number:
        prov["doc_number"] = "body"
    return number


def _issuer(fields, meta_tags, prov) -> str | None:
    for value, source in ((fields.get("issuer"), "table"), (meta_tags.get("contentsource"), "meta"),
                          (fields.get("source"), "table")):
        if not is_empty_value(value):
            prov["issuer"] = source
            return value
    return None


_DATE_LINE = re.compile(
    r"^(?:(?:19|20)\d{2}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日"
    r"|(?:19|20)\d{2}[-/.]\d{1,2}[-/.]\d{1,2}"
    r"|[〇○零Ｏ0O一二三四五六七八九]{4}\s*年\s*[十一二三四五六七八九]{1,3}\s*月\s*[十一二三四五六七八九]{1,3}\s*日)$"
)


def closing_date(body_text: str, last_lines: int = 8) -> date | None:
    """The date a document is signed with: a line that is only a date, among its last lines
    (2020年2月5日, 二〇二二年十月二十六日)."""
    lines = body_text.split("\n")[-last_lines:]
    for line in reversed(lines):
        stripped = re.sub(r"[\s\u3000（）()]", "", line)
        if _DATE_LINE.match(stripped):
            found = parse_date(stripped)
            if found:
                return found
    return None


def _written_date(fields, body_text, prov) -> date | None:
    found = parse_date(fields.get("written_date"))
    if found:
        prov["written_date"] = "table"
        return found
    found = closing_date(body_text)
    if found:
        prov["written_date"] = "body"
    return found


def _published_date(fields, meta_tags, url, prov) -> date | None:
    found = parse_date(fields.get("published_date"))
    if found:
        prov["published_date"] = "table"
        return found
    line_date = parse_date(fields.get("date_line"))
    generated = parse_date(meta_tags.get("others", "")) if "生成" in meta_tags.get("others", "") else None
    for key in ("pubdate", "firstpublishedtime", "publishdate", "article:published_time"):
        found = parse_date(meta_tags.get(key))
        if found:
            if line_date and generated == found and line_date != found:
                break  # PubDate is the page-regeneration time; the page's own date line is better
            prov["published_date"] = "meta"
            return found
    if line_date:
        prov["published_date"] = "date_line"
        return line_date
    found = date_from_url(url)
    if found:
        prov["published_date"] = "url"
    return found


def _attachments(root, content, base: str) -> list[Attachment]:
    blocks = attachment_blocks(root)
    if content is not None:
        scopes = [content] + [b for b in blocks if not _inside(b, content)]
        return find_attachments(scopes, base)
    body = root.find("body")
    # Without a content element, every link of the page is a candidate except those in
    # navigation, header or footer (the site's own files, not the document's).
    return find_attachments([body if body is not None else root], base, skip=_in_furniture)


def _inside(el, ancestor) -> bool:
    return any(a is ancestor for a in el.iterancestors())


def _in_furniture(link) -> bool:
    return any(is_furniture(x) or x.tag in ("header", "footer", "nav") for x in link.iterancestors())
