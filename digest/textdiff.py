"""What changed between two versions of a document, for people to read: paragraphs that differ,
with the changed characters marked (Chinese has no words to diff by), and the key fields and
attachments that differ. Pure: texts and JSON in, plain data out.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from typing import Any

# Unchanged paragraphs shown around a change; longer unchanged runs are folded.
CONTEXT = 1


@dataclass
class Block:
    """A run of paragraphs: ``same`` (unchanged), ``folded`` (``count`` unchanged paragraphs not
    shown) or ``changed`` (``segments`` of ("same"|"del"|"ins", text))."""

    kind: str
    text: str = ""
    count: int = 0
    segments: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class VersionDiff:
    blocks: list[Block]
    fields: list[tuple[str, Any, Any]]  # (name, before, after) for each differing field
    attachments: list[tuple[str, str]]  # (url, "added"|"removed"|"changed")

    @property
    def unchanged(self) -> bool:
        return not self.fields and not self.attachments and all(
            b.kind != "changed" for b in self.blocks)


def _paragraphs(text: str | None) -> list[str]:
    return [p.strip() for p in (text or "").split("\n") if p.strip()]


def _char_segments(old: str, new: str) -> list[tuple[str, str]]:
    segments: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            segments.append(("same", old[i1:i2]))
            continue
        if i2 > i1:
            segments.append(("del", old[i1:i2]))
        if j2 > j1:
            segments.append(("ins", new[j1:j2]))
    return segments


def _fold(same: list[str], first: bool, last: bool) -> list[Block]:
    """Unchanged paragraphs between changes: keep CONTEXT next to a change, fold the rest."""
    head = [] if first else same[:CONTEXT]
    tail = [] if last else same[-CONTEXT:] if CONTEXT else []
    if len(head) + len(tail) >= len(same):
        return [Block("same", text=p) for p in same]
    blocks = [Block("same", text=p) for p in head]
    blocks.append(Block("folded", count=len(same) - len(head) - len(tail)))
    blocks += [Block("same", text=p) for p in tail]
    return blocks


def diff_text(old: str | None, new: str | None) -> list[Block]:
    """The paragraphs of ``new`` against ``old``: changed ones with their characters marked."""
    a, b = _paragraphs(old), _paragraphs(new)
    opcodes = difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    blocks: list[Block] = []
    for n, (op, i1, i2, j1, j2) in enumerate(opcodes):
        if op == "equal":
            blocks += _fold(a[i1:i2], first=n == 0, last=n == len(opcodes) - 1)
            continue
        olds, news = a[i1:i2], b[j1:j2]
        # Paragraphs replaced one for one are diffed by character; the rest are whole.
        for k in range(max(len(olds), len(news))):
            before = olds[k] if k < len(olds) else ""
            after = news[k] if k < len(news) else ""
            blocks.append(Block("changed", segments=_char_segments(before, after)))
    return blocks


def _json(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    return json.loads(value) if value else {}


def diff_versions(old: dict[str, Any], new: dict[str, Any]) -> VersionDiff:
    """Two ``versions`` rows (body_text, fields and attachment_hashes as stored)."""
    old_fields, new_fields = _json(old.get("fields")), _json(new.get("fields"))
    fields = [(name, old_fields.get(name), new_fields.get(name))
              for name in dict.fromkeys([*old_fields, *new_fields])
              if old_fields.get(name) != new_fields.get(name)]
    before, after = _json(old.get("attachment_hashes")), _json(new.get("attachment_hashes"))
    attachments = [(url, "removed") for url in before if url not in after]
    attachments += [(url, "added") for url in after if url not in before]
    attachments += [(url, "changed") for url in after
                    if url in before and before[url] and after[url] and before[url] != after[url]]
    return VersionDiff(diff_text(old.get("body_text"), new.get("body_text")), fields, attachments)
