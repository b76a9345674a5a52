"""The corpus: one SQLite file (through sqlite-utils) holding sites, documents, their versions
and attachments, the change outbox and the record of every run. The schema is in
``pipelines.schema``, search in ``pipelines.search``; both are re-exported here.

Everything here is a plain function over a ``sqlite_utils.Database`` so that the Scrapy
pipelines, backfills and a future central writer share one write path. Each change of state is
one transaction (``db.atomic()``): a document is stored whole with its version, attachments and
change, or not at all. Versions are never updated or deleted.

Transactions use ``db.atomic()``, not ``with db.conn:``: sqlite-utils' ``db.execute`` commits a
statement at once unless a transaction was explicitly begun, so ``with db.conn:`` would not
make several statements atomic.
"""

from __future__ import annotations

import hashlib
import json
import logging
import zlib
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, Iterable, Mapping
from urllib.parse import urlsplit, urlunsplit

import sqlite_utils

from crawlers.items import PolicyItem
from crawlers.sites.spec import Site

from .schema import SCHEMA_VERSION, CorpusError, migrate, open_corpus, schema_version
from .search import index_document, reindex, search
from .textnorm import hash_form, text_hash

logger = logging.getLogger(__name__)

RUN_KINDS = ("crawl", "backfill", "demo")
RUN_STATUSES = ("running", "ok", "partial", "failed", "blocked")
CHANGE_KINDS = ("new", "revised", "withdrawn", "finalised", "repealed")
# Fields whose change is a revision of the document (besides its text and attachments).
KEY_FIELDS = ("title", "doc_number", "issuer", "index_no", "written_date", "published_date")
# Fields kept with each version, besides the text (which has its own column).
VERSION_FIELDS = KEY_FIELDS + ("topic", "column", "text_source", "provenance")



class Refused(ValueError):
    """An item that must not be stored; ``reason`` is a short code for stats
    (``no_url``, ``no_title``, ``bad_url``, ``no_site``, ``empty_text``)."""

    def __init__(self, reason: str, message: str):
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class StoreResult:
    """What ``store_document`` did: ``kind`` is ``new``, ``revised`` or ``unchanged``;
    ``version_id`` is the current version (the existing one when unchanged)."""

    kind: str
    document_id: int
    version_id: int


# --- small helpers ---------------------------------------------------------------------------


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def iso_time(moment: datetime | None) -> str:
    """A timestamp as stored: ISO 8601 in UTC, to the second (naive times are taken as UTC)."""
    moment = moment or utcnow()
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds")


def _iso_date(value: date | str | None) -> str | None:
    if value is None or isinstance(value, str):
        return value or None
    return value.isoformat()


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


_DEFAULT_PORTS = {"http": 80, "https": 443}


def canonical_url(url: str) -> str:
    """The URL documents are keyed by: scheme and host lower-cased, default port and
    ``#fragment`` dropped. Path and query are kept as served (portals are case-sensitive and
    their query strings often identify the document); http and https are not merged."""
    url = (url or "").strip()
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise ValueError(f"not an absolute http(s) URL: {url!r}")
    host = parts.hostname.lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    port = parts.port
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    if parts.username or parts.password:
        raise ValueError(f"URL with credentials is not a document URL: {url!r}")
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


def compress_raw(body: bytes | None) -> bytes | None:
    return zlib.compress(body, 6) if body else None


def decompress_raw(blob: bytes | None) -> bytes | None:
    """The response bytes of a stored version."""
    return zlib.decompress(blob) if blob else None


def fields_of(item: PolicyItem) -> dict[str, Any]:
    """The fields a version keeps beside its text, JSON-ready (dates as YYYY-MM-DD)."""
    out: dict[str, Any] = {}
    for name in VERSION_FIELDS:
        value = getattr(item, name)
        out[name] = _iso_date(value) if isinstance(value, date) else value
    return out


def fields_hash(item: PolicyItem) -> str:
    """SHA-256 over the normalised KEY_FIELDS: a re-spaced title is not a change."""
    normalised = {}
    for name in KEY_FIELDS:
        value = getattr(item, name)
        normalised[name] = _iso_date(value) if isinstance(value, date) else hash_form(value)
    return hashlib.sha256(_json(normalised).encode("utf-8")).hexdigest()


