"""Text laid out for a terminal: Chinese characters take two columns, and tables stay aligned."""

from __future__ import annotations

import unicodedata


def display_width(text: str) -> int:
    """Terminal columns ``text`` takes: CJK characters are two wide."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, width: int) -> str:
    return text + " " * max(0, width - display_width(text))


def table(headers: list[str], rows: list[list[str]]) -> str:
    """A plain aligned table that keeps Chinese text aligned."""
    widths = [max(display_width(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    lines = ["  ".join(pad(h, w) for h, w in zip(headers, widths)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(pad(str(c), w) for c, w in zip(r, widths)).rstrip() for r in rows]
    return "\n".join(lines)
