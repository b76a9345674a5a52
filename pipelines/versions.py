"""A document's versions and sightings: writing them (never updated or deleted), and reading
a version — or a fetched item — as the snapshot that change detection compares
(``pipelines.changes``)."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Any

import sqlite_utils

from crawlers.items import PolicyItem
from crawlers.parsing.textnorm import hash_form
from pipelines.changes import Snapshot, attachment_view
from pipelines.values import compress_raw, iso_date, to_json

# Fields whose change is a revision of the document (besides its text and attachments).
KEY_FIELDS = ("title", "doc_number", "issuer", "index_no", "written_date", "published_date")
# Fields kept with each version, besides the text (which has its own column).
VERSION_FIELDS = KEY_FIELDS + ("validity", "topic", "column", "text_source", "provenance")


def fields_of(item: PolicyItem) -> dict[str, Any]:
    """The fields a version keeps beside its text, JSON-ready (dates as YYYY-MM-DD)."""
    out: dict[str, Any] = {}
    for name in VERSION_FIELDS:
        value = getattr(item, name, None)
        out[name] = iso_date(value) if isinstance(value, date) else value
    return out


def fields_hash(item: PolicyItem) -> str:
    """SHA-256 over the normalised KEY_FIELDS: a re-spaced title is not a change."""
    normalised = {}
    for name in KEY_FIELDS:
        value = getattr(item, name)
        normalised[name] = iso_date(value) if isinstance(value, date) else hash_form(value)
    return hashlib.sha256(to_json(normalised).encode("utf-8")).hexdigest()


def _attachment_hashes(item: PolicyItem) -> dict[str, str | None]:
    hashes: dict[str, str | None] = {}
    for attachment in item.attachments:
        hashes.setdefault(attachment.url, attachment.sha256)
    return hashes


def insert_version(
    db: sqlite_utils.Database, document_id: int, item: PolicyItem, run_id: int | None,
    fetched_at: str, t_hash: str, f_hash: str,
) -> int:
    """Write ``item`` as a new version of the document, with its attachments; returns its id.
    Call inside the writing transaction."""
    cursor = db.execute(
        """INSERT INTO versions (document_id, run_id, fetched_at, text_hash, fields_hash,
            body_text, text_source, fields, raw, raw_encoding, http_status, headers,
            attachment_hashes)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [document_id, run_id, fetched_at, t_hash, f_hash, item.body_text or "",
         item.text_source, to_json(fields_of(item)), compress_raw(item.raw_body),
         item.raw_encoding, item.http_status, to_json(dict(item.http_headers or {})),
         to_json(_attachment_hashes(item))],
    )
    version_id = cursor.lastrowid
    seen: set[str] = set()
    for a in item.attachments:
        if a.url in seen:  # the same file linked twice on one page
            continue
        seen.add(a.url)
        db.execute(
            """INSERT INTO attachments (document_id, version_id, url, name, sha256, size,
                content_type, text, error)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [document_id, version_id, a.url, a.name, a.sha256, a.size, a.content_type,
             a.text, a.error],
        )
    return version_id


def insert_sighting(db: sqlite_utils.Database, document_id: int, version_id: int,
                    item: PolicyItem, run_id: int | None, seen_at: str, t_hash: str,
                    differs: list[str]) -> int:
    """Keep a fetch that differs from ``version_id`` only in volatile ways: the text and the
    response when the text differs, and every attachment as fetched (its text only where it
    is not the version's)."""
    stored_texts = {text for (text,) in db.execute(
        "SELECT text FROM attachments WHERE version_id = ? AND text IS NOT NULL", [version_id])}
    attachments = []
    for a in item.attachments:
        entry = {"url": a.url, "name": a.name, "sha256": a.sha256, "size": a.size,
                 "content_type": a.content_type, "error": a.error}
        if a.text in stored_texts:
            entry["text_as_version"] = True
        else:
            entry["text"] = a.text
        attachments.append(entry)
    text_differs = "text" in differs
    cursor = db.execute(
        """INSERT INTO sightings (document_id, version_id, run_id, seen_at, differs, text_hash,
            body_text, raw, attachments) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [document_id, version_id, run_id, seen_at, to_json(differs), t_hash,
         item.body_text if text_differs else None,
         compress_raw(item.raw_body) if text_differs else None, to_json(attachments)],
    )
    return cursor.lastrowid


def item_snapshot(item: PolicyItem, learned: frozenset[str] = frozenset()) -> Snapshot:
    """A fetched item as change detection compares it (``learned``: the site's volatile link
    parameters, ``pipelines.volatileparams``)."""
    seen: dict[str, dict[str, Any]] = {}
    for a in item.attachments:
        if a.url not in seen:
            seen[a.url] = attachment_view(a.url, a.name, a.sha256, a.error, a.text, learned)
    return Snapshot(item.body_text or "", fields_of(item), tuple(seen.values()), item.text_source)


def version_snapshot(db: sqlite_utils.Database, version_id: int,
                     learned: frozenset[str] = frozenset()) -> Snapshot:
    """A stored version as change detection compares it."""
    body, fields, source, hashes = db.execute(
        "SELECT body_text, fields, text_source, attachment_hashes FROM versions WHERE id = ?",
        [version_id],
    ).fetchone()
    # In the page's order (the rows'; attachment_hashes is sorted by URL).
    stored = {url: (name, error, text) for url, name, error, text in db.execute(
        "SELECT url, name, error, text FROM attachments WHERE version_id = ? ORDER BY id", [version_id])}
    hashes = json.loads(hashes)
    attachments = []
    for url in [*stored, *(u for u in hashes if u not in stored)]:
        name, error, text = stored.get(url, (None, None, None))
        attachments.append(attachment_view(url, name, hashes.get(url), error, text, learned))
    return Snapshot(body or "", json.loads(fields), tuple(attachments), source or "page")
