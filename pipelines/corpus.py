"""The corpus: one SQLite file (through sqlite-utils) holding sites, documents, their versions
and attachments, the change outbox and the record of every run. The schema is in
``pipelines.schema``, search in ``pipelines.search``; both are re-exported here.

Everything here is a plain function over a ``sqlite_utils.Database`` so that the Scrapy
pipelines, backfills and a future central writer share one write path. Each change of state is
one transaction (``db.atomic()``): a document is stored whole with its version, attachments and
change, or not at all. Versions are never updated or deleted; nor are sightings, the fetches
that differed from a version only in volatile ways (``pipelines.changes.volatile_differences``).

Transactions use ``db.atomic()``, not ``with db.conn:``: sqlite-utils' ``db.execute`` commits a
statement at once unless a transaction was explicitly begun, so ``with db.conn:`` would not
make several statements atomic.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import zlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from itertools import chain
from typing import Any, Callable, Iterable, Mapping
from urllib.parse import urlsplit, urlunsplit

import sqlite_utils

from crawlers.items import PolicyItem
from crawlers.parsing.attachments import VOLATILE_PARAMS, changed_params
from crawlers.sites.spec import Site

from pipelines import changes as detect
from pipelines import lineage
from pipelines.repeals import record_targets, repealing_decision, stored_text
from pipelines.schema import SCHEMA_VERSION, CorpusError, migrate, open_corpus, schema_version
from pipelines.diff import text_diff
from pipelines.search import index_document, reindex, search
from crawlers.parsing.textnorm import body_forms, hash_form
from crawlers.parsing import clock

logger = logging.getLogger(__name__)

RUN_KINDS = ("crawl", "backfill", "demo")
RUN_STATUSES = ("running", "ok", "partial", "failed", "blocked", "killed")
# What a run's own process records when it ends; 'killed' is recorded for it by whoever finds
# it dead (``reap_dead_runs``).
FINISHED_STATUSES = ("ok", "partial", "failed", "blocked")
# A crawl beats every RUN_HEARTBEAT; one silent for RUN_STALE_AFTER is dead (a hung or
# vanished process, or its pid reused).
RUN_HEARTBEAT = timedelta(seconds=30)
RUN_STALE_AFTER = timedelta(minutes=15)
LEGACY_RUN_TIMEOUT = timedelta(hours=6)
CHANGE_KINDS = ("new", "revised", "withdrawn", "finalised", "repealed")
# Fields whose change is a revision of the document (besides its text and attachments).
KEY_FIELDS = ("title", "doc_number", "issuer", "index_no", "written_date", "published_date")
# Fields kept with each version, besides the text (which has its own column).
VERSION_FIELDS = KEY_FIELDS + ("validity", "topic", "column", "text_source", "provenance")



class Refused(ValueError):
    """An item that must not be stored; ``reason`` is a short code for stats
    (``no_url``, ``no_title``, ``bad_url``, ``no_site``, ``empty_text``)."""

    def __init__(self, reason: str, message: str):
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class StoreResult:
    """What ``store_document`` did: ``kind`` is ``new`` (a new document row), ``revised`` (a new
    version) or ``unchanged``; ``version_id`` is the current version (the existing one when
    unchanged); ``changes`` the kinds of the changes it recorded (``new``, ``finalised``,
    ``revised``, ``repealed``; none for a repost or an identical fetch); ``sighting_id`` the
    sighting an unchanged fetch with only volatile differences was kept as."""

    kind: str
    document_id: int
    version_id: int
    changes: tuple[str, ...] = ()
    sighting_id: int | None = None


# --- small helpers ---------------------------------------------------------------------------


def utcnow() -> datetime:
    return clock.now()


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
        value = getattr(item, name, None)
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
    when: datetime | None = None, *, pid: int | None = None, host: str | None = None,
) -> int:
    """Record the start of a run and return its id; ``site`` may be None for a multi-site run.
    The run belongs to process ``pid`` on ``host`` (default: this process), so that a run whose
    process died can be told from a live one (``reap_dead_runs``)."""
    if kind not in RUN_KINDS:
        raise ValueError(f"run kind {kind!r} is not one of {', '.join(RUN_KINDS)}")
    with db.atomic():
        if site:
            _ensure_site(db, site)
        cursor = db.execute(
            """INSERT INTO runs (site, kind, started_at, status, pid, host)
            VALUES (?, ?, ?, 'running', ?, ?)""",
            [site, kind, iso_time(when), pid or os.getpid(), host or socket.gethostname()],
        )
        return cursor.lastrowid


def beat_run(db: sqlite_utils.Database, run_id: int, when: datetime | None = None) -> None:
    """The run's process is alive at ``when``: a run that stops beating is dead
    (``reap_dead_runs``), wherever its process ran."""
    with db.atomic():
        db.execute("UPDATE runs SET heartbeat_at = ? WHERE id = ? AND status = 'running'",
                   [iso_time(when), run_id])


def finish_run(
    db: sqlite_utils.Database, run_id: int, counts: Mapping[str, Any],
    errors: Any = None, status: str = "ok", when: datetime | None = None,
) -> None:
    """Record the end of a run: its counts, errors and status (ok/partial/failed/blocked).

    ``blocked`` is set when the status says so or ``counts["blocked"]`` is positive.
    """
    if status not in FINISHED_STATUSES:
        raise ValueError(f"run status {status!r} is not one of {', '.join(FINISHED_STATUSES)}")
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


def process_alive(pid: int) -> bool:
    """Is process ``pid`` on this host alive (a zombie is not)?"""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return True


def dead_runs(db: sqlite_utils.Database, now: datetime | None = None,
              alive: Callable[[int], bool] = process_alive) -> dict[int, str]:
    """The runs still ``running`` whose process is gone, with why: on this host its pid is
    dead; anywhere its heartbeat stopped ``RUN_STALE_AFTER`` ago; a run recorded before runs
    had owners (no pid) after ``LEGACY_RUN_TIMEOUT``. Reads only (``status`` shows them)."""
    now = now or utcnow()
    here, own = socket.gethostname(), os.getpid()
    killed: list[tuple[int, str]] = []
    rows = db.execute("""SELECT id, pid, host, started_at, heartbeat_at FROM runs
                         WHERE status = 'running'""").fetchall()
    for run_id, pid, host, started_at, heartbeat_at in rows:
        why = None
        if pid == own and host == here:
            continue  # this process's other sites' runs (a crawl runs many): alive
        if pid and host == here and not alive(pid):
            why = f"process {pid} on {host} is gone"
        elif heartbeat_at and now - datetime.fromisoformat(heartbeat_at) > RUN_STALE_AFTER:
            why = f"process {pid} on {host} stopped beating at {heartbeat_at}"
        elif not pid and now - datetime.fromisoformat(started_at) > LEGACY_RUN_TIMEOUT:
            why = f"still running {LEGACY_RUN_TIMEOUT} after it started, with no process recorded"
        if why:
            killed.append((run_id, why))
    return dict(killed)


def reap_dead_runs(db: sqlite_utils.Database, now: datetime | None = None,
                   alive: Callable[[int], bool] = process_alive) -> list[int]:
    """Record as ``killed`` every run ``dead_runs`` finds, each once, in one transaction;
    returns their ids. Writers do it when they start."""
    killed = list(dead_runs(db, now, alive).items())
    if not killed:
        return []
    with db.atomic():
        for run_id, why in killed:
            db.execute(
                """UPDATE runs SET status = 'killed', finished_at = coalesce(heartbeat_at, started_at),
                errors = ? WHERE id = ? AND status = 'running'""",
                [_json([{"reason": "killed", "message": why}]), run_id])
    for run_id, why in killed:
        logger.warning("run %d was killed: %s", run_id, why)
    return [run_id for run_id, _ in killed]


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
        "doc_number_key": lineage.doc_number_key(item.doc_number),
        "title_key": hash_form(item.title),
    }


def _item_snapshot(item: PolicyItem, learned: frozenset[str] = frozenset()) -> detect.Snapshot:
    seen: dict[str, dict[str, Any]] = {}
    for a in item.attachments:
        if a.url not in seen:
            seen[a.url] = detect.attachment_view(a.url, a.name, a.sha256, a.error, a.text, learned)
    return detect.Snapshot(item.body_text or "", fields_of(item), tuple(seen.values()),
                           item.text_source)


def _version_snapshot(db: sqlite_utils.Database, version_id: int,
                      learned: frozenset[str] = frozenset()) -> detect.Snapshot:
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
        attachments.append(detect.attachment_view(url, name, hashes.get(url), error, text, learned))
    return detect.Snapshot(body or "", json.loads(fields), tuple(attachments), source or "page")


# --- volatile link parameters, learned per site ------------------------------------------------

# A parameter is learned as volatile once it changed on this many sightings in a row of the
# same link (same path, same parameters, same attachment name).
LEARN_AFTER = 2


def learned_params(db: sqlite_utils.Database, site: str) -> frozenset[str]:
    """The query parameters learned as volatile on ``site``."""
    return frozenset(name for (name,) in db.execute(
        "SELECT name FROM volatile_params WHERE site = ? AND learned_at IS NOT NULL", [site]))


def _learn_params(db: sqlite_utils.Database, site: str, before: detect.Snapshot,
                  item: PolicyItem, seen_at: str) -> None:
    """Count, per site, the query parameters that changed between the stored and the fetched
    link of the same attachment (same name, links alike but for parameter values); one that
    changes on ``LEARN_AFTER`` sightings in a row is learned; one that stays is not."""
    by_name = {hash_form(a.get("name")): a for a in before.attachments if a.get("name")}
    for a in item.attachments:
        old = by_name.get(hash_form(a.name)) if a.name else None
        alike = changed_params(old["url"], a.url) if old is not None else None
        if alike is None:
            continue
        changed, stayed = alike
        for name in changed - VOLATILE_PARAMS:
            db.execute(
                """INSERT INTO volatile_params (site, name, changes, first_seen) VALUES (?, ?, 1, ?)
                ON CONFLICT (site, name) DO UPDATE SET changes = changes + 1""",
                [site, name, seen_at])
            db.execute(
                """UPDATE volatile_params SET learned_at = ? WHERE site = ? AND name = ?
                AND learned_at IS NULL AND changes >= ?""", [seen_at, site, name, LEARN_AFTER])
        for name in stayed - VOLATILE_PARAMS:
            db.execute("""UPDATE volatile_params SET changes = 0 WHERE site = ? AND name = ?
                AND learned_at IS NULL""", [site, name])


def _insert_sighting(db: sqlite_utils.Database, document_id: int, version_id: int,
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
        [document_id, version_id, run_id, seen_at, _json(differs), t_hash,
         item.body_text if text_differs else None,
         compress_raw(item.raw_body) if text_differs else None, _json(attachments)],
    )
    return cursor.lastrowid


def _full_text(item: PolicyItem) -> str:
    """The body and the attachments' text: a draft's text is often only in its attachment."""
    parts = [item.body_text or ""]
    parts += [a.text for a in item.attachments if a.text and a.text not in (item.body_text or "")]
    return "\n".join(p for p in parts if p)


def _record(db: sqlite_utils.Database, document_id: int) -> dict[str, Any]:
    row = db.execute(
        """SELECT id, site, url, title, issuer, doc_number, published_date, policy_id
        FROM documents WHERE id = ?""", [document_id],
    ).fetchone()
    keys = ("id", "site", "url", "title", "issuer", "doc_number", "published_date", "policy_id")
    return dict(zip(keys, row))


def _document_brief(record: Mapping[str, Any]) -> dict[str, Any]:
    return {k: record.get(k) for k in ("id", "url", "title", "doc_number", "issuer", "site")}


def _link(db: sqlite_utils.Database, document_id: int, match: lineage.Match, seen_at: str) -> int:
    """Make ``document_id`` part of the matched document's policy; returns the policy id."""
    policy_id = db.execute(
        "SELECT coalesce(policy_id, id) FROM documents WHERE id = ?", [match.document_id]
    ).fetchone()[0]
    db.execute("UPDATE documents SET policy_id = ? WHERE id = ?", [policy_id, document_id])
    db.execute(
        """INSERT OR IGNORE INTO lineage (document_id, related_id, relation, score, evidence,
            detected_at) VALUES (?, ?, ?, ?, ?, ?)""",
        [document_id, match.document_id, match.relation, match.score, _json(match.evidence), seen_at],
    )
    return policy_id


