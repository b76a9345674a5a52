"""Presence: what a crawl saw of a site's known pages — present, gone, withdrawn, back.

A known document is absent when its page answered 404/410, or when a complete column it
belongs to no longer lists it. Absent on two check days after it was last present
(``pipelines.changes.withdrawal_due``), it is withdrawn — or, when a copy of it lives on,
moved, which is no news. A withdrawn document seen again is back (restored).
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timezone
from itertools import chain
from typing import Iterable, Mapping, NamedTuple

import sqlite_utils

from crawlers.parsing.urls import canonical_url
from pipelines.changes import withdrawal_due
from pipelines.outbox import insert_change
from pipelines.values import iso_date, iso_time, utcnow

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ObservationResult:
    """What ``record_observations`` did: documents seen present, absences recorded, documents
    found withdrawn (with a change) or moved (withdrawn, no change: a copy lives on), restored."""

    present: int = 0
    absent: int = 0
    withdrawn: tuple[int, ...] = ()
    moved: tuple[int, ...] = ()
    restored: tuple[int, ...] = ()


class _Document(NamedTuple):
    """A known document as presence reads it."""

    id: int
    url: str
    column: str | None
    published: str | None
    present_on: str | None
    withdrawn_at: str | None
    version_id: int | None
    title: str


@dataclass(frozen=True)
class _Crawl:
    """What one crawl saw, canonicalised, and when (``day`` the check day, ``moment`` the
    time recorded)."""

    run_id: int | None
    day: str
    moment: str
    seen: set[str]
    gone: dict[str, str]
    complete: set[str]
    oldest: dict[str, str | None]

    def absence(self, doc: _Document) -> str | None:
        """Why ``doc``, not seen, is absent (``http_404``, ``http_410``, ``unlisted``), or None
        when this crawl says nothing of it. Unlisted counts only for a document newer than
        the oldest entry its column still lists (a list that keeps only its latest entries
        drops old ones without withdrawing them)."""
        reason = self.gone.get(doc.url)
        if reason is None and doc.column in self.complete and doc.published \
                and self.oldest.get(doc.column) and doc.published > self.oldest[doc.column]:
            reason = "unlisted"
        return reason


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

    A withdrawn document seen again is restored (a ``revised`` change says so). One
    transaction.
    """
    crawl = _crawl(run_id, present, gone, listed, complete, oldest, day, when)
    counts: Counter[str] = Counter()
    named: dict[str, list[int]] = {"restored": [], "moved": [], "withdrawn": []}
    with db.atomic():
        for doc in _site_documents(db, site):
            if doc.url in crawl.seen:
                outcome = _back(db, doc, crawl) if doc.withdrawn_at is not None \
                    else _present(db, doc, crawl)
            elif doc.withdrawn_at is None and (reason := crawl.absence(doc)) is not None:
                outcome = _absent(db, doc, reason, crawl)
            else:
                continue
            counts[outcome] += 1
            if outcome in named:
                named[outcome].append(doc.id)
    return ObservationResult(
        counts["present"] + counts["restored"],
        counts["absent"] + counts["moved"] + counts["withdrawn"],
        tuple(named["withdrawn"]), tuple(named["moved"]), tuple(named["restored"]))


def _crawl(run_id: int | None, present: Iterable[str], gone: Mapping[str, str] | None,
           listed: Mapping[str, Iterable[str]] | None, complete: Iterable[str],
           oldest: Mapping[str, date | None] | None, day: str | None,
           when: datetime | None) -> _Crawl:
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
    return _Crawl(
        run_id=run_id,
        day=day or (when or utcnow()).astimezone(timezone.utc).date().isoformat(),
        moment=iso_time(when),
        seen=seen,
        gone=gone,
        complete=set(complete),
        oldest={c: iso_date(d) for c, d in (oldest or {}).items()},
    )


def _present(db: sqlite_utils.Database, doc: _Document, crawl: _Crawl) -> str:
    db.execute("UPDATE documents SET present_on = max(coalesce(present_on, ''), ?) "
               "WHERE id = ?", [crawl.day, doc.id])
    return "present"


def _back(db: sqlite_utils.Database, doc: _Document, crawl: _Crawl) -> str:
    """A withdrawn document seen again: restored, with a change if its withdrawal was one."""
    _present(db, doc, crawl)
    db.execute("UPDATE documents SET withdrawn_at = NULL WHERE id = ?", [doc.id])
    alerted = db.execute(
        """SELECT 1 FROM changes WHERE document_id = ? AND kind = 'withdrawn'
        AND detected_at = ?""", [doc.id, doc.withdrawn_at]).fetchone()
    if alerted:  # a silently moved copy coming back is no news either
        insert_change(db, doc.id, doc.version_id, "revised", crawl.moment,
                      f"restored: {doc.title}",
                      {"changed": ["restored"], "withdrawn_at": doc.withdrawn_at}, crawl.run_id)
    return "restored"


def _absent(db: sqlite_utils.Database, doc: _Document, reason: str, crawl: _Crawl) -> str:
    """Record one day's absence; withdraw the document when its absences make it due."""
    db.execute(
        """INSERT OR IGNORE INTO absences (document_id, run_id, day, observed_at, reason)
        VALUES (?, ?, ?, ?, ?)""", [doc.id, crawl.run_id, crawl.day, crawl.moment, reason])
    history = db.execute(
        "SELECT day, reason FROM absences WHERE document_id = ? ORDER BY day", [doc.id]
    ).fetchall()
    if not withdrawal_due([d for d, _ in history], doc.present_on):
        return "absent"
    return _withdraw(db, doc, history, crawl)


def _withdraw(db: sqlite_utils.Database, doc: _Document, history: list[tuple[str, str]],
              crawl: _Crawl) -> str:
    """Withdrawn: with a change naming the checks that found it absent — or moved, silently,
    when a copy of it (same policy, ``lineage``) lives on."""
    db.execute("UPDATE documents SET withdrawn_at = ? WHERE id = ?", [crawl.moment, doc.id])
    live_copy = db.execute(
        """SELECT d.id, d.url FROM documents d JOIN documents me ON me.id = ?
        WHERE d.policy_id = me.policy_id AND d.id != me.id AND d.withdrawn_at IS NULL
        AND EXISTS (SELECT 1 FROM lineage l WHERE l.relation = 'copy'
            AND ((l.document_id = d.id AND l.related_id = me.id)
              OR (l.document_id = me.id AND l.related_id = d.id)))""", [doc.id],
    ).fetchone()
    if live_copy is not None:
        logger.info("%s is gone but its copy %s lives on: moved, not withdrawn",
                    doc.url, live_copy[1])
        return "moved"
    checks = [{"day": d, "reason": r} for d, r in history
              if doc.present_on is None or d > doc.present_on]
    insert_change(db, doc.id, doc.version_id, "withdrawn", crawl.moment,
                  f"withdrawn ({', '.join(sorted({c['reason'] for c in checks}))}): {doc.title}",
                  {"checks": checks, "last_present": doc.present_on}, crawl.run_id)
    return "withdrawn"


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
        yield from map(_Document._make, rows)
        if len(rows) < batch:
            return
        after = rows[-1][0]
