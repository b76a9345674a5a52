"""Change detection: given what the corpus holds and what a crawl just saw, what changed.

Pure functions; ``pipelines.storing`` and ``pipelines.presence`` read the stored state, call
these, and record the outcome in the ``changes`` outbox in the same transaction as the
document itself.

- **revised**: the text (compared without page furniture), an attachment's content, or a key
  field (文号, dates, 有效性, title, issuer, 索引号) differs from the last version. A value that
  disappeared, a failed attachment download, or a cover note standing in for an attachment
  that could not be read are gaps in one fetch, never changes.
- An attachment is the same attachment when its link without volatile query parameters is
  (``crawlers.parsing.attachments.stable_link``), else when its name is; its content is its
  text without furniture where it has text, its bytes only where it has none. A fetch whose only
  differences are volatile — new bytes of the same text, a "下载时间" watermark, a changed ``?t=``,
  a reordered list — is no revision: ``volatile_differences`` names them, and the corpus keeps
  the fetch as a sighting.
- **repealed**: the document's 有效性/时效 field now says 失效/废止, or a 废止/失效 decision
  lists its 文号 (``repealed_numbers``).
- **withdrawn**: the page is gone (HTTP 404/410, or missing from a column read to its end) on
  two check days in a row with no sighting in between (``withdrawal_due``). A blocked, failed or
  partial check observes nothing.

New, copies and finals are decided in ``pipelines.lineage``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from crawlers.parsing.attachments import stable_link
from crawlers.parsing.textnorm import hash_form
from pipelines.diff import attachment_changes, field_changes, match_attachments, same_content, text_diff
from pipelines.lineage import doc_number_key

# Fields whose change revises a document (besides its text and attachments).
KEY_FIELDS = ("title", "doc_number", "issuer", "index_no", "written_date", "published_date",
              "validity")

# Page furniture that a body extractor may let through: counters, render stamps, share and
# print widgets. Dropped before comparing, so that they never make a revision. Inline only
# where the pattern cannot be policy text (a counter with its number, a bracketed widget).
# A download stamp ("下载时间：2026-12-03", a PDF watermark the portal adds to every copy) is
# furniture too.
_FURNITURE_INLINE = re.compile(
    r"(?:浏览|访问|点击|阅读)(?:次数|量|数)\s*[:：]\s*\d+\s*次?"
    r"|(?:页面生成|生成|最后更新|更新|下载|打印|导出)(?:时间|日期)\s*[:：]\s*\d[\d\-/.年月日:：\s]*"
    r"|[【\[]\s*(?:打印(?:本页|正文)?|关闭(?:窗口|本页)?|收藏(?:本页)?|返回顶部|字体\s*[:：]?\s*[大中小\s]*)\s*[】\]]"
)
_WIDGET = (r"(?:打印(?:本页|正文)?|关闭(?:窗口|本页)?|收藏(?:本页)?|返回顶部|分享到\s*+[:：]?"
           r"|扫一扫在手机(?:上)?(?:打开|查看)(?:当前页)?|相关链接\s*+[:：]?|字体\s*+[:：]?\s*+[大中小\s]*+)")
# A line made only of widgets: 【打印本页】【关闭窗口】, 分享到：, 相关链接.
# Possessive whitespace: with plain \s* the spaces between repeated widgets could be split
# between neighbours in every way (exponential: ten "打印  " took 28 s).
_FURNITURE_LINE = re.compile(rf"^(?:[【\[]?\s*+{_WIDGET}\s*+[】\]]?[\s|｜/·]*+)+$")


def without_furniture(text: str | None) -> str:
    """The text without page furniture (counters, render and download stamps, widgets), as
    written otherwise: what a diff shows."""
    kept = []
    for line in (text or "").split("\n"):
        if _FURNITURE_LINE.match(line.strip()):
            continue
        line = _FURNITURE_INLINE.sub("", line)
        if line.strip():
            kept.append(line)
    return "\n".join(kept)


def comparable_text(text: str | None) -> str:
    """The form in which two texts are compared: folded (``hash_form``) and without furniture."""
    return hash_form(without_furniture(text))


def attachment_view(url: str, name: str | None, sha256: str | None, error: str | None,
                    text: str | None, learned: frozenset[str] = frozenset()) -> dict[str, Any]:
    """One attachment as change detection sees it: ``key`` its identity (the link without
    volatile parameters, ``learned`` being the site's learned ones), ``content`` the compared
    form of its text (None without text: then its ``sha256`` stands for it), ``text`` as shown."""
    shown = without_furniture(text) if text else ""
    return {"url": url, "name": name, "sha256": sha256, "error": error,
            "key": stable_link(url, learned), "content": hash_form(shown) or None,
            "text": shown or None}


@dataclass(frozen=True)
class Snapshot:
    """One version of a document as change detection sees it."""

    text: str
    fields: Mapping[str, Any]
    # {"url", "name", "sha256", "error"}, and from ``attachment_view`` "key", "content", "text"
    attachments: Sequence[Mapping[str, Any]] = ()
    text_source: str = "page"


@dataclass(frozen=True)
class Revision:
    """What differs between two snapshots; ``changed`` is empty when nothing does."""

    changed: tuple[str, ...] = ()
    text: dict[str, Any] | None = None
    fields: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)
    # The 有效性 value when it newly says the document is repealed.
    repealed_by_status: str | None = None

    def diff(self) -> dict[str, Any]:
        """The JSON the ``changes`` row keeps (and the digest shows)."""
        out: dict[str, Any] = {"changed": list(self.changed)}
        if self.text is not None:
            out["text"] = self.text
        if self.fields:
            out["fields"] = self.fields
        if self.attachments:
            out["attachments"] = self.attachments
        return out

    @property
    def only_repeal(self) -> bool:
        """The only difference is the 有效性 field turning to repealed."""
        return self.changed == ("fields",) and [f["field"] for f in self.fields] == ["validity"] \
            and self.repealed_by_status is not None


_REPEALED_STATUS = re.compile(r"失效|废止|已撤销|撤销|作废|停止执行|不再执行|无效")
_STILL_VALID = re.compile(r"^(?:有效|现行有效|继续有效|部分有效)$")


def status_says_repealed(value: str | None) -> bool:
    """Does a 有效性/时效 value say the document no longer applies (失效, 已废止, 无效)? A
    partial repeal (部分失效) is not: the document still applies, amended."""
    value = hash_form(value)
    return bool(value) and not _STILL_VALID.match(value) and "部分" not in value \
        and bool(_REPEALED_STATUS.search(value))


def compare(before: Snapshot, after: Snapshot) -> Revision:
    """What a new fetch (``after``) changed against the stored version (``before``)."""
    changed: list[str] = []
    failed = any(a.get("error") and not a.get("sha256") for a in after.attachments)
    text = None
    after_text = comparable_text(after.text)
    if comparable_text(before.text) != after_text:
        # The text fell back to the cover note only because the attachment could not be read.
        incomplete = failed and after.text_source == "page" and before.text_source == "attachment"
        # A cover note's text is its first readable attachment's: listed in another order, the
        # note takes another file's text, which the stored version holds already.
        reordered = after.text_source == before.text_source == "attachment" and \
            after_text in {a.get("content") for a in before.attachments}
        if not incomplete and not reordered and hash_form(after.text):
            changed.append("text")
            text = text_diff(without_furniture(before.text), without_furniture(after.text))
    fields = field_changes(before.fields, after.fields, KEY_FIELDS)
    if fields:
        changed.append("fields")
    attachments = attachment_changes(before.attachments, after.attachments)
    if attachments:
        changed.append("attachments")
    repealed = None
    new_status = after.fields.get("validity")
    if status_says_repealed(new_status) and not status_says_repealed(before.fields.get("validity")) \
            and any(f["field"] == "validity" for f in fields):
        repealed = str(new_status)
    return Revision(tuple(changed), text, fields, attachments, repealed)


def volatile_differences(before: Snapshot, after: Snapshot) -> list[str]:
    """What differs between two snapshots that ``compare`` found the same: ``text`` (furniture,
    spacing, a watermark), ``attachment_bytes`` (the same text in new bytes), ``attachment_links``
    (a changed ``?t=``, a moved file) and ``attachment_order``; empty for an identical fetch."""
    out = []
    if (before.text or "") != (after.text or ""):
        out.append("text")
    pairs, _, _ = match_attachments(before.attachments, after.attachments)
    if any(a.get("sha256") and b.get("sha256") and a["sha256"] != b["sha256"]
           and same_content(a, b) is not False for a, b in pairs):
        out.append("attachment_bytes")
    if any(a["url"] != b["url"] for a, b in pairs):
        out.append("attachment_links")
    stored_at = {id(a): i for i, a in enumerate(before.attachments)}
    now_at = {id(b): i for i, b in enumerate(after.attachments)}
    was = [stored_at[id(a)] for a, b in sorted(pairs, key=lambda pair: now_at[id(pair[1])])]
    if was != sorted(was):
        out.append("attachment_order")
    return out


# --- repeal decisions --------------------------------------------------------------------------

_DECISION_TITLE = re.compile(r"废止|失效|清理.{0,12}文件|文件.{0,4}清理|停止执行")
_REPEAL_WORDS = re.compile(r"废止|失效|停止执行|不再执行|予以撤销")
_OTHER_WORDS = re.compile(r"修改|修订|继续有效|保留|予以保留")
# 文号: an issuer's short name, the year in brackets, the number and 号 (国发〔2024〕9号).
DOC_NUMBER = re.compile(
    r"[\u4e00-\u9fff]{1,12}\s*[〔\[（(【]\s*(?:19|20)\d{2}\s*[〕\]）)】]\s*\d{1,4}\s*号"
)


def is_repeal_decision(title: str | None) -> bool:
    """Is the document a decision that repeals or declares void other documents (关于废止和
    宣布失效一批规范性文件的决定, 关于公布规范性文件清理结果的通知...)?"""
    return bool(_DECISION_TITLE.search(title or ""))


def repealed_numbers(text: str | None, own_number: str | None = None) -> list[tuple[str, str]]:
    """The 文号s a repeal decision's text repeals, as ``(doc_number_key, sentence)``.

    A 文号 counts when its line says 废止/失效, or when it sits under a heading that does (决定
    废止以下文件：…) and no heading since speaks of amending or keeping (修改/继续有效). The
    decision's own 文号 and 文号s quoted as its legal basis before any repeal wording are not
    repealed.
    """
    own = doc_number_key(own_number)
    found: dict[str, str] = {}
    context = ""
    for raw_line in re.split(r"[\n。；;]", text or ""):
        line = raw_line.strip()
        if not line:
            continue
        numbers = DOC_NUMBER.findall(line)
        says_repeal = bool(_REPEAL_WORDS.search(line))
        says_other = bool(_OTHER_WORDS.search(line)) and not says_repeal
        if not numbers:
            if says_repeal:
                context = "repeal"
            elif says_other:
                context = "other"
            continue
        if says_repeal or (context == "repeal" and not says_other):
            for number in numbers:
                key = doc_number_key(number)
                if key and key != own:
                    found.setdefault(key, line)
        elif says_other:
            context = "other"
    return list(found.items())


# --- withdrawal --------------------------------------------------------------------------------

WITHDRAWAL_CHECKS = 2


def withdrawal_due(absent_days: Iterable[str], present_on: str | None,
                   checks: int = WITHDRAWAL_CHECKS) -> bool:
    """Is a document withdrawn: absent on ``checks`` distinct check days (YYYY-MM-DD) after the
    last day it was seen present? Two crawls on one day are one check."""
    days = {d for d in absent_days if present_on is None or d > present_on}
    return len(days) >= checks
