"""`policywatch demo`: a week on the bundled replay portal, offline, in about a minute.

The replay portal (the fixture sites' saved pages on 127.0.0.1) lives through the days described
in ``fixtures/days/days.json``: each day adds, replaces or removes pages, or puts every portal
behind a WAF. Every day is one real crawl (its own process, as the scheduler runs them) followed
by that day's digest, written to ``<out>/day-N-<slug>/``:

1. a backfill — everything is new, so the digest summarises it per site;
2. a new metaverse policy (and a repost, which is not news);
3. a revision (and a page taken off its list: first check, no alert yet; furniture that changed);
4. an anti-bot day — WAF pages everywhere: no alert, and not a check either;
5. the withdrawal, confirmed on the second check;
6. a draft (征求意见稿) finalised under another title;
7. a repeal decision naming a 文号, and a status field turned 失效;
8. a quiet day — the digest says plainly that nothing changed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Callable, Protocol

from crawlers.config import load_config
from crawlers.engine.runner import run_crawl
from crawlers.parsing import clock
from crawlers.parsing.display import table
from crawlers.replay.portal import ReplayPortal, ServedPage
from crawlers.sites.declared import find_sites
from crawlers.tools.fixtures import FIXTURES_DIR

CHROMIUM = Path("/usr/bin/chromium")
DAYS_DIR = FIXTURES_DIR / "days"
REPO = Path(__file__).resolve().parents[2]
# The sites the story happens on: the project's own hand-written fixture sites and the replay-only
# generic site with its bad pages (other registered sites are not crawled: the demo stays short).
DEMO_SITES = ("cn_gov", "gs_fzgg", "gs_jyt", "js_gxt", "jx_gov", "jx_sthjt", "sx_gov", "zj_fgw",
              "replay_generic")
BROWSER_SITE = "replay_browser"


@dataclass(frozen=True)
class Day:
    """One day of the replay portal: what changes on it before the day's crawl."""

    number: int
    date: str  # the check day (YYYY-MM-DD)
    slug: str
    story: str
    run_kind: str = "crawl"
    browser: bool = False
    put: tuple[dict[str, Any], ...] = ()
    remove: tuple[str, ...] = ()
    waf: tuple[str, ...] = ()  # hosts that answer only the WAF page today

    @property
    def folder_name(self) -> str:
        return f"day-{self.number}-{self.slug}"


def load_days(folder: Path = DAYS_DIR) -> tuple[list[Day], dict[str, Any]]:
    """The days of ``days.json`` and its WAF page description."""
    spec = json.loads((folder / "days.json").read_text(encoding="utf-8"))
    first = date.fromisoformat(spec["first_day"])
    days = []
    for i, raw in enumerate(spec["days"]):
        days.append(Day(
            number=i + 1, date=(first + timedelta(days=i)).isoformat(), slug=raw["slug"],
            story=raw["story"], run_kind=raw.get("run_kind", "crawl"),
            browser=bool(raw.get("browser")), put=tuple(raw.get("put", ())),
            remove=tuple(raw.get("remove", ())), waf=tuple(raw.get("waf", ())),
        ))
    return days, spec["waf_page"]


class PortalDays:
    """Moves a replay portal from one day to the next. Pages put or removed stay so; a WAF
    lasts one day (the pages behind it come back the next day)."""

    def __init__(self, portal: ReplayPortal, waf_page: dict[str, Any], folder: Path = DAYS_DIR):
        self.portal = portal
        self.folder = folder
        self.waf_body = (folder / waf_page["file"]).read_bytes()
        self.waf_status = int(waf_page.get("status", 412))
        self.waf_type = waf_page.get("content_type", "text/html; charset=utf-8")
        self._behind_waf: dict[str, ServedPage] = {}

    def apply(self, day: Day) -> None:
        for url, page in self._behind_waf.items():
            self.portal.put(url, page.body, status=page.status, headers=page.headers, delay=page.delay)
        self._behind_waf = {}
        for page in day.put:
            headers = {"Content-Type": page["content_type"]} if "content_type" in page else None
            self.portal.put(page["url"], (self.folder / page["file"]).read_bytes(), headers=headers)
        for url in day.remove:
            self.portal.remove(url)
        if day.waf:
            hosts = set(day.waf)
            for key in self.portal.urls():
                scheme, _, rest = key.partition("/")
                url = f"{scheme}://{rest}"
                if rest.split("/", 1)[0] in hosts:
                    self._behind_waf[url] = self.portal.get(url)
                    self.portal.put(url, self.waf_body, status=self.waf_status,
                                    content_type=self.waf_type)


