"""Whitespace and text normalisation shared by the detail-page parsers."""

from __future__ import annotations

import re

# NBSP, the en/em spaces portals paste from Word, zero-width characters, BOM.
_ODD_SPACES = str.maketrans({
    "\xa0": " ", "\u2002": " ", "\u2003": " ", "\u2009": " ", "\u200b": "", "\u200c": "",
    "\u200d": "", "\ufeff": "", "\t": " ", "\r": "\n", "\x0b": "\n", "\x0c": "\n",
})
# str.translate looks every character up in the table (slow on Chinese text): searched first,
# the table is applied only to text that holds one of them.
_ANY_ODD_SPACE = re.compile("[\xa0\u2002\u2003\u2009\u200b\u200c\u200d\ufeff\t\r\x0b\x0c]")
_SPACE_RUN = re.compile(r"[ ]{2,}")
_CJK = r"\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef"
# Whitespace with a CJK character on either side: Chinese titles have no spaces, and the ones
# pages show come from <br>, &nbsp; or line wrapping (…调整2007<br>　年末…).
_BETWEEN_CJK = re.compile(rf"(?<=[{_CJK}])\s+|\s+(?=[{_CJK}])")


def normalize_text(text: str) -> str:
    """Body text as stored: one paragraph per line, no blank lines, no NBSP, no \\r,
    no ideographic indentation at line starts, inner space runs collapsed."""
    text = _odd_spaces_replaced(text.replace("\r\n", "\n"))
    lines = []
    for line in text.split("\n"):
        # Full-width spaces indent paragraphs (　　); inside a line they separate signatures.
        line = _SPACE_RUN.sub(" ", line.strip(" \u3000"))
        if line:
            lines.append(line)
    return "\n".join(lines)


def squash(text: str | None) -> str:
    """One line: every whitespace run (ideographic and NBSP included) becomes one space."""
    if not text:
        return ""
    return " ".join(_odd_spaces_replaced(text).replace("\u3000", " ").split())


def _odd_spaces_replaced(text: str) -> str:
    return text.translate(_ODD_SPACES) if _ANY_ODD_SPACE.search(text) else text


def join_cjk(text: str | None) -> str:
    """A heading or title on one line: whitespace next to CJK characters removed (titles are
    often broken with <br> across lines), other whitespace runs collapsed."""
    return _BETWEEN_CJK.sub("", squash(text))
