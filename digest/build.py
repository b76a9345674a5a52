"""Building a digest: which changes, for which subscription, grouped by kind, sorted by
relevance, with what is known of each document (title, issuer, 文号, dates, relevance and tags
once classified, evidence), its diff and its link.

A digest is built for one subscription (digest.subscriptions): the changes it matches are listed
in full; the rest are one short section per site — counts by kind and, for new, finalised and
revised documents, one line per title (withdrawals and repeals are counted, not detailed). A
backfill's ``new`` documents — a backfill run, or the first crawl of a site that stored
anything, where everything is new — are not listed one by one: the digest counts them per site
and names the most relevant few. Every part is bounded, however many changes a day brings.
Times are read in the schedule's time zone (digest.localtime). Classification columns
(relevance, tags, evidence) may be absent or NULL: the digest uses what is there.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any, Iterable, Sequence
from zoneinfo import ZoneInfo

import sqlite_utils

from crawlers.parsing import clock
from crawlers.sites import all_sites
from digest.labels import CHANGE_KINDS
from digest.localtime import local_date, local_iso, shown, zone
from digest.subscriptions import Subscription, default_subscription
from pipelines.health import broken_sites
from pipelines.interpretations import explained_by, interpretations_of

# The order kinds appear in a digest, and what a researcher reads for each.
KINDS = tuple(CHANGE_KINDS)
KIND_LABELS = CHANGE_KINDS
RELEVANCE_ORDER = {"dedicated": 0, "mentions": 1, "related": 2, "none": 3}
RELEVANCE_LABELS = {"dedicated": "专项政策", "mentions": "相关政策", "related": "关联技术",
                    "none": "不相关"}
# Backfill summaries name this many of the most relevant documents.
BACKFILL_TOP = 5
# At most this many changes of one kind are listed; the rest are counted.
MAX_LISTED_PER_KIND = 100
# The short section of what the subscription does not cover: titles per site, and sites.
REST_TITLES_PER_SITE = 10
REST_MAX_SITES = 60
# Kinds whose titles the short section names; withdrawals and repeals there are only counted.
REST_TITLED_KINDS = ("new", "finalised", "revised")
WHAT_CHANGED = {"text": "正文", "fields": "字段", "attachments": "附件", "restored": "恢复"}
WITHDRAWN_REASONS = {"http_404": "页面返回 404", "http_410": "页面返回 410", "unlisted": "已不在栏目列表中"}
SINCE_START = "语料库建立以来"

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
    run_id: int | None = None
    tz: ZoneInfo | None = None  # the zone its times are shown in (the digest's)
    # 政策解读 of the document's policy (id, title, url, published_date, doc_type, by), and,
    # for a 解读, the policy it explains (id, title, url, doc_number, by, evidence).
    interpretations: list[dict[str, Any]] = field(default_factory=list)
    explains: dict[str, Any] | None = None

    @property
    def relevance_key(self) -> tuple:
        doc = self.document
        label = doc.get("relevance")
        rank = RELEVANCE_ORDER.get(label, 4) if isinstance(label, str) else 4
        score = doc.get("relevance_score")
        if score is None and isinstance(label, (int, float)):
            score = label  # the placeholder REAL column, before the classifier's migration
        return (rank, -(score or 0.0), _neg_date(doc.get("published_date")), -self.id)

    @property
    def summary_zh(self) -> str:
        """What happened, in one Chinese line (the stored ``summary`` is the detector's log line)."""
        title = self.document.get("title") or ""
        diff, label = self.diff, KIND_LABELS[self.kind]
        if self.kind == "revised":
            what = [WHAT_CHANGED.get(c, c) for c in diff.get("changed", [])]
            fields = [f.get("label") for f in diff.get("fields", []) if f.get("label")]
            if fields and "字段" in what:
                what[what.index("字段")] = "、".join(fields)
            return f"{label}（{'、'.join(what)}）：{title}" if what else f"{label}：{title}"
        if self.kind == "withdrawn":
            reasons = {WITHDRAWN_REASONS.get(c.get("reason"), c.get("reason"))
                       for c in diff.get("checks", [])}
            return f"{label}（{'、'.join(sorted(r for r in reasons if r))}）：{title}" if reasons else f"{label}：{title}"
        if self.kind == "finalised" and diff.get("draft"):
            return f"{label}：{diff['draft'].get('title')} → {title}"
        if self.kind == "repealed":
            if diff.get("by") == "decision":
                return f"{label}（依据《{diff.get('decision', {}).get('title')}》）：{title}"
            fields = [f"{f.get('label')}：{f.get('new')}" for f in diff.get("fields", [])]
            return f"{label}（{'、'.join(fields)}）：{title}" if fields else f"{label}：{title}"
        return f"{label}：{title}"

    def to_json(self, tz: ZoneInfo | None = None) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "kind_label": KIND_LABELS[self.kind],
                "detected_at": local_iso(self.detected_at, tz or zone()),
                "summary": self.summary_zh, "document": self.document, "diff": self.diff,
                "backfill": self.backfill, "resent": self.resent,
                "interpretations": self.interpretations, "explains": self.explains}


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

    def to_json(self, tz: ZoneInfo | None = None) -> dict[str, Any]:
        return {"site": self.site, "site_name": self.site_name, "count": self.count,
                "top": [e.to_json(tz) for e in self.top]}


