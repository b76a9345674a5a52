"""A real crawl is polite: robots.txt, its own domains only, an identifying User-Agent, backoff."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from crawlers.replay.portal import REPLAY_DIR, ReplayPortal
from pipelines.schema import open_corpus

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[1]
SITE = "http://www.example-gov.cn"
DETAIL = (REPLAY_DIR / "generic" / "detail_1001.html").read_bytes()


def list_page(*links: str) -> str:
    rows = "".join(f'<li><a href="{u}">示例文件{i}</a><span>2022-03-0{i + 1}</span></li>'
                   for i, u in enumerate(links))
    return f'<html><head><meta charset="utf-8"></head><body><ul class="list">{rows}</ul></body></html>'


def crawl(db: Path, base: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "scheduler", "crawl", "replay_generic", "--db", str(db), "--replay", base],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )


def run_errors(db: Path) -> dict[str, str]:
    run = next(open_corpus(db).query("select * from runs order by id desc limit 1"))
    return {e["url"]: e["reason"] for e in json.loads(run["errors"]) if "url" in e}, json.loads(run["counts"])


def test_robots_offsite_user_agent_and_backoff(tmp_path):
    portal = ReplayPortal()
    portal.put(f"{SITE}/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    portal.put(f"{SITE}/zcwj/index.html", list_page(
        "/zcwj/a1.html", "/private/p.html", "http://www.other-gov.cn/x.html", "/zcwj/busy.html"))
    portal.put(f"{SITE}/zcwj/a1.html", DETAIL)
    portal.put(f"{SITE}/zcwj/busy.html", "<html><body>服务器繁忙</body></html>", status=503)
    db = tmp_path / "corpus.db"
    with portal.serve() as base:
        result = crawl(db, base)
    assert result.returncode == 0, result.stdout + result.stderr

    urls = {r["url"] for r in open_corpus(db).query("select url from documents")}
    assert urls == {f"{SITE}/zcwj/a1.html"}
    errors, counts = run_errors(db)
    assert errors[f"{SITE}/private/p.html"] == "robots_forbidden"
    assert errors[f"{SITE}/zcwj/busy.html"] == "http_503"
    assert counts["backoff"] >= 1 and counts["retries"] >= 1

    requested = [url for _, url in portal.requests]
    assert requested[0] == f"{SITE}/robots.txt"
    assert f"{SITE}/private/p.html" not in requested
    assert not any("other-gov" in url for url in requested)
    assert requested.count(f"{SITE}/zcwj/busy.html") >= 2  # retried
    assert portal.user_agents and all(ua.startswith("policywatch/") for ua in portal.user_agents)


def test_a_column_forbidden_by_robots_is_not_crawled(tmp_path):
    portal = ReplayPortal()
    portal.put(f"{SITE}/robots.txt", "User-agent: *\nDisallow: /zcwj/\n", content_type="text/plain")
    portal.put(f"{SITE}/zcwj/index.html", list_page("/zcwj/a1.html"))
    portal.put(f"{SITE}/zcwj/a1.html", DETAIL)
    db = tmp_path / "corpus.db"
    with portal.serve() as base:
        result = crawl(db, base)
    assert result.returncode == 1  # nothing but refusals: the command says it failed
    assert "robots_forbidden" in result.stdout
    assert [url for _, url in portal.requests] == [f"{SITE}/robots.txt"]
    errors, _ = run_errors(db)
    assert errors == {f"{SITE}/zcwj/index.html": "robots_forbidden"}
    assert open_corpus(db).execute("select count(*) from documents").fetchone()[0] == 0
