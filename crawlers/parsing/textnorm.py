"""Text clean-up for display, and the normalised form that change detection hashes.

Two forms on purpose: readers see the text with its Chinese punctuation as the portal wrote it
(full-width ，。（） stay full-width); hashes see an NFKC-folded, whitespace-free form, so that a
portal re-rendering the same text with other spaces, line breaks or full-/half-width characters
never looks like a revision.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

# Characters that are invisible or layout-only: zero-width space/joiners, word joiner, BOM, soft hyphen.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
# str.translate looks every character up in the table (slow on Chinese text): searched first,
# it is applied only to text that holds one of them.
_ANY_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
# Horizontal whitespace, including no-break and ideographic spaces (　　 paragraph indents).
_HSPACE = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n{3,}")
_ANY_SPACE = re.compile(r"\s+")


def clean_text(text: str | None) -> str:
    """Body text for readers: invisible characters gone, runs of spaces collapsed, lines
    trimmed, at most one blank line between paragraphs. Punctuation is left as written."""
    if not text:
        return ""
    text = _visible(text).replace("\r\n", "\n").replace("\r", "\n")
    lines = (_HSPACE.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def clean_title(title: str | None) -> str:
    """A title on one line: invisible characters gone, any whitespace run made one space."""
    if not title:
        return ""
    return _ANY_SPACE.sub(" ", _visible(title)).strip()


def hash_form(text: str | None) -> str:
    """The form that is compared: NFKC-folded with all whitespace removed.

    Whitespace is dropped rather than collapsed because Chinese has no word spaces: a paragraph
    break moved or a space inserted between characters is layout, not content.
    """
    if not text:
        return ""
    folded = unicodedata.normalize("NFKC", _visible(text))
    return _ANY_SPACE.sub("", folded)


def text_hash(text: str | None) -> str:
    """SHA-256 (hex) of ``hash_form(text)``."""
    return hashlib.sha256(hash_form(text).encode("utf-8")).hexdigest()


# CJK ideographs, CJK punctuation and kana: scripts written without spaces between words.
_CJK = r"\u2e80-\u2fff\u3001-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_SPACE_BY_CJK = re.compile(rf"\s+(?=[{_CJK}])|(?<=[{_CJK}])\s+")


def search_form(text: str | None) -> str:
    """The form the search index holds: NFKC-folded, no whitespace next to CJK characters
    (text from PDFs breaks lines inside words: 元宇宙产\\n业), other whitespace runs made one
    space (Latin words stay apart)."""
    if not text:
        return ""
    folded = unicodedata.normalize("NFKC", _visible(text))
    return _ANY_SPACE.sub(" ", _SPACE_BY_CJK.sub("", folded)).strip()


def _visible(text: str) -> str:
    return text.translate(_INVISIBLE) if _ANY_INVISIBLE.search(text) else text


@dataclass(frozen=True)
class BodyForms:
    """A body text's hash and search form (``text_hash``, ``search_form``), computed ahead of
    the store where a core is spare (a parse worker) and used for exactly that text only."""

    text: str
    text_hash: str
    search_form: str

    @classmethod
    def of(cls, text: str | None) -> "BodyForms":
        text = text or ""
        return cls(text, text_hash(text), search_form(text))


def body_forms(text: str | None, known: BodyForms | None = None) -> BodyForms:
    """``known`` when it was computed from this very text, else computed now."""
    if isinstance(known, BodyForms) and known.text == (text or ""):
        return known
    return BodyForms.of(text)
