"""Attachment links (PDF, DOC/DOCX, WPS, OFD, XLS/XLSX, ET, ZIP/RAR, TXT) of a detail page.

Only links inside the document body and the page's attachment blocks (附件：…) count; the
same file types linked from navigation or the footer (a site's user guide, say) do not.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, unquote, urlencode, urljoin, urlsplit, urlunsplit

from crawlers.items import Attachment
from crawlers.parsing.text import squash

EXTENSIONS = ("pdf", "doc", "docx", "wps", "ofd", "xls", "xlsx", "et", "zip", "rar", "7z", "txt",
              "ppt", "pptx", "csv")
# File types whose text can stand for the document's body (see detail.py's text_source).
DOCUMENT_EXTENSIONS = ("pdf", "doc", "docx", "wps", "ofd", "txt")
_EXT_RE = re.compile(r"\.(" + "|".join(EXTENSIONS) + r")$", re.I)
# class/id of the blocks portals put attachments in.
ATTACHMENT_BLOCK_HINT = re.compile(r"fj|fujian|attach|appendix|xgfj|download|enclosure|file", re.I)
_BLOCK_TEXT = re.compile(r"^[\s\u3000]*(相关)?附\s*件[\s\d一二三四五六七八九十]*[:：]?")
_LEADING_LABEL = re.compile(r"^[\s\u3000]*附\s*件\s*[\d一二三四五六七八九十]*\s*[:：.、]?\s*")


def file_extension(url: str, text: str = "") -> str | None:
    """The attachment type of a link: from the URL path, a ``filename=`` style query
    parameter (``downfile.jsp?filename=….xlsx``), or the link text; None for other links."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https", ""):
        return None
    m = _EXT_RE.search(unquote(parts.path))
    if m:
        return m.group(1).lower()
    for _, value in parse_qsl(parts.query):
        m = _EXT_RE.search(value.strip())
        if m:
            return m.group(1).lower()
    m = _EXT_RE.search(squash(text))
    if m and (not parts.path or "download" in parts.path.lower() or "down" in parts.query.lower()
              or parts.path.endswith((".jsp", ".do", ".aspx", ".php", "/"))):
        return m.group(1).lower()
    return None


def attachment_blocks(root) -> list:
    """Elements that hold a page's attachments: ``class="fj…"``/``id="attach…"`` blocks and
    blocks whose text starts with 附件："""
    blocks = []
    for el in root.iter():
        if not isinstance(el.tag, str) or el.tag in ("a", "script", "style", "html", "body"):
            continue
        hint = f"{el.get('class', '')} {el.get('id', '')}"
        if hint.strip() and ATTACHMENT_BLOCK_HINT.search(hint):
            blocks.append(el)
        elif el.text and _BLOCK_TEXT.match(el.text) and el.tag in ("p", "div", "td", "li", "span", "dt", "strong", "b"):
            blocks.append(el.getparent() if el.tag in ("span", "strong", "b") and el.getparent() is not None else el)
    return blocks


def find_attachments(scopes, base_url: str, skip=None) -> list[Attachment]:
    """Attachments linked inside ``scopes`` (elements), in document order, without duplicates;
    URLs are absolute, names come from the link text (else its title, else the file name).
    ``skip(a)`` may reject links (those in navigation, say)."""
    seen: set[str] = set()
    found: list[Attachment] = []
    for scope in scopes:
        if scope is None:
            continue
        for a in scope.iter("a"):
            href = (a.get("href") or "").strip()
            if not href or href.startswith(("#", "javascript:", "mailto:")):
                continue
            text = squash("".join(a.itertext()))
            url = urljoin(base_url, href)
            ext = file_extension(url, text)
            if not ext:
                continue
            key = url.split("#", 1)[0]
            if key in seen or (skip is not None and skip(a)):
                continue
            seen.add(key)
            found.append(Attachment(url=key, name=_name(text, a.get("title"), url)))
    return found


def _name(text: str, title: str | None, url: str) -> str:
    name = _LEADING_LABEL.sub("", text).strip()
    if not name or name in ("下载", "点击下载", "附件下载", "查看", "点击查看"):
        name = squash(title) or unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    return name


# --- an attachment's identity: its link without what changes on every download ---------------

# Query parameters that never name a file, only a moment or a session: timestamps, cache
# busters, random numbers, tokens and signatures.
VOLATILE_PARAMS = frozenset({
    "t", "_", "_t", "ts", "time", "timestamp", "stamp", "tm", "rand", "random", "rnd", "r",
    "nocache", "cb", "cachebuster", "token", "_token", "nonce", "v", "sign", "signature",
    "expires", "x-amz-date", "x-amz-signature", "x-amz-expires",
})
# Values that look like a moment (epoch seconds or milliseconds, 2001–2286) or like random hex
# (16+ hex digits with digits and letters, UUIDs) whatever the parameter is called.
_EPOCH = re.compile(r"^1\d{9}(?:\d{3})?$")
_RANDOM_HEX = re.compile(r"^(?=[0-9a-f-]*\d)(?=[0-9a-f-]*[a-f])[0-9a-f]{8}-?(?:[0-9a-f]{4}-?){3}[0-9a-f]{12}$"
                         r"|^(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{16,}$", re.I)


def is_volatile_param(name: str, value: str, learned: frozenset[str] | set[str] = frozenset()) -> bool:
    """Does this query parameter change from one download of the same file to the next?"""
    key = name.strip().lower()
    return key in VOLATILE_PARAMS or key in learned or bool(
        _EPOCH.match(value.strip()) or _RANDOM_HEX.match(value.strip()))


def stable_link(url: str, learned: frozenset[str] | set[str] = frozenset()) -> str:
    """The link without its volatile query parameters (``is_volatile_param``; ``learned``: the
    names a site was seen to change on every sighting) and without its fragment: what stays the
    same from one download of the same file to the next."""
    parts = urlsplit(url)
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if not is_volatile_param(k, v, learned)]
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path, urlencode(kept), ""))


def changed_params(old: str, new: str) -> tuple[set[str], set[str]] | None:
    """Two links that differ at most in the values of their query parameters: the names whose
    value changed and those whose value stayed; None when they differ in anything else."""
    a, b = urlsplit(old), urlsplit(new)
    if (a.scheme.lower(), a.netloc.lower(), a.path) != (b.scheme.lower(), b.netloc.lower(), b.path):
        return None
    qa, qb = dict(parse_qsl(a.query, keep_blank_values=True)), dict(parse_qsl(b.query, keep_blank_values=True))
    if set(qa) != set(qb):
        return None
    changed = {k.lower() for k in qa if qa[k] != qb[k]}
    return changed, {k.lower() for k in qa} - changed
