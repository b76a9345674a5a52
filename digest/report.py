"""The statistics report researchers draw each quarter, from the corpus: counts by relevance,
content tag, level, region, city tier and month, each with its share, the charts, and an appendix
of every document behind the numbers (TAXONOMY.md §5).

``build_report`` computes (pure over the corpus); ``write_report`` renders Markdown, HTML, the
charts (PNG + SVG) and the numbers as JSON into one folder, all or nothing.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable
from urllib.parse import quote

import sqlite_utils

from crawlers.parsing import clock
from digest.labels import (
    CITY_TIERS,
    DOC_TYPES,
    LEVELS,
    REGIONS,
    RELEVANCE,
    STATUSES,
    TAG_FAMILIES,
    UNSET,
    tag_label,
)
from digest.render import md_escape
from digest.selection import (
    Document,
    Filters,
    interpretation_count,
    select_documents,
    unclassified_count,
)

logger = logging.getLogger(__name__)

DEFAULT_TITLE = "元宇宙政策统计报告"
FILES = ("report.md", "report.html", "report.json")


@dataclass
class Bucket:
    """One row of a breakdown: ``count`` policies, ``share`` of all counted, which ones."""

    key: str | None
    label: str
    count: int
    share: float
    refs: list[int] = field(default_factory=list)  # appendix numbers of the documents


@dataclass
class Breakdown:
    name: str  # relevance, level, region, city_tier, month, scenarios, measures, techs
    title: str
    buckets: list[Bucket]
    multi_label: bool = False  # a policy can be in several buckets: shares add up to more

    @property
    def chart(self) -> str:
        return f"charts/{self.name}"


@dataclass
class AppendixRow:
    number: int
    document: Document
    tags: list[str]


@dataclass
class Report:
    title: str
    generated_at: str
    corpus: str
    filters: Filters
    total: int  # policies counted
    documents: int  # documents behind them (drafts and copies folded in)
    unclassified: int  # documents of the corpus without a relevance label
    breakdowns: list[Breakdown]
    appendix: list[AppendixRow]
    interpretations: int = 0  # 政策解读 the filters cover: said, never counted as policies

    def breakdown(self, name: str) -> Breakdown:
        return next(b for b in self.breakdowns if b.name == name)

    def to_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "generated_at": self.generated_at,
            "corpus": self.corpus,
            "filters": {
                "from": self.filters.date_from.isoformat() if self.filters.date_from else None,
                "to": self.filters.date_to.isoformat() if self.filters.date_to else None,
                "relevance": list(self.filters.relevance),
                "sites": list(self.filters.sites),
                "levels": list(self.filters.levels),
                "regions": list(self.filters.regions),
            },
            "total": self.total,
            "documents": self.documents,
            "unclassified": self.unclassified,
            "interpretations": self.interpretations,
            "breakdowns": {
                b.name: {
                    "title": b.title,
                    "multi_label": b.multi_label,
                    "buckets": [
                        {"key": x.key, "label": x.label, "count": x.count,
                         "share": round(x.share, 6), "documents": [
                             self.appendix[n - 1].document.id for n in x.refs]}
                        for x in b.buckets
                    ],
                }
                for b in self.breakdowns
            },
            "appendix": [
                {"number": r.number, "id": r.document.id, "policy_id": r.document.policy_key,
                 "issuer": r.document.issuer, "date": r.document.date,
                 "title": r.document.title, "doc_number": r.document.doc_number,
                 "url": r.document.url, "tags": r.tags,
                 "other_documents": [d.id for d in r.document.other_documents]}
                for r in self.appendix
            ],
        }


# --- counting --------------------------------------------------------------------------------


def _single(
    name: str, title: str, rows: list[AppendixRow], key_of: Callable[[Document], Any],
    order: Iterable[str | None], label_of: Callable[[str | None], str], keep_zero: bool = True,
) -> Breakdown:
    """A breakdown where each policy is in exactly one bucket (None: not labelled)."""
    total = len(rows)
    refs: dict[Any, list[int]] = {}
    for row in rows:
        refs.setdefault(key_of(row.document), []).append(row.number)
    keys = list(order)
    keys += sorted((k for k in refs if k not in keys and k is not None), key=str)
    if None in refs and None not in keys:
        keys.append(None)
    buckets = []
    for key in keys:
        numbers = refs.get(key, [])
        if not numbers and (key is None or not keep_zero):
            continue
        buckets.append(Bucket(key, label_of(key), len(numbers),
                              len(numbers) / total if total else 0.0, numbers))
    return Breakdown(name, title, buckets)


def _tags(column: str, rows: list[AppendixRow]) -> Breakdown:
    family, labels = TAG_FAMILIES[column]
    total = len(rows)
    refs: dict[str, list[int]] = {}
    untagged = []
    for row in rows:
        tags = row.document.tags(column)
        if not tags:
            untagged.append(row.number)
        for tag in dict.fromkeys(tags):  # a tag listed twice counts once
            refs.setdefault(tag, []).append(row.number)
    taxonomy_order = {tag: i for i, tag in enumerate(labels)}
    keys = sorted(refs, key=lambda t: (-len(refs[t]), taxonomy_order.get(t, len(labels)), t))
    buckets = [Bucket(tag, tag_label(column, tag), len(refs[tag]),
                      len(refs[tag]) / total if total else 0.0, refs[tag]) for tag in keys]
    if untagged:
        buckets.append(Bucket(None, "（无此类标签）", len(untagged),
                              len(untagged) / total if total else 0.0, untagged))
    return Breakdown(column, f"按{family}", buckets, multi_label=True)


# Over a longer span, months without policies are left out (a corpus-wide report would list
# years of zeros); within it, they show as 0.
MAX_FILLED_MONTHS = 36


def _months(rows: list[AppendixRow], filters: Filters) -> list[str]:
    """The months a report lists: every month of the period when it is at most
    MAX_FILLED_MONTHS long, else the months that have policies."""
    present = sorted(r.document.month for r in rows if r.document.month)
    first = filters.date_from.isoformat()[:7] if filters.date_from else (present[0] if present else None)
    last = filters.date_to.isoformat()[:7] if filters.date_to else (present[-1] if present else None)
    if not first or not last:
        return []
    months = []
    year, month = int(first[:4]), int(first[5:7])
    while f"{year:04d}-{month:02d}" <= last:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    if len(months) > MAX_FILLED_MONTHS:
        return sorted(set(present))
    return months


def document_tags(doc: Document) -> list[str]:
    """A document's labels as the appendix shows them (Chinese)."""
    tags = []
    if doc.relevance:
        tags.append(RELEVANCE.get(doc.relevance, doc.relevance))
    if doc.level:
        tags.append(LEVELS.get(doc.level, doc.level))
    place = doc.county or doc.city or doc.province
    for value in (doc.region, place, doc.city_tier and f"{doc.city_tier}城市"):
        if value:
            tags.append(value)
    if doc.doc_type:
        tags.append(DOC_TYPES.get(doc.doc_type, doc.doc_type))
    if doc.status:
        tags.append(STATUSES.get(doc.status, doc.status))
    for column in TAG_FAMILIES:
        tags.extend(tag_label(column, t) for t in dict.fromkeys(doc.tags(column)))
    if doc.withdrawn_at:
        tags.append("已撤回")
    if doc.repealed_at:
        tags.append("已废止")
    return tags


