"""Document type and status (TAXONOMY.md §4) from the title and the opening of the text.

A notice that issues a plan (关于印发《…行动计划》的通知) is typed by the plan it issues; a
call for comments on a draft (公开征求《…（征求意见稿）》意见的通知) by the draft, with status
``draft``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TYPES = ("action_plan", "implementation_plan", "measures", "plan", "guidance", "work_report",
         "notice", "interpretation", "other")
STATUSES = ("draft", "final", "revised", "repealed")

# 解读 and 问答 as the page's genre, not as a topic (关于做好政策解读工作的通知, 知识问答竞赛).
_INTERPRETATION = re.compile(r"解读(?!工作|机制|制度|回应)|一图读懂|图解|答记者问|问答(?!竞赛|比赛|活动)"
                             r"|新闻发布会|起草说明")
_WORK_REPORT = re.compile(r"政府工作报告")
# The document a notice issues or asks comments on: 《…》, or 印发…的通知 without brackets.
_ISSUES = re.compile(r"(?:印发|转发|征求|发布|公布|出台)")
_INNER = re.compile(r"《([^》]+)》")
_ISSUED_PLAIN = re.compile(r"(?:印发|转发)(.+?)的(?:通知|函)")
_SUBJECT_TYPES = (
    ("action_plan", re.compile(r"行动计划|行动方案|三年行动|攻坚行动")),
    ("implementation_plan", re.compile(r"实施方案|建设方案|工作方案|推进方案")),
    ("plan", re.compile(r"规划(?!管理|许可|建设用地|条件)|工作要点|工作计划|发展纲要|行动纲要")),
    ("guidance", re.compile(r"指导意见|实施意见|若干意见|的意见$|意见$|指南|指引")),
    ("measures", re.compile(r"办法|措施|若干政策|政策措施|细则|规定|条例|扶持政策|支持政策|优惠政策|奖补政策")),
    ("implementation_plan", re.compile(r"方案")),
)
_NOTICE = re.compile(r"通知|公告|通告|批复|决定|函$|复函|通报|公示|名单|意见的通知")
_DRAFT = re.compile(r"征求意见稿|征求意见|草案|送审稿|意见征集|讨论稿|试行稿")
_REPEALED = re.compile(r"已废止|已失效|(?:【|\[|（|\()(?:废止|失效)(?:】|\]|）|\))")
_REVISED = re.compile(r"修订|修正|修改")
_VALIDITY_REPEALED = re.compile(r"失效|废止|废除|停止执行")


@dataclass(frozen=True)
class TypeStatus:
    doc_type: str
    status: str
    type_evidence: str
    status_evidence: str


def _subject(title: str) -> str:
    """What the title is about: the document a notice issues, or the title itself."""
    if _ISSUES.search(title):
        inner = _INNER.findall(title)
        if inner:
            return inner[-1]
        plain = _ISSUED_PLAIN.search(title)
        if plain:
            return plain.group(1)
    return title


def classify_type(title: str | None, text: str | None = None,
                  validity: str | None = None) -> TypeStatus:
    """Type and status; ``other``/``final`` when nothing says otherwise. ``validity`` is the
    page's own 有效性 field, when it has one (失效, 已废止 make the document ``repealed``)."""
    title = (title or "").strip()
    opening = (text or "")[:300]
    doc_type, type_evidence = "other", ""
    if _INTERPRETATION.search(title):
        doc_type, type_evidence = "interpretation", title
    elif _WORK_REPORT.search(title):
        doc_type, type_evidence = "work_report", title
    else:
        subject = _subject(title)
        for name, pattern in _SUBJECT_TYPES:
            if pattern.search(subject):
                doc_type, type_evidence = name, title
                break
        else:
            if _NOTICE.search(title):
                doc_type, type_evidence = "notice", title
    if not title and opening:
        doc_type = "other"

    status, status_evidence = "final", ""
    heads = (title, opening[:120])
    if validity and _VALIDITY_REPEALED.search(validity):
        status, status_evidence = "repealed", f"有效性：{validity}"
    elif any(_REPEALED.search(h) for h in heads):
        status = "repealed"
        status_evidence = next(h for h in heads if _REPEALED.search(h))
    elif _DRAFT.search(title) or "征求意见稿" in opening:
        status = "draft"
        status_evidence = title if _DRAFT.search(title) else opening.split("\n", 1)[0]
    elif _REVISED.search(_subject(title)) and not _INTERPRETATION.search(title):
        status, status_evidence = "revised", title
    return TypeStatus(doc_type, status, type_evidence, status_evidence)