@dataclass
class SiteRest:
    """One site's changes the subscription does not cover: counted by kind; titles of the new,
    finalised and revised ones (at most ``REST_TITLES_PER_SITE``)."""

    site: str
    site_name: str
    counts: dict[str, int] = field(default_factory=dict)
    titles: list[dict[str, Any]] = field(default_factory=list)  # kind, title, url
    more_titles: int = 0
    backfill: int = 0  # new documents of a backfill (or a first crawl): counted apart

    @property
    def total(self) -> int:
        return sum(self.counts.values()) + self.backfill

    def add(self, entry: Entry) -> None:
        if entry.backfill:  # their titles would be the archive
            self.backfill += 1
            return
        self.counts[entry.kind] = self.counts.get(entry.kind, 0) + 1
        if entry.kind not in REST_TITLED_KINDS:
            return
        if len(self.titles) < REST_TITLES_PER_SITE:
            self.titles.append({"kind": entry.kind, "kind_label": KIND_LABELS[entry.kind],
                                "title": entry.document.get("title") or "",
                                "url": entry.document.get("url") or ""})
        else:
            self.more_titles += 1

    def counts_line(self) -> str:
        """``新发布 3、已撤下 1、存量补录 20`` in the digest's kind order."""
        parts = [f"{KIND_LABELS[k]} {self.counts[k]}" for k in KINDS if self.counts.get(k)]
        return "、".join(parts + ([f"存量补录 {self.backfill}"] if self.backfill else []))

    def to_json(self) -> dict[str, Any]:
        return {"site": self.site, "site_name": self.site_name,
                "counts": {k: self.counts[k] for k in KINDS if self.counts.get(k)},
                "backfill": self.backfill, "titles": self.titles, "more_titles": self.more_titles}


