"""Repeal decisions (关于废止…的决定): the known documents they repeal, and the 文号s they
repeal kept for documents stored later.

When a decision is stored, the known documents it names are marked repealed (a ``repealed``
change each), and every 文号 it repeals goes into ``repeal_targets`` with the sentence
that repeals it — those of documents the corpus does not hold yet too. A backfill reads a column
newest first, so a decision usually arrives before the older documents it repeals: each document
stored later is looked up here and stored as repealed from its first sight (a fact about it, not
news), as one whose 有效性 field says 失效 is.
"""

from __future__ import annotations

from typing import Iterable

import sqlite_utils

from crawlers.items import PolicyItem
from pipelines.changes import is_repeal_decision, repealed_numbers
from pipelines.fulltext import item_text, stored_text
from pipelines.outbox import document_brief, insert_change


def record_repeals(
    db: sqlite_utils.Database, decision_id: int, item: PolicyItem, seen_at: str,
    run_id: int | None,
) -> int:
    """If ``item`` (stored as ``decision_id``) is a 废止/失效 decision: mark every known, not yet
    repealed document whose 文号 it repeals, with a ``repealed`` change each, and keep every
    文号 it repeals for the documents stored later. Returns how many it marked."""
    if not is_repeal_decision(item.title):
        return 0
    decision = document_brief(db, decision_id)
    targets = repealed_numbers(item_text(item), item.doc_number)
    # Kept for the documents stored later: a backfill meets the decision before them.
    record_targets(db, decision_id, targets, seen_at)
    recorded = 0
    for key, sentence in targets:
        for target_id, version_id, title in db.execute(
            """SELECT id, current_version_id, title FROM documents
            WHERE doc_number_key = ? AND id != ? AND repealed_at IS NULL""", [key, decision_id],
        ).fetchall():
            db.execute("UPDATE documents SET repealed_at = ? WHERE id = ?", [seen_at, target_id])
            insert_change(db, target_id, version_id, "repealed", seen_at,
                          f"repealed by {item.title}: {title}",
                          {"by": "decision", "decision": decision, "evidence": sentence}, run_id)
            recorded += 1
    return recorded


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
