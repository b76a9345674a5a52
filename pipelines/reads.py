"""Reading stored documents back: by site or URL, their versions, and row counts."""

from __future__ import annotations

from typing import Any, Iterable

import sqlite_utils

from crawlers.parsing.urls import canonical_url


def known_urls(db: sqlite_utils.Database, site: str) -> set[str]:
    """Canonical URLs of the documents already stored for a site (for incremental crawls)."""
    return {r[0] for r in db.execute("SELECT url FROM documents WHERE site = ?", [site])}


def get_document(db: sqlite_utils.Database, url: str) -> dict[str, Any] | None:
    """The documents row for a URL (canonicalised first), or None."""
    rows = list(db.query("SELECT * FROM documents WHERE url = ?", [canonical_url(url)]))
    return rows[0] if rows else None


def versions_of(db: sqlite_utils.Database, document_id: int) -> list[dict[str, Any]]:
    """A document's versions, oldest first (``raw`` still compressed: ``values.decompress_raw``)."""
    return list(db.query(
        "SELECT * FROM versions WHERE document_id = ? ORDER BY id", [document_id]
    ))


def counts_by_table(db: sqlite_utils.Database, tables: Iterable[str] = (
    "documents", "versions", "attachments", "changes", "runs",
)) -> dict[str, int]:
    """Row counts, for status displays and tests."""
    return {t: db.execute(f"SELECT count(*) FROM [{t}]").fetchone()[0] for t in tables}
