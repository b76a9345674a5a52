"""What a crawl did, for a person at a terminal, and the exit status that says it.

Exit statuses of ``crawl``, ``backfill`` and ``run`` (the README lists them):

- 0 ``EXIT_OK``: the crawl worked — documents stored or seen already stored, even if some pages
  were refused (a partial run; ``status`` and the run record name them) or it was a quiet day.
- 1 ``EXIT_FAILED``: it did not work — every site stored nothing and only refusals came back,
  the corpus could not be written (a full disk), or the crawl stopped early for another reason.
- 2 ``EXIT_BLOCKED``: nothing but anti-bot (WAF, challenge, login) pages, as ``probe`` says.
- 130 ``EXIT_INTERRUPTED``: stopped by Ctrl-C or SIGTERM; what was fetched is stored, and a
  backfill resumes when the same command is run again.
"""

from __future__ import annotations

import json
from pathlib import Path

from crawlers.engine.runner import SiteRunReport
from crawlers.parsing.display import table

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BLOCKED = 2
EXIT_INTERRUPTED = 130


def render_run_reports(reports: list[SiteRunReport]) -> str:
    rows = []
    for r in reports:
        failed = ", ".join(f"{k} {v}" for k, v in sorted(r.failed.items())) or "-"
        rows.append([r.site, str(r.list_pages), str(r.detail_pages), str(r.new), str(r.revised),
                     str(r.unchanged), failed])
    return table(["site", "list pages", "detail pages", "new", "revised", "unchanged", "refused"], rows)


def crawl_outcome(reports: list[SiteRunReport], what: str, resumable: bool = False) -> tuple[int, str]:
    """The exit status of a crawl of ``reports`` and, unless it is ok, the one line that says
    why. ``what`` names the crawl ("backfill of jx_gov"); ``resumable``: a run of the same
    command resumes where this one stopped (a backfill)."""
    again = "; run the same command to resume" if resumable else ""
    if any(r.interrupted for r in reports):
        return EXIT_INTERRUPTED, f"{what} stopped (interrupted){again}"
    unwritable = next((r.unwritable for r in reports if r.unwritable), "")
    if unwritable:
        fix = "; free space (or fix the corpus) and run the same command to " + \
            ("resume" if resumable else "crawl again")
        return EXIT_FAILED, f"{what} failed: the corpus cannot be written: {unwritable}{fix}"
    stopped = [r for r in reports if r.stopped]
    if stopped:
        reasons = ", ".join(sorted({r.finish_reason or "never finished" for r in stopped}))
        return EXIT_FAILED, f"{what} failed: stopped early ({reasons}){again}"
    if reports and all(r.broken for r in reports):
        if all(r.blocked for r in reports):
            return EXIT_BLOCKED, f"{what} blocked: only anti-bot pages came back, nothing stored"
        refused = sum(sum(r.failed.values()) for r in reports)
        return EXIT_FAILED, f"{what} failed: nothing stored, {refused} page(s) refused"
    return EXIT_OK, ""


def write_site_outcomes(reports: list[SiteRunReport], path: Path) -> None:
    """One JSON line per site: how its crawl ended (``exit``: its status as if crawled alone,
    null when it was never started), why, and its seconds; the round reads them
    (``crawlers.engine.rounds``)."""
    lines = []
    for report in reports:
        code, why = crawl_outcome([report], f"crawl of {report.site}")
        if report.finish_reason == "not_started":
            code, why = None, "not started: the round was stopped"
        lines.append(json.dumps({"site": report.site, "exit": code, "why": why,
                                 "seconds": round(report.seconds, 3)}, ensure_ascii=False))
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
