"""Building a digest: which changes, grouped by kind, sorted by relevance, with what is known of
each document (title, issuer, 文号, dates, relevance and tags once classified, evidence), its
diff and its link.

A backfill's ``new`` documents — a backfill run, or the first crawl of a site that stored
anything, where everything is new — are not listed one by one: the digest counts them per site
and names the most relevant few. Classification columns (relevance, tags, evidence) may be absent or NULL: the digest uses
what is there.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any, Iterable, Sequence

import sqlite_utils

from crawlers.parsing import clock

# The order kinds appear in a digest, and what a researcher reads for each.
KINDS = ("new", "finalised", "revised", "repealed", "withdrawn")
KIND_LABELS = {
    "new": "新发布",
    "finalised": "征求意见稿已正式印发",
    "revised": "已修订",
    "repealed": "已废止/失效",
    "withdrawn": "已撤下",
}
RELEVANCE_ORDER = {"dedicated": 0, "mentions": 1, "related": 2, "none": 3}
RELEVANCE_LABELS = {"dedicated": "专项政策", "mentions": "相关政策", "related": "关联技术",
                    "none": "不相关"}
# Backfill summaries name this many of the most relevant documents.
BACKFILL_TOP = 5
# At most this many changes of one kind are listed; the rest are counted.
MAX_LISTED_PER_KIND = 100

_DOCUMENT_COLUMNS = ("id", "site", "url", "title", "doc_number", "issuer", "index_no",
                     "written_date", "published_date", "policy_id", "withdrawn_at", "repealed_at")
_CLASSIFIER_COLUMNS = ("relevance", "relevance_score", "scenarios", "measures", "techs", "level",
                       "region", "province", "city", "county", "city_tier", "doc_type", "status",
                       "evidence", "classifier_version")
_JSON_COLUMNS = ("scenarios", "measures", "techs", "evidence")


@dataclass
class Entry:
    """One change as a digest shows it."""

    id: int
    kind: str
    detected_at: str
    summary: str
    document: dict[str, Any]
    diff: dict[str, Any]
    run_kind: str | None = None
    backfill: bool = False
    resent: bool = False  # an earlier delivery of it may not have completed

    @property
    def relevance_key(self) -> tuple:
        doc = self.document
        label = doc.get("relevance")
        rank = RELEVANCE_ORDER.get(label, 4) if isinstance(label, str) else 4
        score = doc.get("relevance_score")
        if score is None and isinstance(label, (int, float)):
            score = label  # the placeholder REAL column, before the classifier's migration
        return (rank, -(score or 0.0), _neg_date(doc.get("published_date")), -self.id)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "kind_label": KIND_LABELS[self.kind],
                "detected_at": self.detected_at, "summary": self.summary,
                "document": self.document, "diff": self.diff, "backfill": self.backfill,
                "resent": self.resent}


def _neg_date(value: Any) -> int:
    try:
        return -date.fromisoformat(str(value)[:10]).toordinal()
    except ValueError:
        return 0


@dataclass
class BackfillSummary:
    """A backfill's new documents on one site: how many, and which matter most."""

    site: str
    site_name: str
    count: int
    top: list[Entry] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"site": self.site, "site_name": self.site_name, "count": self.count,
                "top": [e.to_json() for e in self.top]}


@dataclass
class Digest:
    """The changes of a period, ready to render."""

    generated_at: str
    since: str | None
    until: str
    entries: list[Entry] = field(default_factory=list)  # listed, in display order
    backfill: list[BackfillSummary] = field(default_factory=list)
    omitted: dict[str, int] = field(default_factory=dict)  # kind -> changes not listed
    channel: str | None = None
    # For maintainers: sites whose last runs say they are broken or blocked (pipelines.health).
    maintenance: list[dict[str, Any]] = field(default_factory=list)
    _all_ids: set[int] = field(default_factory=set, repr=False)

    @property
    def change_ids(self) -> list[int]:
        """Every change the digest covers (listed, summarised or counted)."""
        return sorted(self._all_ids)

    @property
    def empty(self) -> bool:
        return not self._all_ids

    def counts(self) -> dict[str, int]:
        """Changes per kind (a backfill's new documents included in ``new``)."""
        out = {kind: 0 for kind in KINDS}
        for entry in self.entries:
            out[entry.kind] += 1
        out["new"] += sum(s.count for s in self.backfill)
        for kind, n in self.omitted.items():
            out[kind] += n
        return out

    def by_kind(self) -> list[tuple[str, list[Entry]]]:
        """Listed entries grouped by kind, in ``KINDS`` order, each group sorted by relevance."""
        groups = []
        for kind in KINDS:
            entries = [e for e in self.entries if e.kind == kind]
            if entries or self.omitted.get(kind):
                groups.append((kind, entries))
        return groups

    @property
    def backfill_count(self) -> int:
        return sum(s.count for s in self.backfill)

    @property
    def resent(self) -> bool:
        return any(e.resent for e in self.entries) or any(
            e.resent for s in self.backfill for e in s.top)

    def headline(self) -> str:
        """One line: 'policywatch: 3 changes — 1 新发布, 2 已修订' or 'no changes'."""
        counts = {k: n for k, n in self.counts().items() if n}
        if not counts:
            return f"policywatch: no changes since {self.since_label}"
        total = sum(counts.values())
        parts = ", ".join(f"{n} {KIND_LABELS[k]}" for k, n in counts.items())
        return f"policywatch: {total} change{'s' if total != 1 else ''} — {parts}"

    @property
    def since_label(self) -> str:
        return self.since or "the start of the corpus"

    def to_json(self) -> dict[str, Any]:
        return {
            "generated_at": self.generated_at,
            "period": {"since": self.since, "until": self.until},
            "channel": self.channel,
            "headline": self.headline(),
            "counts": self.counts(),
            "changes": [e.to_json() for e in self.entries],
            "backfill": [s.to_json() for s in self.backfill],
            "omitted": self.omitted,
            "change_ids": self.change_ids,
            "maintenance": self.maintenance,
        }


