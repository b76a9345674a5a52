"""Diffs people can read: what a revision of a Chinese policy text added, removed and changed.

Pure functions, JSON-ready results. Text is compared sentence by sentence (split on 。；！？ and
at paragraph ends), with the characters that changed marked inside a sentence that was edited
rather than rewritten; attachments are named; metadata is ``field: old → new``.

Comparison is on the folded form of the text (``textnorm.hash_form``: NFKC, no whitespace), so
text re-flowed by a PDF extractor or re-spaced by a portal's template is not a difference; what
is shown is the text as the portal wrote it.
"""

from __future__ import annotations

import re
import unicodedata
from difflib import SequenceMatcher
from typing import Any, Iterable, Mapping

from crawlers.parsing.textnorm import hash_form

# Characters that end a sentence (full-width as written, half-width as PDF extractors give them).
SENTENCE_ENDS = "。；！？;!?"
_SPLIT_AFTER = re.compile(rf"(?<=[{SENTENCE_ENDS}])")
# A line that ends like this finishes its paragraph; closing quotes/brackets may follow the stop.
_PARAGRAPH_END = re.compile(rf"[{SENTENCE_ENDS}：:]['\"’”」』）)\]】]*$")
# A line that starts like this starts a new paragraph (一、 （一） (1) 1. 1、 第三条 附件).
_HEADING_START = re.compile(
    r"^(?:[一二三四五六七八九十百]+[、.．]|[（(][一二三四五六七八九十\d]+[)）]|\d+[、.．](?!\d)"
    r"|第[一二三四五六七八九十百\d]+[条章节款]|附件)"
)
# Lines shorter than this are headings or letterhead, never a wrapped part of a sentence (nor
# are lines much shorter than the text's usual full line).
WRAPPED_LINE_MIN = 18
_SPACE_BY_CJK = re.compile(
    r"\s+(?=[\u2e80-\u9fff\uf900-\uffef])|(?<=[\u2e80-\u9fff\uf900-\uffef])\s+"
)
_SPACES = re.compile(r"\s+")

# How alike two sentences must be (0..1, by characters) to be shown as one edited sentence.
EDITED_MIN_RATIO = 0.5
# At most this many sentence entries are listed; the rest are counted in "omitted".
MAX_ENTRIES = 60

FIELD_LABELS = {
    "title": "标题",
    "doc_number": "文号",
    "issuer": "发文机关",
    "index_no": "索引号",
    "written_date": "成文日期",
    "published_date": "发布日期",
    "validity": "有效性",
}


def display_form(text: str) -> str:
    """A sentence as shown: no whitespace next to CJK characters (PDF text spaces them out),
    other runs of whitespace made one space."""
    return _SPACES.sub(" ", _SPACE_BY_CJK.sub("", text)).strip()


