"""Site health from the record of runs: which portals work, and which broke and why.

A site is flagged when
- ``silent``: its columns yielded no documents and no list entries several runs in a row;
- ``parse_failures``: the share of its pages refused as unparseable jumped;
- ``blocked``: its last run met WAF/challenge/login pages and stored nothing;
- ``robots``: its robots.txt forbids the columns;
- ``not_crawled``: the registry lists it with a reason not to crawl it;
- ``unreachable``: its last run could not resolve or connect to the portal and read nothing.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from statistics import median
from typing import Any, Mapping

import sqlite_utils

from crawlers.parsing import clock

SILENT_RUNS = 3
# Refusals that say the page is not what the parser expects (a changed layout), as opposed to
# the portal being down, blocking us or the page being gone.
PARSE_REASONS = ("not_a_list", "empty_list", "no_title", "no_body", "truncated", "binary", "error_page")
JUMP_MIN_SHARE = 0.3


@dataclass
class SiteHealth:
    site: str
    name: str = ""
    last_success: str | None = None
    last_failure: str | None = None
    last_failure_reason: str | None = None
    documents: int = 0
    new_this_week: int = 0
    runs: int = 0
    last_run: str | None = None
    last_status: str | None = None  # ok, partial, failed, blocked or killed
    last_run_why: str | None = None  # why the last run failed or was killed
    last_sweep: str | None = None  # the last sweep that did not fail (columns read to their end)
    failures: dict[str, int] = field(default_factory=dict)  # last run's refusals by reason
    flags: list[str] = field(default_factory=list)
    why: list[str] = field(default_factory=list)

    @property
    def state(self) -> str:
        if "not_crawled" in self.flags:
            return "not crawled"
        if "blocked" in self.flags or "robots" in self.flags:
            return "blocked"
        if "unreachable" in self.flags:
            return "unreachable"
        if self.flags:
            return "broken"
        if not self.runs:
            return "never run"
        return "ok"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["state"] = self.state
        return data


def crawl_worked(counts: dict[str, Any]) -> bool:
    """Did a run's crawl reach the site: it stored documents, or its lists showed documents
    already stored? (A quiet day of a site whose few broken or blocked pages are refused again
    worked.)"""
    return bool(counts.get("documents") or (counts.get("skipped") or {}).get("known"))


# Errors that say why a whole run failed, as opposed to one page's refusal.
RUN_ERRORS = ("killed", "corpus_unwritable", "finish_reason")


def run_failure(run: dict[str, Any]) -> str | None:
    """Why a failed or killed run ended (from its errors), or None for a run that did not."""
    if run.get("status") not in ("failed", "killed"):
        return None
    errors = json.loads(run.get("errors") or "[]")
    for reason in RUN_ERRORS:
        for error in errors:
            if isinstance(error, dict) and error.get("reason") == reason:
                return f"{reason}: {error.get('message', '')}" if reason != "finish_reason" \
                    else f"stopped: {error.get('message', '')}"
    return None


def last_sweeps(db: sqlite_utils.Database, sites: list[str]) -> dict[str, str]:
    """Site → when its last sweep that did not fail started (``runs.counts`` says ``mode``)."""
    if not sites:
        return {}
    return dict(db.execute(
        f"""SELECT site, max(started_at) FROM runs
        WHERE site IN ({", ".join("?" * len(sites))}) AND status IN ('ok', 'partial')
          AND json_extract(counts, '$.mode') = 'sweep'
        GROUP BY site""", list(sites)).fetchall())


def _parse_failure_share(counts: dict[str, Any]) -> float | None:
    failed = counts.get("failed") or {}
    parse = sum(failed.get(r, 0) for r in PARSE_REASONS)
    fetched = counts.get("pages", 0)
    return parse / fetched if fetched else None


def assess(site: str, runs: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """Flags and their reasons from a site's runs, newest first. Pure."""
    flags: list[str] = []
    why: list[str] = []
    if not runs:
        return flags, why
    counts = [json.loads(r.get("counts") or "{}") for r in runs]
    last = counts[0]
    recent = counts[:SILENT_RUNS]
    if len(recent) == SILENT_RUNS and all(
        c.get("documents", 0) == 0 and not (c.get("skipped") or {}).get("known") for c in recent
    ):
        flags.append("silent")
        why.append(f"no documents in the last {SILENT_RUNS} runs")
    share = _parse_failure_share(last)
    earlier = [s for s in (_parse_failure_share(c) for c in counts[1:6]) if s is not None]
    if share is not None and share >= JUMP_MIN_SHARE and (not earlier or share > 2 * median(earlier) + 0.05):
        reasons = {r: n for r, n in (last.get("failed") or {}).items() if r in PARSE_REASONS}
        flags.append("parse_failures")
        why.append(f"{share:.0%} of pages unparseable in the last run "
                   f"({', '.join(f'{r} {n}' for r, n in sorted(reasons.items()))})")
    if (runs[0].get("status") == "blocked" or last.get("blocked")) and not crawl_worked(last):
        flags.append("blocked")
        why.append(f"blocked: {last.get('blocked', 0)} WAF/challenge/login pages, nothing stored")
    failed = last.get("failed") or {}
    if failed.get("robots_forbidden") and last.get("documents", 0) == 0:
        flags.append("robots")
        why.append("robots.txt forbids the columns")
    if failed.get("unreachable") and not crawl_worked(last):
        flags.append("unreachable")
        errors = json.loads(runs[0].get("errors") or "[]")
        reason = next((e.get("message") for e in errors if e.get("reason") == "unreachable"), "")
        why.append(reason or "the portal could not be resolved or connected to")
    if failed.get("not_crawled"):
        flags.append("not_crawled")
        errors = json.loads(runs[0].get("errors") or "[]")
        reason = next((e.get("message") for e in errors if e.get("reason") == "not_crawled"), "")
        why.append(f"not crawled: {reason}" if reason else "not crawled")
    return flags, why