# --- sites and runs --------------------------------------------------------------------------


def upsert_site(db: sqlite_utils.Database, site: Site) -> None:
    """Insert or update a site's declaration; its health columns are left as they are."""
    with db.atomic():
        db.execute(
            """INSERT INTO sites (key, name, division_code, level, family, domains, enabled)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (key) DO UPDATE SET name = excluded.name,
                division_code = excluded.division_code, level = excluded.level,
                family = excluded.family, domains = excluded.domains,
                enabled = excluded.enabled""",
            [site.key, site.name, site.division_code, site.level, site.family,
             _json(list(site.domains)), int(site.enabled)],
        )


def _ensure_site(db: sqlite_utils.Database, key: str) -> None:
    # A bare row keeps the foreign keys whole when a site was never upserted (tests, ad-hoc runs).
    db.execute("INSERT OR IGNORE INTO sites (key) VALUES (?)", [key])


def record_site_success(db: sqlite_utils.Database, key: str, when: datetime | None = None) -> None:
    """Mark a site healthy as of ``when`` (now by default)."""
    with db.atomic():
        _ensure_site(db, key)
        db.execute("UPDATE sites SET last_success = ? WHERE key = ?", [iso_time(when), key])


def record_site_failure(
    db: sqlite_utils.Database, key: str, reason: str, when: datetime | None = None
) -> None:
    """Mark a site failing as of ``when``, with a short human-readable ``reason``."""
    with db.atomic():
        _ensure_site(db, key)
        db.execute(
            "UPDATE sites SET last_failure = ?, last_failure_reason = ? WHERE key = ?",
            [iso_time(when), reason, key],
        )


def start_run(
    db: sqlite_utils.Database, site: str | None, kind: str = "crawl",
    when: datetime | None = None,
) -> int:
    """Record the start of a run and return its id; ``site`` may be None for a multi-site run."""
    if kind not in RUN_KINDS:
        raise ValueError(f"run kind {kind!r} is not one of {', '.join(RUN_KINDS)}")
    with db.atomic():
        if site:
            _ensure_site(db, site)
        cursor = db.execute(
            "INSERT INTO runs (site, kind, started_at, status) VALUES (?, ?, ?, 'running')",
            [site, kind, iso_time(when)],
        )
        return cursor.lastrowid


def finish_run(
    db: sqlite_utils.Database, run_id: int, counts: Mapping[str, Any],
    errors: Any = None, status: str = "ok", when: datetime | None = None,
) -> None:
    """Record the end of a run: its counts, errors and status (ok/partial/failed/blocked).

    ``blocked`` is set when the status says so or ``counts["blocked"]`` is positive.
    """
    if status not in RUN_STATUSES or status == "running":
        raise ValueError(f"run status {status!r} is not one of ok, partial, failed, blocked")
    blocked = status == "blocked" or bool(counts.get("blocked"))
    with db.atomic():
        cursor = db.execute(
            """UPDATE runs SET finished_at = ?, status = ?, counts = ?, errors = ?, blocked = ?
            WHERE id = ?""",
            [iso_time(when), status, _json(dict(counts)), _json(errors if errors is not None else []), int(blocked),
             run_id],
        )
        if cursor.rowcount != 1:
            raise ValueError(f"no run with id {run_id}")


# --- documents -------------------------------------------------------------------------------


def check_storable(item: PolicyItem) -> str:
    """The canonical URL of a storable item; raises ``Refused`` naming what is missing."""
    if not (item.url or "").strip():
        raise Refused("no_url", "the item has no URL")
    try:
        url = canonical_url(item.url)
    except ValueError as exc:
        raise Refused("bad_url", str(exc)) from None
    if not (item.title or "").strip():
        raise Refused("no_title", f"{url} has no title")
    if not (item.site or "").strip():
        raise Refused("no_site", f"{url} does not say which site it came from")
    has_attachment_text = any((a.text or "").strip() for a in item.attachments)
    if not (item.body_text or "").strip() and not has_attachment_text:
        raise Refused("empty_text", f"{url} has neither body text nor attachment text")
    return url


