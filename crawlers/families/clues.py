"""What ``policywatch detect`` sees on a portal's page, and the clues CMS families take from it.

Each adapter (``Family.page_clues``, ``Family.column_clues``) says what marks its family; this
module holds what they share: the ``Clue`` they return and the ``SeenPage`` they read, which
decodes the page, parses JSON and counts the dated links of the markup once for all families.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Mapping
from urllib.parse import urlsplit

from crawlers.families.listparse import ParseError, decode, find_dated_items, load_page


@dataclass(frozen=True)
class Clue:
    """One thing seen on a page that points at a CMS family."""

    family: str
    weight: int
    reason: str
    # A clue about the column's own address: a document of the column repeats nothing of it.
    of_column_url: bool = False
    # Only a browser sees the entries (the list is filled by script).
    needs_browser: bool = False


def json_of(body: bytes) -> Any:
    """The page as JSON when it is a JSON document, else None."""
    text = body.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text[:1] not in (b"{", b"["):
        return None
    try:
        return json.loads(text.decode("utf-8", "replace"))
    except ValueError:
        return None


class SeenPage:
    """A fetched page as the families' clues read it; each view is computed once, on demand."""

    def __init__(self, url: str, body: bytes, headers: Mapping[str, str] | None = None):
        self.url = url
        self.body = body
        self.headers = headers

    @cached_property
    def host(self) -> str:
        return (urlsplit(self.url).hostname or "").lower()

    @cached_property
    def path(self) -> str:
        return urlsplit(self.url).path

    @cached_property
    def data(self) -> Any:
        """The page's JSON, or None for an HTML (or other) page."""
        return json_of(self.body)

    @property
    def is_html(self) -> bool:
        return self.data is None

    @cached_property
    def html(self) -> str:
        return decode(self.body, self.headers)

    @cached_property
    def dated_links(self) -> int:
        """How many list entries (links with dates) the served markup shows."""
        try:
            return len(find_dated_items(load_page(self.url, self.body, self.headers)))
        except ParseError:
            return 0


# ``createPageHTML`` is the pager call of TRS WCM and of 开普云 (Ucap) templates alike; the
# first call the page makes says which: numbers first (TRS) or a quoted container id (Ucap).
_CREATE_PAGE = re.compile(r"(?<![\w.])(?<!function )createPageHTML\s*\(\s*(['\"]?)([\w$]*)")


def pager_call(html: str) -> tuple[bool, str] | None:
    """The page's first telling ``createPageHTML`` call: (first argument quoted?, the argument)."""
    for m in _CREATE_PAGE.finditer(html):
        quoted, first = m.group(1), m.group(2)
        if quoted or first:
            return bool(quoted), first
    return None


__all__ = ["Clue", "SeenPage", "json_of", "pager_call"]
