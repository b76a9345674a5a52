"""Which documents a report or an export covers: the filters, and the one-per-policy rule.

Reads ``documents`` with the classifier's and the change detector's columns (see the shared data
contract in DESIGN/TAXONOMY): any of them may be missing from an older corpus or still NULL, and
then reads as None. Counting follows TAXONOMY.md §5: the unit is the policy; documents sharing a
``policy_id`` (a draft and its final, reposts, moved copies) count once, as the final.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Iterable

import sqlite_utils

from digest.labels import LEVELS, REGIONS, RELEVANCE, TAG_FAMILIES
from pipelines.interpretations import has_links, is_interpretation

logger = logging.getLogger(__name__)

BASE_COLUMNS = (
    "id", "site", "url", "title", "doc_number", "issuer", "index_no", "topic", "written_date",
    "published_date", "first_seen", "last_seen", "last_changed", "current_version_id",
)
# Written by the classifier and the change detector; absent or NULL until they ran.
CLASSIFICATION_COLUMNS = (
    "relevance", "relevance_score", "scenarios", "measures", "techs", "level", "region",
    "province", "city", "county", "city_tier", "doc_type", "status", "evidence",
    "classifier_version",
)
LINEAGE_COLUMNS = ("policy_id", "withdrawn_at", "repealed_at")
TAG_COLUMNS = tuple(TAG_FAMILIES)
# A title that says it is a draft, for corpora the classifier has not given a status yet.
DRAFT_MARKERS = ("征求意见", "草案")


class SelectionError(ValueError):
    """A filter that cannot be applied, or a corpus value that cannot be read."""


@dataclass
class Document:
    """One ``documents`` row as reports and exports read it (tag columns as lists)."""

    id: int
    site: str
    url: str
    title: str
    site_name: str | None = None
    values: dict[str, Any] = field(default_factory=dict)
    # Filled by the one-per-policy selection: the other documents of the same policy.
    other_documents: list["Document"] = field(default_factory=list)

    def __getattr__(self, name: str) -> Any:
        # Columns a corpus may not have yet read as None instead of failing.
        if name.startswith("_") or name in ("values", "other_documents"):
            raise AttributeError(name)
        return self.values.get(name)

    @property
    def policy_key(self) -> int:
        """The policy this document belongs to: ``policy_id``, or itself before lineage exists."""
        return self.values.get("policy_id") or self.id

    @property
    def date(self) -> str | None:
        """The document's date as counted: published, else written, else first seen (YYYY-MM-DD)."""
        value = self.values.get("published_date") or self.values.get("written_date")
        if not value and self.values.get("first_seen"):
            value = str(self.values["first_seen"])[:10]
        return value or None

    @property
    def month(self) -> str | None:
        return self.date[:7] if self.date else None

    @property
    def is_draft(self) -> bool:
        status = self.values.get("status")
        if status:
            return status == "draft"
        return any(marker in (self.title or "") for marker in DRAFT_MARKERS)

    def tags(self, column: str) -> list[str]:
        return self.values.get(column) or []

    @property
    def is_interpretation(self) -> bool:
        """A 政策解读 (图解, 答记者问...): it explains a policy and is not counted as one."""
        return is_interpretation(self.values.get("doc_type"), self.title)


@dataclass(frozen=True)
class Filters:
    """What to cover. Empty tuples mean "any"; dates are inclusive (on ``Document.date``)."""

    date_from: date | None = None
    date_to: date | None = None
    relevance: tuple[str, ...] = ()
    sites: tuple[str, ...] = ()
    levels: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_values("relevance", self.relevance, RELEVANCE)
        _check_values("level", self.levels, LEVELS)
        _check_values("region", self.regions, REGIONS)
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise SelectionError(
                f"--from {self.date_from} is after --to {self.date_to}: the period is empty"
            )

    def matches(self, doc: Document) -> bool:
        day = doc.date
        if self.date_from and (not day or day < self.date_from.isoformat()):
            return False
        if self.date_to and (not day or day > self.date_to.isoformat()):
            return False
        if self.relevance and doc.relevance not in self.relevance:
            return False
        if self.sites and doc.site not in self.sites:
            return False
        if self.levels and doc.level not in self.levels:
            return False
        if self.regions and doc.region not in self.regions:
            return False
        return True

    def describe(self) -> list[tuple[str, str]]:
        """(name, value) pairs saying what the selection covers, for a report's header."""
        period = f"{self.date_from or '最早'} — {self.date_to or '最新'}"
        out = [("时间范围", period)]
        if self.relevance:
            out.append(("相关性", "、".join(f"{RELEVANCE[r]}（{r}）" for r in self.relevance)))
        if self.sites:
            out.append(("网站", "、".join(self.sites)))
        if self.levels:
            out.append(("层级", "、".join(LEVELS[v] for v in self.levels)))
        if self.regions:
            out.append(("地区", "、".join(self.regions)))
        return out


def _check_values(name: str, given: Iterable[str], allowed: Iterable[str]) -> None:
    allowed = tuple(allowed)
    for value in given:
        if value not in allowed:
            raise SelectionError(f"unknown {name} {value!r}: use one of {', '.join(allowed)}")


def parse_date(value: str | None, option: str) -> date | None:
    """A YYYY-MM-DD option value as a date; a clear error naming the option otherwise."""
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise SelectionError(f"{option} {value!r} is not a date (YYYY-MM-DD)") from None


