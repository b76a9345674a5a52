"""A document's page in ``policywatch browse``, read from the corpus: what a researcher reads
first (title, metadata in Chinese, text, attachments, versions, the policy's timeline), then the
internal fields, collapsed.

The timeline is the policy's, not the page's: every document of the policy (the draft, the
final, reposts), the publication of each 政策解读 linked to it (pipelines.interpretations), each
change recorded for them (new, finalised, revised, withdrawn, repealed) and the decision that
repealed one, oldest first. Times are shown in the schedule's time zone, which the browse
command passes down (``tz``).
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any, Mapping
from zoneinfo import ZoneInfo

import sqlite_utils

from digest.browselabels import column_label, value_label
from digest.build import KIND_LABELS
from digest.labels import evidence_text
from digest.localtime import parse, zone
from pipelines.interpretations import interpretations_of
from pipelines.lineage import is_about_a_document, is_draft

# Times are stored in UTC; a researcher reads them in the schedule's time zone ([schedule]
# timezone), this one when the page is not told another.
TIMEZONE = zone()
# The metadata block, in reading order; a column the corpus lacks or the document leaves empty
# is left out.
METADATA = ("issuer", "doc_number", "index_no", "written_date", "published_date", "doc_type",
            "status", "relevance", "level", "region", "province", "city", "county", "city_tier",
            "scenarios", "measures", "techs", "topic", "site", "url", "first_seen", "last_seen",
            "withdrawn_at", "repealed_at")
# Shown elsewhere on the page (title, text, evidence, policy), not again among the internals.
SHOWN_APART = {"title", "body_text", "evidence", "policy_id"}
TIMES = {"first_seen", "last_seen", "last_changed", "withdrawn_at", "repealed_at",
         "last_checked", "next_check_at"}
# What a document's own publication is called on the timeline.
PUBLISHED = {"draft": "征求意见稿发布", "final": "正式印发", "interpretation": "政策解读发布",
             "repealed": "发布", "revised": "修订稿发布"}
# A page shows at most this much of the text (a runaway extraction can be megabytes); the rest
# is in the row's JSON.
MAX_TEXT_SHOWN = 200_000
# What each recorded change is on a timeline (the digest's words, but "new" is when policywatch
# first saw the page, not when it was issued: the publication is its own event).
CHANGE_EVENTS = {**KIND_LABELS, "new": "首次收录", "withdrawn": "原网页已撤下"}
# Time of day for sorting a date-only event before the same day's detections.
_DAY_START = "T00:00:00"


def local_time(value: str | None, tz: ZoneInfo = TIMEZONE) -> str:
    """A stored UTC time (ISO) as 2026-11-25 09:30 in ``tz``; a date stays a date."""
    if not value or len(value) <= 10:
        return value or ""
    try:
        return parse(value.replace("Z", "+00:00"), tz).strftime("%Y-%m-%d %H:%M")
    except ValueError:  # not a time the corpus writes: shown as stored
        return value


def web_link(url: str | None) -> str | None:
    """``url`` when it is a web address (http, https), to link to; None for anything else a
    portal's page may have carried (``javascript:``, ``data:``), shown as text instead."""
    text = (url or "").strip()
    return text if text.lower().startswith(("http://", "https://")) else None


