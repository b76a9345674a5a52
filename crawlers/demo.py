"""`policywatch demo`: the whole crawl on the bundled replay portal, offline, in a minute.

It serves the fixture portal on 127.0.0.1, crawls every site that has fixtures (each crawl in its
own process, as the scheduler runs them), shows what was stored and what was refused, then crawls
again to show that an unchanged portal stores nothing new.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Callable

from .fixtures import all_fixture_sites
from .replay import REPLAY_SITES, ReplayPortal
from .sitelist import table

CHROMIUM = Path("/usr/bin/chromium")


def demo_sites(browser: bool) -> list[str]:
    """Registry sites with fixtures, then the replay-only sites (the browser one if wanted)."""
    keys = list(all_fixture_sites())
    for site in REPLAY_SITES:
        if site.needs_browser and not (browser and CHROMIUM.exists()):
            continue
        keys.append(site.key)
    return keys


def crawl_in_subprocess(keys: list[str], db_path: Path, replay_url: str) -> int:
    """One `policywatch crawl` process, its output on our terminal; returns its exit code."""
    cmd = [sys.executable, "-m", "scheduler", "crawl", *keys, "--db", str(db_path), "--replay", replay_url]
    return subprocess.run(cmd, cwd=Path(__file__).resolve().parent.parent, check=False).returncode


def run_demo(db_path: Path, fresh: bool = True, browser: bool = True,
             echo: Callable[[str], None] = print) -> None:
    from pipelines.corpus import open_corpus

    db_path.parent.mkdir(parents=True, exist_ok=True)
    if fresh:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    portal = ReplayPortal.from_fixtures()
    keys = demo_sites(browser)
    if browser and not CHROMIUM.exists():
        echo(f"(no {CHROMIUM}: skipping the browser-rendered replay site)")
    with portal.serve() as base:
        echo(f"replay portal: {len(portal.urls())} saved pages of {len(keys)} sites at {base}\n")
        echo("== first crawl ==")
        crawl_in_subprocess(keys, db_path, base)
        db = open_corpus(db_path)
        echo("\n== stored documents ==")
        echo(_documents_table(db))
        echo("\n== refused pages (never stored) ==")
        echo(_refusals(db))
        echo("\n== second crawl of the unchanged portal: nothing new is stored ==")
        crawl_in_subprocess(keys, db_path, base)
    echo(f"\ncorpus: {db_path}")
    echo(f"try: policywatch search 元宇宙 --db {db_path}")


def _documents_table(db) -> str:
    rows = []
    for doc in db.query(
        "select site, published_date, doc_number, title, length(body_text) as chars "
        "from documents order by site, published_date desc"
    ):
        title = doc["title"] if len(doc["title"]) <= 38 else doc["title"][:37] + "…"
        rows.append([doc["site"], doc["published_date"] or "", doc["doc_number"] or "",
                     str(doc["chars"] or 0), title])
    if not rows:
        return "(none)"
    versions = db.execute("select count(*) from versions").fetchone()[0]
    return table(["site", "published", "文号", "chars", "title"], rows) + (
        f"\n{len(rows)} documents, {versions} versions"
    )


def _refusals(db) -> str:
    import json

    rows = []
    for run in db.query("select site, errors from runs order by id"):
        for err in json.loads(run["errors"] or "[]"):
            rows.append([run["site"], err.get("reason", ""), err.get("url", "")])
    return table(["site", "why", "url"], rows) if rows else "(none)"


def terminal_width() -> int:
    return shutil.get_terminal_size((120, 20)).columns
