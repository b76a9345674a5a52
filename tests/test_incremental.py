"""A quiet day costs list pages up to the first known page plus the revisit budget."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from crawlers.items import PolicyItem
from crawlers.replay import ReplayPortal
from pipelines.corpus import open_corpus, store_document
from pipelines.revisits import load_crawl_state, revisit_interval
from tests import bigportal

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[1]
N = 2000
BUDGET = 25


def crawl(db: Path, base: str, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "scheduler", "crawl", "replay_generic", "--incremental",
         "--revisit-budget", str(BUDGET), "--db", str(db), "--replay", base, *extra],
        cwd=REPO, capture_output=True, text=True, timeout=300)


def seed(db_path: Path, numbers) -> None:
    """The corpus as after a backfill of the column (stored directly: the crawl is not the test)."""
    db = open_corpus(db_path)
    for n in numbers:
        store_document(db, PolicyItem(
            url=bigportal.doc_url(n), site="replay_generic", title=f"示例市关于第{n}号事项的通知",
            published_date=bigportal.doc_date(n), body_text=f"现就第{n}号事项通知如下。",
            fetched_at=datetime(2026, 1, 1, tzinfo=timezone.utc)))
    db.close()


def test_quiet_day_and_a_day_with_news(tmp_path):
    db = tmp_path / "corpus.db"
    seed(db, range(1, N + 1))
    portal = ReplayPortal()
    pages = bigportal.build(portal, list(range(1, N + 1)))
    assert pages == N // 20
    with portal.serve() as base:
        result = crawl(db, base)
        assert result.returncode == 0, result.stdout + result.stderr
        quiet = [url for _, url in portal.requests]
        lists = [u for u in quiet if "/zcwj/index" in u]
        details = [u for u in quiet if "/zcwj/doc/" in u]
        # robots.txt, the first list page (nothing new on it: stop), and the revisit budget.
        assert lists == [bigportal.list_url(1)]
        assert len(details) == BUDGET
        assert len(quiet) <= 1 + 1 + BUDGET

        # The next day three documents appear on top of the column.
        portal.requests.clear()
        bigportal.build(portal, list(range(1, N + 4)))
        result = crawl(db, base)
        assert result.returncode == 0, result.stderr
        busy = [url for _, url in portal.requests]
        new_docs = {bigportal.doc_url(n) for n in (N + 1, N + 2, N + 3)}
        assert new_docs <= set(busy)
        assert [u for u in busy if "/zcwj/index" in u] == [bigportal.list_url(1), bigportal.list_url(2)]
        assert len([u for u in busy if "/zcwj/doc/" in u]) <= 3 + BUDGET

    corpus = open_corpus(db)
    assert corpus.execute("select count(*) from documents").fetchone()[0] == N + 3
    # Every document fetched has its next revisit scheduled; the quiet day's revisits are done.
    state = load_crawl_state(corpus, "replay_generic", datetime.now(timezone.utc), budget=10_000)
    assert len(state.due) == N + 3 - 2 * BUDGET - 3


def test_unchanged_revisit_is_a_304(tmp_path):
    db = tmp_path / "corpus.db"
    portal = ReplayPortal()
    bigportal.build(portal, [1, 2, 3])
    with portal.serve() as base:
        assert crawl(db, base).returncode == 0  # first day: all three are new
        corpus = open_corpus(db)
        corpus.execute("update documents set next_check_at = '2000-01-01T00:00:00+00:00'")
        corpus.conn.commit()
        portal.requests.clear()
        result = crawl(db, base)
        assert result.returncode == 0, result.stderr
    corpus = open_corpus(db)
    run = next(corpus.query("select counts from runs order by id desc limit 1"))
    revisits = __import__("json").loads(run["counts"])["revisits"]
    assert revisits["requested"] == 3 and revisits["not_modified"] == 3
    assert corpus.execute("select count(*) from versions").fetchone()[0] == 3
    checked = [r[0] for r in corpus.execute("select next_check_at from documents")]
    assert all(c and c > "2026" for c in checked)


def test_revisit_intervals():
    now = datetime(2026, 11, 22, tzinfo=timezone.utc)
    assert revisit_interval("2026-11-20", now).days == 1
    assert revisit_interval("2026-06-01", now).days == 7
    assert revisit_interval("2020-01-01", now).days == 30
    assert revisit_interval(None, now).days == 30