def _copy_candidates(db: sqlite_utils.Database, document_id: int, item: PolicyItem
                     ) -> list[dict[str, Any]]:
    number_key = lineage.doc_number_key(item.doc_number)
    rows = db.execute(
        """SELECT id FROM documents WHERE id != ? AND withdrawn_at IS NULL
            AND ((doc_number_key IS NOT NULL AND doc_number_key = ?) OR title_key = ?)
        ORDER BY id LIMIT 50""",
        [document_id, number_key, hash_form(item.title)],
    ).fetchall()
    out = []
    for (other_id,) in rows:
        record = _record(db, other_id)
        record["text"] = stored_text(db, other_id)
        out.append(record)
    return out


def _draft_candidates(db: sqlite_utils.Database, document_id: int, title: str
                      ) -> list[dict[str, Any]]:
    """Drafts not finalised yet whose core title is near ``title`` (their texts are loaded only
    then: a backfill stores thousands of documents against every known draft)."""
    if lineage.is_draft(title) or lineage.is_about_a_document(title):
        return []
    # is_draft() decides; the LIKEs only narrow the scan.
    rows = db.execute(
        """SELECT id, title FROM documents d WHERE id != ? AND withdrawn_at IS NULL
            AND (title LIKE '%征求意见%' OR title LIKE '%草案%' OR title LIKE '%送审稿%')
            AND NOT EXISTS (SELECT 1 FROM lineage l WHERE l.related_id = d.id
                            AND l.relation = 'finalises')
        ORDER BY id""",
        [document_id],
    ).fetchall()
    out = []
    for draft_id, draft_title in rows:
        near = lineage.title_similarity(title, draft_title, lineage.FINAL_TITLE_MIN)
        if near >= lineage.FINAL_TITLE_MIN and lineage.is_draft(draft_title):
            record = _record(db, draft_id)
            record["text"] = stored_text(db, draft_id)
            out.append(record)
    return out


