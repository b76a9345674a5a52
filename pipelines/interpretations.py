"""政策解读 — interpretations (图解, 答记者问, 一图读懂, 政策问答, 起草说明...) linked to the policy
they explain.

A page says which policy it explains in one of these ways, tried strongest first (``TIERS``):

1. its title names it: 《…》 or a 文号 in the title;
2. the policy's page links to it (相关解读：<a>解读《…》</a>);
3. it links to the policy's page (原文链接, or a link whose text is the policy's title);
4. a 文号 in the opening of its text;
5. a 《…》 title in the opening of its text.

What each page names or links is kept (table ``interpretation_refs``) whether or not the page it
points to is stored yet, and every document's core title (``title_cores``), so that a 解读 and
its policy are linked whichever arrives first: storing either one resolves the unlinked 解读s
that point at it. A tier whose candidates belong to more than one policy (lineage's
``policy_id``: a draft, its final and reposts are one) is ambiguous and skipped; a 解读 is never
linked to itself or to another 解读. A link, once made, is kept (table ``interpretations``).

Everything here runs inside the storing transaction (``link_document``) or a migration
(``link_existing_documents``); a page's links are read with lxml, linear in its size, and at
most ``MAX_LINKS`` of them are kept.
"""

from __future__ import annotations

import json
import logging
import re
import zlib
from dataclasses import dataclass
from typing import Any, Iterable, Mapping
from urllib.parse import urljoin

import lxml.html
import sqlite_utils
from lxml import etree

from classifiers.doctype import classify_type
from crawlers.parsing.encoding import decode_html
from crawlers.parsing.urls import canonical_url
from pipelines.changes import DOC_NUMBER
from pipelines.lineage import core_title, doc_number_key, is_draft, title_similarity

logger = logging.getLogger(__name__)

# How far into the text a 解读 names its policy: its opening paragraph or two.
OPENING_CHARS = 500
# Titles longer than this are read only this far (a hostile title is not a policy's name).
TITLE_CHARS = 500
# Names (《…》) shorter than this are abbreviations (《方案》, 《行动计划》), not a policy's name.
NAME_MIN = 6
NAME_MAX = 200
# At most this many names, 文号s and links are kept per page.
MAX_REFS = 20
MAX_LINKS = 50
# A name fitting this many documents is no one policy's (政府工作报告 of every year): reading
# candidates stops there and the tier counts as ambiguous.
MAX_CANDIDATES = 50
# A link whose text is this much like the policy's title is a link to the policy.
LINK_TITLE_MIN = 0.8

_NAME = re.compile(r"《([^《》]{%d,%d})》" % (NAME_MIN, NAME_MAX))
# Link texts that say "this is the interpretation" (on a policy's page; looked for with ``in``,
# far cheaper than a regex over CJK text: most pages are checked and most have none) ...
_GENRE_WORDS = ("解读", "图解", "一图读懂", "答记者问", "政策问答", "起草说明")
# ... and "this is the document itself" (on an interpretation's page).
_ORIGINAL_WORDS = re.compile(r"原文|全文|文件链接|政策文件")
# A link text that can be a policy's title (kept for comparing with the target's title).
_POLICY_WORDS = re.compile(r"《|通知|方案|办法|意见|措施|规划|计划|决定|条例|细则|规定|纲要|政策")
_SPACE = re.compile(r"\s+")
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")

# (kind, place) of a reference, strongest first; each tier is resolved on its own.
TIERS: tuple[tuple[str, str, str], ...] = (
    ("title", "title", "title"),
    ("doc_number", "title", "doc_number"),
    ("interpretation_link", "page", "linked_from_policy"),
    ("link", "page", "link"),
    ("doc_number", "text", "doc_number_in_text"),
    ("title", "text", "title_in_text"),
)
BY = tuple(dict.fromkeys(by for _, _, by in TIERS))


@dataclass(frozen=True)
class Ref:
    """Something a page names or links: ``kind`` title/doc_number/link/interpretation_link,
    ``place`` where on the page (title, text, page), ``key`` what is looked up (a core title,
    a 文号 key, a canonical URL), ``evidence`` what the page says."""

    kind: str
    place: str
    key: str
    evidence: str


# --- what a page is, and what it names ----------------------------------------------------------


def is_interpretation(doc_type: str | None, title: str | None) -> bool:
    """Is the document a 解读? Its classified type says; an untyped one is typed by its title."""
    if doc_type:
        return doc_type == "interpretation"
    return classify_type(title).doc_type == "interpretation"


