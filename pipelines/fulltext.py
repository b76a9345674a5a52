"""A document's whole text: its body and its attachments' text — what lineage and repeal
decisions are read from, since a draft's or a decision's text is often only in its attachment."""

from __future__ import annotations

import sqlite_utils

from crawlers.items import PolicyItem


def item_text(item: PolicyItem) -> str:
    """A fetched item's body and the texts of its attachments not already in the body."""
    parts = [item.body_text or ""]
    parts += [a.text for a in item.attachments if a.text and a.text not in (item.body_text or "")]
    return "\n".join(p for p in parts if p)


def stored_text(db: sqlite_utils.Database, document_id: int) -> str:
    """A stored document's body and its current version's attachment texts (those not already
    in the body)."""
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
