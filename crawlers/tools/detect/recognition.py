"""Recognition: a column page's bytes (and one of its documents) in, its CMS family and the
clues that chose it out. Pure.

Every registered family says what marks it (``Family.page_clues`` on any page of a portal,
``Family.column_clues`` on a column's list page); each clue names a family, a weight and what
was seen. The family with the highest score wins if it reaches ``THRESHOLD`` (ties go to the
family of higher ``priority``, the most specific evidence); else the column is an unknown CMS
and the fallback adapter (generic) reads it. The winner then says what its columns need beyond
the URL (``Family.column_params``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from crawlers.families import FALLBACK, families, get_family
from crawlers.families.clues import Clue, SeenPage

THRESHOLD = 5


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


def _priority(name: str) -> tuple[int, str]:
    try:
        return get_family(name).priority, name
    except KeyError:  # a clue of a family no longer registered
        return 10**9, name


def choose(clues: list[Clue]) -> str:
    """The family the clues point at, or the fallback when none reaches ``THRESHOLD``."""
    totals = scores(clues)
    ranked = sorted((f for f in totals if f != FALLBACK), key=lambda f: (-totals[f], _priority(f)))
    if ranked and totals[ranked[0]] >= THRESHOLD:
        return ranked[0]
    return FALLBACK


def _page_clues(page: SeenPage) -> list[Clue]:
    clues: list[Clue] = []
    for family in families():
        clues += family.page_clues(page, clues)
    return clues


def page_clues(url: str, body: bytes, headers: Mapping[str, str] | None = None) -> list[Clue]:
    """Clues on any page of the portal (list or document): markup, scripts, URL."""
    return _page_clues(SeenPage(url, body, headers))


def recognise(url: str, body: bytes, headers: Mapping[str, str] | None = None,
              detail: tuple[str, bytes, Mapping[str, str] | None] | None = None) -> Recognition:
    """The family of the column at ``url`` whose page is ``body`` (and of one of its documents,
    when ``detail`` gives its URL, bytes and headers). Pure."""
    page = SeenPage(url, body, headers)
    clues = _page_clues(page)
    if detail is not None:
        # What the document adds: clues of its own, not the site-wide ones seen on the list.
        seen = {c.reason for c in clues}
        clues += [Clue(c.family, c.weight, f"document: {c.reason}", needs_browser=c.needs_browser)
                  for c in page_clues(*detail) if c.reason not in seen and not c.of_column_url]
    if page.is_html:
        for family in families():
            clues += family.column_clues(page, clues)
    recognition = Recognition(family=choose(clues), clues=clues,
                              needs_browser=any(c.needs_browser for c in clues))
    recognition.params, recognition.notes = get_family(recognition.family).column_params(page)
    return recognition


__all__ = ["THRESHOLD", "Clue", "Recognition", "choose", "page_clues", "recognise", "scores"]
