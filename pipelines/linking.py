"""Lineage in the corpus: what a never-seen URL is to the documents already stored — a copy of
one (a repost or a moved page), the final of a known draft, a draft whose final is known, or
new — found by querying candidates and matching them (``pipelines.lineage``, pure), then
recorded as links (table ``lineage``, a shared ``policy_id``) and the change it makes."""

from __future__ import annotations

import logging
from typing import Any, Mapping

import sqlite_utils

from crawlers.items import PolicyItem
from crawlers.parsing.textnorm import hash_form
from pipelines import lineage
from pipelines.changes import compare
from pipelines.diff import text_diff
from pipelines.fulltext import item_text, stored_text
from pipelines.outbox import document_brief, insert_change
from pipelines.values import iso_date, to_json
from pipelines.versions import item_snapshot, version_snapshot
from pipelines.volatileparams import learned_params

logger = logging.getLogger(__name__)

_RECORD_FIELDS = ("id", "site", "url", "title", "issuer", "doc_number", "published_date",
                  "policy_id")


def link_new_document(
    db: sqlite_utils.Database, document_id: int, version_id: int, item: PolicyItem, url: str,
    seen_at: str, run_id: int | None,
) -> tuple[str, ...]:
    """Decide what the just-stored, never-seen ``url`` is — a copy of a known document (no
    alert; a same-site move with other text is a revision), the final of a known draft, or new
    — link it and record its change; returns the kinds recorded. Call inside the writing
    transaction."""
    me = {"id": document_id, "site": item.site, "url": url, "title": item.title,
          "issuer": item.issuer, "doc_number": item.doc_number,
          "published_date": iso_date(item.published_date), "text": item_text(item)}
    copy = lineage.find_copy(me, _copy_candidates(db, document_id, item))
    if copy is not None:
        return _as_copy(db, me, copy, version_id, item, seen_at, run_id)
    draft = lineage.find_draft(me, _draft_candidates(db, document_id, item.title))
    if draft is not None:
        return _as_final(db, me, draft, version_id, seen_at, run_id)
    if not (lineage.is_draft(item.title) and _link_to_known_final(db, document_id, me, seen_at)):
        db.execute("UPDATE documents SET policy_id = id WHERE id = ?", [document_id])
    insert_change(db, document_id, version_id, "new", seen_at, f"new: {item.title}",
                  {"url": url}, run_id)
    return ("new",)


def _as_copy(db: sqlite_utils.Database, me: Mapping[str, Any], copy: lineage.Match,
             version_id: int, item: PolicyItem, seen_at: str, run_id: int | None
             ) -> tuple[str, ...]:
    """A copy joins its original's policy: no alert, unless it moved on the same site and its
    content differs from the original's — then it is a revision."""
    _link(db, me["id"], copy, seen_at)
    original = document_brief(db, copy.document_id)
    logger.info("%s is a copy of document %d (%s)", me["url"], copy.document_id, copy.evidence["by"])
    if original["site"] != item.site:
        return ()
    learned = learned_params(db, item.site)
    before = version_snapshot(db, db.execute(
        "SELECT current_version_id FROM documents WHERE id = ?", [copy.document_id]).fetchone()[0],
        learned)
    revision = compare(before, item_snapshot(item, learned))
    if not revision.changed:
        return ()
    diff = {**revision.diff(), "moved_from": original}
    insert_change(db, me["id"], version_id, "revised", seen_at,
                  f"revised ({', '.join(revision.changed)}), moved: {item.title}", diff, run_id)
    return ("revised",)


def _as_final(db: sqlite_utils.Database, me: Mapping[str, Any], draft: lineage.Match,
              version_id: int, seen_at: str, run_id: int | None) -> tuple[str, ...]:
    """The final of a known draft joins the draft's policy, with a ``finalised`` change."""
    _link(db, me["id"], draft, seen_at)
    record = document_brief(db, draft.document_id)
    diff = {"draft": record, "match": draft.evidence,
            "text": text_diff(stored_text(db, draft.document_id), me["text"])}
    insert_change(db, me["id"], version_id, "finalised", seen_at,
                  f"finalised: {record['title']} → {me['title']}", diff, run_id)
    return ("finalised",)


def _record(db: sqlite_utils.Database, document_id: int) -> dict[str, Any]:
    """A stored document as ``pipelines.lineage`` matches it, with its whole text."""
    row = db.execute(f"SELECT {', '.join(_RECORD_FIELDS)} FROM documents WHERE id = ?",
                     [document_id]).fetchone()
    record = dict(zip(_RECORD_FIELDS, row))
    record["text"] = stored_text(db, document_id)
    return record


def _link(db: sqlite_utils.Database, document_id: int, match: lineage.Match, seen_at: str) -> int:
    """Make ``document_id`` part of the matched document's policy; returns the policy id."""
    policy_id = db.execute(
        "SELECT coalesce(policy_id, id) FROM documents WHERE id = ?", [match.document_id]
    ).fetchone()[0]
    db.execute("UPDATE documents SET policy_id = ? WHERE id = ?", [policy_id, document_id])
    db.execute(
        """INSERT OR IGNORE INTO lineage (document_id, related_id, relation, score, evidence,
            detected_at) VALUES (?, ?, ?, ?, ?, ?)""",
        [document_id, match.document_id, match.relation, match.score, to_json(match.evidence), seen_at],
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
    return [_record(db, other_id) for (other_id,) in rows]


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
            out.append(_record(db, draft_id))
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
            out.append(_record(db, final_id))
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
        [best.document_id, document_id, best.score, to_json(best.evidence), seen_at],
    )
    logger.info("draft %s joins the policy of its known final (document %d)", me["url"], best.document_id)
    return True
