"""Linear scans of markup for what a regular expression would find by backtracking.

``<tag[^>]*>(.*?)</tag>`` searched over hostile text is quadratic: when the closing delimiter
is missing, the engine scans to the end again from every later opening (16,000 unclosed
``<record>`` tags cost 24 s). These scans find each delimiter once and stop as soon as one is
missing, since it is then missing after every later opening too.
"""

from __future__ import annotations

import re
from typing import Iterator

_TAG_END = ">"


def closer(name: str) -> re.Pattern:
    """The closing tag ``</name>`` (case-insensitive, spaces before ``>`` allowed)."""
    return re.compile(rf"</{name}\s*>", re.I)


def opener(name: str) -> re.Pattern:
    """The start of an opening tag ``<name`` followed by a non-name character."""
    return re.compile(rf"<{name}(?![\w-])", re.I)


def elements(text: str, name: str, start: int = 0, end: int | None = None) -> Iterator[tuple[int, int, int, int]]:
    """``(open_start, inner_start, inner_end, close_end)`` of each ``<name ...>…</name>`` in
    ``text[start:end]``, left to right and not overlapping, as ``<name\\b[^>]*>(.*?)</name\\s*>``
    would match them."""
    yield from spans(text, opener(name), closer(name), start, end, tag=True)


def spans(text: str, opening: re.Pattern, closing: re.Pattern, start: int = 0,
          end: int | None = None, *, tag: bool = False) -> Iterator[tuple[int, int, int, int]]:
    """``(open_start, inner_start, inner_end, close_end)`` of each ``opening … closing``, the
    closing being the first one after its opening. With ``tag``, the opening runs on to the
    next ``>`` (an opening tag's attributes)."""
    end = len(text) if end is None else end
    pos = start
    while pos < end:
        o = opening.search(text, pos, end)
        if o is None:
            return
        inner = o.end()
        if tag:
            gt = text.find(_TAG_END, inner, end)
            if gt < 0:
                return
            inner = gt + 1
        c = closing.search(text, inner, end)
        if c is None:
            return
        yield o.start(), inner, c.start(), c.end()
        pos = c.end()


def contents(text: str, name: str, start: int = 0, end: int | None = None) -> list[str]:
    """The inner text of each ``<name>…</name>`` element (see :func:`elements`)."""
    return [text[a:b] for _, a, b, _ in elements(text, name, start, end)]


def first_content(text: str, name: str) -> str | None:
    """The inner text of the first ``<name>…</name>``, or None."""
    for _, a, b, _ in elements(text, name):
        return text[a:b]
    return None


def cdata(fragment: str) -> str:
    """A record's content: what its ``<![CDATA[…]]>`` wraps, else the fragment itself, stripped."""
    stripped = fragment.strip()
    if stripped.startswith("<![CDATA["):
        close = stripped.rfind("]]>")
        return stripped[9:close] if close >= 9 else stripped[9:]
    return stripped


def remove_tags(text: str, replacement: str = " ") -> str:
    """``text`` with every ``<…>`` tag replaced, as ``re.sub(r"<[^>]+>", replacement, text)``
    does but linear: markup after the last ``>`` cannot close a tag and is left alone, so no
    opening is searched to the end of the text more than once."""
    cut = text.rfind(">") + 1
    return _TAG.sub(replacement, text[:cut]) + text[cut:]


_TAG = re.compile(r"<[^>]+>")


def remove_blocks(text: str, names: tuple[str, ...], comments: bool = True,
                  replacement: str = " ") -> str:
    """``text`` without its ``<name>…</name>`` elements (scripts, styles) and ``<!-- -->``
    comments, as ``<(names)\\b.*?</\\1\\s*>|<!--.*?-->`` would remove them, in one pass; an
    element or comment left unclosed is kept as text."""
    # A kind whose closing no longer occurs after the scan point is dropped from the search,
    # so its remaining openings are skipped by the regex engine, not one by one here.
    active = [name.lower() for name in names] + (["!--"] if comments else [])
    closers = {name: closer(name) for name in names}
    out: list[str] = []
    pos = copied = 0
    while active:
        opening = re.compile("|".join(r"<!--" if k == "!--" else rf"<{k}\b" for k in active), re.I)
        while (o := opening.search(text, pos)) is not None:
            found = o.group(0)
            kind = "!--" if found == "<!--" else found[1:].lower()
            if kind == "!--":
                close_at = text.find("-->", o.end())
                close_end = close_at + 3
            else:
                c = closers[kind].search(text, o.end())
                close_at, close_end = (c.start(), c.end()) if c else (-1, -1)
            if close_at < 0:
                active.remove(kind)
                pos = o.start()
                break
            out.append(text[copied:o.start()])
            out.append(replacement)
            pos = copied = close_end
        else:
            break
    out.append(text[copied:])
    return "".join(out)