def named_refs(title: str | None, text: str | None) -> list[Ref]:
    """The policies a 解读 names: 《…》 and 文号s in its title, then in the opening of its text."""
    refs: list[Ref] = []
    for place, value in (("title", (title or "")[:TITLE_CHARS]), ("text", (text or "")[:OPENING_CHARS])):
        for name in _NAME.findall(value)[:MAX_REFS]:
            core = core_title(name)
            if len(core) >= NAME_MIN:
                refs.append(Ref("title", place, core, f"《{name}》"))
        for number in DOC_NUMBER.findall(value)[:MAX_REFS]:
            refs += [Ref("doc_number", place, key, number) for key in _number_keys(number)]
    return refs


def _number_keys(found: str) -> list[str]:
    """The 文号 keys a match may be: the pattern takes the words before the issuer's short name
    too (印发示政发〔2026〕12号), so every tail of at least two characters before the bracket."""
    key = doc_number_key(found)
    if not key:
        return []
    head, bracket, rest = key.partition("〔")
    return [head[i:] + bracket + rest for i in range(max(0, len(head) - 1))] or [key]


def _tree(text: str):
    text = _CONTROL.sub("", _XML_DECL.sub("", text, count=1))
    try:
        return lxml.html.document_fromstring(text)
    except (etree.ParserError, ValueError):  # nothing parseable: a page without links
        return None


def _says_genre(text: str) -> bool:
    return any(word in text for word in _GENRE_WORDS)


def _label_before(anchor) -> str:
    """The text just before a link within its parent (相关解读：<a>…</a>)."""
    previous = anchor.getprevious()
    if previous is None:
        parent = anchor.getparent()
        return ((parent.text if parent is not None else "") or "")[-20:]
    return ("".join(previous.itertext())[-20:] + (previous.tail or ""))[-20:]


def _decode(html_bytes: bytes, encoding: str | None, headers: Mapping[str, str] | None) -> str:
    if encoding:  # the parser's finding, kept with the page: no second detection
        try:
            return html_bytes.decode(encoding, errors="replace")
        except LookupError:
            pass
    return decode_html(html_bytes, dict(headers or {}))[0]