@dataclass
class Digest:
    """The changes of a period for one subscription, ready to render."""

    generated_at: str
    since: str | None
    until: str
    entries: list[Entry] = field(default_factory=list)  # listed in full, in display order
    backfill: list[BackfillSummary] = field(default_factory=list)
    omitted: dict[str, int] = field(default_factory=dict)  # kind -> matching changes not listed
    channel: str | None = None
    # For maintainers: sites whose last runs say they are broken or blocked (pipelines.health).
    maintenance: list[dict[str, Any]] = field(default_factory=list)
    subscription: Subscription = field(default_factory=default_subscription)
    tz: ZoneInfo = field(default_factory=zone)
    rest: list[SiteRest] = field(default_factory=list)  # what the subscription does not cover
    rest_more_sites: dict[str, int] = field(default_factory=dict)  # kind -> beyond REST_MAX_SITES
    unlisted: dict[str, int] = field(default_factory=dict)  # kind -> not covered, not summarised
    feed_url: str | None = None  # where the subscription's rolling feed is served
    corpus_id: str | None = None  # corpus_meta's id: the feeds' tag URIs
    _all_ids: set[int] = field(default_factory=set, repr=False)

    @property
    def change_ids(self) -> list[int]:
        """Every change the digest covers (listed, summarised or counted)."""
        return sorted(self._all_ids)

    @property
    def empty(self) -> bool:
        """No change at all in the period."""
        return not self._all_ids

    @property
    def matched(self) -> int:
        """Changes the subscription covers (listed, counted or in a backfill summary)."""
        return len(self.entries) + sum(self.omitted.values()) + sum(s.count for s in self.backfill)

    @property
    def quiet(self) -> bool:
        """Nothing to tell this subscription: nothing matched and no summary of the rest."""
        return not self.matched and not self.rest and not self.rest_more_sites

    @property
    def date(self) -> str:
        """The local day the digest is for (named and titled by it)."""
        return local_date(self.until, self.tz)

    def counts(self) -> dict[str, int]:
        """Every change of the period per kind, covered or not."""
        out = {kind: 0 for kind in KINDS}
        for entry in self.entries:
            out[entry.kind] += 1
        out["new"] += sum(s.count for s in self.backfill)
        for part in (self.omitted, self.rest_more_sites, self.unlisted,
                     *(r.counts for r in self.rest), *({"new": r.backfill} for r in self.rest)):
            for kind, n in part.items():
                out[kind] += n
        return out

    def matched_counts(self) -> dict[str, int]:
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
    def rest_count(self) -> int:
        return sum(r.total for r in self.rest) + sum(self.rest_more_sites.values()) + \
            sum(self.unlisted.values())

    @property
    def resent(self) -> bool:
        return any(e.resent for e in self.entries) or any(
            e.resent for s in self.backfill for e in s.top)

    @property
    def title(self) -> str:
        return f"{self.subscription.label} · {self.date}"

    def headline(self) -> str:
        """One line: ``元宇宙政策动态 · 2026-11-25：2 条相关变化（新发布 1、已修订 1），另有 5 条其他变化``."""
        if self.empty:
            return f"{self.title}：没有变化"
        matched = {k: n for k, n in self.matched_counts().items() if n}
        rest = f"，另有 {self.rest_count} 条其他变化" if self.rest_count else ""
        if not matched:
            return f"{self.title}：没有符合订阅的变化（其他变化 {self.rest_count} 条）"
        parts = "、".join(f"{KIND_LABELS[k]} {n}" for k, n in matched.items())
        return f"{self.title}：{sum(matched.values())} 条相关变化（{parts}）{rest}"

    @property
    def since_label(self) -> str:
        return shown(self.since, self.tz) if self.since else SINCE_START

    @property
    def period_label(self) -> str:
        """``2026-11-24 07:00 至 2026-11-25 07:00（北京时间 Asia/Shanghai）``."""
        return f"{self.since_label} 至 {shown(self.until, self.tz)}（{zone_label(self.tz)}）"

    def to_json(self) -> dict[str, Any]:
        tz = self.tz
        return {
            "date": self.date,
            "generated_at": local_iso(self.generated_at, tz),
            "timezone": tz.key,
            "period": {"since": local_iso(self.since, tz), "until": local_iso(self.until, tz),
                       "label": self.period_label},
            "subscription": {"name": self.subscription.name, "title": self.subscription.label,
                             "filters": self.subscription.describe()},
            "channel": self.channel,
            "headline": self.headline(),
            "counts": self.counts(),
            "matched": self.matched,
            "changes": [e.to_json(tz) for e in self.entries],
            "backfill": [s.to_json(tz) for s in self.backfill],
            "omitted": self.omitted,
            "others": [r.to_json() for r in self.rest],
            "others_more_sites": self.rest_more_sites,
            "others_unlisted": self.unlisted,
            "feed": self.feed_url,
            "change_ids": self.change_ids,
            "maintenance": self.maintenance,
        }


ZONE_NAMES = {"Asia/Shanghai": "北京时间", "Asia/Hong_Kong": "香港时间", "Asia/Taipei": "台北时间",
              "Asia/Macau": "澳门时间", "UTC": "协调世界时", "Etc/UTC": "协调世界时"}


def zone_label(tz: ZoneInfo) -> str:
    name = ZONE_NAMES.get(tz.key)
    return f"{name} {tz.key}" if name else tz.key


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
            f"""SELECT c.id, c.kind, c.detected_at, c.summary, c.diff, c.run_id,
                r.kind AS run_kind,
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
                resent=record["id"] in resent, run_id=record["run_id"],
            ))
    return entries


def document_texts(db: sqlite_utils.Database, document_ids: Iterable[int]) -> dict[int, str]:
    """The body text of these documents (for subscriptions with keywords)."""
    ids = sorted(set(document_ids))
    texts: dict[int, str] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for doc_id, text in db.execute(
                f"SELECT id, body_text FROM documents WHERE id IN ({marks})", chunk).fetchall():
            texts[doc_id] = text or ""
    return texts


def corpus_id(db: sqlite_utils.Database) -> str | None:
    """The corpus's own id (corpus_meta), None in a corpus from before it had one."""
    try:
        row = db.execute("SELECT value FROM corpus_meta WHERE key = 'id'").fetchone()
    except sqlite3.OperationalError:  # no such table: an older corpus, opened read-only
        return None
    return row[0] if row else None


def split_entries(entries: list[Entry], subscription: Subscription,
                  texts: dict[int, str] | None = None) -> tuple[list[Entry], list[Entry]]:
    """(matched, the rest) of ``entries`` for ``subscription``."""
    texts = texts or {}
    matched, rest = [], []
    for entry in entries:
        text = texts.get(entry.document.get("id"), "")
        (matched if subscription.matches(entry.kind, entry.document, text) else rest).append(entry)
    return matched, rest


