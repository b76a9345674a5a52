"""Snippets: the words around a search's match in a document's text, with the match marked, as
browse's result list shows them under each title."""

from __future__ import annotations

from markupsafe import Markup, escape

from crawlers.parsing.textnorm import search_form
from pipelines.search import parse_query

# Characters shown on each side of the first match.
CONTEXT = 40


def snippet(text: str | None, query: str, context: int = CONTEXT) -> Markup | None:
    """The text around the first match of any term of ``query`` (searched in the text's search
    form, as the index holds it), every term in that window marked with ``<mark>``; None when
    no term is in the text (the document matched by its title, 文号 or 索引号)."""
    try:
        terms = {t.text for group in parse_query(query) for t in group}
    except ValueError:
        return None
    form = search_form(text)
    folded = form.lower()
    if len(folded) != len(form):  # a rare character whose lower case is longer
        folded = form
    found = [(at, term) for term in terms if (at := folded.find(term.lower())) >= 0]
    if not found:
        return None
    first = min(at for at, _ in found)
    start, end = max(0, first - context), min(len(form), first + context * 2)
    window, low = form[start:end], folded[start:end]
    # Mark each term's occurrences in the window, longest first where they overlap.
    marks: list[tuple[int, int]] = []
    for term in sorted(terms, key=len, reverse=True):
        needle, at = term.lower(), 0
        while needle and (at := low.find(needle, at)) >= 0:
            if not any(a < at + len(needle) and at < b for a, b in marks):
                marks.append((at, at + len(needle)))
            at += len(needle)
    out, last = [Markup("…") if start else Markup("")], 0
    for a, b in sorted(marks):
        out += [escape(window[last:a]), Markup("<mark>"), escape(window[a:b]), Markup("</mark>")]
        last = b
    out.append(escape(window[last:]))
    if end < len(form):
        out.append(Markup("…"))
    return Markup("").join(out)
