"""Rendering a digest: Markdown, an HTML e-mail, an Atom feed and JSON — in Chinese, with
times in the schedule's time zone.

The HTML is an e-mail: one column of blocks with inline styles only (mail clients drop <style>
sheets), and every value from a portal escaped. The Atom feed has one entry per listed change
(and one per backfill summary), ids stable across digests and unique across corpora: tag URIs
built from the corpus's own id (``tag:policywatch.invalid,2026:<corpus id>/change/<N>``).
"""

from __future__ import annotations

import json
import re
from html import escape
from typing import Any, Callable
from xml.etree import ElementTree as ET

from digest.build import KIND_LABELS, RELEVANCE_LABELS, BackfillSummary, Digest, Entry
from digest.labels import health_reason
from digest.localtime import local_iso, shown, zone

FORMATS = ("md", "html", "atom", "json")
SUFFIXES = {"md": ".md", "html": ".html", "atom": ".atom", "json": ".json"}

try:  # the taxonomy's Chinese labels, when the report package that owns them is present
    from digest import labels as _labels

    TAG_LABELS = {**getattr(_labels, "SCENARIOS", {}), **getattr(_labels, "MEASURES", {}),
                  **getattr(_labels, "TECHS", {})}
    LEVEL_LABELS = dict(getattr(_labels, "LEVELS", {}))
except ImportError:  # pragma: no cover - labels ship with the package
    TAG_LABELS, LEVEL_LABELS = {}, {}

FIELD_NAMES = (("issuer", "发文机关"), ("doc_number", "文号"), ("written_date", "成文日期"),
               ("published_date", "发布日期"))
SENTENCE_MARKS = {"added": "＋", "removed": "－", "changed": "～"}
ATTACHMENT_WORDS = {"added": "新增附件", "removed": "删除附件", "replaced": "附件已更换"}


# --- what each entry says, shared by the formats ---------------------------------------------------


def document_facts(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) pairs of what is known of a document, in reading order."""
    facts = [(label, str(doc[key])) for key, label in FIELD_NAMES if doc.get(key)]
    facts.insert(0, ("来源网站", str(doc.get("site_name") or doc.get("site") or "")))
    relevance = doc.get("relevance")
    if isinstance(relevance, str) and relevance:
        shown = RELEVANCE_LABELS.get(relevance, relevance)
        if doc.get("relevance_score") is not None:
            shown += f"（{float(doc['relevance_score']):.2f}）"
        facts.append(("相关度", shown))
    tags = []
    for key in ("scenarios", "measures", "techs"):
        value = doc.get(key)
        if isinstance(value, list):
            tags += [TAG_LABELS.get(t, t) for t in value]
    if tags:
        facts.append(("标签", "、".join(tags)))
    where = [LEVEL_LABELS.get(doc.get("level"), doc.get("level")), doc.get("region"),
             doc.get("province"), doc.get("city"), doc.get("county")]
    where = [w for w in where if w]
    if where:
        facts.append(("层级/地区", " · ".join(dict.fromkeys(where))))
    if doc.get("repealed_at"):
        facts.append(("状态", "已废止/失效"))
    elif doc.get("withdrawn_at"):
        facts.append(("状态", "已撤下"))
    return [(k, v) for k, v in facts if v]


def evidence_lines(entry: Entry) -> list[str]:
    """Why the change was recorded, and the classifier's evidence, as plain sentences."""
    diff, lines = entry.diff, []
    if entry.kind == "finalised" and diff.get("draft"):
        match = diff.get("match", {})
        lines.append(f"征求意见稿：{diff['draft'].get('title')}（标题相似度 "
                     f"{match.get('title_similarity', 0):.2f}，正文相似度 {match.get('text_similarity', 0):.2f}）")
    if entry.kind == "repealed":
        if diff.get("by") == "decision":
            decision = diff.get("decision", {})
            lines.append(f"废止决定：{decision.get('title')}：“{diff.get('evidence', '')}”")
        for change in diff.get("fields", []):
            lines.append(f"{change['label']}：{change.get('old') or '（无）'} → {change['new']}")
    if entry.kind == "withdrawn":
        reasons = {"http_404": "页面返回 404", "http_410": "页面返回 410", "unlisted": "已不在栏目列表中"}
        for check in diff.get("checks", []):
            lines.append(f"{check['day']}：{reasons.get(check['reason'], check['reason'])}")
    if diff.get("moved_from"):
        lines.append(f"原网址：{diff['moved_from'].get('url')}")
    if diff.get("changed") == ["restored"]:
        lines.append(f"曾于 {shown(diff.get('withdrawn_at'), entry.tz or zone())} 判定撤下，现已恢复")
    evidence = entry.document.get("evidence")
    if isinstance(evidence, dict):
        lines += classifier_evidence(evidence)
    return lines