def build_digest(db: sqlite_utils.Database, change_ids: Sequence[int], *, since: str | None,
                 until: str | None = None, channel: str | None = None,
                 resent: Iterable[int] = (), now: datetime | None = None,
                 subscription: Subscription | None = None, tz: ZoneInfo | None = None,
                 feed_url: str | None = None) -> Digest:
    """A digest of the given changes for ``subscription`` (the default one when None): what it
    covers listed (backfills summarised), the rest summarised per site."""
    subscription = subscription or default_subscription()
    moment = (now or clock.now()).astimezone(timezone.utc).isoformat(timespec="seconds")
    entries = load_entries(db, change_ids, resent)
    digest = Digest(generated_at=moment, since=since, until=until or moment, channel=channel,
                    subscription=subscription, tz=tz or zone(), feed_url=feed_url,
                    corpus_id=corpus_id(db))
    digest._all_ids = {e.id for e in entries}
    for entry in entries:
        entry.tz = digest.tz
    folded = attach_interpretations(db, entries)
    texts = document_texts(db, (e.document.get("id") for e in entries)) if subscription.keywords else None
    matched, rest = split_entries(entries, subscription, texts)
    listed = [e for e in matched if not e.backfill and e.id not in folded]
    listed.sort(key=lambda e: (KINDS.index(e.kind), e.relevance_key))
    for kind in KINDS:
        of_kind = [e for e in listed if e.kind == kind]
        if len(of_kind) > MAX_LISTED_PER_KIND:
            digest.omitted[kind] = len(of_kind) - MAX_LISTED_PER_KIND
            for extra in of_kind[MAX_LISTED_PER_KIND:]:
                listed.remove(extra)
    digest.entries = listed
    digest.backfill = backfill_summaries([e for e in matched if e.backfill])
    _summarise_rest(digest, rest)
    digest.maintenance = maintenance_notes(db)
    return digest


def backfill_summaries(entries: list[Entry]) -> list[BackfillSummary]:
    by_site: dict[str, list[Entry]] = {}
    for entry in entries:
        by_site.setdefault(entry.document.get("site") or "", []).append(entry)
    out = []
    for site, site_entries in sorted(by_site.items()):
        site_entries.sort(key=lambda e: e.relevance_key)
        out.append(BackfillSummary(
            site=site, site_name=site_entries[0].document.get("site_name") or site,
            count=len(site_entries), top=site_entries[:BACKFILL_TOP]))
    return out


def _summarise_rest(digest: Digest, rest: list[Entry]) -> None:
    """The short per-site section (or, with ``others = "none"``, counts only)."""
    if digest.subscription.others == "none":
        for entry in rest:
            digest.unlisted[entry.kind] = digest.unlisted.get(entry.kind, 0) + 1
        return
    by_site: dict[str, SiteRest] = {}
    for entry in sorted(rest, key=lambda e: (KINDS.index(e.kind), e.relevance_key)):
        site = entry.document.get("site") or ""
        if site not in by_site:
            by_site[site] = SiteRest(site, entry.document.get("site_name") or site)
        by_site[site].add(entry)
    ordered = sorted(by_site.values(), key=lambda r: (-r.total, r.site))
    digest.rest = sorted(ordered[:REST_MAX_SITES], key=lambda r: r.site)
    for extra in ordered[REST_MAX_SITES:]:
        for kind, n in [*extra.counts.items(), ("new", extra.backfill)]:
            digest.rest_more_sites[kind] = digest.rest_more_sites.get(kind, 0) + n
def attach_interpretations(db: sqlite_utils.Database, entries: list[Entry]) -> set[int]:
    """Give each entry its policy's 解读s and a 解读 the policy it explains; returns the ids of
    the new 解读s shown under their policy's entry in this digest instead of on their own."""
    ids = [e.document["id"] for e in entries if e.document.get("id") is not None]
    found, explains = interpretations_of(db, ids), explained_by(db, ids)
    for entry in entries:
        entry.interpretations = found.get(entry.document.get("id"), [])
        entry.explains = explains.get(entry.document.get("id"))
    shown_under = {j["id"] for e in entries if not e.backfill and not e.explains
                   for j in e.interpretations}
    return {e.id for e in entries
            if e.kind == "new" and e.explains and e.document.get("id") in shown_under}


def maintenance_notes(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """The broken and blocked sites, with why, for the digest's maintainer section."""
    # Heavy (the site registry; pipelines imports Scrapy): imported when a digest is built, so
    # that every command's start does not pay for it.

    return [{"site": h.site, "name": h.name, "state": h.state, "why": h.why, "flags": h.flags,
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