def site_health(db: sqlite_utils.Database, sites: list | None = None,
                now: datetime | None = None, history: int = 10,
                dead: Mapping[int, str] | None = None) -> list[SiteHealth]:
    """The health of every site in the corpus (and of ``sites`` from the registry, run or not).
    ``dead``: runs still recorded ``running`` whose process is gone (``corpus.dead_runs``), shown
    as the killed runs they are, for a reader that may not record it."""
    dead = dict(dead or {})
    now = now or clock.now()
    week_ago = (now - timedelta(days=7)).isoformat(timespec="seconds")
    known: dict[str, SiteHealth] = {}
    tables = set(db.table_names())
    for site in sites or ():
        known[site.key] = SiteHealth(site=site.key, name=site.name)
        if getattr(site, "blocked_reason", ""):
            known[site.key].flags.append("not_crawled")
            known[site.key].why.append(f"not crawled: {site.blocked_reason}")
    if "sites" in tables:
        for row in db.query("select * from sites"):
            health = known.setdefault(row["key"], SiteHealth(site=row["key"], name=row["name"] or ""))
            health.name = health.name or row["name"] or ""
            health.last_success = row["last_success"]
            health.last_failure = row["last_failure"]
            health.last_failure_reason = row["last_failure_reason"]
    if "documents" in tables:
        for key, total, new in db.execute(
                "select site, count(*), sum(first_seen >= ?) from documents group by site", [week_ago]):
            health = known.setdefault(key, SiteHealth(site=key))
            health.documents, health.new_this_week = total, new or 0
    if "runs" in tables:
        swept = last_sweeps(db, list(known))
        for key, health in known.items():
            runs = [_as_killed(r, dead) for r in db.query(
                f"""select * from runs where site = ?
                    and (status != 'running' or id in ({", ".join("?" * len(dead))}))
                    order by id desc limit ?""", [key, *dead, history])]
            health.runs = db.execute("select count(*) from runs where site = ?", [key]).fetchone()[0]
            health.last_sweep = swept.get(key)
            if runs:
                health.last_run = runs[0]["started_at"]
                health.last_status = runs[0]["status"]
                health.last_run_why = run_failure(runs[0])
            # A killed run counted nothing: it says nothing of the portal's health.
            counted = [r for r in runs if r["status"] != "killed"]
            if counted:
                health.failures = json.loads(counted[0]["counts"] or "{}").get("failed") or {}
            flags, why = assess(key, counted)
            for flag, reason in zip(flags, why):
                if flag not in health.flags:
                    health.flags.append(flag)
                    health.why.append(reason)
    return sorted(known.values(), key=lambda h: h.site)


def _as_killed(run: dict[str, Any], dead: Mapping[int, str]) -> dict[str, Any]:
    if run["status"] != "running" or run["id"] not in dead:
        return run
    return {**run, "status": "killed",
            "errors": json.dumps([{"reason": "killed", "message": dead[run["id"]]}], ensure_ascii=False)}


def broken_sites(db: sqlite_utils.Database, sites: list | None = None) -> list[SiteHealth]:
    """The sites a maintainer should look at (for the digest's maintainer section)."""
    return [h for h in site_health(db, sites) if h.state in ("broken", "blocked", "unreachable")]
