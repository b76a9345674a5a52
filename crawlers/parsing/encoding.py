"""Bytes → text for portal pages whose charset declarations cannot be trusted.

Chinese portals declare gb2312 and send GBK/GB18030 characters, send GBK under a
``charset=utf-8`` header, or declare nothing. So a declaration is only a hint: UTF-8 is
tried first (valid multi-byte UTF-8 is practically never GBK text by accident), then the
declared charsets (the GB family read as its superset GB18030), then GB18030, then
charset-normalizer's guess.

A page that is UTF-8 but for a few bad bytes (a CMS that cut a character, a pasted fragment)
stays UTF-8 with replacement characters: GB18030 decodes nearly any byte sequence, so trying
it next would turn the whole page into mojibake (鍏充簬…). Only when the bytes are clearly not
UTF-8 (GBK under a UTF-8 header: most multi-byte sequences invalid) do the other charsets run.
"""

from __future__ import annotations

import codecs
import logging
import re
from typing import Mapping

from crawlers.parsing.errors import ParseError

log = logging.getLogger(__name__)

# Signatures of files that are not HTML, whatever the Content-Type says.
_MAGIC = (
    (b"%PDF-", "PDF"),
    (b"PK\x03\x04", "ZIP/OOXML (docx, xlsx, ofd)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "OLE2 (doc, xls, wps)"),
    (b"Rar!\x1a\x07", "RAR"),
    (b"7z\xbc\xaf\x27\x1c", "7z"),
    (b"\x1f\x8b", "gzip"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"BM", None),  # BMP only with a plausible header; checked below
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"RIFF", "RIFF (webp, wav, avi)"),
    (b"\x00\x00\x00", "binary (NUL-led)"),
)
_GB_FAMILY = {"gb2312", "gbk", "gb_2312-80", "gb-2312", "x-gbk", "cp936", "ms936", "euc-cn",
              "gb18030", "csgb2312", "windows-936", "hz-gb-2312"}
# Declarations that say nothing useful about a Chinese page: they decode any bytes at all.
_MEANINGLESS = {"iso-8859-1", "latin-1", "latin1", "us-ascii", "ascii", "windows-1252",
                "cp1252", "iso8859-1", "l1"}
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?\s*([A-Za-z0-9._:-]+)", re.I)
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([A-Za-z0-9._:-]+)", re.I)


def normalize_charset(name: str | None) -> str | None:
    """A Python codec name for a declared charset; the GB family becomes gb18030, unknown or
    meaningless (latin-1, ascii) declarations become None."""
    if not name:
        return None
    name = name.strip().strip("\"'").lower()
    if name in _GB_FAMILY:
        return "gb18030"
    if name in _MEANINGLESS:
        return None
    if name in ("utf8", "utf-8", "unicode-1-1-utf-8"):
        return "utf-8"
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def declared_charsets(body: bytes, headers: Mapping[str, str] | None) -> list[str]:
    """Charsets the response declares: the Content-Type header first, then <meta> tags."""
    found: list[str] = []
    content_type = _header(headers, "content-type")
    m = _HEADER_CHARSET.search(content_type)
    if m:
        found.append(m.group(1))
    for m in _META_CHARSET.finditer(body[:4096]):
        found.append(m.group(1).decode("ascii", "replace"))
    out: list[str] = []
    for name in found:
        codec = normalize_charset(name)
        if codec and codec not in out:
            out.append(codec)
    return out


def binary_kind(body: bytes, headers: Mapping[str, str] | None = None) -> str | None:
    """What kind of non-text file ``body`` is (``"PDF"``, ``"PNG"``...), or None for text."""
    head = body[:16]
    if head.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        return None
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            if magic == b"BM":
                # "BM" can start a text file; a real BMP has its size in bytes 2..5.
                if len(body) > 26 and int.from_bytes(body[2:6], "little") == len(body):
                    return "BMP"
                continue
            return kind
    sample = body[:2048]
    if sample.count(b"\x00") > 8:
        return "binary (NUL bytes)"
    controls = sum(1 for b in sample if b < 9 or 13 < b < 32)
    if sample and controls / len(sample) > 0.10:
        return "binary (control bytes)"
    return None