def _rows(conn: sqlite3.Connection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cursor = conn.execute(sql, params)
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _publication(doc: Mapping[str, Any]) -> str:
    if doc.get("doc_type") == "interpretation" or is_about_a_document(doc.get("title")):
        return PUBLISHED["interpretation"]
    status = doc.get("status") or ("draft" if is_draft(doc.get("title")) else "final")
    return PUBLISHED.get(status, PUBLISHED["final"])


def timeline(conn: sqlite3.Connection, document: Mapping[str, Any],
             tz: ZoneInfo = TIMEZONE) -> list[dict[str, Any]]:
    """The policy's events, oldest first: each with ``when`` (shown), ``label``, the document
    (``document_id``, ``title``), whether it is this page's document, and a ``note``."""
    tables = _tables(conn)
    policy = document.get("policy_id") or document["id"]
    members = _rows(conn, "SELECT * FROM documents WHERE id = ? OR policy_id = ? OR id = ?",
                    [document["id"], policy, policy])
    ids = [m["id"] for m in members]
    events: list[dict[str, Any]] = []

    def add(sort_key: str, when: str, label: str, doc: Mapping[str, Any], note: str = "",
            kind: str = "", version_id: int | None = None) -> None:
        events.append({"sort": sort_key, "when": when, "label": label, "kind": kind,
                       "document_id": doc["id"], "title": doc["title"],
                       "this": doc["id"] == document["id"], "note": note,
                       "version_id": version_id})

    for m in members:
        day = m.get("published_date") or m.get("written_date")
        if day:
            add(day + _DAY_START, day, _publication(m), m, m.get("doc_number") or "",
                kind="published")
    # The 解读s of the policy are not its members (a 解读 is never in a lineage): their
    # publication is an event of the policy all the same.
    for j in interpretations_of(sqlite_utils.Database(conn), [document["id"]]).get(document["id"], []):
        if j["id"] not in ids and j.get("published_date"):
            add(j["published_date"] + _DAY_START, j["published_date"], PUBLISHED["interpretation"],
                j, kind="interpretation")
    marks = ",".join("?" * len(ids))
    recorded: set[tuple[int, str]] = set()
    if "changes" in tables:
        # The stored summary repeats the kind and title (for the digest): not shown here.
        for c in _rows(conn, f"SELECT id, document_id, kind, detected_at, version_id "
                             f"FROM changes WHERE document_id IN ({marks}) ORDER BY id", ids):
            doc = next(m for m in members if m["id"] == c["document_id"])
            recorded.add((doc["id"], c["kind"]))
            add(c["detected_at"] or "", local_time(c["detected_at"], tz),
                CHANGE_EVENTS.get(c["kind"], c["kind"]), doc, kind=c["kind"],
                version_id=c["version_id"] if c["kind"] == "revised" else None)
    for m in members:  # states recorded on the document but not (or not yet) as a change
        for column, kind in (("withdrawn_at", "withdrawn"), ("repealed_at", "repealed")):
            if m.get(column) and (m["id"], kind) not in recorded:
                add(m[column], local_time(m[column], tz), CHANGE_EVENTS[kind], m, kind=kind)
    if "repeal_targets" in tables:
        keys = sorted({m["doc_number_key"] for m in members if m.get("doc_number_key")})
        if keys:
            for r in _rows(conn, "SELECT d.id, d.title, d.published_date, d.first_seen, "
                                 "t.evidence FROM repeal_targets t JOIN documents d "
                                 f"ON d.id = t.decision_id WHERE t.doc_number_key IN "
                                 f"({','.join('?' * len(keys))})", keys):
                day = r["published_date"] or (r["first_seen"] or "")[:10]
                add(day + _DAY_START, day, "废止决定发布", r, r["evidence"] or "",
                    kind="decision")
    events.sort(key=lambda e: (e["sort"], e["document_id"]))
    return events


def document_page(conn: sqlite3.Connection, document_id: int,
                  site_names: Mapping[str, str] | None = None,
                  tz: ZoneInfo = TIMEZONE) -> dict[str, Any] | None:
    """Everything a document's page shows, or None when there is no such document; times in
    ``tz``."""
    found = _rows(conn, "SELECT * FROM documents WHERE id = ?", [document_id])
    if not found:
        return None
    doc = found[0]
    tables = _tables(conn)
    metadata = []
    for column in METADATA:
        value = doc.get(column)
        if value in (None, "", "[]"):
            continue
        shown = local_time(value, tz) if column in TIMES else value_label(column, value, site_names)
        metadata.append({"column": column, "label": column_label(column), "value": shown,
                         "link": web_link(value) if column == "url" else None})
    if doc.get("relevance_score") is not None and doc.get("relevance"):
        for item in metadata:
            if item["column"] == "relevance":
                item["value"] += f"（得分 {doc['relevance_score']:.2f}）"
    evidence = None
    if doc.get("evidence"):
        try:
            evidence = evidence_text(json.loads(doc["evidence"]))
        except (ValueError, AttributeError):
            evidence = doc["evidence"]
    internal = [{"column": k, "value": v} for k, v in doc.items()
                if k not in METADATA and k not in SHOWN_APART and k != "id"]
    versions = _rows(conn, "SELECT id, fetched_at, text_source, http_status, "
                           "length(body_text) AS chars FROM versions WHERE document_id = ? "
                           "ORDER BY id", [document_id]) if "versions" in tables else []
    for v in versions:
        v["fetched"] = local_time(v["fetched_at"], tz)
    attachments = []
    if "attachments" in tables and doc.get("current_version_id"):
        attachments = _rows(conn, "SELECT url, name, size, content_type, error, "
                                  "length(text) AS chars FROM attachments WHERE version_id = ? "
                                  "ORDER BY id", [doc["current_version_id"]])
        for a in attachments:
            a["link"] = web_link(a["url"])
    text = doc.get("body_text") or ""
    return {
        "document": doc, "title": doc["title"], "metadata": metadata, "evidence": evidence,
        "paragraphs": [p for p in text[:MAX_TEXT_SHOWN].split("\n") if p.strip()],
        "text_cut": len(text) > MAX_TEXT_SHOWN, "text_shown": MAX_TEXT_SHOWN,
        "text_chars": len(text),
        "attachments": attachments, "versions": versions,
        "timeline": timeline(conn, doc, tz), "internal": internal,
    }
