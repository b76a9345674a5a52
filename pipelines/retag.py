"""Re-tagging the stored corpus after a lexicon, rule or model change (``policywatch retag``).

Every document gets the current classifier's tags and version. A document whose type changed
across the 解读 line (a page now read as a 政策解读, or no longer) is re-linked (pipelines.interpretations) in the
same transaction. Work goes in batches, each batch one transaction: a stopped retag leaves
every document either wholly old or wholly new, and the next retag carries on with the ones
still on an old version.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Callable

import sqlite_utils

from classifiers.classify import ClassifyError, Document, classifier_version, classify
from crawlers.sites import get_site
from pipelines.classification import write_classification
from pipelines.interpretations import is_interpretation, relink_documents
from pipelines.values import iso_time

logger = logging.getLogger(__name__)

BATCH = 200


@dataclass
class RetagResult:
    version: str
    examined: int = 0
    updated: int = 0
    failed: int = 0
    relinked: int = 0  # 解读s linked to a policy because a document's type changed


def _site_jurisdictions(db: sqlite_utils.Database) -> dict[str, tuple[str | None, str | None]]:
    """site key -> (division code, level), from the corpus's sites, else the registry."""

    out: dict[str, tuple[str | None, str | None]] = {}
    for key, division, level in db.execute("SELECT key, division_code, level FROM sites"):
        if not division:
            try:
                site = get_site(key)
                division, level = site.division_code, site.level
            except KeyError:
                pass
        out[key] = (division, level)
    return out


def _document(db: sqlite_utils.Database, row: dict, sites: dict) -> Document:
    attachments = tuple(
        text for (text,) in db.execute(
            "SELECT text FROM attachments WHERE version_id = ? AND text IS NOT NULL ORDER BY id",
            [row["current_version_id"]],
        )
    )
    validity = None
    if row.get("fields"):
        validity = json.loads(row["fields"]).get("validity")
    division, level = sites.get(row["site"], (None, None))
    return Document(title=row["title"], text=row["body_text"] or "", issuer=row["issuer"],
                    attachments=attachments, published_date=row["published_date"],
                    site=row["site"], site_division=division, site_level=level,
                    validity=validity)


def retag(db: sqlite_utils.Database, everything: bool = False, batch: int = BATCH,
          progress: Callable[[RetagResult], None] | None = None) -> RetagResult:
    """Classify the stored documents again: those tagged by another classifier version (or
    never), or all of them with ``everything``."""

    version = classifier_version()
    result = RetagResult(version)
    where = "" if everything else "WHERE d.classifier_version IS NOT ?"
    params = [] if everything else [version]
    ids = [r[0] for r in db.execute(f"SELECT d.id FROM documents d {where} ORDER BY d.id", params)]
    sites = _site_jurisdictions(db)
    for start in range(0, len(ids), batch):
        chunk = ids[start:start + batch]
        marks = ",".join("?" * len(chunk))
        rows = list(db.query(
            f"""SELECT d.id, d.site, d.title, d.body_text, d.issuer, d.published_date,
                d.current_version_id, d.doc_type, v.fields
            FROM documents d LEFT JOIN versions v ON v.id = d.current_version_id
            WHERE d.id IN ({marks}) ORDER BY d.id""", chunk,
        ))
        tagged = []
        for row in rows:
            try:
                tagged.append((row["id"], classify(_document(db, row, sites)).columns()))
            except ClassifyError as exc:
                result.failed += 1
                logger.warning("document %d not classified: %s", row["id"], exc)
        # Only a change across the 解读 line moves links: a notice read as a plan keeps them.
        was = {row["id"]: is_interpretation(row["doc_type"], row["title"]) for row in rows}
        titles = {row["id"]: row["title"] for row in rows}
        retyped = [document_id for document_id, columns in tagged if "doc_type" in columns
                   and is_interpretation(columns["doc_type"], titles[document_id]) != was[document_id]]
        with db.atomic():
            for document_id, columns in tagged:
                write_classification(db, document_id, columns)
            if retyped:
                result.relinked += len(relink_documents(db, retyped, iso_time(None)))
        result.examined += len(rows)
        result.updated += len(tagged)
        if progress is not None:
            progress(result)
    return result
