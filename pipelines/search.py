"""Full-text search of the corpus: a trigram FTS5 index over documents' titles and text.

The index holds each document's *search form* (``textnorm.search_form``: NFKC-folded, no line
breaks inside Chinese words), so a term matches however the portal or the PDF spaced it, in
full- or half-width. The writer keeps it in step with ``documents`` (``index_document`` in the
same transaction as the write); deleting a document removes its entry by trigger.
"""

from __future__ import annotations

from typing import Any

import sqlite_utils

from .textnorm import search_form

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


def search(db: sqlite_utils.Database, query: str, limit: int = 20) -> list[dict[str, Any]]:
    """Documents (``documents`` rows) containing every whitespace-separated term of ``query``
    in their title or text.

    Terms of 3+ characters go through the trigram index, ranked by bm25; 1–2 character terms
    (common in Chinese: 规划, 数字; or VR) cannot, and are matched with LIKE over the same
    search form. Newest published first when no term can be ranked.
    """
    terms = [search_form(t) for t in (query or "").split()]
    terms = [t for t in terms if t]
    if not terms:
        raise ValueError("empty search query")
    if limit < 1:
        raise ValueError(f"limit must be positive, not {limit}")
    long_terms = [t for t in terms if len(t) >= TRIGRAM]
    short_terms = [t for t in terms if len(t) < TRIGRAM]
    where: list[str] = []
    params: list[Any] = []
    if long_terms:
        where.append("documents_fts MATCH ?")
        params.append(" AND ".join(_fts_phrase(t) for t in long_terms))
        order = "documents_fts.rank"
    else:
        order = "d.published_date IS NULL, d.published_date DESC, d.id DESC"
    for term in short_terms:
        where.append(
            "(documents_fts.title LIKE ? ESCAPE '\\' OR documents_fts.body_text LIKE ? ESCAPE '\\')"
        )
        params.extend([_like_pattern(term)] * 2)
    sql = (
        "SELECT d.* FROM documents_fts JOIN documents d ON d.id = documents_fts.rowid"
        f" WHERE {' AND '.join(where)} ORDER BY {order} LIMIT ?"
    )
    return list(db.query(sql, [*params, limit]))