def document_columns(db: sqlite_utils.Database) -> set[str]:
    """The columns ``documents`` has in this corpus."""
    return {row[1] for row in db.execute("PRAGMA table_info(documents)").fetchall()}


def _tag_list(raw: Any, column: str, doc_id: int) -> list[str]:
    if raw in (None, ""):
        return []
    try:
        value = json.loads(raw) if isinstance(raw, str) else raw
    except json.JSONDecodeError:
        raise SelectionError(
            f"document {doc_id}: {column} is not JSON ({str(raw)[:60]!r}); re-run the classifier"
        ) from None
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise SelectionError(f"document {doc_id}: {column} is not a JSON list of tag names")
    return value


def _evidence(raw: Any, doc_id: int) -> dict[str, Any] | None:
    if raw in (None, ""):
        return None
    try:
        value = json.loads(raw) if isinstance(raw, str) else raw
    except json.JSONDecodeError:
        raise SelectionError(f"document {doc_id}: evidence is not JSON") from None
    return value if isinstance(value, dict) else {"evidence": value}


def load_documents(db: sqlite_utils.Database, with_text: bool = False) -> list[Document]:
    """Every stored document with whatever classification the corpus holds."""
    present = document_columns(db)
    wanted = [*BASE_COLUMNS, *CLASSIFICATION_COLUMNS, *LINEAGE_COLUMNS]
    if with_text:
        wanted.append("body_text")
    select = [f'd."{c}"' if c in present else f'NULL AS "{c}"' for c in wanted]
    select += _explains_columns(db)
    sql = (f"SELECT {', '.join(select)}, s.name AS site_name FROM documents d "
           f"LEFT JOIN sites s ON s.key = d.site {_explains_join(db)} ORDER BY d.id")
    docs = []
    for row in db.query(sql):
        values = dict(row)
        doc_id = values["id"]
        for column in TAG_COLUMNS:
            values[column] = _tag_list(values[column], column, doc_id)
        values["evidence"] = _evidence(values["evidence"], doc_id)
        docs.append(Document(id=doc_id, site=values["site"], url=values["url"],
                             title=values["title"], site_name=values.pop("site_name"),
                             values=values))
    return docs


# The policy a 解读 explains (pipelines.interpretations), for exports: its id and title.
EXPLAINS_COLUMNS = ("explains_id", "explains_title")


def _explains_columns(db: sqlite_utils.Database) -> list[str]:
    if has_links(db):
        return ['i.explains_id AS "explains_id"', 'e.title AS "explains_title"']
    return [f'NULL AS "{c}"' for c in EXPLAINS_COLUMNS]


def _explains_join(db: sqlite_utils.Database) -> str:
    if not has_links(db):
        return ""
    return ("LEFT JOIN interpretations i ON i.document_id = d.id "
            "LEFT JOIN documents e ON e.id = i.explains_id")


def interpretation_count(db: sqlite_utils.Database, filters: Filters) -> int:
    """The 解读s the filters cover: a report says how many there were, counting none."""
    return sum(1 for d in load_documents(db) if d.is_interpretation and filters.matches(d))


def _representative_order(doc: Document) -> tuple:
    # The final first (a draft only when the policy has nothing else), a live page before a
    # withdrawn one, then the earliest: the original publication rather than a later repost.
    return (doc.is_draft, doc.withdrawn_at is not None, doc.date or "9999-99-99", doc.id)


def policies(docs: Iterable[Document]) -> list[Document]:
    """One document per policy, its final where there is one, with ``other_documents`` set."""
    groups: dict[int, list[Document]] = {}
    for doc in docs:
        groups.setdefault(doc.policy_key, []).append(doc)
    chosen = []
    for members in groups.values():
        members.sort(key=_representative_order)
        head = members[0]
        head.other_documents = members[1:]
        chosen.append(head)
    return chosen


def select_documents(
    db: sqlite_utils.Database, filters: Filters, per_policy: bool = True,
    with_text: bool = False,
) -> list[Document]:
    """The documents the filters cover, oldest first.

    With ``per_policy`` a policy is represented once, by its final, and the filters apply to
    that document (a draft whose final falls outside the period is not counted in it); a 解读
    is no policy and is left out.
    """
    docs = load_documents(db, with_text=with_text)
    if per_policy:
        docs = policies(d for d in docs if not d.is_interpretation)
    chosen = [d for d in docs if filters.matches(d)]
    chosen.sort(key=lambda d: (d.date or "9999-99-99", d.id))
    return chosen


def unclassified_count(db: sqlite_utils.Database) -> int:
    """Documents the classifier has not labelled (no relevance): a report cannot count them."""
    if "relevance" not in document_columns(db):
        return db.execute("SELECT count(*) FROM documents").fetchone()[0]
    return db.execute("SELECT count(*) FROM documents WHERE relevance IS NULL").fetchone()[0]


def site_keys(db: sqlite_utils.Database) -> set[str]:
    return {row[0] for row in db.execute("SELECT key FROM sites")}


__all__ = [
    "Document", "EXPLAINS_COLUMNS", "Filters", "SelectionError", "document_columns",
    "interpretation_count", "load_documents", "parse_date",
    "policies", "select_documents", "site_keys", "unclassified_count",
]
