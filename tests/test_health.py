"""Site health: flags from the runs, and `policywatch status` over a crawled corpus."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from crawlers.replay.portal import ReplayPortal
from pipelines.health import assess
from tests import bigportal

REPO = Path(__file__).resolve().parents[1]


def run(status="ok", documents=5, pages=10, failed=None, blocked=0, known=0):
    counts = {"documents": documents, "pages": pages, "failed": failed or {}, "blocked": blocked,
              "skipped": {"known": known} if known else {}}
    return {"status": status, "counts": json.dumps(counts), "errors": "[]"}


def test_a_healthy_site_has_no_flags():
    assert assess("x", [run(), run(), run()]) == ([], [])


def test_a_quiet_incremental_site_is_not_silent():
    assert assess("x", [run(documents=0, known=20)] * 3) == ([], [])


def test_silent_after_three_empty_runs():
    flags, why = assess("x", [run(documents=0, failed={"empty_list": 1})] * 3)
    assert flags == ["silent"] and "last 3 runs" in why[0]
    assert assess("x", [run(documents=0)] * 2)[0] == []


def test_parse_failures_jump():
    history = [run(pages=20, failed={"no_title": 12, "not_a_list": 1})] + [run(pages=20, failed={"no_body": 1})] * 4
    flags, why = assess("x", history)
    assert flags == ["parse_failures"] and "65%" in why[0] and "no_title 12" in why[0]
    # Always that bad is a known state of the site, not a jump... but still above the floor.
    steady = [run(pages=20, failed={"no_title": 2})] * 5
    assert assess("x", steady)[0] == []


def test_blocked_and_robots():
    assert assess("x", [run(status="blocked", documents=0, blocked=4)])[0] == ["blocked"]
    # A quiet day whose list showed stored documents, with a few pages behind a WAF refused
    # again: the site works.
    assert assess("x", [run(status="partial", documents=0, blocked=3, known=20)])[0] == []
    flags, _ = assess("x", [run(status="failed", documents=0, failed={"robots_forbidden": 1})])
    assert flags == ["robots"]


@pytest.mark.e2e
def test_status_shows_a_healthy_and_a_blocked_site(tmp_path):
    db = tmp_path / "corpus.db"
    ok_portal = ReplayPortal()
    bigportal.build(ok_portal, [1, 2, 3])
    with ok_portal.serve() as base:
        subprocess.run([sys.executable, "-m", "scheduler", "crawl", "replay_generic", "--db", str(db),
                        "--replay", base], cwd=REPO, check=True, capture_output=True, timeout=300)
    # The same portal the next day answers every page with a WAF block page.
    waf = ReplayPortal()
    block = "<html><body><h2>您的访问被阻断</h2><p>创宇云防御</p></body></html>"
    for url in [bigportal.list_url(1)]:
        waf.put(url, block)
    with waf.serve() as base:
        subprocess.run([sys.executable, "-m", "scheduler", "crawl", "replay_generic", "--db", str(db),
                        "--replay", base], cwd=REPO, capture_output=True, timeout=300)
    result = subprocess.run([sys.executable, "-m", "scheduler", "status", "--db", str(db), "--json"],
                            cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    health = {h["site"]: h for h in json.loads(result.stdout)}
    generic = health["replay_generic"]
    assert generic["documents"] == 3 and generic["new_this_week"] == 3
    assert generic["state"] == "blocked" and generic["last_success"]
    registry_site = health["jx_gov"]
    assert registry_site["state"] == "never run"
    table = subprocess.run([sys.executable, "-m", "scheduler", "status", "--db", str(db)],
                           cwd=REPO, capture_output=True, text=True, timeout=60).stdout
    assert "replay_generic" in table and "blocked" in table
    # The digest tells maintainers which sites to look at.
    digest = subprocess.run([sys.executable, "-m", "scheduler", "digest", "--db", str(db), "--no-deliver",
                             "--format", "md", "--out", "-"], cwd=REPO, capture_output=True, text=True,
                            timeout=120, env={**__import__("os").environ, "POLICYWATCH_HOME": str(tmp_path)})
    assert digest.returncode == 0, digest.stderr
    section = digest.stdout.split("## 维护：需要检查的网站", 1)[1]
    assert "replay\\_generic" in section and "jx\\_gov" not in section
    # In Chinese, as the rest of the digest (status keeps health's English reasons).
    assert "被拦截：遇到防火墙、验证或登录页面，未存储任何内容（上次成功：" in section
    assert "blocked" not in section and "WAF" not in section


def test_status_without_a_corpus_says_so(tmp_path):
    result = subprocess.run([sys.executable, "-m", "scheduler", "status", "--db", str(tmp_path / "none.db")],
                            cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "no corpus at" in result.stderr
