"""Which stored documents are one policy: reposts and moved copies, and a draft (征求意见稿) and
the final version it became. Pure functions over plain records; ``pipelines.linking`` queries
the candidates and stores the links.

- A **copy** (a repost, or the same document moved to another URL): the same 文号 with the same
  issuer or the same core title; or the same normalised title and (nearly) the same text.
- A **final** of a known draft: titles often differ — 《武汉市元宇宙产业创新发展实施方案
  （2022—2024年）（征求意见稿）》 became 《武汉市促进元宇宙产业创新发展实施方案（2022—2025年）》
  — so the match uses the issuer (or at least the same jurisdiction), the similarity of the
  *core* titles (without years, brackets, 关于印发…的通知 wrappers) and the similarity of the texts.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache
from typing import Any, Iterable, Mapping

from crawlers.parsing.textnorm import hash_form

# A draft announces itself in its title.
_DRAFT = re.compile(r"征求意见稿|草案|送审稿|公开征求.{0,60}意见|征求意见的(?:通知|公告)")
# Titles of pages *about* a document (its interpretation, the feedback on the draft), which are
# neither a draft nor its final.
_ABOUT = re.compile(r"解读|问答|答记者问|图解|一图读懂|采纳情况|反馈|意见情况|起草说明|新闻发布")
_BOOK_TITLE = re.compile(r"《([^《》]{4,})》")
_WRAPPER = re.compile(
    r"^.*?(?:关于)?(?:印发|公布|发布|转发|下发|出台)(?P<core>.{4,}?)(?:的(?:通知|公告|通告|决定|函))?$"
)
_LEADING_ISSUER = re.compile(r"^.{2,40}?关于(?=.{4,})")
_TRAILING_GENRE = re.compile(r"的(?:通知|公告|通告|决定|函|批复)$")
# Bracketed asides: years (2022—2024年), (征求意见稿), (试行), [2022]...
_BRACKETED = re.compile(r"[（(〔\[【][^）)〕\]】]{0,30}[）)〕\]】]")
_YEARS = re.compile(r"\d{4}\s*(?:年)?(?:\s*[-—–~至到]+\s*\d{4}\s*年?)?")
_DRAFT_WORDS = re.compile(r"征求意见稿|草案|送审稿|修订稿|试行|暂行")
_NOT_WORD = re.compile(r"[^\w]", re.UNICODE)
_PLACE = re.compile(r"^(?:中华人民共和国)?(.{2,10}?(?:自治区|自治州|特别行政区|省|市|区|县|州|盟|旗))")

# Thresholds (0..1), chosen on the fixtures and the Wuhan case (tests/test_lineage.py).
COPY_TEXT_MIN = 0.9  # same title, and texts this alike: a moved copy
COPY_TITLE_MIN = 0.8  # same 文号, and core titles this alike (when the issuers differ)
FINAL_TITLE_MIN = 0.75  # core titles of a draft and its final at least this alike
FINAL_TEXT_MIN = 0.3  # ... and their texts at least this alike,
FINAL_TITLE_ALONE = 0.92  # ... unless the core titles alone are this alike
SHINGLE = 3


def is_draft(title: str | None) -> bool:
    """Is the document a draft for comment (征求意见稿, 草案, a call for comments on one)?"""
    title = title or ""
    return bool(_DRAFT.search(title)) and not _ABOUT.search(title)


def is_about_a_document(title: str | None) -> bool:
    """Is the page an interpretation of, or feedback on, another document (政策解读, 采纳情况)?"""
    return bool(_ABOUT.search(title or ""))


@lru_cache(maxsize=8192)  # a backfill compares every new title with every open draft's
def core_title(title: str | None) -> str:
    """The policy's name without wrapper, years, brackets and draft marks, folded for comparing.

    关于公开征求《武汉市元宇宙产业创新发展实施方案（2022—2024年）（征求意见稿）》意见的通知 and
    市人民政府关于印发武汉市促进元宇宙产业创新发展实施方案(2022—2025年)的通知 give
    武汉市元宇宙产业创新发展实施方案 and 武汉市促进元宇宙产业创新发展实施方案.
    """
    text = unicodedata.normalize("NFKC", title or "")
    text = re.sub(r"\s+", "", text)
    named = _BOOK_TITLE.findall(text.replace("(", "（").replace(")", "）"))
    if named:
        text = max(named, key=len)
    else:
        wrapped = _WRAPPER.match(text)
        if wrapped:
            text = wrapped.group("core")
        else:
            text = _TRAILING_GENRE.sub("", _LEADING_ISSUER.sub("", text))
    text = unicodedata.normalize("NFKC", text)
    for _ in range(2):  # nested brackets: (2022—2024年)(征求意见稿)
        text = _BRACKETED.sub("", text)
    text = _YEARS.sub("", text)
    text = _DRAFT_WORDS.sub("", text)
    return _NOT_WORD.sub("", text)


def similarity(a: str, b: str, at_least: float = 0.0) -> float:
    """How alike two short strings are, 0..1 (difflib's ratio). When they cannot reach
    ``at_least``, a cheap upper bound below it is returned instead."""
    if not a or not b:
        return 0.0
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    bound = matcher.real_quick_ratio()
    if bound >= at_least:
        bound = matcher.quick_ratio()
    return bound if bound < at_least else matcher.ratio()


def title_similarity(a: str | None, b: str | None, at_least: float = 0.0) -> float:
    """How alike two titles are once reduced to their core (see ``core_title``)."""
    return similarity(core_title(a), core_title(b), at_least)


def shingles(text: str | None, size: int = SHINGLE) -> frozenset[str]:
    """The set of character n-grams of the folded text."""
    folded = hash_form(text)
    return frozenset(folded[i:i + size] for i in range(max(0, len(folded) - size + 1)))


def text_similarity(a: str | None, b: str | None) -> float:
    """How much of the shorter text the longer one contains, by character 3-grams, 0..1.

    Containment rather than Jaccard: a final usually adds sections to its draft, and a repost
    may drop the cover note; what counts is how much of one is in the other.
    """
    sa, sb = shingles(a), shingles(b)
    if not sa or not sb:
        return 0.0
    return len(sa & sb) / min(len(sa), len(sb))


def doc_number_key(value: str | None) -> str | None:
    """A 文号 folded for comparing: 武政规〔2022〕16号, 武政规[2022]16号 and 武政规（2022）16 号
    are one number. None when the value does not look like a 文号 (no year and 号)."""
    if not value:
        return None
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", value))
    text = re.sub(r"[\[(（【〔]", "〔", text)
    text = re.sub(r"[\])）】〕]", "〕", text)
    if not re.search(r"〔\d{4}〕\d+号", text):
        return None
    return text


def issuer_key(value: str | None) -> str:
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", value or ""))


def place_of(*names: str | None) -> str:
    """The jurisdiction a name starts with (武汉市, 江苏省, 广州开发区...), or ''."""
    for name in names:
        found = _PLACE.match(issuer_key(name))
        if found:
            return found.group(1)
    return ""


def issuer_affinity(a: Mapping[str, Any], b: Mapping[str, Any]) -> str:
    """How two documents' issuers relate: ``same`` (one name contains the other), ``place``
    (the same jurisdiction, e.g. 武汉市经信局 and 武汉市人民政府), ``site`` (only the same
    portal), or ``''``."""
    ia, ib = issuer_key(a.get("issuer")), issuer_key(b.get("issuer"))
    if ia and ib and (ia in ib or ib in ia):
        return "same"
    pa = place_of(a.get("issuer"), core_title(a.get("title")))
    pb = place_of(b.get("issuer"), core_title(b.get("title")))
    if pa and pa == pb:
        return "place"
    if a.get("site") and a.get("site") == b.get("site"):
        return "site"
    return ""


@dataclass(frozen=True)
class Match:
    """A stored document the new one is linked to, how, and why."""

    document_id: int
    relation: str  # copy / finalises
    score: float
    evidence: dict[str, Any]


def find_copy(new: Mapping[str, Any], candidates: Iterable[Mapping[str, Any]]) -> Match | None:
    """The stored document ``new`` is a repost or moved copy of, if any.

    Records carry ``id, site, url, title, issuer, doc_number, text``. Candidates are whatever
    the caller found by 文号 or title; this decides.
    """
    number = doc_number_key(new.get("doc_number"))
    title = hash_form(new.get("title"))
    best: Match | None = None
    about = is_about_a_document(new.get("title"))
    for old in candidates:
        if old.get("url") == new.get("url"):
            continue
        if is_about_a_document(old.get("title")) != about:
            # A 解读 often carries its policy's 文号 and 《title》: it explains it, it is no copy.
            continue
        if number and number == doc_number_key(old.get("doc_number")):
            affinity = issuer_affinity(new, old)
            titles = title_similarity(new.get("title"), old.get("title"))
            if affinity == "same" or titles >= COPY_TITLE_MIN:
                match = Match(int(old["id"]), "copy", 1.0, {
                    "by": "doc_number", "doc_number": new.get("doc_number"),
                    "issuers": affinity or "different", "title_similarity": round(titles, 3)})
                if best is None or best.score < match.score:
                    best = match
                continue
        if title and title == hash_form(old.get("title")):
            texts = text_similarity(new.get("text"), old.get("text"))
            if texts >= COPY_TEXT_MIN and (best is None or best.score < texts):
                best = Match(int(old["id"]), "copy", round(texts, 3), {
                    "by": "title_and_text", "text_similarity": round(texts, 3)})
    return best


def find_draft(final: Mapping[str, Any], drafts: Iterable[Mapping[str, Any]]) -> Match | None:
    """The known draft that ``final`` is the final version of, if any.

    ``final`` must not itself be a draft or a page about a document; a draft qualifies when it
    was published no later than the final, the issuers are related (same issuer, same
    jurisdiction, or the same portal), the core titles are alike and so are the texts (or the
    core titles are nearly identical). Records carry ``id, site, title, issuer, text,
    published_date``; the best-scoring draft wins.
    """
    if is_draft(final.get("title")) or is_about_a_document(final.get("title")):
        return None
    best: Match | None = None
    for draft in drafts:
        if not is_draft(draft.get("title")):
            continue
        if final.get("published_date") and draft.get("published_date") and \
                str(draft["published_date"]) > str(final["published_date"]):
            continue
        affinity = issuer_affinity(final, draft)
        if not affinity:
            continue
        titles = title_similarity(final.get("title"), draft.get("title"), FINAL_TITLE_MIN)
        if titles < FINAL_TITLE_MIN:
            continue
        texts = text_similarity(final.get("text"), draft.get("text"))
        if texts < FINAL_TEXT_MIN and titles < FINAL_TITLE_ALONE:
            continue
        score = round(0.5 * titles + 0.5 * texts, 3)
        if best is None or score > best.score:
            best = Match(int(draft["id"]), "finalises", score, {
                "draft_title": draft.get("title"), "issuers": affinity,
                "title_similarity": round(titles, 3), "text_similarity": round(texts, 3)})
    return best


def key_existing_documents(db) -> None:
    """Migration step: give documents stored before lineage existed their own policy and the
    comparison keys of their 文号 and title (``db`` is a ``sqlite_utils.Database``)."""
    rows = db.conn.execute("SELECT id, doc_number, title FROM documents").fetchall()
    for doc_id, number, title in rows:
        db.conn.execute(
            "UPDATE documents SET policy_id = coalesce(policy_id, id), doc_number_key = ?, "
            "title_key = ? WHERE id = ?", [doc_number_key(number), hash_form(title), doc_id])