def paragraphs(text: str | None) -> list[str]:
    """The text's paragraphs: lines re-joined where a PDF extractor wrapped a sentence.

    A line continues on the next one when it runs the full width of the text's lines (a
    wrapped line; a title or heading is shorter), does not end a sentence, and the next line
    does not start a heading. Text from web pages, one paragraph a line, is left as it is.
    """
    lines = [line.strip() for line in (text or "").replace("\r", "\n").split("\n")]
    lines = [line for line in lines if line]
    widths = sorted(len(line) for line in lines if len(line) >= WRAPPED_LINE_MIN)
    full = widths[len(widths) // 2] if widths else 0
    wrap_min = max(WRAPPED_LINE_MIN, int(full * 0.85))
    out: list[str] = []
    current, last = "", ""
    for line in lines:
        if current and (
            len(last) < wrap_min
            or _PARAGRAPH_END.search(last)
            or _HEADING_START.match(line)
        ):
            out.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
        last = line
    if current:
        out.append(current)
    return out


def split_sentences(text: str | None) -> list[str]:
    """The text's sentences in order, each ending with its 。；！？ (or at its paragraph's end)."""
    sentences = []
    for paragraph in paragraphs(text):
        for piece in _SPLIT_AFTER.split(paragraph):
            shown = display_form(piece)
            if hash_form(shown):
                sentences.append(shown)
    return sentences


def _fold_chars(text: str) -> list[str]:
    # One folded element per character, so that positions map back to the text as written.
    return [unicodedata.normalize("NFKC", ch) for ch in text]


def char_ratio(a: str, b: str) -> float:
    """How alike two sentences are, 0..1, by folded characters."""
    matcher = SequenceMatcher(None, _fold_chars(a), _fold_chars(b), autojunk=False)
    if matcher.real_quick_ratio() < EDITED_MIN_RATIO or matcher.quick_ratio() < EDITED_MIN_RATIO:
        return matcher.quick_ratio()
    return matcher.ratio()


def char_segments(old: str, new: str) -> list[list[str]]:
    """The edit of one sentence as ``[op, text]`` runs: ``=`` kept, ``-`` removed, ``+`` added."""
    matcher = SequenceMatcher(None, _fold_chars(old), _fold_chars(new), autojunk=False)
    segments: list[list[str]] = []

    def emit(op: str, text: str) -> None:
        if not text:
            return
        if segments and segments[-1][0] == op:
            segments[-1][1] += text
        else:
            segments.append([op, text])

    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            emit("=", new[j1:j2])
        else:
            emit("-", old[i1:i2])
            emit("+", new[j1:j2])
    return segments


def _pair_block(old: list[str], new: list[str]) -> list[dict[str, Any]]:
    """A block of differing sentences as removed / added / changed entries, in order: each old
    sentence is paired with the most alike new sentence after the last pairing, if alike enough."""
    entries: list[dict[str, Any]] = []
    j = 0
    for sentence in old:
        best, best_ratio = None, EDITED_MIN_RATIO
        for k in range(j, len(new)):
            ratio = char_ratio(sentence, new[k])
            if ratio >= best_ratio:
                best, best_ratio = k, ratio
        if best is None:
            entries.append({"op": "removed", "text": sentence})
            continue
        entries.extend({"op": "added", "text": s} for s in new[j:best])
        entries.append({"op": "changed", "old": sentence, "new": new[best],
                        "segments": char_segments(sentence, new[best])})
        j = best + 1
    entries.extend({"op": "added", "text": s} for s in new[j:])
    return entries


# Blocks bigger than this are not paired sentence by sentence (quadratic): listed as they are.
_PAIR_LIMIT = 200


def text_diff(old: str | None, new: str | None, max_entries: int = MAX_ENTRIES) -> dict[str, Any]:
    """The sentence-level diff of two texts.

    ``{"entries": [...], "added": n, "removed": n, "changed": n, "omitted": n}``; an entry is
    ``{"op": "added"|"removed", "text"}`` or ``{"op": "changed", "old", "new", "segments"}``.
    Only the first ``max_entries`` entries are listed; ``omitted`` counts the rest.
    """
    a, b = split_sentences(old), split_sentences(new)
    ka, kb = [hash_form(s) for s in a], [hash_form(s) for s in b]
    entries: list[dict[str, Any]] = []
    if "".join(ka) == "".join(kb):  # the same text, only cut into lines differently
        return {"entries": [], "added": 0, "removed": 0, "changed": 0, "omitted": 0}
    matcher = SequenceMatcher(None, ka, kb, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal" or "".join(ka[i1:i2]) == "".join(kb[j1:j2]):
            continue
        if tag == "replace" and (i2 - i1) * (j2 - j1) <= _PAIR_LIMIT * _PAIR_LIMIT // 10:
            entries.extend(_pair_block(a[i1:i2], b[j1:j2]))
        else:
            entries.extend({"op": "removed", "text": s} for s in a[i1:i2])
            entries.extend({"op": "added", "text": s} for s in b[j1:j2])
    counts = {op: sum(1 for e in entries if e["op"] == op) for op in ("added", "removed", "changed")}
    return {"entries": entries[:max_entries], **counts,
            "omitted": max(0, len(entries) - max_entries)}


def _shown(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def field_changes(old: Mapping[str, Any], new: Mapping[str, Any],
                  names: Iterable[str] = FIELD_LABELS) -> list[dict[str, Any]]:
    """Metadata fields whose folded values differ: ``{"field", "label", "old", "new"}``.

    A field the old record does not have at all (a version stored before the field was read)
    is unknown, not changed; a value that disappears is an extraction gap, not a change.
    """
    out = []
    for name in names:
        if name not in old:
            continue
        before, after = _shown(old.get(name)), _shown(new.get(name))
        if after is None or hash_form(before) == hash_form(after):
            continue
        out.append({"field": name, "label": FIELD_LABELS.get(name, name), "old": before, "new": after})
    return out


def match_attachments(old: Iterable[Mapping[str, Any]], new: Iterable[Mapping[str, Any]]):
    """Pair each side's attachments: by identity (``key``, else the URL), then — for those left —
    by name (a file moved to another link under the same name is the same attachment).
    Returns ``(pairs, removed, added)``: pairs ``(old, new)`` in the new side's order."""
    before = {a.get("key") or a["url"]: a for a in old}
    after = {b.get("key") or b["url"]: b for b in new}
    pairs = [(before[k], b) for k, b in after.items() if k in before]
    gone = [a for k, a in before.items() if k not in after]
    came = [b for k, b in after.items() if k not in before]
    by_name: dict[str, Mapping[str, Any]] = {}
    for a in gone:
        if a.get("name"):
            by_name.setdefault(hash_form(a["name"]), a)
    added = []
    for b in came:
        a = by_name.pop(hash_form(b.get("name")), None) if b.get("name") else None
        if a is None:
            added.append(b)
        else:
            gone.remove(a)
            pairs.append((a, b))
    return pairs, gone, added


def same_content(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool | None:
    """Do two sightings of an attachment hold the same content? Its text where both have text
    (``content``: the compared form of it), its bytes where neither has; None (unknown, never a
    change) when one side's text or bytes are missing (a failed download or extraction)."""
    if a.get("content") and b.get("content"):
        return a["content"] == b["content"]
    if a.get("content") or b.get("content"):
        return None
    if a.get("sha256") and b.get("sha256"):
        return a["sha256"] == b["sha256"]
    return None


def attachment_changes(old: Iterable[Mapping[str, Any]], new: Iterable[Mapping[str, Any]]
                       ) -> list[dict[str, Any]]:
    """Attachments added, removed or replaced (the same attachment, other content), named.

    Each side is a list of ``{"url", "name", "sha256"}``, with optionally ``key`` (the
    attachment's identity: its link without volatile parameters), ``content`` (the compared
    form of its text) and ``text`` (its text as shown): a replaced file with text on both sides
    carries the diff of its text (``text``). A file whose content is unknown on either side
    (its download failed) is not a change.
    """
    pairs, gone, came = match_attachments(old, new)
    out: list[dict[str, Any]] = []
    for a, b in pairs:
        if same_content(a, b) is not False:
            continue
        change = {"change": "replaced", "name": b.get("name") or a.get("name") or b["url"], "url": b["url"]}
        if (a.get("key") or a["url"]) != (b.get("key") or b["url"]):
            change["old_url"] = a["url"]
        if a.get("text") and b.get("text"):
            change["text"] = text_diff(a["text"], b["text"])
        out.append(change)
    out += [{"change": "added", "name": b.get("name") or b["url"], "url": b["url"]} for b in came]
    out += [{"change": "removed", "name": a.get("name") or a["url"], "url": a["url"]} for a in gone]
    order = {"replaced": 0, "added": 1, "removed": 2}
    return sorted(out, key=lambda c: (order[c["change"]], c["name"] or ""))


def segments_as_text(segments: Iterable[Iterable[str]]) -> str:
    """An edited sentence in plain text: removals as ``[-…-]``, additions as ``{+…+}``."""
    marks = {"=": "{}", "-": "[-{}-]", "+": "{{+{}+}}"}
    return "".join(marks[op].format(text) for op, text in segments)