def interpretation_lines(entry: Entry) -> list[tuple[str, str, str]]:
    """(label, title, url): the policy a 解读 explains, and the 解读s of a policy."""
    lines = []
    if entry.explains:
        lines.append(("所解读的政策", str(entry.explains.get("title") or ""),
                      str(entry.explains.get("url") or "")))
    for j in entry.interpretations:
        day = f"（{j['published_date']}）" if j.get("published_date") else ""
        lines.append(("政策解读", f"{j.get('title') or ''}{day}", str(j.get("url") or "")))
    return lines


# The classifier's evidence a reader checks a tag by: its relevance and its content tags.
MAX_TAG_EVIDENCE = 6


def classifier_evidence(evidence: dict[str, Any]) -> list[str]:
    """``label：sentence`` lines for the relevance and the content tags (scenario:, measure:,
    tech:), tag names in Chinese; the issuer and type evidence stay in the JSON."""
    lines = []
    for label, sentence in evidence.items():
        kind, _, tag = str(label).partition(":")
        if label == "relevance":
            lines.append(f"相关度依据：{sentence}")
        elif kind in ("scenario", "measure", "tech") and tag:
            lines.append(f"{TAG_LABELS.get(tag, tag)}：{sentence}")
    return lines[:MAX_TAG_EVIDENCE + 1]


def _shown_diff(text: Any) -> dict[str, Any] | None:
    return text if isinstance(text, dict) and (text.get("entries") or text.get("omitted")) else None


def text_diff_of(entry: Entry) -> dict[str, Any] | None:
    return _shown_diff(entry.diff.get("text"))


def attachment_text_diff(change: dict[str, Any]) -> dict[str, Any] | None:
    """The text diff of a replaced attachment, when both versions had text."""
    return _shown_diff(change.get("text"))


def diff_summary(text: dict[str, Any]) -> str:
    parts = [f"{text.get(k, 0)} 句{w}" for k, w in (("added", "新增"), ("removed", "删除"),
                                                    ("changed", "修改")) if text.get(k)]
    return "正文变化：" + ("，".join(parts) or "无")


def period_line(digest: Digest) -> str:
    return digest.period_label


# --- the words around the changes, shared by the formats ----------------------------------------

STATE_LABELS = {"broken": "异常", "blocked": "被拦截", "unreachable": "无法连接"}


def empty_sentence(digest: Digest) -> str:
    return (f"没有变化：所监测网站自{digest.since_label}以来没有新发布、定稿、修订、废止或撤下的文件。"
            if digest.since else "没有变化：语料库中还没有任何变化记录。")


def nothing_matched_sentence(digest: Digest) -> str:
    return (f"没有符合本订阅（{digest.subscription.describe()}）的变化；"
            f"其他 {digest.rest_count} 条变化见下方汇总。" if digest.rest_count else
            f"没有符合本订阅（{digest.subscription.describe()}）的变化。")


def rest_heading(digest: Digest) -> str:
    return f"其他变化（不在订阅范围内）：{digest.rest_count} 条"


REST_NOTE = "按网站汇总：新发布、定稿、修订只列标题，撤下、废止和存量补录只计数。"


def more_sites_line(digest: Digest) -> str:
    counts = "、".join(f"{KIND_LABELS[k]} {n}" for k, n in digest.rest_more_sites.items() if n)
    return f"另有其他网站的变化：{counts}" if counts else ""