def _final_candidates(db: sqlite_utils.Database, document_id: int, title: str
                      ) -> list[dict[str, Any]]:
    """Known documents that may be the final of the new draft ``title`` (a backfill meets
    finals before their older drafts): found through the title index by pieces of the draft's
    core title, kept when their core titles are near and they finalise nothing yet."""
    core = lineage.core_title(title)
    if len(core) < 4:
        return []
    pieces = {core[i:i + 4] for i in range(0, len(core) - 3, 4)} | {core[-4:]}
    query = "title : (" + " OR ".join('"' + p.replace('"', '""') + '"' for p in sorted(pieces)) + ")"
    rows = db.execute(
        """SELECT d.id, d.title FROM documents_fts JOIN documents d ON d.id = documents_fts.rowid
        WHERE documents_fts MATCH ? AND d.id != ? AND d.withdrawn_at IS NULL
            AND NOT EXISTS (SELECT 1 FROM lineage l WHERE l.document_id = d.id
                            AND l.relation = 'finalises')
        LIMIT 200""", [query, document_id],
    ).fetchall()
    out = []
    for final_id, final_title in rows:
        near = lineage.title_similarity(title, final_title, lineage.FINAL_TITLE_MIN)
        if near >= lineage.FINAL_TITLE_MIN:
            record = _record(db, final_id)
            record["text"] = stored_text(db, final_id)
            out.append(record)
    return out


