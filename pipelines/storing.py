"""Storing one parsed document in the corpus: a new document, a new version of a known one, a
sighting of a fetch that differed only in volatile ways, or nothing new — with the changes it
makes recorded in the outbox, all in one transaction (``db.atomic()``).

Transactions use ``db.atomic()``, not ``with db.conn:``: sqlite-utils' ``db.execute`` commits a
statement at once unless a transaction was explicitly begun, so ``with db.conn:`` would not
make several statements atomic. Versions and sightings are never updated or deleted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlite_utils

from crawlers.items import PolicyItem
from crawlers.parsing.textnorm import BodyForms, body_forms, hash_form
from crawlers.parsing.urls import canonical_url
from pipelines.changes import (
    Revision,
    Snapshot,
    compare,
    status_says_repealed,
    volatile_differences,
)
from pipelines.classification import write_classification
from pipelines.interpretations import link_document
from pipelines.lineage import doc_number_key
from pipelines.linking import link_new_document
from pipelines.outbox import insert_change
from pipelines.repeals import record_repeals, repealing_decision
from pipelines.search import index_document
from pipelines.siterows import ensure_site
from pipelines.values import iso_date, iso_time
from pipelines.versions import (
    fields_hash,
    insert_sighting,
    insert_version,
    item_snapshot,
    version_snapshot,
)
from pipelines.volatileparams import learn_params, learned_params


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


@dataclass(frozen=True)
class _Fetch:
    """One storable item as the corpus keys, hashes and stamps it."""

    item: PolicyItem
    url: str
    seen_at: str
    run_id: int | None
    forms: BodyForms
    fields_hash: str

    @property
    def text_hash(self) -> str:
        return self.forms.text_hash

    def columns(self) -> dict[str, Any]:
        """The ``documents`` columns this fetch sets (besides the URL and the times)."""
        item = self.item
        return {
            "site": item.site,
            "title": item.title.strip(),
            "doc_number": item.doc_number,
            "issuer": item.issuer,
            "index_no": item.index_no,
            "topic": item.topic,
            "written_date": iso_date(item.written_date),
            "published_date": iso_date(item.published_date),
            "body_text": item.body_text or "",
            "text_hash": self.text_hash,
            "column": item.column,
            "doc_number_key": doc_number_key(item.doc_number),
            "title_key": hash_form(item.title),
        }


@dataclass(frozen=True)
class _Known:
    """The stored document a fetch's URL names."""

    document_id: int
    version_id: int
    repealed_at: str | None


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


def store_document(
    db: sqlite_utils.Database, item: PolicyItem, run_id: int | None = None,
    now: datetime | None = None,
) -> StoreResult:
    """Store one parsed document: a new document, a new version of a known one, or nothing
    new (an identical fetch only bumps ``last_seen``; one that differs only in volatile ways is
    kept as a sighting), and record in the ``changes`` outbox what changed (see
    ``pipelines.changes`` and ``pipelines.linking``): ``new``, ``finalised``, ``revised``,
    ``repealed`` — or nothing, for a repost of a known document.

    Raises ``Refused`` for an item that must not be stored; all-or-nothing otherwise.
    """
    fetch = _Fetch(item, check_storable(item), iso_time(item.fetched_at or now), run_id,
                   body_forms(item.body_text, item.body_forms), fields_hash(item))
    with db.atomic():
        ensure_site(db, item.site)
        row = db.execute(
            "SELECT id, current_version_id, repealed_at FROM documents WHERE url = ?", [fetch.url]
        ).fetchone()
        if row is None:
            return _store_new(db, fetch)
        known = _Known(*row)
        before, after = _snapshots(db, fetch, known)
        revision = compare(before, after)
        if revision.changed:
            return _store_revision(db, fetch, known, revision)
        differs = volatile_differences(before, after)
        if differs:
            return _store_sighting(db, fetch, known, differs)
        return _store_unchanged(db, fetch, known)


def _store_new(db: sqlite_utils.Database, fetch: _Fetch) -> StoreResult:
    """A URL never seen: the document row and its first version; then its links to the known
    documents decide its change (``new``, ``finalised``, or none for a copy)."""
    item = fetch.item
    cursor = db.execute(
        """INSERT INTO documents (site, url, title, doc_number, issuer, index_no, topic,
            written_date, published_date, body_text, text_hash, "column",
            doc_number_key, title_key, first_seen, last_seen, last_changed)
        VALUES (:site, :url, :title, :doc_number, :issuer, :index_no, :topic,
            :written_date, :published_date, :body_text, :text_hash, :column,
            :doc_number_key, :title_key, :seen, :seen, :seen)""",
        {**fetch.columns(), "url": fetch.url, "seen": fetch.seen_at},
    )
    document_id = cursor.lastrowid
    version_id = _add_version(db, fetch, document_id)
    db.execute("UPDATE documents SET current_version_id = ? WHERE id = ?",
               [version_id, document_id])
    _index_and_classify(db, fetch, document_id)
    # Links to the documents already known (a copy, a draft's final, a final's draft).
    recorded = link_new_document(db, document_id, version_id, item, fetch.url, fetch.seen_at,
                                 fetch.run_id)
    if status_says_repealed(getattr(item, "validity", None)) or \
            repealing_decision(db, doc_number_key(item.doc_number), document_id) is not None:
        # Known as repealed from the first sight (its status says so, or a stored decision
        # repealed its 文号): a fact about it, not news.
        db.execute("UPDATE documents SET repealed_at = ? WHERE id = ?",
                   [fetch.seen_at, document_id])
    if record_repeals(db, document_id, item, fetch.seen_at, fetch.run_id):
        recorded += ("repealed",)
    _link_interpretations(db, document_id, fetch)
    return StoreResult("new", document_id, version_id, recorded)


