"""Full-text search of the corpus: a trigram FTS5 index over documents' titles and text.

The index holds each document's *search form* (``textnorm.search_form``: NFKC-folded, no line
breaks inside Chinese words), so a term matches however the portal or the PDF spaced it, in
full- or half-width. The writer keeps it in step with ``documents`` (``index_document`` in the
same transaction as the write); deleting a document removes its entry by trigger.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from crawlers.parsing.textnorm import search_form
from pipelines.lineage import doc_number_key

# FTS5's trigram tokenizer indexes 3-character windows: shorter terms cannot be matched by it.
TRIGRAM = 3


def index_document(db: sqlite_utils.Database, document_id: int, title: str, body_text: str,
                   body_search_form: str | None = None) -> None:
    """Put (or replace) a document's entry in the index; call inside the writing transaction.
    ``body_search_form``: ``search_form(body_text)`` when already computed."""
    if body_search_form is None:
        body_search_form = search_form(body_text)
    db.execute("DELETE FROM documents_fts WHERE rowid = ?", [document_id])
    db.execute(
        "INSERT INTO documents_fts (rowid, title, body_text) VALUES (?, ?, ?)",
        [document_id, search_form(title), body_search_form],
    )


def reindex(db: sqlite_utils.Database) -> int:
    """Rebuild the whole index from ``documents``; returns the number of documents indexed."""
    db.execute("DELETE FROM documents_fts")
    count = 0
    for document_id, title, body_text in db.execute(
        "SELECT id, title, body_text FROM documents"
    ).fetchall():
        index_document(db, document_id, title, body_text)
        count += 1
    return count


def _fts_phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _like_pattern(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# A phrase in ASCII or Chinese quotation marks, or a run of anything but white space.
_TOKEN = re.compile(r'"([^"]*)"|“([^”]*)”|「([^」]*)」|(\S+)')
OR_WORDS = ("OR", "|", "或")
# A query is typed by a person (or pasted into browse's URL by anyone): past this many terms it
# is refused rather than turned into SQL deeper than SQLite's expression limit.
MAX_TERMS = 32


@dataclass(frozen=True)
class Term:
    """One search term: its search form, and the 文号 / 索引号 it may be exactly."""

    text: str
    doc_number_key: str | None
    index_no: str


def parse_query(query: str) -> list[list[Term]]:
    """``A B`` both, ``A OR B`` (also ``|``, ``或``) either, ``"A B"`` the phrase: the query as
    alternatives, each a list of terms that must all match. ``ValueError`` on an empty one."""
    groups: list[list[Term]] = [[]]
    for found in _TOKEN.finditer(query or ""):
        quoted = next((g for g in found.groups()[:3] if g is not None), None)
        raw = quoted if quoted is not None else found.group(4)
        if quoted is None and raw in OR_WORDS:
            groups.append([])
            continue
        text = search_form(raw)
        if text:
            number = unicodedata.normalize("NFKC", raw).replace(" ", "")
            groups[-1].append(Term(text, doc_number_key(raw), number))
    groups = [g for g in groups if g]
    if not groups:
        raise ValueError("empty search query")
    if sum(len(g) for g in groups) > MAX_TERMS:
        raise ValueError(f"too many search terms (at most {MAX_TERMS})")
    return groups


def _term_condition(term: Term, params: list[Any]) -> str:
    """SQL true for a document (``d``) that contains the term, or whose 文号 or 索引号 it is."""
    if len(term.text) >= TRIGRAM:
        text = "d.id IN (SELECT rowid FROM documents_fts WHERE documents_fts MATCH ?)"
        params.append(_fts_phrase(term.text))
    else:
        # 1–2 characters (规划, 数字, VR) are below the trigram index: LIKE over the same form.
        text = ("d.id IN (SELECT rowid FROM documents_fts WHERE title LIKE ? ESCAPE '\\'"
                " OR body_text LIKE ? ESCAPE '\\')")
        params.extend([_like_pattern(term.text)] * 2)
    alternatives = [text, "d.index_no = ?"]
    params.append(term.index_no)
    if term.doc_number_key:
        alternatives.append("d.doc_number_key = ?")
        params.append(term.doc_number_key)
    return "(" + " OR ".join(alternatives) + ")"


def search(db: sqlite_utils.Database, query: str, limit: int = 20) -> list[dict[str, Any]]:
    """Documents (``documents`` rows) matching ``query`` (see ``parse_query``): every term of
    one alternative in their title or text, or a term that is their 文号 or 索引号 exactly
    (however its brackets are written).

    A document whose 文号 or 索引号 was asked for comes first; then, for a query of one
    alternative, the trigram index's bm25 rank of its terms of 3+ characters; then the newest.
    """
    groups = parse_query(query)
    if limit < 1:
        raise ValueError(f"limit must be positive, not {limit}")
    params: list[Any] = []
    where = _where(groups, params)
    terms = [t for group in groups for t in group]
    exact_keys = [t.doc_number_key for t in terms if t.doc_number_key]
    exact = f"(d.index_no IN ({', '.join('?' * len(terms))})"
    exact_params: list[Any] = [t.index_no for t in terms]
    if exact_keys:
        exact += f" OR d.doc_number_key IN ({', '.join('?' * len(exact_keys))})"
        exact_params += exact_keys
    exact += ")"
    ranked = [t.text for t in groups[0] if len(t.text) >= TRIGRAM] if len(groups) == 1 else []
    rank_join, rank_params, rank_order = "", [], ""
    if ranked:
        rank_join = (" LEFT JOIN (SELECT rowid, rank FROM documents_fts WHERE documents_fts MATCH ?)"
                     " r ON r.rowid = d.id")
        rank_params = [" AND ".join(_fts_phrase(t) for t in ranked)]
        rank_order = "r.rank IS NULL, r.rank, "
    sql = (f"SELECT d.* FROM documents d{rank_join} WHERE {where}"
           f" ORDER BY {exact} DESC, {rank_order}"
           "d.published_date IS NULL, d.published_date DESC, d.id DESC LIMIT ?")
    return list(db.query(sql, [*rank_params, *params, *exact_params, limit]))


def _where(groups: list[list[Term]], params: list[Any]) -> str:
    return " OR ".join("(" + " AND ".join(_term_condition(t, params) for t in group) + ")"
                       for group in groups)


def matching_ids_sql(query: str) -> tuple[str, list[Any]]:
    """SQL selecting the ids of the documents that ``search`` finds for ``query``, and its
    parameters, for a caller that filters by them (browse). ``ValueError`` as ``parse_query``."""
    params: list[Any] = []
    return f"SELECT d.id FROM documents d WHERE {_where(parse_query(query), params)}", params
