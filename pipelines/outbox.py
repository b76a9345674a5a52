"""The ``changes`` outbox: recording a change of a document, and how a change names another
document. The digest delivers what is recorded here (``digest/``)."""

from __future__ import annotations

from typing import Any, Mapping

import sqlite_utils

from pipelines.values import to_json

CHANGE_KINDS = ("new", "revised", "withdrawn", "finalised", "repealed")
BRIEF_FIELDS = ("id", "url", "title", "doc_number", "issuer", "site")


def insert_change(
    db: sqlite_utils.Database, document_id: int, version_id: int | None, kind: str,
    detected_at: str, summary: str, diff: Mapping[str, Any], run_id: int | None = None,
) -> int:
    """Record one change in the outbox; call inside the writing transaction."""
    cursor = db.execute(
        """INSERT INTO changes (document_id, version_id, kind, detected_at, summary, diff, run_id)
        VALUES (?, ?, ?, ?, ?, ?, ?)""",
        [document_id, version_id, kind, detected_at, summary, to_json(dict(diff)), run_id],
    )
    return cursor.lastrowid


def document_brief(db: sqlite_utils.Database, document_id: int) -> dict[str, Any]:
    """A stored document as a change's diff names it (the draft a final finalised, the page a
    copy moved from, the decision that repealed it)."""
    row = db.execute(f"SELECT {', '.join(BRIEF_FIELDS)} FROM documents WHERE id = ?",
                     [document_id]).fetchone()
    return dict(zip(BRIEF_FIELDS, row))