@dataclass
class DayResult:
    """What one day did: its crawl, its changes, its digest."""

    day: Day
    sites: dict[str, dict[str, Any]] = field(default_factory=dict)  # site -> run report
    changes: list[dict[str, Any]] = field(default_factory=list)
    digest_files: list[str] = field(default_factory=list)
    delivered: int = 0
    repeat: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {"day": self.day.number, "date": self.day.date, "slug": self.day.slug,
                "story": self.day.story, "sites": self.sites, "changes": self.changes,
                "digest": self.digest_files, "delivered": self.delivered, "repeat": self.repeat}


def crawl_day(keys: list[str], db_path: Path, replay_url: str, day: Day) -> dict[str, dict[str, Any]]:
    """One day's crawl in its own process (``python -m crawlers.replay.demo``); returns its run reports."""
    cmd = [sys.executable, "-m", "crawlers.replay.demo", "--db", str(db_path), "--replay", replay_url,
           "--day", day.date, "--kind", day.run_kind, *keys]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"day {day.number} crawl failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(lines[-1])


class Desk(Protocol):
    """What the demo needs of the corpus and the digest, which the front door provides (the
    crawlers import neither): a mark in the change log, the changes after it, a day's digest."""

    def mark(self, db_path: Path) -> int:
        """The change log's position now."""

    def changes_after(self, db_path: Path, mark: int) -> list[dict[str, Any]]:
        """The changes logged after ``mark``: id, kind, url, site, title."""

    def deliver(self, db_path: Path, folder: Path, basename: str, now: datetime,
                feed: bool = True) -> tuple[list[str], int]:
        """The digest of what is unsent, written into ``folder`` (with its rolling feed unless
        ``feed`` is false): (its files, changes in it)."""

    def kind_label(self, kind: str) -> str:
        """A change kind as a reader sees it."""