def unlisted_line(digest: Digest) -> str:
    counts = "、".join(f"{KIND_LABELS[k]} {n}" for k, n in digest.unlisted.items() if n)
    return f"不在订阅范围内的其他变化（未列出）：{counts}" if counts else ""


def subscription_line(digest: Digest) -> str:
    return f"订阅：{digest.subscription.label}（{digest.subscription.describe()}）"


def feed_line(digest: Digest) -> str:
    return f"Atom 订阅源（保留近期变化，可用阅读器订阅）：{digest.feed_url}" if digest.feed_url else ""


def maintenance_line(note: dict[str, Any], tz) -> tuple[str, str, str]:
    """(site, name, what is wrong) of a maintainer note, in Chinese where the words are ours."""
    state = STATE_LABELS.get(note["state"], note["state"])
    # health's reasons are English and parallel to its flags: each known flag reads in Chinese.
    flags = note.get("flags") or [None] * len(note["why"])
    why = "；".join(health_reason(flag, reason) for flag, reason in zip(flags, note["why"])) or state
    last = shown(note["last_success"], tz) or "从未"
    return note["site"], note["name"], f"{state}：{why}（上次成功：{last}）"


# --- feed ids -----------------------------------------------------------------------------------

TAG_AUTHORITY = "tag:policywatch.invalid,2026:"


def tag_uri(corpus_id: str | None, *parts: Any) -> str:
    """A tag URI (RFC 4151) under the corpus's own id: unique across corpora, stable forever.
    A corpus without an id (read-only, from before it had one) falls back to a URN."""
    path = "/".join(str(p) for p in parts)
    if not corpus_id:
        return "urn:policywatch:" + path.replace("/", ":")
    return f"{TAG_AUTHORITY}{corpus_id}/{path}"


# --- Markdown ---------------------------------------------------------------------------------------

_MD_SPECIAL = str.maketrans({c: f"\\{c}" for c in "\\`*_[]<>#|"})


def md_escape(text: Any) -> str:
    """``text`` as literal Markdown: its markup characters (and ``<``, so no HTML) escaped."""
    return str(text).translate(_MD_SPECIAL)


_md = md_escape


def _md_segments(segments) -> str:
    marks = {"=": "{}", "-": "~~{}~~", "+": "**{}**"}
    return "".join(marks[op].format(_md(text)) for op, text in segments if text.strip() or op == "=")


def _md_sentences(text: dict[str, Any], indent: str) -> list[str]:
    lines = []
    for sentence in text["entries"]:
        mark = SENTENCE_MARKS[sentence["op"]]
        shown = _md_segments(sentence["segments"]) if sentence["op"] == "changed" else _md(sentence["text"])
        lines.append(f"{indent}- {mark} {shown}")
    if text.get("omitted"):
        lines.append(f"{indent}- ……另有 {text['omitted']} 处变化未列出")
    return lines


def _md_entry(n: int, entry: Entry) -> list[str]:
    doc = entry.document
    lines = [f"### {n}. {_md(doc.get('title', ''))}", ""]
    lines += [f"- {label}：{_md(value)}" for label, value in document_facts(doc)]
    lines += [f"- 依据：{_md(line)}" for line in evidence_lines(entry)]
    lines += [f"- {label}：{_md(title)} <{url}>" for label, title, url in interpretation_lines(entry)]
    for change in entry.diff.get("fields", []) if entry.kind != "repealed" else []:
        lines.append(f"- {_md(change['label'])}：{_md(change.get('old') or '（无）')} → {_md(change['new'])}")
    for att in entry.diff.get("attachments", []):
        lines.append(f"- {ATTACHMENT_WORDS[att['change']]}：{_md(att['name'])}")
        att_text = attachment_text_diff(att)
        if att_text:
            lines.append(f"  - 附件{diff_summary(att_text)}")
            lines += _md_sentences(att_text, "    ")
    text = text_diff_of(entry)
    if text:
        lines.append(f"- {diff_summary(text)}")
        lines += _md_sentences(text, "  ")
    lines += [f"- 链接：<{doc.get('url')}>", ""]
    return lines