def _link_to_known_final(db: sqlite_utils.Database, document_id: int, me: Mapping[str, Any],
                         seen_at: str) -> bool:
    """A new draft whose final is already known joins the final's policy (no alert: that it
    was finalised is not news now)."""
    best: lineage.Match | None = None
    for final in _final_candidates(db, document_id, me["title"]):
        match = lineage.find_draft(final, [me])
        if match is not None and (best is None or match.score > best.score):
            best = lineage.Match(int(final["id"]), "finalises", match.score, match.evidence)
    if best is None:
        return False
    policy_id = db.execute("SELECT coalesce(policy_id, id) FROM documents WHERE id = ?",
                           [best.document_id]).fetchone()[0]
    db.execute("UPDATE documents SET policy_id = ? WHERE id = ?", [policy_id, document_id])
    db.execute(
        """INSERT OR IGNORE INTO lineage (document_id, related_id, relation, score, evidence,
            detected_at) VALUES (?, ?, 'finalises', ?, ?, ?)""",
        [best.document_id, document_id, best.score, _json(best.evidence), seen_at],
    )
    logger.info("draft %s joins the policy of its known final (document %d)", me["url"], best.document_id)
    return True


def _new_document_changes(
    db: sqlite_utils.Database, document_id: int, version_id: int, item: PolicyItem, url: str,
    seen_at: str, run_id: int | None,
) -> tuple[str, ...]:
    """Decide what a never-seen URL is — a copy of a known document (no alert; a same-site move
    with other text is a revision), the final of a known draft, or new — and record it."""
    me = {"id": document_id, "site": item.site, "url": url, "title": item.title,
          "issuer": item.issuer, "doc_number": item.doc_number,
          "published_date": _iso_date(item.published_date), "text": _full_text(item)}
    copy = lineage.find_copy(me, _copy_candidates(db, document_id, item))
    if copy is not None:
        _link(db, document_id, copy, seen_at)
        original = _record(db, copy.document_id)
        logger.info("%s is a copy of document %d (%s)", url, copy.document_id, copy.evidence["by"])
        if original["site"] != item.site:
            return ()
        learned = learned_params(db, item.site)
        before = _version_snapshot(db, db.execute(
            "SELECT current_version_id FROM documents WHERE id = ?", [copy.document_id]).fetchone()[0],
            learned)
        revision = detect.compare(before, _item_snapshot(item, learned))
        if not revision.changed:
            return ()
        diff = {**revision.diff(), "moved_from": _document_brief(original)}
        _insert_change(db, document_id, version_id, "revised", seen_at,
                       f"revised ({', '.join(revision.changed)}), moved: {item.title}", diff, run_id)
        return ("revised",)

    draft = lineage.find_draft(me, _draft_candidates(db, document_id, item.title))
    if draft is not None:
        _link(db, document_id, draft, seen_at)
        record = _record(db, draft.document_id)
        diff = {"draft": _document_brief(record), "match": draft.evidence,
                "text": text_diff(stored_text(db, draft.document_id), me["text"])}
        _insert_change(db, document_id, version_id, "finalised", seen_at,
                       f"finalised: {record['title']} → {item.title}", diff, run_id)
        return ("finalised",)

    if not (lineage.is_draft(item.title) and _link_to_known_final(db, document_id, me, seen_at)):
        db.execute("UPDATE documents SET policy_id = id WHERE id = ?", [document_id])
    _insert_change(db, document_id, version_id, "new", seen_at, f"new: {item.title}",
                   {"url": url}, run_id)
    return ("new",)