def _columns(db: sqlite_utils.Database, table: str) -> set[str]:
    return {row[1] for row in db.execute(f"PRAGMA table_info([{table}])")}


def _loads(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def load_entries(db: sqlite_utils.Database, change_ids: Iterable[int],
                 resent: Iterable[int] = ()) -> list[Entry]:
    """The changes with these ids as digest entries, with their documents (classification
    columns included when the corpus has them)."""
    ids = sorted(set(change_ids))
    if not ids:
        return []
    present = _columns(db, "documents")
    doc_columns = [c for c in _DOCUMENT_COLUMNS + _CLASSIFIER_COLUMNS if c in present]
    select_docs = ", ".join(f'd."{c}" AS "doc_{c}"' for c in doc_columns)
    resent = set(resent)
    entries: list[Entry] = []
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        rows = db.execute(
            f"""SELECT c.id, c.kind, c.detected_at, c.summary, c.diff, r.kind AS run_kind,
                (r.kind = 'backfill' OR NOT EXISTS (SELECT 1 FROM versions v
                    JOIN runs r2 ON r2.id = v.run_id
                    WHERE r2.site = r.site AND r2.id < r.id)) AS first_or_backfill,
                s.name AS site_name, {select_docs}
            FROM changes c JOIN documents d ON d.id = c.document_id
            LEFT JOIN runs r ON r.id = c.run_id
            LEFT JOIN sites s ON s.key = d.site
            WHERE c.id IN ({marks})""", chunk,
        )
        names = [d[0] for d in rows.description]
        for row in rows.fetchall():
            record = dict(zip(names, row))
            document = {c: _loads(record[f"doc_{c}"]) for c in doc_columns}
            document["site_name"] = record["site_name"] or document.get("site")
            entries.append(Entry(
                id=record["id"], kind=record["kind"], detected_at=record["detected_at"],
                summary=record["summary"] or "", document=document,
                diff=json.loads(record["diff"] or "{}"), run_kind=record["run_kind"],
                backfill=bool(record["kind"] == "new" and record["run_kind"]
                              and record["first_or_backfill"]),
                resent=record["id"] in resent,
            ))
    return entries


def build_digest(db: sqlite_utils.Database, change_ids: Sequence[int], *, since: str | None,
                 until: str | None = None, channel: str | None = None,
                 resent: Iterable[int] = (), now: datetime | None = None) -> Digest:
    """A digest of the given changes: backfills summarised, the rest grouped and sorted."""
    moment = (now or clock.now()).astimezone(timezone.utc).isoformat(timespec="seconds")
    entries = load_entries(db, change_ids, resent)
    digest = Digest(generated_at=moment, since=since, until=until or moment, channel=channel)
    digest._all_ids = {e.id for e in entries}
    listed = [e for e in entries if not e.backfill]
    listed.sort(key=lambda e: (KINDS.index(e.kind), e.relevance_key))
    for kind in KINDS:
        of_kind = [e for e in listed if e.kind == kind]
        if len(of_kind) > MAX_LISTED_PER_KIND:
            digest.omitted[kind] = len(of_kind) - MAX_LISTED_PER_KIND
            for extra in of_kind[MAX_LISTED_PER_KIND:]:
                listed.remove(extra)
    digest.entries = listed
    by_site: dict[str, list[Entry]] = {}
    for entry in entries:
        if entry.backfill:
            by_site.setdefault(entry.document.get("site") or "", []).append(entry)
    for site, site_entries in sorted(by_site.items()):
        site_entries.sort(key=lambda e: e.relevance_key)
        digest.backfill.append(BackfillSummary(
            site=site, site_name=site_entries[0].document.get("site_name") or site,
            count=len(site_entries), top=site_entries[:BACKFILL_TOP]))
    digest.maintenance = maintenance_notes(db)
    return digest


def maintenance_notes(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """The broken and blocked sites, with why, for the digest's maintainer section."""
    from crawlers.sites import all_sites
    from pipelines.health import broken_sites

    return [{"site": h.site, "name": h.name, "state": h.state, "why": h.why,
             "last_success": h.last_success} for h in broken_sites(db, all_sites())]


def changes_since(db: sqlite_utils.Database, since: str | date | None = None,
                  until: str | date | None = None) -> list[int]:
    """Ids of the changes detected on or after ``since`` (a date or an ISO time) and before
    ``until``, oldest first."""
    clauses, params = [], []
    if since:
        clauses.append("detected_at >= ?")
        params.append(str(since))
    if until:
        clauses.append("detected_at < ?")
        params.append(str(until))
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    return [r[0] for r in db.execute(f"SELECT id FROM changes {where} ORDER BY id", params)]