def _store_unchanged(db: sqlite_utils.Database, fetch: _Fetch, known: _Known) -> StoreResult:
    """A known document fetched as it is stored: it was seen, nothing else."""
    _mark_seen(db, fetch, known)
    return StoreResult("unchanged", known.document_id, known.version_id)


def _store_sighting(db: sqlite_utils.Database, fetch: _Fetch, known: _Known,
                    differs: list[str]) -> StoreResult:
    """A known document whose fetch differs only in volatile ways (a new ``?t=``, a
    regenerated file): no change, but the fetch is kept as a sighting of the version."""
    _mark_seen(db, fetch, known)
    sighting = insert_sighting(db, known.document_id, known.version_id, fetch.item, fetch.run_id,
                               fetch.seen_at, fetch.text_hash, differs)
    return StoreResult("unchanged", known.document_id, known.version_id, sighting_id=sighting)


def _store_revision(db: sqlite_utils.Database, fetch: _Fetch, known: _Known,
                    revision: Revision) -> StoreResult:
    """A known document that changed: a new version, and its ``revised`` change — or only a
    ``repealed`` one when its status field alone now says 失效."""
    document_id = known.document_id
    version_id = _add_version(db, fetch, document_id)
    db.execute(
        """UPDATE documents SET site = :site, title = :title, doc_number = :doc_number,
            issuer = :issuer, index_no = :index_no, topic = :topic,
            written_date = :written_date, published_date = :published_date,
            body_text = :body_text, text_hash = :text_hash, "column" = :column,
            doc_number_key = :doc_number_key, title_key = :title_key,
            last_seen = max(last_seen, :seen), last_changed = :seen,
            current_version_id = :version_id
        WHERE id = :id""",
        {**fetch.columns(), "seen": fetch.seen_at, "version_id": version_id, "id": document_id},
    )
    _index_and_classify(db, fetch, document_id)
    title = fetch.item.title.strip()
    recorded: tuple[str, ...] = ()
    if revision.repealed_by_status and known.repealed_at is None:
        db.execute("UPDATE documents SET repealed_at = ? WHERE id = ?",
                   [fetch.seen_at, document_id])
        status = next(f for f in revision.fields if f["field"] == "validity")
        insert_change(db, document_id, version_id, "repealed", fetch.seen_at,
                      f"repealed ({status['label']}: {status['new']}): {title}",
                      {"by": "status", "fields": [status]}, fetch.run_id)
        recorded += ("repealed",)
    if not revision.only_repeal:
        diff = {**revision.diff(), "previous_version_id": known.version_id}
        insert_change(db, document_id, version_id, "revised", fetch.seen_at,
                      f"revised ({', '.join(revision.changed)}): {title}", diff, fetch.run_id)
        recorded += ("revised",)
    if "text" in revision.changed and \
            record_repeals(db, document_id, fetch.item, fetch.seen_at, fetch.run_id):
        recorded += ("repealed",)
    _link_interpretations(db, document_id, fetch)
    return StoreResult("revised", document_id, version_id, recorded)


def _link_interpretations(db: sqlite_utils.Database, document_id: int, fetch: _Fetch) -> None:
    """A 解读 and the policy it explains are linked whichever is stored first
    (``pipelines.interpretations``)."""
    item = fetch.item
    link_document(db, document_id, fetch.seen_at, item.raw_body, item.http_headers, item.raw_encoding)


def _snapshots(db: sqlite_utils.Database, fetch: _Fetch, known: _Known
               ) -> tuple[Snapshot, Snapshot]:
    """The stored version and the fetch as change detection compares them, after learning
    from this fetch which of the site's link parameters are volatile."""
    site = fetch.item.site
    learn_params(db, site, version_snapshot(db, known.version_id), fetch.item, fetch.seen_at)
    learned = learned_params(db, site)
    return version_snapshot(db, known.version_id, learned), item_snapshot(fetch.item, learned)


def _add_version(db: sqlite_utils.Database, fetch: _Fetch, document_id: int) -> int:
    return insert_version(db, document_id, fetch.item, fetch.run_id, fetch.seen_at,
                          fetch.text_hash, fetch.fields_hash)


def _index_and_classify(db: sqlite_utils.Database, fetch: _Fetch, document_id: int) -> None:
    index_document(db, document_id, fetch.item.title.strip(), fetch.item.body_text or "",
                   fetch.forms.search_form)
    write_classification(db, document_id, fetch.item.classification)


def _mark_seen(db: sqlite_utils.Database, fetch: _Fetch, known: _Known) -> None:
    db.execute("UPDATE documents SET last_seen = max(last_seen, ?) WHERE id = ?",
               [fetch.seen_at, known.document_id])
    # A newer classifier's tags are not a change of the document, but they are kept.
    write_classification(db, known.document_id, fetch.item.classification, only_if_stale=True)