def _md_rest(digest: Digest) -> list[str]:
    if not digest.rest_count:
        return []
    lines = [f"## {rest_heading(digest)}", "", REST_NOTE, ""]
    for site in digest.rest:
        lines.append(f"- **{_md(site.site_name)}**：{_md(site.counts_line())}")
        for t in site.titles:
            lines.append(f"  - {_md(t['kind_label'])}：[{_md(t['title'])}](<{t['url']}>)")
        if site.more_titles:
            lines.append(f"  - ……另有 {site.more_titles} 篇")
    for line in (more_sites_line(digest), unlisted_line(digest)):
        if line:
            lines.append(f"- {_md(line)}")
    return lines + [""]


def _md_backfill(summaries: list[BackfillSummary]) -> list[str]:
    total = sum(s.count for s in summaries)
    lines = [f"## 存量补录：{total} 篇（按网站汇总，不逐条列出）", "", "| 网站 | 篇数 |", "|---|---|"]
    lines += [f"| {_md(s.site_name)} | {s.count} |" for s in summaries]
    lines.append("")
    top = sorted((e for s in summaries for e in s.top), key=lambda e: e.relevance_key)[:5]
    if top:
        lines += ["最相关的几篇：", ""]
        for entry in top:
            doc = entry.document
            facts = "，".join(v for k, v in document_facts(doc) if k in ("来源网站", "文号", "相关度"))
            lines.append(f"- {_md(doc.get('title'))}（{_md(facts)}）<{doc.get('url')}>")
        lines.append("")
    return lines


def render_markdown(digest: Digest) -> str:
    """The digest as Markdown (also the text part of the e-mail)."""
    lines = [f"# {_md(digest.title)}", "", f"{_md(digest.headline())}", "",
             f"- 时段：{_md(period_line(digest))}", f"- {_md(subscription_line(digest))}"]
    if digest.feed_url:
        lines.append(f"- {_md(feed_line(digest).rsplit('：', 1)[0])}：<{digest.feed_url}>")
    lines.append("")
    if digest.resent:
        lines += ["> 本摘要包含上次发送时可能未送达的变化（可能重复）。", ""]
    if digest.empty:
        lines += [_md(empty_sentence(digest)), ""]
        return "\n".join(lines + _md_maintenance(digest))
    if not digest.matched:
        lines += [_md(nothing_matched_sentence(digest)), ""]
    for kind, entries in digest.by_kind():
        lines += [f"## {KIND_LABELS[kind]}（{len(entries) + digest.omitted.get(kind, 0)}）", ""]
        for n, entry in enumerate(entries, 1):
            lines += _md_entry(n, entry)
        if digest.omitted.get(kind):
            lines += [f"……另有 {digest.omitted[kind]} 条未列出（见 JSON 或 Atom 版本）。", ""]
    if digest.backfill:
        lines += _md_backfill(digest.backfill)
    lines += _md_rest(digest)
    return "\n".join(lines + _md_maintenance(digest))


def _md_maintenance(digest: Digest) -> list[str]:
    if not digest.maintenance:
        return []
    lines = ["## 维护：需要检查的网站", ""]
    for note in digest.maintenance:
        site, name, what = maintenance_line(note, digest.tz)
        lines.append(f"- **{_md(site)}** {_md(name)}：{_md(what)}")
    return lines + [""]


# --- HTML e-mail -----------------------------------------------------------------------------------