def _record_repeals(
    db: sqlite_utils.Database, decision_id: int, item: PolicyItem, seen_at: str,
    run_id: int | None,
) -> int:
    """A 废止/失效 decision: mark every known, not yet repealed document whose 文号 it repeals,
    and keep every 文号 it repeals for documents stored later (``pipelines.repeals``)."""
    if not detect.is_repeal_decision(item.title):
        return 0
    decision = _document_brief(_record(db, decision_id))
    targets = detect.repealed_numbers(_full_text(item), item.doc_number)
    # Kept for the documents stored later: a backfill meets the decision before them.
    record_targets(db, decision_id, targets, seen_at)
    recorded = 0
    for key, sentence in targets:
        for target_id, version_id, title in db.execute(
            """SELECT id, current_version_id, title FROM documents
            WHERE doc_number_key = ? AND id != ? AND repealed_at IS NULL""", [key, decision_id],
        ).fetchall():
            db.execute("UPDATE documents SET repealed_at = ? WHERE id = ?", [seen_at, target_id])
            _insert_change(db, target_id, version_id, "repealed", seen_at,
                           f"repealed by {item.title}: {title}",
                           {"by": "decision", "decision": decision, "evidence": sentence}, run_id)
            recorded += 1
    return recorded


# The columns the classifier stage fills (classifiers.classify.Classification.columns()).
CLASSIFICATION_COLUMNS = (
    "relevance", "relevance_score", "scenarios", "measures", "techs", "level", "region",
    "province", "city", "county", "city_tier", "division_code", "doc_type", "status",
    "evidence", "classifier_version",
)


