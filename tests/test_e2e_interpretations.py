"""End to end: a policy and its 政策解读 published on different days, in either order, crawled
from the replay portal on 127.0.0.1 by real Scrapy crawls into a real SQLite file — linked, the
digest shows the 解读 with its policy, and the report counts one policy."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.faultcases.interp import (
    INTERPRETATION_TITLE,
    INTERPRETATION_URL,
    POLICY_TITLE,
    POLICY_URL,
)
from crawlers.replay.portal import REPLAY_DIR, ReplayPortal

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[1]
PAGES = REPLAY_DIR / "interpretations"
LIST_URL = "http://www.example-gov.cn/zcwj/index.html"
# Every day's list also shows an unrelated report (a list page needs two entries to be one).
OTHER_URL = "http://www.example-gov.cn/zcwj/202201/t20220120_1012.html"


def policywatch(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "POLICYWATCH_HOME": str(home)}
    env.pop("POLICYWATCH_CONFIG", None)
    return subprocess.run([sys.executable, "-m", "scheduler", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=600)


def day(portal: ReplayPortal, listing: str, *pages: tuple[str, str]) -> None:
    """The portal's column lists ``listing``; ``pages`` (url, file) are served from now on."""
    portal.put(LIST_URL, (PAGES / listing).read_bytes())
    for url, name in pages:
        portal.put(url, (PAGES / name).read_bytes())


def crawl_and_deliver(home: Path, db: Path, base: str, n: int) -> dict:
    """One day: crawl the generic replay site, deliver the digest; its JSON."""
    crawled = policywatch(home, "crawl", "replay_generic", "--db", str(db), "--replay", base)
    assert crawled.returncode == 0, crawled.stdout + crawled.stderr
    out = home / f"digest-{n}"
    delivered = policywatch(home, "digest", "--db", str(db), "--out", str(out), "--format", "json,md")
    assert delivered.returncode == 0, delivered.stdout + delivered.stderr
    [found] = out.glob("*.json")
    return json.loads(found.read_text(encoding="utf-8"))


@pytest.mark.parametrize("policy_first", [True, False], ids=["policy-first", "interpretation-first"])
def test_a_policy_and_its_interpretation_on_different_days(tmp_path, policy_first):
    home, db = tmp_path / "home", tmp_path / "corpus.db"
    portal = ReplayPortal()
    portal.put("http://www.example-gov.cn/robots.txt", "User-agent: *\nDisallow: /admin/\n",
               content_type="text/plain")
    portal.put(OTHER_URL, (REPLAY_DIR / "generic" / "detail_1012.html").read_bytes())
    first, second = ((POLICY_URL, "policy.html"), (INTERPRETATION_URL, "interpretation.html"))
    if not policy_first:
        first, second = second, first
    with portal.serve() as base:
        day(portal, "list_policy.html" if policy_first else "list_interpretation.html", first)
        crawl_and_deliver(home, db, base, 1)
        day(portal, "list_both.html", second)
        digest = crawl_and_deliver(home, db, base, 2)

    from pipelines.schema import open_corpus

    corpus = open_corpus(db)
    ids = {url: corpus.execute("SELECT id FROM documents WHERE url = ?", [url]).fetchone()[0]
           for url in (POLICY_URL, INTERPRETATION_URL)}
    assert corpus.execute("SELECT document_id, explains_id, by FROM interpretations").fetchall() == \
        [(ids[INTERPRETATION_URL], ids[POLICY_URL], "title")]

    # Day 2's digest: the one new document, with the other side of the link.
    [entry] = digest["changes"]
    if policy_first:
        assert entry["document"]["url"] == INTERPRETATION_URL
        assert entry["explains"]["url"] == POLICY_URL and entry["explains"]["title"] == POLICY_TITLE
    else:
        assert entry["document"]["url"] == POLICY_URL
        assert [j["url"] for j in entry["interpretations"]] == [INTERPRETATION_URL]
    [md] = (home / "digest-2").glob("*.md")
    text = md.read_text(encoding="utf-8")
    label = "所解读的政策" if policy_first else "政策解读"
    assert f"- {label}：" in text and (POLICY_TITLE if policy_first else INTERPRETATION_TITLE) in text

    # Both days at once: the 解读 is shown under its policy, not as a policy of its own.
    lookback = policywatch(home, "digest", "--db", str(db), "--since", "2000-01-01", "--out", "-",
                           "--format", "json")
    assert lookback.returncode == 0, lookback.stderr
    entries = json.loads(lookback.stdout)
    shown = [e for e in entries["changes"]] + [e for s in entries["backfill"] for e in s["top"]]
    policy_entry = next(e for e in shown if e["document"]["url"] == POLICY_URL)
    assert [j["url"] for j in policy_entry["interpretations"]] == [INTERPRETATION_URL]

    # The report counts one policy, and says there was one 解读.
    out = tmp_path / "report"
    reported = policywatch(home, "report", "--db", str(db), "--out", str(out), "--no-charts",
                           "--relevance", "dedicated,mentions,related")
    assert reported.returncode == 0, reported.stdout + reported.stderr
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["total"] == 1 and report["interpretations"] == 1
    assert [row["url"] for row in report["appendix"]] == [POLICY_URL]