def _attachment_hashes(item: PolicyItem) -> dict[str, str | None]:
    hashes: dict[str, str | None] = {}
    for attachment in item.attachments:
        hashes.setdefault(attachment.url, attachment.sha256)
    return hashes


def _what_changed(
    previous: Mapping[str, Any], item: PolicyItem, new_text_hash: str, new_fields_hash: str,
) -> list[str]:
    """Names of what differs from the previous version; empty when nothing does.

    A failed attachment download is not a change: its hash is unknown, not different.
    """
    changed = []
    failed = any(a.error and not a.sha256 for a in item.attachments)
    if new_text_hash != previous["text_hash"]:
        # The text fell back to the cover note only because the attachment could not be read.
        incomplete = failed and item.text_source == "page" and previous["text_source"] == "attachment"
        if not incomplete:
            changed.append("text")
    if new_fields_hash != previous["fields_hash"]:
        changed.append("fields")
    before: dict[str, str | None] = json.loads(previous["attachment_hashes"])
    after = _attachment_hashes(item)
    if set(before) != set(after):
        changed.append("attachments")
    elif any(after[u] and before[u] and after[u] != before[u] for u in after):
        changed.append("attachments")
    return changed


def _changed_fields(previous_fields: Mapping[str, Any], item: PolicyItem) -> list[str]:
    now = fields_of(item)
    return [
        name for name in KEY_FIELDS
        if hash_form(str(previous_fields.get(name) or "")) != hash_form(str(now[name] or ""))
    ]