STYLE = {
    "body": "margin:0;padding:16px;background:#f4f5f7;font-family:'PingFang SC','Microsoft YaHei',"
            "'Noto Sans CJK SC',sans-serif;color:#1f2328;font-size:14px;line-height:1.6",
    "wrap": "max-width:760px;margin:0 auto;background:#ffffff;border:1px solid #d0d7de;"
            "border-radius:6px;padding:20px",
    "h1": "font-size:20px;margin:0 0 4px 0",
    "meta": "color:#57606a;font-size:13px;margin:0 0 16px 0",
    "h2": "font-size:17px;margin:24px 0 8px 0;padding-bottom:4px;border-bottom:2px solid #0969da",
    "card": "border:1px solid #d0d7de;border-radius:6px;padding:12px;margin:0 0 12px 0",
    "title": "font-size:15px;font-weight:bold;margin:0 0 6px 0",
    "fact": "margin:0;color:#1f2328",
    "label": "color:#57606a",
    "evidence": "margin:6px 0 0 0;padding:6px 8px;background:#f6f8fa;border-left:3px solid #8c959f",
    "diff": "margin:8px 0 0 0;padding:0;list-style:none",
    "added": "margin:2px 0;padding:2px 6px;background:#e6ffec",
    "removed": "margin:2px 0;padding:2px 6px;background:#ffebe9",
    "changed": "margin:2px 0;padding:2px 6px;background:#fff8c5",
    "ins": "background:#abf2bc;color:#0a3622;text-decoration:none",
    "del": "background:#ffc1c0;color:#67060c;text-decoration:line-through",
    "link": "color:#0969da;word-break:break-all",
    "empty": "padding:16px;background:#f6f8fa;border-radius:6px;font-size:15px",
    "table": "border-collapse:collapse;margin:4px 0 12px 0",
    "cell": "border:1px solid #d0d7de;padding:4px 10px",
    "notice": "padding:8px;background:#fff8c5;border:1px solid #d4a72c;border-radius:6px",
    "rest": "margin:2px 0 10px 0;padding-left:20px;color:#1f2328;font-size:13px",
}


def _e(value: Any) -> str:
    return escape(str(value if value is not None else ""), quote=True)


def _html_segments(segments) -> str:
    out = []
    for op, text in segments:
        if op == "=":
            out.append(_e(text))
        elif op == "-":
            out.append(f'<del style="{STYLE["del"]}">{_e(text)}</del>')
        else:
            out.append(f'<ins style="{STYLE["ins"]}">{_e(text)}</ins>')
    return "".join(out)


def _html_sentences(text: dict[str, Any], label: str = "") -> list[str]:
    parts = [f'<p style="{STYLE["fact"]}"><span style="{STYLE["label"]}">{_e(label + diff_summary(text))}</span></p>',
             f'<ul style="{STYLE["diff"]}">']
    for sentence in text["entries"]:
        op = sentence["op"]
        shown = _html_segments(sentence["segments"]) if op == "changed" else _e(sentence["text"])
        parts.append(f'<li style="{STYLE[op]}">{SENTENCE_MARKS[op]} {shown}</li>')
    if text.get("omitted"):
        parts.append(f'<li style="{STYLE["changed"]}">……另有 {int(text["omitted"])} 处变化未列出</li>')
    parts.append("</ul>")
    return parts


def html_entry(entry: Entry) -> str:
    """One change as an HTML block (also the Atom entry's content)."""
    doc = entry.document
    url = str(doc.get("url") or "")
    parts = [f'<div style="{STYLE["card"]}">',
             f'<p style="{STYLE["title"]}">{_e(doc.get("title"))}</p>']
    for label, value in document_facts(doc):
        parts.append(f'<p style="{STYLE["fact"]}"><span style="{STYLE["label"]}">{_e(label)}：</span>{_e(value)}</p>')
    for label, title, link in interpretation_lines(entry):
        parts.append(f'<p style="{STYLE["fact"]}"><span style="{STYLE["label"]}">{_e(label)}：</span>'
                     f'<a style="{STYLE["link"]}" href="{_e(link)}">{_e(title)}</a></p>')
    evidence = evidence_lines(entry)
    if evidence:
        parts.append(f'<div style="{STYLE["evidence"]}">' +
                     "<br>".join(_e(line) for line in evidence) + "</div>")
    fields = entry.diff.get("fields", []) if entry.kind != "repealed" else []
    for change in fields:
        parts.append(f'<p style="{STYLE["fact"]}"><span style="{STYLE["label"]}">{_e(change["label"])}：</span>'
                     f'<del style="{STYLE["del"]}">{_e(change.get("old") or "（无）")}</del> → '
                     f'<ins style="{STYLE["ins"]}">{_e(change["new"])}</ins></p>')
    for att in entry.diff.get("attachments", []):
        parts.append(f'<p style="{STYLE["fact"]}"><span style="{STYLE["label"]}">'
                     f'{_e(ATTACHMENT_WORDS[att["change"]])}：</span>{_e(att["name"])}</p>')
        att_text = attachment_text_diff(att)
        if att_text:
            parts += _html_sentences(att_text, "附件")
    text = text_diff_of(entry)
    if text:
        parts += _html_sentences(text)
    parts.append(f'<p style="{STYLE["fact"]}"><span style="{STYLE["label"]}">链接：</span>'
                 f'<a style="{STYLE["link"]}" href="{_e(url)}">{_e(url)}</a></p></div>')
    return "\n".join(parts)