def decode_html(body: bytes, headers: Mapping[str, str] | None = None) -> tuple[str, str]:
    """``(text, encoding)`` of an HTML response; raises ``ParseError("binary")`` for a file that
    is not text (a PDF, image or archive served as HTML) and ``ParseError("empty")`` for no bytes."""
    if not body or not body.strip():
        raise ParseError("empty", "the response has no content")
    kind = binary_kind(body, headers)
    if kind:
        raise ParseError("binary", f"the response is a {kind} file, not an HTML page")
    return decode_text(body, headers)


def decode_text(body: bytes, headers: Mapping[str, str] | None = None) -> tuple[str, str]:
    """Decode text bytes (HTML or plain text) with the strategy described in the module doc."""
    if body.startswith(b"\xef\xbb\xbf"):
        return _strict(body[3:], "utf-8") or body[3:].decode("utf-8", "replace"), "utf-8"
    if body.startswith((b"\xff\xfe", b"\xfe\xff")):
        return body.decode("utf-16", "replace"), "utf-16"
    text = _strict(body, "utf-8")
    if text is not None:
        return text, "utf-8"
    declared = declared_charsets(body, headers)
    text = _mostly_utf8(body, "utf-8" in declared)
    if text is not None:
        log.debug("UTF-8 with a few invalid bytes; decoded with replacement characters")
        return text, "utf-8"
    candidates = [c for c in declared if c != "utf-8"]
    if "gb18030" not in candidates:
        candidates.append("gb18030")
    for codec in candidates:
        text = _strict(body, codec)
        if text is not None:
            return text, codec
    guess = _guess(body)
    if guess:
        return guess
    log.debug("no charset decodes cleanly; using gb18030 with replacement characters")
    return body.decode("gb18030", "replace"), "gb18030"


def _strict(body: bytes, codec: str) -> str | None:
    """``body`` decoded strictly, tolerating only a multi-byte character cut at the very end
    (a response truncated mid-character is still readable; truncation is judged elsewhere)."""
    try:
        return body.decode(codec)
    except UnicodeDecodeError as exc:
        if exc.start >= len(body) - 3:
            try:
                return body[: exc.start].decode(codec)
            except UnicodeDecodeError:
                return None
        return None
    except LookupError:
        return None


# Invalid sequences per non-ASCII character decoded: GBK bytes read as UTF-8 come out near 1
# (GBK text is nearly all invalid UTF-8); a UTF-8 page with a damaged character, near 0.
# Declared UTF-8 is believed up to a tenth; undeclared, up to a hundredth.
_BAD_SHARE_DECLARED = 0.10
_BAD_SHARE_UNDECLARED = 0.01


def _mostly_utf8(body: bytes, declared: bool) -> str | None:
    """``body`` as UTF-8 with replacement characters when nearly all of it is valid UTF-8."""
    text = body.decode("utf-8", "replace")
    bad = text.count("\ufffd") - body.count("\xef\xbf\xbd".encode("latin-1"))
    non_ascii = len(text) - len(text.encode("ascii", "ignore"))
    if non_ascii == 0 or bad <= 0:
        return None
    limit = _BAD_SHARE_DECLARED if declared else _BAD_SHARE_UNDECLARED
    return text if bad / non_ascii <= limit else None


def _guess(body: bytes) -> tuple[str, str] | None:
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # optional: the strict candidates cover nearly every portal
        return None
    best = from_bytes(body[:200_000]).best()
    if best is None or not best.encoding:
        return None
    codec = normalize_charset(best.encoding) or best.encoding
    return body.decode(codec, "replace"), codec


def _header(headers: Mapping[str, str] | None, name: str) -> str:
    if not headers:
        return ""
    for key, value in headers.items():
        k = key.decode("latin-1") if isinstance(key, bytes) else str(key)
        if k.lower() == name:
            if isinstance(value, (list, tuple)):
                value = value[0] if value else ""
            return value.decode("latin-1") if isinstance(value, bytes) else str(value)
    return ""