def write_classification(
    db: sqlite_utils.Database, document_id: int, columns: Mapping[str, Any] | None,
    only_if_stale: bool = False,
) -> bool:
    """Write a document's classification columns; call inside the writing transaction.

    ``only_if_stale`` leaves a document already tagged by the same classifier version alone.
    Returns whether a row was updated.
    """
    if not columns:
        return False
    unknown = set(columns) - set(CLASSIFICATION_COLUMNS)
    if unknown:
        raise ValueError(f"not classification columns: {', '.join(sorted(unknown))}")
    assignments = ", ".join(f"{name} = :{name}" for name in columns)
    sql = f"UPDATE documents SET {assignments} WHERE id = :id"
    if only_if_stale:
        sql += " AND classifier_version IS NOT :classifier_version"
    cursor = db.execute(sql, {**columns, "id": document_id,
                              "classifier_version": columns.get("classifier_version")})
    return cursor.rowcount > 0


def store_document(
    db: sqlite_utils.Database, item: PolicyItem, run_id: int | None = None,
    now: datetime | None = None,
) -> StoreResult:
    """Store one parsed document: a new document, a new version of a known one, or nothing
    new (an identical fetch only bumps ``last_seen``), and record in the ``changes`` outbox what
    changed (see ``pipelines.changes`` and ``pipelines.lineage``): ``new``, ``finalised``,
    ``revised``, ``repealed`` — or nothing, for a repost of a known document.

    Raises ``Refused`` for an item that must not be stored; all-or-nothing otherwise.
    """
    url = check_storable(item)
    seen_at = iso_time(item.fetched_at or now)
    forms = body_forms(item.body_text, item.body_forms)
    t_hash = forms.text_hash
    f_hash = fields_hash(item)
    latest = _latest_columns(item, t_hash)
    with db.atomic():
        _ensure_site(db, item.site)
        row = db.execute(
            "SELECT id, current_version_id, repealed_at FROM documents WHERE url = ?", [url]
        ).fetchone()
        if row is None:
            cursor = db.execute(
                """INSERT INTO documents (site, url, title, doc_number, issuer, index_no, topic,
                    written_date, published_date, body_text, text_hash, "column",
                    doc_number_key, title_key, first_seen, last_seen, last_changed)
                VALUES (:site, :url, :title, :doc_number, :issuer, :index_no, :topic,
                    :written_date, :published_date, :body_text, :text_hash, :column,
                    :doc_number_key, :title_key, :seen, :seen, :seen)""",
                {**latest, "url": url, "seen": seen_at},
            )
            document_id = cursor.lastrowid
            version_id = _insert_version(db, document_id, item, run_id, seen_at, t_hash, f_hash)
            db.execute(
                "UPDATE documents SET current_version_id = ? WHERE id = ?",
                [version_id, document_id],
            )
            index_document(db, document_id, latest["title"], latest["body_text"], forms.search_form)
            write_classification(db, document_id, item.classification)
            recorded = _new_document_changes(db, document_id, version_id, item, url, seen_at, run_id)
            if detect.status_says_repealed(getattr(item, "validity", None)) or \
                    repealing_decision(db, latest["doc_number_key"], document_id) is not None:
                # Known as repealed from the first sight (its status says so, or a stored
                # decision repealed its 文号): a fact about it, not news.
                db.execute("UPDATE documents SET repealed_at = ? WHERE id = ?", [seen_at, document_id])
            if _record_repeals(db, document_id, item, seen_at, run_id):
                recorded += ("repealed",)
            return StoreResult("new", document_id, version_id, recorded)

        document_id, previous_id, repealed_at = row
        _learn_params(db, item.site, _version_snapshot(db, previous_id), item, seen_at)
        learned = learned_params(db, item.site)
        before, after = _version_snapshot(db, previous_id, learned), _item_snapshot(item, learned)
        revision = detect.compare(before, after)
        if not revision.changed:
            db.execute(
                "UPDATE documents SET last_seen = max(last_seen, ?) WHERE id = ?",
                [seen_at, document_id],
            )
            # A newer classifier's tags are not a change of the document, but they are kept.
            write_classification(db, document_id, item.classification, only_if_stale=True)
            differs = detect.volatile_differences(before, after)
            sighting = _insert_sighting(db, document_id, previous_id, item, run_id, seen_at,
                                        t_hash, differs) if differs else None
            return StoreResult("unchanged", document_id, previous_id, sighting_id=sighting)

        version_id = _insert_version(db, document_id, item, run_id, seen_at, t_hash, f_hash)
        db.execute(
            """UPDATE documents SET site = :site, title = :title, doc_number = :doc_number,
                issuer = :issuer, index_no = :index_no, topic = :topic,
                written_date = :written_date, published_date = :published_date,
                body_text = :body_text, text_hash = :text_hash, "column" = :column,
                doc_number_key = :doc_number_key, title_key = :title_key,
                last_seen = max(last_seen, :seen), last_changed = :seen,
                current_version_id = :version_id
            WHERE id = :id""",
            {**latest, "seen": seen_at, "version_id": version_id, "id": document_id},
        )
        index_document(db, document_id, latest["title"], latest["body_text"], forms.search_form)
        write_classification(db, document_id, item.classification)
        recorded: tuple[str, ...] = ()
        if revision.repealed_by_status and repealed_at is None:
            db.execute("UPDATE documents SET repealed_at = ? WHERE id = ?", [seen_at, document_id])
            status = next(f for f in revision.fields if f["field"] == "validity")
            _insert_change(db, document_id, version_id, "repealed", seen_at,
                           f"repealed ({status['label']}: {status['new']}): {latest['title']}",
                           {"by": "status", "fields": [status]}, run_id)
            recorded += ("repealed",)
        if not revision.only_repeal:
            diff = {**revision.diff(), "previous_version_id": previous_id}
            _insert_change(db, document_id, version_id, "revised", seen_at,
                           f"revised ({', '.join(revision.changed)}): {latest['title']}", diff, run_id)
            recorded += ("revised",)
        if "text" in revision.changed and _record_repeals(db, document_id, item, seen_at, run_id):
            recorded += ("repealed",)
        return StoreResult("revised", document_id, version_id, recorded)