def _html_backfill(summaries: list[BackfillSummary]) -> str:
    total = sum(s.count for s in summaries)
    rows = "".join(f'<tr><td style="{STYLE["cell"]}">{_e(s.site_name)}</td>'
                   f'<td style="{STYLE["cell"]}">{s.count}</td></tr>' for s in summaries)
    top = sorted((e for s in summaries for e in s.top), key=lambda e: e.relevance_key)[:5]
    out = [f'<h2 style="{STYLE["h2"]}">存量补录：{total} 篇（按网站汇总，不逐条列出）</h2>',
           f'<table style="{STYLE["table"]}"><tr><th style="{STYLE["cell"]}">网站</th>'
           f'<th style="{STYLE["cell"]}">篇数</th></tr>{rows}</table>']
    if top:
        out.append(f'<p style="{STYLE["fact"]}">最相关的几篇：</p>')
        out += [html_entry(e) for e in top]
    return "\n".join(out)


def _html_rest(digest: Digest) -> str:
    if not digest.rest_count:
        return ""
    out = [f'<h2 style="{STYLE["h2"]}">{_e(rest_heading(digest))}</h2>',
           f'<p style="{STYLE["meta"]}">{_e(REST_NOTE)}</p>']
    for site in digest.rest:
        out.append(f'<p style="{STYLE["fact"]}"><b>{_e(site.site_name)}</b>：{_e(site.counts_line())}</p>')
        if site.titles or site.more_titles:
            out.append(f'<ul style="{STYLE["rest"]}">')
            out += [f'<li>{_e(t["kind_label"])}：<a style="{STYLE["link"]}" href="{_e(t["url"])}">'
                    f'{_e(t["title"])}</a></li>' for t in site.titles]
            if site.more_titles:
                out.append(f"<li>……另有 {site.more_titles} 篇</li>")
            out.append("</ul>")
    out += [f'<p style="{STYLE["fact"]}">{_e(line)}</p>'
            for line in (more_sites_line(digest), unlisted_line(digest)) if line]
    return "\n".join(out)


def render_html(digest: Digest) -> str:
    """The digest as an HTML e-mail: inline styles, every field escaped."""
    meta = [_e(digest.headline()), f"时段：{_e(period_line(digest))}", _e(subscription_line(digest))]
    if digest.feed_url:
        meta.append(f'Atom 订阅源：<a style="{STYLE["link"]}" href="{_e(digest.feed_url)}">'
                    f"{_e(digest.feed_url)}</a>")
    body = [f'<h1 style="{STYLE["h1"]}">{_e(digest.title)}</h1>',
            f'<p style="{STYLE["meta"]}">' + "<br>".join(meta) + "</p>"]
    if digest.resent:
        body.append(f'<p style="{STYLE["notice"]}">本摘要包含上次发送时可能未送达的变化（可能重复）。</p>')
    if digest.empty:
        body.append(f'<p style="{STYLE["empty"]}">{_e(empty_sentence(digest))}</p>')
    elif not digest.matched:
        body.append(f'<p style="{STYLE["empty"]}">{_e(nothing_matched_sentence(digest))}</p>')
    for kind, entries in digest.by_kind():
        count = len(entries) + digest.omitted.get(kind, 0)
        body.append(f'<h2 style="{STYLE["h2"]}">{_e(KIND_LABELS[kind])}（{count}）</h2>')
        body += [html_entry(e) for e in entries]
        if digest.omitted.get(kind):
            body.append(f'<p style="{STYLE["fact"]}">……另有 {digest.omitted[kind]} 条未列出（见 JSON 或 Atom 版本）。</p>')
    if digest.backfill:
        body.append(_html_backfill(digest.backfill))
    rest = _html_rest(digest)
    if rest:
        body.append(rest)
    if digest.maintenance:
        body.append(f'<h2 style="{STYLE["h2"]}">维护：需要检查的网站</h2><ul>')
        for note in digest.maintenance:
            site, name, what = maintenance_line(note, digest.tz)
            body.append(f'<li style="{STYLE["fact"]}"><b>{_e(site)}</b> {_e(name)}：{_e(what)}</li>')
        body.append("</ul>")
    return ('<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_e(digest.headline())}</title></head>"
            f'<body style="{STYLE["body"]}"><div style="{STYLE["wrap"]}">\n'
            + "\n".join(body) + "\n</div></body></html>\n")