def build_report(
    db: sqlite_utils.Database, filters: Filters, corpus: str = "", title: str = DEFAULT_TITLE,
    now: datetime | None = None,
) -> Report:
    """Count the policies ``filters`` cover, as TAXONOMY.md §5 says."""
    docs = select_documents(db, filters, per_policy=True)
    rows = [AppendixRow(i, doc, document_tags(doc)) for i, doc in enumerate(docs, start=1)]
    relevance_order = list(filters.relevance) or list(RELEVANCE)
    breakdowns = [
        _single("relevance", "按相关性", rows, lambda d: d.relevance, relevance_order,
                lambda k: f"{RELEVANCE.get(k, k)}（{k}）" if k else UNSET),
        *(_tags(column, rows) for column in TAG_FAMILIES),
        _single("level", "按发文层级", rows, lambda d: d.level, LEVELS,
                lambda k: LEVELS.get(k, k) if k else UNSET),
        _single("region", "按地区", rows, lambda d: d.region, REGIONS,
                lambda k: k or "无地区（国家级或未标注）"),
        _single("city_tier", "按城市等级", rows, lambda d: d.city_tier, CITY_TIERS,
                lambda k: k or "无城市（省级及以上或未标注）"),
        _single("month", "按月份", rows, lambda d: d.month, _months(rows, filters),
                lambda k: k or UNSET),
    ]
    generated = (now or clock.now()).astimezone(timezone.utc)
    return Report(
        title=title,
        generated_at=generated.isoformat(timespec="seconds"),
        corpus=corpus,
        filters=filters,
        total=len(rows),
        documents=sum(1 + len(d.other_documents) for d in docs),
        unclassified=unclassified_count(db),
        breakdowns=breakdowns,
        appendix=rows,
        interpretations=interpretation_count(db, filters),
    )


# --- rendering -------------------------------------------------------------------------------


def number_ranges(numbers: list[int]) -> str:
    """1, 2, 3, 5 → "1–3, 5": the appendix numbers behind a count, compactly."""
    parts: list[str] = []
    ordered = sorted(numbers)
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        parts.append(str(ordered[i]) if i == j else f"{ordered[i]}–{ordered[j]}")
        i = j + 1
    return ", ".join(parts)


def percent(share: float) -> str:
    return f"{share * 100:.1f}%"


class _Markdown(str):
    """A cell already written as Markdown (a link), not to be escaped again."""