def page_links(url: str, html_bytes: bytes | None, headers: Mapping[str, str] | None,
               interpretation: bool, encoding: str | None = None) -> list[Ref]:
    """The links of a stored page that may tie a 解读 to its policy: on a 解读's page, links
    that say 原文/全文 or whose text can be a policy's title (``link``); on any other page,
    links whose text (or the label before them) says 解读/图解/… (``interpretation_link``).
    Links to the page itself are left out. ``encoding``: the page's, when already known."""
    if not html_bytes:
        return []
    text = _decode(html_bytes, encoding, headers)
    if not interpretation and not _says_genre(text):
        return []
    root = _tree(text)
    if root is None:
        return []
    try:
        own = canonical_url(url)
    except ValueError:
        return []
    refs: dict[str, Ref] = {}
    for anchor in root.iter("a"):
        href = (anchor.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:")):
            continue
        label = "".join(anchor.itertext())
        if interpretation:
            if not (_ORIGINAL_WORDS.search(label) or _POLICY_WORDS.search(label)):
                continue
            kind = "link"
        elif _says_genre(label) or _says_genre(_label_before(anchor)):
            kind = "interpretation_link"
        else:
            continue
        label = _SPACE.sub("", label)[:TITLE_CHARS]
        try:
            target = canonical_url(urljoin(url, href))
        except ValueError:
            continue
        if target == own or target in refs:
            continue
        refs[target] = Ref(kind, "page", target, label)
        if len(refs) >= MAX_LINKS:
            break
    return list(refs.values())


# --- storing what a page names, and linking -------------------------------------------------------


def _document(db: sqlite_utils.Database, document_id: int) -> dict[str, Any] | None:
    row = db.execute(
        """SELECT id, url, title, body_text, doc_number_key, doc_type, policy_id,
            current_version_id FROM documents WHERE id = ?""", [document_id]).fetchone()
    keys = ("id", "url", "title", "body_text", "doc_number_key", "doc_type", "policy_id",
            "current_version_id")
    return dict(zip(keys, row)) if row else None


def _raw_page(db: sqlite_utils.Database, version_id: int | None
              ) -> tuple[bytes | None, dict, str | None]:
    row = db.execute("SELECT raw, headers, raw_encoding FROM versions WHERE id = ?",
                     [version_id]).fetchone()
    if not row or not row[0]:
        return None, {}, None
    try:
        headers = json.loads(row[1] or "{}")
    except json.JSONDecodeError:
        headers = {}
    return zlib.decompress(row[0]), headers if isinstance(headers, dict) else {}, row[2]


def _record_refs(db: sqlite_utils.Database, document_id: int, refs: Iterable[Ref]) -> None:
    for ref in refs:
        db.execute(
            """INSERT OR IGNORE INTO interpretation_refs (document_id, kind, place, key, evidence)
            VALUES (?, ?, ?, ?, ?)""", [document_id, ref.kind, ref.place, ref.key, ref.evidence])


def link_document(db: sqlite_utils.Database, document_id: int, seen_at: str,
                  raw: bytes | None = None, headers: Mapping[str, str] | None = None,
                  encoding: str | None = None) -> list[int]:
    """After ``document_id`` was stored (new or revised): keep what it names and links, then
    link every 解读 it settles — itself, or the unlinked ones that point at it. ``raw`` is the
    page as fetched (read from its current version when not given). Call inside the storing
    transaction. Returns the ids of the 解读s linked now."""
    return [j for j in _record_document(db, document_id, raw, headers, encoding)
            if _resolve(db, j, seen_at)]


def _record_document(db: sqlite_utils.Database, document_id: int, raw: bytes | None = None,
                     headers: Mapping[str, str] | None = None,
                     encoding: str | None = None, settles: bool = True) -> list[int]:
    """Keep what the document names and links (a 解读) or its core title and its links to
    解读s (any other page); returns the unlinked 解读s this may settle (only itself, for a
    解读, or without ``settles``)."""
    doc = _document(db, document_id)
    if doc is None:
        return []
    interpretation = is_interpretation(doc["doc_type"], doc["title"])
    if raw is None:
        raw, headers, encoding = _raw_page(db, doc["current_version_id"])
    links = page_links(doc["url"], raw, headers, interpretation, encoding)
    if interpretation:
        _record_refs(db, document_id, named_refs(doc["title"], doc["body_text"]) + links)
        return [document_id]
    db.execute("INSERT OR REPLACE INTO title_cores (document_id, core) VALUES (?, ?)",
               [document_id, core_title(doc["title"])])
    _record_refs(db, document_id, links)
    return _pointing_at(db, doc, [r.key for r in links]) if settles else []


def _pointing_at(db: sqlite_utils.Database, doc: Mapping[str, Any], linked_urls: list[str]) -> list[int]:
    """The unlinked 解读s that name or link ``doc``, or that ``doc``'s page links to."""
    ids: set[int] = set()
    for kind, key in (("title", core_title(doc["title"])), ("doc_number", doc["doc_number_key"]),
                      ("link", doc["url"])):
        if not key:
            continue
        # One (kind, key) lookup each: an OR of them would scan every ref of the corpus.
        ids.update(row[0] for row in db.execute(
            """SELECT r.document_id FROM interpretation_refs r WHERE r.kind = ? AND r.key = ?
              AND r.document_id != ?
              AND NOT EXISTS (SELECT 1 FROM interpretations i WHERE i.document_id = r.document_id)""",
            [kind, key, doc["id"]]))
    for start in range(0, len(linked_urls), 500):
        chunk = linked_urls[start:start + 500]
        ids.update(row[0] for row in db.execute(
            f"""SELECT d.id FROM documents d WHERE d.url IN ({",".join("?" * len(chunk))})
            AND NOT EXISTS (SELECT 1 FROM interpretations i WHERE i.document_id = d.id)""", chunk))
    return sorted(ids)


def _candidates(db: sqlite_utils.Database, me: Mapping[str, Any], kind: str,
                refs: list[tuple[str, str]]) -> list[tuple[int, str]] | None:
    """Stored documents the refs of one tier point at, each with the page's words for it; None
    when a name fits ``MAX_CANDIDATES`` documents or more (no one policy's)."""
    found: list[tuple[int, str]] = []
    for key, evidence in refs:
        if kind == "title":
            rows = db.execute("SELECT document_id FROM title_cores WHERE core = ? LIMIT ?",
                              [key, MAX_CANDIDATES]).fetchall()
        elif kind == "doc_number":
            rows = db.execute("SELECT id FROM documents WHERE doc_number_key = ? LIMIT ?",
                              [key, MAX_CANDIDATES]).fetchall()
        else:
            rows = []
        if len(rows) >= MAX_CANDIDATES:
            return None
        found += [(r[0], evidence) for r in rows]
        if kind == "link":
            row = db.execute("SELECT id, title FROM documents WHERE url = ?", [key]).fetchone()
            if row and (_ORIGINAL_WORDS.search(evidence) or
                        title_similarity(evidence, row[1], LINK_TITLE_MIN) >= LINK_TITLE_MIN):
                found.append((row[0], evidence))
    if kind == "interpretation_link":
        rows = db.execute(
            """SELECT document_id, evidence FROM interpretation_refs
            WHERE kind = 'interpretation_link' AND key = ? LIMIT ?""",
            [me["url"], MAX_CANDIDATES]).fetchall()
        if len(rows) >= MAX_CANDIDATES:  # a sidebar of every page, no one policy's 相关解读
            return None
        found += [(r[0], r[1]) for r in rows]
    return [(doc_id, evidence) for doc_id, evidence in found if doc_id != me["id"]]


def _resolve(db: sqlite_utils.Database, document_id: int, seen_at: str) -> bool:
    """Link one unlinked 解读 to the policy its strongest unambiguous tier points at."""
    if db.execute("SELECT 1 FROM interpretations WHERE document_id = ?", [document_id]).fetchone():
        return False
    me = _document(db, document_id)
    if me is None or not is_interpretation(me["doc_type"], me["title"]):
        return False
    refs = db.execute(
        "SELECT kind, place, key, evidence FROM interpretation_refs WHERE document_id = ?",
        [document_id]).fetchall()
    for kind, place, by in TIERS:
        tier = [(key, evidence) for k, p, key, evidence in refs if k == kind and p == place]
        if not tier and kind != "interpretation_link":
            continue
        found = _candidates(db, me, kind, tier)
        chosen = _one_policy(db, found, [e for _, e in tier]) if found is not None else None
        if chosen is None:
            continue
        target, evidence = chosen
        db.execute(
            """INSERT INTO interpretations (document_id, explains_id, by, evidence, linked_at)
            VALUES (?, ?, ?, ?, ?)""", [document_id, target, by, evidence, seen_at])
        logger.info("%s explains document %d (%s: %s)", me["url"], target, by, evidence)
        return True
    return False


def _one_policy(db: sqlite_utils.Database, found: list[tuple[int, str]],
                names: list[str]) -> tuple[int, str] | None:
    """The document of the one policy the candidates belong to (None when none or several):
    a draft when the page named a draft, else the final; the earliest of reposts."""
    rows = {}
    for doc_id, evidence in found:
        row = db.execute("SELECT id, title, doc_type, coalesce(policy_id, id) FROM documents "
                         "WHERE id = ?", [doc_id]).fetchone()
        if row and not is_interpretation(row[2], row[1]):
            rows[doc_id] = (row, evidence)
    policies = {row[3] for row, _ in rows.values()}
    if len(policies) != 1:
        if len(policies) > 1:
            logger.info("ambiguous: %d policies match %s", len(policies), "; ".join(names)[:200])
        return None
    wants_draft = any(is_draft(n) or "征求意见" in n for n in names)
    row, evidence = min(rows.values(), key=lambda r: (is_draft(r[0][1]) != wants_draft, r[0][0]))
    return row[0], evidence


def link_existing_documents(db: sqlite_utils.Database) -> None:
    """Migration step: the refs and title cores of the documents already stored, then every
    解读 among them linked (a 解读 stored before its policy is linked as well)."""
    rows = db.execute("SELECT id, last_seen FROM documents ORDER BY id").fetchall()
    pending: set[int] = set()
    for doc_id, _ in rows:  # everything recorded first: the strongest tier wins, not the first
        pending.update(_record_document(db, doc_id, settles=False))
    for doc_id, last_seen in rows:
        if doc_id in pending:
            _resolve(db, doc_id, last_seen)


def relink_documents(db: sqlite_utils.Database, document_ids: Iterable[int], seen_at: str) -> list[int]:
    """After a retag changed whether these documents are 解读s: a link whose 解读 is no longer one, or
    whose policy now is one, is dropped (a 解读 explains a policy, never another 解读); then
    what each document names and links is recorded as for its new type and every 解读 this
    settles is linked (the retyped ones, those whose link was dropped, those pointing at a
    document that is a policy now). Call inside the retag's transaction. Returns the ids of the
    解读s linked now."""
    ids = sorted(set(document_ids))
    if not ids or not has_links(db):
        return []
    pending: set[int] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for j_id, p_id, j_type, j_title, p_type, p_title in db.execute(
            f"""SELECT i.document_id, i.explains_id, j.doc_type, j.title, p.doc_type, p.title
            FROM interpretations i JOIN documents j ON j.id = i.document_id
            JOIN documents p ON p.id = i.explains_id
            WHERE i.document_id IN ({marks}) OR i.explains_id IN ({marks})""",
            chunk + chunk).fetchall():
            if is_interpretation(j_type, j_title) and not is_interpretation(p_type, p_title):
                continue
            db.execute("DELETE FROM interpretations WHERE document_id = ?", [j_id])
            logger.info("document %d no longer explains document %d: one of them was retyped",
                        j_id, p_id)
            pending.add(j_id)
    for doc_id in ids:
        if is_interpretation(*_type_and_title(db, doc_id)):  # no longer a policy to be named
            db.execute("DELETE FROM title_cores WHERE document_id = ?", [doc_id])
        pending.update(_record_document(db, doc_id))
    return [j for j in sorted(pending) if _resolve(db, j, seen_at)]


def _type_and_title(db: sqlite_utils.Database, document_id: int) -> tuple[str | None, str | None]:
    row = db.execute("SELECT doc_type, title FROM documents WHERE id = ?", [document_id]).fetchone()
    return (row[0], row[1]) if row else (None, None)


# --- reading the links ----------------------------------------------------------------------------


def has_links(db: sqlite_utils.Database) -> bool:
    """Does the corpus have the interpretations table (a corpus of this version)?"""
    return db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = "
                      "'interpretations'").fetchone() is not None