# --- Atom ---------------------------------------------------------------------------------------

ATOM_NS = "http://www.w3.org/2005/Atom"
# Characters XML 1.0 cannot carry at all (ElementTree would write them and break the feed).
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(value: Any) -> str:
    """``value`` as text an XML document can hold: forbidden characters dropped."""
    return _XML_FORBIDDEN.sub("", str(value))


def _atom_time(value: str, digest: Digest) -> str:
    """RFC 3339, in the digest's time zone (a bare date is that local day's midnight)."""
    return local_iso(value, digest.tz) or ""


def render_atom(digest: Digest, feed_id: str | None = None, title: str | None = None,
                link: str | None = None) -> str:
    """The digest as an Atom 1.0 feed: one entry per listed change, one per backfill summary."""
    ET.register_namespace("", ATOM_NS)

    def sub(parent, tag, text=None, **attrs):
        element = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}",
                                {k: xml_text(v) for k, v in attrs.items()})
        if text is not None:
            element.text = xml_text(text)
        return element

    corpus = digest.corpus_id
    feed = ET.Element(f"{{{ATOM_NS}}}feed")
    sub(feed, "id", feed_id or tag_uri(corpus, "digest", digest.subscription.name, digest.until))
    sub(feed, "title", title or digest.headline())
    sub(feed, "subtitle", subscription_line(digest))
    sub(feed, "updated", _atom_time(digest.until, digest))
    if link or digest.feed_url:
        sub(feed, "link", href=link or digest.feed_url, rel="self")
    author = sub(feed, "author")
    sub(author, "name", "policywatch")
    sub(feed, "generator", "policywatch")
    for entry in digest.entries:
        doc = entry.document
        item = sub(feed, "entry")
        sub(item, "id", tag_uri(corpus, "change", entry.id))
        sub(item, "title", f"[{KIND_LABELS[entry.kind]}] {doc.get('title', '')}")
        sub(item, "updated", _atom_time(entry.detected_at, digest))
        if doc.get("published_date"):
            sub(item, "published", _atom_time(str(doc["published_date"]), digest))
        if doc.get("url"):
            sub(item, "link", href=str(doc["url"]), rel="alternate")
        sub(item, "category", term=entry.kind, label=KIND_LABELS[entry.kind])
        sub(item, "summary", entry.summary_zh)
        sub(item, "content", html_entry(entry), type="html")
    for summary in digest.backfill:
        first = min(e.id for e in summary.top)
        item = sub(feed, "entry")
        sub(item, "id", tag_uri(corpus, "backfill", summary.site, first))
        sub(item, "title", f"[存量补录] {summary.site_name}：{summary.count} 篇")
        sub(item, "updated", _atom_time(max(e.detected_at for e in summary.top), digest))
        sub(item, "category", term="backfill", label="存量补录")
        sub(item, "content", "\n".join(html_entry(e) for e in summary.top), type="html")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="unicode") + "\n"


# --- JSON ---------------------------------------------------------------------------------------


def render_json(digest: Digest) -> str:
    return json.dumps(digest.to_json(), ensure_ascii=False, indent=2) + "\n"


RENDERERS: dict[str, Callable[[Digest], str]] = {
    "md": render_markdown, "html": render_html, "atom": render_atom, "json": render_json,
}


def render(digest: Digest, fmt: str) -> str:
    """The digest in one of ``FORMATS``."""
    try:
        return RENDERERS[fmt](digest)
    except KeyError:
        raise ValueError(f"unknown digest format {fmt!r}; one of {', '.join(FORMATS)}") from None
