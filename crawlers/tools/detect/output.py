"""What ``policywatch detect`` prints: the report a maintainer reads in a terminal (``render``)
and the JSON for tools (``to_json``)."""

from __future__ import annotations

from datetime import date
from typing import Any

from crawlers.families import FALLBACK, get_family
from crawlers.families.listparse import ParseError, load_page, page_count
from crawlers.parsing.display import pad
from crawlers.tools.detect.proposal import proposed_table
from crawlers.tools.detect.result import OK, Detection
from crawlers.tools.watch import table_toml

FIELD_LABELS = (
    ("title", "标题"), ("doc_number", "文号"), ("issuer", "发文机关"), ("index_no", "索引号"),
    ("topic", "主题分类"), ("written_date", "成文日期"), ("published_date", "发布日期"),
)


def _value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def pagination(detection: Detection) -> str:
    """The pagination found on the first list page, in words."""
    listing = detection.listing
    if listing is None:
        return "unknown"
    total = listing.total_pages
    if listing.next_pages:
        nxt = listing.next_pages[0]
        how = f"{nxt.method} " if nxt.method != "GET" else ""
        return (f"page 2 at {how}{nxt.url}" + (f"; {total} pages in all" if total else ""))
    if total and total > 1:
        return f"{total} pages announced, but no URL for page 2"
    recognition = detection.recognition
    if detection.list_page is not None and recognition and _counts_pages_in_html(recognition.family):
        try:
            count = page_count(load_page(detection.list_page.url, detection.list_page.body,
                                         detection.list_page.headers))
        except ParseError:
            count = None
        if count and count > 1:
            return f"{count} pages announced (共{count}页), but no link to page 2"
    return "none: the column is one page"


def _counts_pages_in_html(family: str) -> bool:
    try:
        return get_family(family).counts_pages_in_html
    except KeyError:
        return False


def to_json(detection: Detection) -> dict[str, Any]:
    """The detection as JSON for tools (``policywatch detect --json``)."""
    recognition = detection.recognition
    out: dict[str, Any] = {
        "url": detection.url,
        "verdict": detection.verdict,
        "family": detection.family,
        "why": recognition.reasons() if recognition else [],
        "scores": recognition.scores if recognition else {},
        "needs_browser": recognition.needs_browser if recognition else False,
        "notes": [{"severity": s, "message": m} for s, m in detection.notes]
                 + [{"severity": "info", "message": n} for n in (recognition.notes if recognition else [])],
        "fetched": detection.fetched,
        "list": None,
        "document": None,
        "missing": detection.missing(),
        "proposed": None,
    }
    if detection.listing is not None:
        out["list"] = {
            "url": detection.list_page.url if detection.list_page else detection.url,
            "entries": [{"url": e.url, "title": e.title, "published_date": _value(e.published_date)}
                        for e in detection.listing.entries],
            "next_pages": [{"url": r.url, "method": r.method, "page": r.page} for r in detection.listing.next_pages],
            "total_pages": detection.listing.total_pages,
            "pagination": pagination(detection),
        }
    if detection.item is not None:
        data = detection.item.to_json()
        data["body_text"] = data["body_text"][:500]
        out["document"] = data
    if detection.site is not None:
        out["proposed"] = proposed_table(detection, unknown=None)
    return out


def render(detection: Detection) -> str:
    """The detection as a maintainer reads it in a terminal."""
    recognition = detection.recognition
    lines = [f"detect {detection.url}"]
    if recognition is not None:
        reasons = recognition.reasons()
        known = recognition.family != FALLBACK or any(c.family == FALLBACK for c in recognition.clues)
        head = (f"family: {recognition.family}" if recognition.family != FALLBACK or not known
                else f"family: {FALLBACK}")
        if recognition.family == FALLBACK and not reasons:
            head += " (no known CMS family recognised: the generic adapter reads it)"
        lines.append(head + (", with the browser" if recognition.needs_browser else ""))
        for reason in reasons:
            lines.append(f"  because: {reason}")
        others = {f: s for f, s in recognition.scores.items() if f != recognition.family and s > 0}
        for family_name, score in sorted(others.items(), key=lambda x: -x[1]):
            lines.append(f"  also seen ({family_name}, {score}): " + "; ".join(recognition.reasons(family_name)))
        for note in recognition.notes:
            lines.append(f"  note: {note}")
    if detection.list_page is not None:
        page = detection.list_page
        lines.append(f"list page  {page.url}  ({page.source}, HTTP {page.status}, {len(page.body)} bytes)")
    if detection.listing is not None:
        entries = detection.listing.entries
        lines.append(f"  {len(entries)} entries on the first page")
        for entry in entries[:8]:
            day = entry.published_date.isoformat() if entry.published_date else "no date   "
            lines.append(f"    {day}  {entry.title}")
        if len(entries) > 8:
            lines.append(f"    … {len(entries) - 8} more")
        lines.append(f"  pagination: {pagination(detection)}")
    if detection.detail_page is not None:
        page = detection.detail_page
        lines.append(f"document   {page.url}  ({page.source}, HTTP {page.status}, {len(page.body)} bytes)")
    if detection.item is not None:
        item = detection.item
        for name, label in FIELD_LABELS:
            shown = _value(getattr(item, name))
            lines.append(f"    {pad(label, 10)}{shown if shown else '— missing'}")
        text = " ".join((item.body_text or "").split())
        lines.append(f"    {pad('正文', 10)}{len(item.body_text or '')} characters: "
                     f"{text[:60]}{'…' if len(text) > 60 else ''}")
        if item.attachments:
            lines.append(f"    {pad('附件', 10)}{len(item.attachments)}: "
                         + ", ".join(a.name for a in item.attachments[:3]))
    for severity, message in detection.notes:
        lines.append(f"[{severity}] {message}")
    if detection.site is not None and detection.verdict == OK:
        lines.append("proposed site (policywatch watch add writes it into the config):")
        lines += ["  " + line for line in table_toml(proposed_table(detection)).splitlines()]
    lines.append(f"verdict: {detection.verdict.upper()}")
    return "\n".join(lines)


__all__ = ["FIELD_LABELS", "pagination", "render", "to_json"]
