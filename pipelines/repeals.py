"""Repeal decisions (关于废止…的决定) and the 文号s they repeal, kept for documents stored later.

When a decision is stored, every 文号 it repeals goes into ``repeal_targets`` with the sentence
that repeals it — those of documents the corpus does not hold yet too. A backfill reads a column
newest first, so a decision usually arrives before the older documents it repeals: each document
stored later is looked up here and stored as repealed from its first sight (a fact about it, not
news), as one whose 有效性 field says 失效 is.
"""

from __future__ import annotations

from typing import Iterable

import sqlite_utils


def stored_text(db: sqlite_utils.Database, document_id: int) -> str:
    """A stored document's body and its current version's attachment texts (those not already
    in the body): what a decision's or a draft's text is read from."""
    row = db.execute(
        "SELECT body_text, current_version_id FROM documents WHERE id = ?", [document_id]
    ).fetchone()
    parts = [row[0] or ""]
    for (text,) in db.execute(
        "SELECT text FROM attachments WHERE version_id = ? AND text IS NOT NULL", [row[1]]
    ):
        if text not in parts[0]:
            parts.append(text)
    return "\n".join(p for p in parts if p)


def record_targets(db: sqlite_utils.Database, decision_id: int,
                   targets: Iterable[tuple[str, str]], seen_at: str) -> None:
    """Keep the ``(doc_number_key, sentence)`` pairs a decision repeals (again: kept once)."""
    for key, sentence in targets:
        db.execute(
            """INSERT OR IGNORE INTO repeal_targets (decision_id, doc_number_key, evidence, recorded_at)
            VALUES (?, ?, ?, ?)""", [decision_id, key, sentence, seen_at])


def repealing_decision(db: sqlite_utils.Database, key: str | None, document_id: int) -> int | None:
    """The first stored decision that repeals 文号 ``key`` (other than the document itself)."""
    if not key:
        return None
    row = db.execute(
        """SELECT decision_id FROM repeal_targets WHERE doc_number_key = ? AND decision_id != ?
        ORDER BY decision_id LIMIT 1""", [key, document_id]).fetchone()
    return row[0] if row else None


def record_existing_decisions(db: sqlite_utils.Database) -> None:
    """Migration step: the targets of the decisions already stored, and the documents stored
    after a decision that repeals them (it could not mark them then) marked repealed from their
    first sight."""
    from pipelines.changes import is_repeal_decision, repealed_numbers

    decisions = db.execute("SELECT id, title, doc_number, first_seen FROM documents").fetchall()
    for doc_id, title, number, first_seen in decisions:
        if is_repeal_decision(title):
            record_targets(db, doc_id, repealed_numbers(stored_text(db, doc_id), number), first_seen)
    db.execute(
        """UPDATE documents SET repealed_at = first_seen
        WHERE repealed_at IS NULL AND doc_number_key IS NOT NULL AND EXISTS (
            SELECT 1 FROM repeal_targets r JOIN documents decision ON decision.id = r.decision_id
            WHERE r.doc_number_key = documents.doc_number_key AND r.decision_id != documents.id
              AND decision.first_seen <= documents.first_seen)""")