def _insert_change(
    db: sqlite_utils.Database, document_id: int, version_id: int | None, kind: str,
    detected_at: str, summary: str, diff: Mapping[str, Any], run_id: int | None = None,
) -> int:
    cursor = db.execute(
        """INSERT INTO changes (document_id, version_id, kind, detected_at, summary, diff, run_id)
        VALUES (?, ?, ?, ?, ?, ?, ?)""",
        [document_id, version_id, kind, detected_at, summary, _json(dict(diff)), run_id],
    )
    return cursor.lastrowid


# --- presence: what a crawl saw of known pages ---------------------------------------------------


@dataclass(frozen=True)
class ObservationResult:
    """What ``record_observations`` did: documents seen present, absences recorded, documents
    found withdrawn (with a change) or moved (withdrawn, no change: a copy lives on), restored."""

    present: int = 0
    absent: int = 0
    withdrawn: tuple[int, ...] = ()
    moved: tuple[int, ...] = ()
    restored: tuple[int, ...] = ()


def record_observations(
    db: sqlite_utils.Database, site: str, run_id: int | None, *,
    present: Iterable[str] = (), gone: Mapping[str, str] | None = None,
    listed: Mapping[str, Iterable[str]] | None = None, complete: Iterable[str] = (),
    oldest: Mapping[str, date | None] | None = None, day: str | None = None,
    when: datetime | None = None,
) -> ObservationResult:
    """Record what one crawl of ``site`` saw of its known documents, on check day ``day``
    (YYYY-MM-DD, default today in UTC), and record ``withdrawn`` changes that are due.

    ``present``: detail pages that answered with a document; ``gone``: URL → ``http_404`` /
    ``http_410``; ``listed``: column → URLs on its list pages; ``complete``: columns read to
    their end without a failed page; ``oldest``: column → the oldest list date seen.

    A known document is absent when its page answered 404/410, or when a complete column it
    belongs to no longer lists it — and only if it is newer than the oldest entry the list still
    shows (a list that keeps only its latest entries drops old ones without withdrawing them).
    Absent on two check days after it was last present (``changes.withdrawal_due``), it is
    withdrawn; if a copy of it lives on (same policy, ``lineage``), it moved and no alert is
    recorded. A withdrawn document seen again is restored (a ``revised`` change says so).
    One transaction.
    """
    moment = iso_time(when)
    day = day or (when or utcnow()).astimezone(timezone.utc).date().isoformat()
    gone = {canonical_url(u): r for u, r in (gone or {}).items()}
    # One set of canonical URLs; a URL both listed and fetched is kept once (its second copy
    # is freed at once): a 20,000-document backfill's close stays small.
    seen: set[str] = set()
    for url in chain(present, *(listed or {}).values()):
        try:
            seen.add(canonical_url(url))
        except ValueError:
            continue
    seen.difference_update(gone)
    complete = set(complete)
    oldest = {c: _iso_date(d) for c, d in (oldest or {}).items()}
    withdrawn: list[int] = []
    moved: list[int] = []
    restored: list[int] = []
    absent = 0
    with db.atomic():
        present_count = 0
        for doc_id, url, column, published, present_on, withdrawn_at, version_id, title in \
                _site_documents(db, site):
            if url in seen:
                present_count += 1
                db.execute("UPDATE documents SET present_on = max(coalesce(present_on, ''), ?) "
                           "WHERE id = ?", [day, doc_id])
                if withdrawn_at is not None:
                    db.execute("UPDATE documents SET withdrawn_at = NULL WHERE id = ?", [doc_id])
                    alerted = db.execute(
                        """SELECT 1 FROM changes WHERE document_id = ? AND kind = 'withdrawn'
                        AND detected_at = ?""", [doc_id, withdrawn_at]).fetchone()
                    if alerted:  # a silently moved copy coming back is no news either
                        _insert_change(db, doc_id, version_id, "revised", moment,
                                       f"restored: {title}",
                                       {"changed": ["restored"], "withdrawn_at": withdrawn_at}, run_id)
                    restored.append(doc_id)
                continue
            if withdrawn_at is not None:
                continue
            reason = gone.get(url)
            if reason is None and column in complete and published and oldest.get(column) \
                    and published > oldest[column]:
                reason = "unlisted"
            if reason is None:
                continue
            absent += 1
            db.execute(
                """INSERT OR IGNORE INTO absences (document_id, run_id, day, observed_at, reason)
                VALUES (?, ?, ?, ?, ?)""", [doc_id, run_id, day, moment, reason])
            history = db.execute(
                "SELECT day, reason FROM absences WHERE document_id = ? ORDER BY day", [doc_id]
            ).fetchall()
            if not detect.withdrawal_due([d for d, _ in history], present_on):
                continue
            db.execute("UPDATE documents SET withdrawn_at = ? WHERE id = ?", [moment, doc_id])
            live_copy = db.execute(
                """SELECT d.id, d.url FROM documents d JOIN documents me ON me.id = ?
                WHERE d.policy_id = me.policy_id AND d.id != me.id AND d.withdrawn_at IS NULL
                AND EXISTS (SELECT 1 FROM lineage l WHERE l.relation = 'copy'
                    AND ((l.document_id = d.id AND l.related_id = me.id)
                      OR (l.document_id = me.id AND l.related_id = d.id)))""", [doc_id],
            ).fetchone()
            if live_copy is not None:
                logger.info("%s is gone but its copy %s lives on: moved, not withdrawn", url, live_copy[1])
                moved.append(doc_id)
                continue
            checks = [{"day": d, "reason": r} for d, r in history
                      if present_on is None or d > present_on]
            _insert_change(db, doc_id, version_id, "withdrawn", moment,
                           f"withdrawn ({', '.join(sorted({c['reason'] for c in checks}))}): {title}",
                           {"checks": checks, "last_present": present_on}, run_id)
            withdrawn.append(doc_id)
    return ObservationResult(present_count, absent, tuple(withdrawn), tuple(moved), tuple(restored))


def _site_documents(db: sqlite_utils.Database, site: str, batch: int = 1000):
    """The rows ``record_observations`` reads, a batch at a time (by id), so that a site of
    any size is never held in memory whole; the caller writes between batches, never while a
    statement is still reading."""
    after = 0
    while True:
        rows = db.execute(
            """SELECT id, url, "column", published_date, present_on, withdrawn_at,
                current_version_id, title FROM documents WHERE site = ? AND id > ?
            ORDER BY id LIMIT ?""", [site, after, batch],
        ).fetchall()
        yield from rows
        if len(rows) < batch:
            return
        after = rows[-1][0]


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
    "beat_run", "decompress_raw", "fields_hash", "finish_run", "reap_dead_runs", "get_document", "index_document",
    "iso_time", "known_urls", "reindex",
    "migrate", "open_corpus", "record_site_failure", "record_site_success", "schema_version",
    "search", "start_run", "store_document", "upsert_site", "versions_of",
    "ObservationResult", "record_observations", "learned_params",
    "CLASSIFICATION_COLUMNS", "write_classification",
]
