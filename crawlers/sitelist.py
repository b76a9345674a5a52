"""The registry as rows and as a terminal table (`policywatch sites`)."""

from __future__ import annotations

import unicodedata
from typing import Any

from .sites.spec import Site


def site_rows(sites: list[Site]) -> list[dict[str, Any]]:
    """One JSON-ready dict per site."""
    return [
        {
            "key": s.key,
            "name": s.name,
            "division_code": s.division_code,
            "level": s.level,
            "family": s.family,
            "domains": list(s.domains),
            "columns": [{"name": c.name, "url": c.url} for c in s.columns],
            "needs_browser": s.needs_browser,
            "obey_robots": s.politeness.obey_robots,
            "robots_reason": s.politeness.robots_reason,
            "enabled": s.enabled,
            "verified_on": s.verified_on,
            "evidence": s.evidence,
        }
        for s in sites
    ]


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


def sites_table(sites: list[Site]) -> str:
    rows = []
    for s in sites:
        flags = []
        if s.needs_browser:
            flags.append("browser")
        if not s.politeness.obey_robots:
            flags.append("ignores robots.txt")
        if not s.enabled:
            flags.append("disabled")
        rows.append([
            s.key, s.name, s.division_code, s.level, s.family,
            " / ".join(c.name for c in s.columns),
            s.verified_on or "unverified",
            ", ".join(flags),
        ])
    return table(["key", "name", "division", "level", "family", "columns", "verified", "notes"], rows)
