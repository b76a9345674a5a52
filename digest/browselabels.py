"""What ``policywatch browse`` shows a researcher in place of the corpus's codes: Chinese column
names and Chinese facet and cell values. The stored values (``dedicated``, ``xr``) stay the data:
URLs, JSON and CSV keep them; only what is read is translated.
"""

from __future__ import annotations

import json
from typing import Any, Mapping

from digest.build import KIND_LABELS
from digest.labels import CODE_LABELS, TAG_FAMILIES, UNSET, tag_label

# The columns of ``documents`` (and the other tables' common ones) as a researcher names them.
COLUMN_LABELS = {
    "id": "编号",
    "title": "标题",
    "issuer": "发文机关",
    "doc_number": "文号",
    "index_no": "索引号",
    "topic": "主题分类",
    "written_date": "成文日期",
    "published_date": "发布日期",
    "relevance": "相关性",
    "relevance_score": "相关性得分",
    "level": "发文层级",
    "region": "地区",
    "province": "省份",
    "city": "城市",
    "county": "区县",
    "city_tier": "城市等级",
    "scenarios": "应用场景",
    "measures": "建设措施",
    "techs": "核心技术",
    "doc_type": "文件类型",
    "status": "状态",
    "policy_id": "政策编号",
    "site": "来源网站",
    "url": "原文链接",
    "first_seen": "首次发现",
    "last_seen": "最近发现",
    "last_changed": "最近变化",
    "withdrawn_at": "撤下时间",
    "repealed_at": "废止时间",
    "body_text": "正文",
    "kind": "变化类型",
    "detected_at": "发现时间",
    "summary": "摘要",
    "document_id": "文件编号",
}
# Facets that are not a column's plain values.
FACET_TYPE_LABELS = {"month": "按月", "tags": "标签", "array": "标签"}
TAG_COLUMNS = tuple(TAG_FAMILIES)
# The columns whose stored values are codes with a Chinese label.
CODED = {*CODE_LABELS, *TAG_COLUMNS, "kind", "site"}


def column_label(column: str) -> str:
    """The Chinese name of a column; a column without one keeps its own name."""
    return COLUMN_LABELS.get(column, column)


def value_label(column: str, value: Any, site_names: Mapping[str, str] | None = None,
                label: Any = None) -> str:
    """A stored value as a researcher reads it: ``relevance`` ``dedicated`` → 专项政策, a tag
    list ``["xr", "ai"]`` → its tags' Chinese names, a site key → the site's name. Other
    columns' values are shown as ``label`` (Datasette's, a foreign key's title) or as stored."""
    if column not in CODED:
        return str(label if label is not None else ("" if value is None else value))
    if value is None or value == "":
        return UNSET if column in CODE_LABELS or column in TAG_COLUMNS else ""
    text = str(value)
    if column in CODE_LABELS:
        return CODE_LABELS[column].get(text, text)
    if column == "kind":
        return KIND_LABELS.get(text, text)
    if column == "site" and site_names:
        return site_names.get(text, text)
    if column in TAG_COLUMNS:
        if text.startswith("["):
            try:
                tags = json.loads(text)
            except ValueError:
                return text
            if isinstance(tags, list):
                return "、".join(tag_label(column, str(t)) for t in tags) or "—"
            return text
        return tag_label(column, text)
    return text