def _md_link(url: str, text: str = "原文") -> _Markdown:
    """A short link (the whole URL as its text squeezed the appendix's other columns). The
    destination is in <…>, where ">" or a line break would end it and "|" the table cell:
    those, spaces and "<" are percent-encoded."""
    return _Markdown(f"[{md_escape(text)}](<{quote(url, safe=_URL_SAFE)}>)")


_URL_SAFE = ":/?#[]@!$&'()*+,;=%~"


def _md_cell(value: Any) -> str:
    """A table cell: text from the portals escaped as the digest escapes it (a title holding
    ``<script>`` or ``|`` stays text), on one line."""
    if value is None:
        return ""
    text = value if isinstance(value, _Markdown) else md_escape(value)
    return " ".join(text.splitlines())


def _md_table(header: list[str], rows: list[list[Any]], align: list[str]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join("---:" if a == "r" else "---" for a in align) + "|"]
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
    return lines


def _header_lines(report: Report) -> list[tuple[str, str]]:
    lines = report.filters.describe()
    lines.append(("语料库", f"{report.corpus}（生成于 {report.generated_at}）"))
    lines.append(("计数单位", "政策文件；同一政策的征求意见稿与正式稿、转载只计一次，按正式稿计"))
    lines.append(("合计", f"{report.total} 件政策（由 {report.documents} 个文件归并）；"
                          f"占比均为占这 {report.total} 件的比例"))
    if report.interpretations:
        lines.append(("政策解读", f"另有 {report.interpretations} 篇政策解读（图解、答记者问等）"
                              "说明已有政策，未计入以上统计"))
    if report.unclassified:
        lines.append(("注意", f"语料库中有 {report.unclassified} 个文件尚未分类（无相关性标签），"
                              "未计入本报告"))
    return lines


def render_markdown(report: Report, charts: bool = True) -> str:
    out = [f"# {report.title}", ""]
    out += [f"- {name}：{md_escape(value)}" for name, value in _header_lines(report)]
    for i, b in enumerate(report.breakdowns, start=1):
        out += ["", f"## {i}. {b.title}", ""]
        if b.multi_label:
            out += ["一份政策可有多个标签，各项占比之和可超过 100%。", ""]
        if charts and report.total:
            out += [f"![{b.title}]({b.chart}.png)", ""]
        rows = [[x.label, x.count, percent(x.share), number_ranges(x.refs)] for x in b.buckets]
        if not b.multi_label:
            rows.append(["合计", report.total, percent(1.0 if report.total else 0.0), ""])
        out += _md_table(["类别", "数量", "占比", "附录序号"], rows, ["l", "r", "r", "l"])
    out += ["", "## 附录：统计所依据的政策文件", ""]
    rows = []
    for r in report.appendix:
        d = r.document
        title = d.title
        if d.other_documents:
            title += "（另有 " + "；".join(o.title for o in d.other_documents) + "）"
        rows.append([r.number, d.issuer or d.site_name or d.site, d.date or "", title,
                     d.doc_number or "", _md_link(d.url), "、".join(r.tags)])
    out += _md_table(["序号", "发文机关", "日期", "标题", "文号", "链接", "标签"], rows,
                     ["r", "l", "l", "l", "l", "l", "l"])
    return "\n".join(out) + "\n"


def render_html(report: Report, charts: bool = True) -> str:
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(
        loader=FileSystemLoader(Path(__file__).with_name("report_templates")),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True, lstrip_blocks=True,
    )
    env.filters["percent"] = percent
    return env.get_template("report.html").render(
        report=report, header=_header_lines(report), charts=charts and report.total > 0,
    )


def write_report(report: Report, out_dir: Path, charts: bool = True) -> list[Path]:
    """Write report.md, report.html, report.json and charts/ into ``out_dir``.

    Everything is drawn in a scratch folder first: a failure (a chart without its glyphs, a
    full disk) leaves ``out_dir`` as it was.
    """
    from digest.charts import Bar, bar_chart, find_cjk_font

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".report-", dir=out_dir))
    try:
        written: list[Path] = []
        if charts and report.total:
            font = find_cjk_font()
            for b in report.breakdowns:
                bars = [Bar(x.label, x.count, x.share) for x in b.buckets]
                written += bar_chart(bars, b.title, scratch / b.chart, horizontal=b.multi_label,
                                     font=font)
        (scratch / "report.md").write_text(render_markdown(report, charts), encoding="utf-8")
        (scratch / "report.html").write_text(render_html(report, charts), encoding="utf-8")
        (scratch / "report.json").write_text(
            json.dumps(report.to_json(), ensure_ascii=False, indent=2), encoding="utf-8")
        written += [scratch / name for name in FILES]
        if not (charts and report.total):
            # A chart left from an earlier report would sit beside a report that has none.
            for b in report.breakdowns:
                for fmt in ("png", "svg"):
                    (out_dir / f"{b.chart}.{fmt}").unlink(missing_ok=True)
        final = []
        for path in written:
            target = out_dir / path.relative_to(scratch)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, target)
            final.append(target)
        return final
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