def interpretations_of(db: sqlite_utils.Database, document_ids: Iterable[int]
                       ) -> dict[int, list[dict[str, Any]]]:
    """For each document, the 解读s linked to it or to another document of its policy (a draft,
    a repost), oldest first: ``id, title, url, published_date, doc_type, by``."""
    ids = sorted(set(document_ids))
    out: dict[int, list[dict[str, Any]]] = {}
    if not ids or not has_links(db):
        return out
    policy_of: dict[int, int] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        policy_of.update(db.execute(
            f"SELECT id, coalesce(policy_id, id) FROM documents WHERE id IN ({','.join('?' * len(chunk))})",
            chunk).fetchall())
    wanted = set(policy_of.values())
    by_policy: dict[int, list[dict[str, Any]]] = {}
    # Read from the (small) table of links, each joined by primary key: no scan of documents.
    for policy, j_id, title, url, published, doc_type, by in db.execute(
        """SELECT coalesce(p.policy_id, p.id), j.id, j.title, j.url, j.published_date, j.doc_type,
            i.by FROM interpretations i
        JOIN documents p ON p.id = i.explains_id JOIN documents j ON j.id = i.document_id
        ORDER BY coalesce(j.published_date, j.first_seen), j.id"""):
        if policy in wanted:
            by_policy.setdefault(policy, []).append(
                {"id": j_id, "title": title, "url": url, "published_date": published,
                 "doc_type": doc_type, "by": by})
    for doc_id, policy in policy_of.items():
        if policy in by_policy:
            out[doc_id] = list(by_policy[policy])
    return out


def explained_by(db: sqlite_utils.Database, document_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """For each 解读 among the documents, the policy it explains: ``id, title, url,
    doc_number, by, evidence``."""
    ids = sorted(set(document_ids))
    out: dict[int, dict[str, Any]] = {}
    if not ids or not has_links(db):
        return out
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        for j_id, p_id, title, url, number, by, evidence in db.execute(
            f"""SELECT i.document_id, p.id, p.title, p.url, p.doc_number, i.by, i.evidence
            FROM interpretations i JOIN documents p ON p.id = i.explains_id
            WHERE i.document_id IN ({",".join("?" * len(chunk))})""", chunk).fetchall():
            out[j_id] = {"id": p_id, "title": title, "url": url, "doc_number": number,
                         "by": by, "evidence": evidence}
    return out


__all__ = [
    "BY", "Ref", "TIERS", "explained_by", "has_links", "interpretations_of", "is_interpretation",
    "link_document", "link_existing_documents", "named_refs", "page_links", "relink_documents",
]