def _insert_version(
    db: sqlite_utils.Database, document_id: int, item: PolicyItem, run_id: int | None,
    fetched_at: str, t_hash: str, f_hash: str,
) -> int:
    cursor = db.execute(
        """INSERT INTO versions (document_id, run_id, fetched_at, text_hash, fields_hash,
            body_text, text_source, fields, raw, raw_encoding, http_status, headers,
            attachment_hashes)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [document_id, run_id, fetched_at, t_hash, f_hash, item.body_text or "",
         item.text_source, _json(fields_of(item)), compress_raw(item.raw_body),
         item.raw_encoding, item.http_status, _json(dict(item.http_headers or {})),
         _json(_attachment_hashes(item))],
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


def _latest_columns(item: PolicyItem, t_hash: str) -> dict[str, Any]:
    return {
        "site": item.site,
        "title": item.title.strip(),
        "doc_number": item.doc_number,
        "issuer": item.issuer,
        "index_no": item.index_no,
        "topic": item.topic,
        "written_date": _iso_date(item.written_date),
        "published_date": _iso_date(item.published_date),
        "body_text": item.body_text or "",
        "text_hash": t_hash,
        "column": item.column,
    }


def store_document(
    db: sqlite_utils.Database, item: PolicyItem, run_id: int | None = None,
    now: datetime | None = None,
) -> StoreResult:
    """Store one parsed document: a new document, a new version of a known one, or nothing
    new (an identical fetch only bumps ``last_seen``). Records a ``new`` or ``revised`` change.

    Raises ``Refused`` for an item that must not be stored; all-or-nothing otherwise.
    """
    url = check_storable(item)
    seen_at = iso_time(item.fetched_at or now)
    t_hash = text_hash(item.body_text)
    f_hash = fields_hash(item)
    latest = _latest_columns(item, t_hash)
    with db.atomic():
        _ensure_site(db, item.site)
        row = db.execute(
            "SELECT id, current_version_id FROM documents WHERE url = ?", [url]
        ).fetchone()
        if row is None:
            cursor = db.execute(
                """INSERT INTO documents (site, url, title, doc_number, issuer, index_no, topic,
                    written_date, published_date, body_text, text_hash, "column",
                    first_seen, last_seen, last_changed)
                VALUES (:site, :url, :title, :doc_number, :issuer, :index_no, :topic,
                    :written_date, :published_date, :body_text, :text_hash, :column,
                    :seen, :seen, :seen)""",
                {**latest, "url": url, "seen": seen_at},
            )
            document_id = cursor.lastrowid
            version_id = _insert_version(db, document_id, item, run_id, seen_at, t_hash, f_hash)
            db.execute(
                "UPDATE documents SET current_version_id = ? WHERE id = ?",
                [version_id, document_id],
            )
            index_document(db, document_id, latest["title"], latest["body_text"])
            _insert_change(db, document_id, version_id, "new", seen_at, f"new: {latest['title']}",
                           {"url": url})
            return StoreResult("new", document_id, version_id)

        document_id, previous_id = row
        previous = db.execute(
            """SELECT id, text_hash, fields_hash, text_source, attachment_hashes, fields
            FROM versions WHERE id = ?""", [previous_id],
        ).fetchone()
        previous = dict(zip(
            ("id", "text_hash", "fields_hash", "text_source", "attachment_hashes", "fields"),
            previous,
        ))
        changed = _what_changed(previous, item, t_hash, f_hash)
        if not changed:
            db.execute(
                "UPDATE documents SET last_seen = max(last_seen, ?) WHERE id = ?",
                [seen_at, document_id],
            )
            return StoreResult("unchanged", document_id, previous_id)

        version_id = _insert_version(db, document_id, item, run_id, seen_at, t_hash, f_hash)
        db.execute(
            """UPDATE documents SET site = :site, title = :title, doc_number = :doc_number,
                issuer = :issuer, index_no = :index_no, topic = :topic,
                written_date = :written_date, published_date = :published_date,
                body_text = :body_text, text_hash = :text_hash, "column" = :column,
                last_seen = max(last_seen, :seen), last_changed = :seen,
                current_version_id = :version_id
            WHERE id = :id""",
            {**latest, "seen": seen_at, "version_id": version_id, "id": document_id},
        )
        index_document(db, document_id, latest["title"], latest["body_text"])
        diff: dict[str, Any] = {"changed": changed, "previous_version_id": previous_id}
        if "fields" in changed:
            diff["fields"] = _changed_fields(json.loads(previous["fields"]), item)
        _insert_change(db, document_id, version_id, "revised", seen_at,
                       f"revised ({', '.join(changed)}): {latest['title']}", diff)
        return StoreResult("revised", document_id, version_id)


def _insert_change(
    db: sqlite_utils.Database, document_id: int, version_id: int, kind: str, detected_at: str,
    summary: str, diff: Mapping[str, Any],
) -> None:
    db.execute(
        """INSERT INTO changes (document_id, version_id, kind, detected_at, summary, diff)
        VALUES (?, ?, ?, ?, ?, ?)""",
        [document_id, version_id, kind, detected_at, summary, _json(dict(diff))],
    )


# --- queries ---------------------------------------------------------------------------------


def known_urls(db: sqlite_utils.Database, site: str) -> set[str]:
    """Canonical URLs of the documents already stored for a site (for incremental crawls)."""
    return {r[0] for r in db.execute("SELECT url FROM documents WHERE site = ?", [site])}


def get_document(db: sqlite_utils.Database, url: str) -> dict[str, Any] | None:
    """The documents row for a URL (canonicalised first), or None."""
    rows = list(db.query("SELECT * FROM documents WHERE url = ?", [canonical_url(url)]))
    return rows[0] if rows else None


def versions_of(db: sqlite_utils.Database, document_id: int) -> list[dict[str, Any]]:
    """A document's versions, oldest first (``raw`` still compressed)."""
    return list(db.query(
        "SELECT * FROM versions WHERE document_id = ? ORDER BY id", [document_id]
    ))


def counts_by_table(db: sqlite_utils.Database, tables: Iterable[str] = (
    "documents", "versions", "attachments", "changes", "runs",
)) -> dict[str, int]:
    """Row counts, for status displays and tests."""
    return {t: db.execute(f"SELECT count(*) FROM [{t}]").fetchone()[0] for t in tables}


__all__ = [
    "CHANGE_KINDS", "CorpusError", "KEY_FIELDS", "Refused", "RUN_KINDS",
    "SCHEMA_VERSION", "StoreResult", "canonical_url", "check_storable", "counts_by_table",
    "decompress_raw", "fields_hash", "finish_run", "get_document", "index_document",
    "iso_time", "known_urls", "reindex",
    "migrate", "open_corpus", "record_site_failure", "record_site_success", "schema_version",
    "search", "start_run", "store_document", "upsert_site", "versions_of",
]
