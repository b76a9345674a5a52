"""What a crawl did, for a person at a terminal."""

from __future__ import annotations

from .runner import SiteRunReport
from .sitelist import table


def render_run_reports(reports: list[SiteRunReport]) -> str:
    rows = []
    for r in reports:
        failed = ", ".join(f"{k} {v}" for k, v in sorted(r.failed.items())) or "-"
        rows.append([r.site, str(r.list_pages), str(r.detail_pages), str(r.new), str(r.revised),
                     str(r.unchanged), failed])
    return table(["site", "list pages", "detail pages", "new", "revised", "unchanged", "refused"], rows)


def render_failures(reports: list[SiteRunReport], limit: int = 20) -> str:
    lines = []
    for r in reports:
        for f in r.failures[:limit]:
            lines.append(f"  {r.site:16} {f['reason']:14} {f['url']}\n  {'':16} {f['message'][:110]}")
    return "\n".join(lines)