def run_demo(desk: Desk, db_path: Path, out: Path, fresh: bool = True, browser: bool = True,
             echo: Callable[[str], None] = print, repeat_days: tuple[int, ...] = (),
             days: list[Day] | None = None) -> list[DayResult]:
    """Replay the days on a fresh corpus, writing each day's digest under ``out``; returns what
    each day did (also written to ``out/summary.json``). Days in ``repeat_days`` are crawled a
    second time on the same check day, and their digest delivered again: nothing new may come of it."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    if fresh:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)
        for old in out.glob("day-*"):
            if old.is_dir():
                shutil.rmtree(old)
        (out / "summary.json").unlink(missing_ok=True)
    loaded, waf_page = load_days()
    days = days if days is not None else loaded
    use_browser = browser and CHROMIUM.exists()
    if browser and not use_browser:
        echo(f"(no {CHROMIUM}: skipping the browser-rendered replay site)")
    portal = ReplayPortal.from_fixtures([k for k in DEMO_SITES if not k.startswith("replay_")])
    calendar = PortalDays(portal, waf_page)
    results: list[DayResult] = []
    with portal.serve() as base:
        echo(f"replay portal: {len(portal.urls())} saved pages of {len(DEMO_SITES)} sites at {base}")
        echo(f"corpus: {db_path}\ndigests: {out}\n")
        for day in days:
            calendar.apply(day)
            keys = list(DEMO_SITES) + ([BROWSER_SITE] if day.browser and use_browser else [])
            last = desk.mark(db_path)
            result = DayResult(day, sites=crawl_day(keys, db_path, base, day))
            result.changes = desk.changes_after(db_path, last)
            folder = out / day.folder_name
            # The digest is dated on the story's day (07:00 in Beijing, after the day's crawl).
            morning = datetime.fromisoformat(f"{day.date}T07:00:00+08:00")
            # The default subscription; its rolling feed kept in the day's folder (feeds/).
            result.digest_files, result.delivered = desk.deliver(db_path, folder, "digest", morning)
            if day.number in repeat_days:
                again = desk.mark(db_path)
                sites = crawl_day(keys, db_path, base, day)
                files, delivered = desk.deliver(db_path, folder, "digest-repeat", morning, feed=False)
                result.repeat = {"sites": sites, "changes": desk.changes_after(db_path, again),
                                 "delivered": delivered, "digest": files}
            results.append(result)
            _echo_day(result, echo, desk.kind_label)
    (out / "summary.json").write_text(
        json.dumps([r.to_json() for r in results], ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    echo(f"\nevery day's digest (Markdown, HTML e-mail, Atom, JSON) is in {out}/day-*/")
    echo(f"try: policywatch changes --since 2000-01-01 --db {db_path}")
    echo(f"     policywatch search 元宇宙 --db {db_path}")
    return results


def _echo_day(result: DayResult, echo: Callable[[str], None], kind_label: Callable[[str], str]) -> None:
    day = result.day
    echo(f"== day {day.number} · {day.date} · {day.slug} ==")
    echo(day.story)
    stored = sum(s["new"] + s["revised"] + s["unchanged"] for s in result.sites.values())
    refused: dict[str, int] = {}
    for site in result.sites.values():
        for reason, n in site["failed"].items():
            refused[reason] = refused.get(reason, 0) + n
    blocked = sorted(k for k, s in result.sites.items() if s["status"] == "blocked")
    line = f"crawl: {len(result.sites)} sites, {stored} documents fetched"
    if refused:
        line += ", pages refused: " + ", ".join(f"{k} {v}" for k, v in sorted(refused.items()))
    if blocked:
        line += f"; blocked: {len(blocked)} site(s)"
    echo(line)
    if not result.changes:
        echo("changes: none")
    elif day.run_kind == "backfill" or len(result.changes) > 12:
        per_site: dict[str, int] = {}
        for change in result.changes:
            per_site[change["site"]] = per_site.get(change["site"], 0) + 1
        echo(f"changes: {len(result.changes)} (a backfill: summarised per site in the digest)")
        echo(table(["site", "documents"], [[k, str(v)] for k, v in sorted(per_site.items())]))
    else:
        echo(f"changes: {len(result.changes)}")
        for change in result.changes:
            echo(f"  {kind_label(change['kind'])}  {change['title']}")
    if result.repeat is not None:
        echo(f"the same day crawled again: {len(result.repeat['changes'])} new change(s), "
             f"{result.repeat['delivered']} delivered again")
    digest = next((f for f in result.digest_files if f.endswith(".md")), None)
    echo(f"digest: {digest or '(not written)'}\n")


def _main(argv: list[str] | None = None) -> int:
    """The day's crawl, in its own process: ``python -m crawlers.replay.demo --day D SITE...``."""
    parser = argparse.ArgumentParser(prog="python -m crawlers.replay.demo")
    parser.add_argument("sites", nargs="+")
    parser.add_argument("--db", required=True, type=Path)
    parser.add_argument("--replay", required=True)
    parser.add_argument("--day", required=True, help="the check day, YYYY-MM-DD")
    parser.add_argument("--kind", default="crawl", choices=("crawl", "backfill"))
    args = parser.parse_args(argv)
    # The story's day: the crawl runs at 06:00 in Beijing, before that day's 07:00 digest, so
    # the changes it finds, its run and the sites' last success are dated on that day.
    clock.start_at(clock.parse_moment(f"{args.day}T06:00:00+08:00"))
    # Registry, replay-only and config-declared ([[watch]], $POLICYWATCH_CONFIG) sites alike.
    sites = find_sites(args.sites, load_config(), replay=True)
    reports = run_crawl(sites, args.db, run_kind=args.kind, replay_url=args.replay,
                        mode="backfill" if args.kind == "backfill" else "full",
                        overrides={"POLICYWATCH_CHECK_DAY": args.day})
    out = {}
    for report in reports:
        status = "blocked" if report.blocked and not report.items else "ok"
        out[report.site] = {"new": report.new, "revised": report.revised,
                            "unchanged": report.unchanged, "failed": dict(report.failed),
                            "status": status}
    print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(_main())
