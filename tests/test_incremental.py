"""A quiet day costs list pages up to the first known page plus the revisit budget."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from crawlers.items import PolicyItem
from crawlers.replay.portal import ReplayPortal
from pipelines.revisits import load_crawl_state, revisit_interval
from pipelines.schema import open_corpus
from pipelines.storing import store_document
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


def seed(db_path: Path, numbers, column: str | None = None) -> None:
    """The corpus as after a backfill of the column (stored directly: the crawl is not the test)."""
    db = open_corpus(db_path)
    for n in numbers:
        store_document(db, PolicyItem(
            url=bigportal.doc_url(n), site="replay_generic", title=f"示例市关于第{n}号事项的通知",
            published_date=bigportal.doc_date(n), body_text=f"现就第{n}号事项通知如下。",
            fetched_at=datetime(2026, 1, 1, tzinfo=timezone.utc), column=column))
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


def first_day_then_all_due(db: Path, base: str) -> None:
    """A first crawl (every document new), then every document due a revisit."""
    assert crawl(db, base).returncode == 0
    corpus = open_corpus(db)
    corpus.execute("update documents set next_check_at = '2000-01-01T00:00:00+00:00'")
    corpus.conn.commit()
    corpus.close()


def test_unchanged_revisit_is_a_304(tmp_path):
    db = tmp_path / "corpus.db"
    portal = ReplayPortal()
    bigportal.build(portal, [1, 2, 3])
    with portal.serve() as base:
        first_day_then_all_due(db, base)
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


def test_a_revisit_answered_with_the_same_bytes_is_not_read_again_and_a_changed_page_is(tmp_path):
    """A portal that sends no validators answers every revisit 200: a page whose bytes are
    those its current version was read from is an unchanged document without a parse; a page
    that changed is read, and its revision stored."""
    db = tmp_path / "corpus.db"
    portal = ReplayPortal(validators=False)
    bigportal.build(portal, [1, 2, 3])
    with portal.serve() as base:
        first_day_then_all_due(db, base)
        portal.put(bigportal.doc_url(2), bigportal.detail_page(2, revision="自印发之日起施行。"))
        result = crawl(db, base)
        assert result.returncode == 0, result.stderr
    corpus = open_corpus(db)
    counts = json.loads(next(corpus.query("select counts from runs order by id desc limit 1"))["counts"])
    assert counts["revisits"] == {"requested": 3, "same_bytes": 2, "scheduled": 3}
    assert (counts["unchanged"], counts["revised"], counts["new"]) == (2, 1, 0)
    versions = dict(corpus.execute("select d.url, count(*) from versions v join documents d "
                                   "on d.id = v.document_id group by d.url").fetchall())
    assert versions == {bigportal.doc_url(1): 1, bigportal.doc_url(2): 2, bigportal.doc_url(3): 1}


def test_only_a_page_without_files_is_known_by_its_bytes():
    from pipelines.revisits import _body_sha1
    from pipelines.values import compress_raw

    page = "<html>现就第1号事项通知如下。</html>".encode()
    assert _body_sha1(compress_raw(page), "{}") == hashlib.sha1(page).hexdigest()
    # A file linked from the page may change behind the same bytes: read it again.
    assert _body_sha1(compress_raw(page), '{"http://x.gov.cn/a.pdf": "ab12"}') is None
    assert _body_sha1(None, "{}") is None and _body_sha1(b"not zlib", "{}") is None


def test_revisit_intervals():
    now = datetime(2026, 11, 22, tzinfo=timezone.utc)
    assert revisit_interval("2026-11-20", now).days == 1
    assert revisit_interval("2026-06-01", now).days == 7
    assert revisit_interval("2020-01-01", now).days == 30
    assert revisit_interval(None, now).days == 30


def test_a_sweep_reads_the_whole_column_and_sees_what_it_no_longer_lists(tmp_path):
    """A document taken off page 6 of a 10-page column: the daily incremental crawl stops at
    page 1 and cannot see it; a sweep reads every page (and fetches nothing it knows), records
    the absence, and the second sweep on another check day withdraws it."""
    numbers = list(range(1, 201))
    db = tmp_path / "corpus.db"
    seed(db, numbers, column="政策文件")
    portal = ReplayPortal()
    bigportal.build(portal, [n for n in numbers if n != 90])
    with portal.serve() as base:
        daily = crawl(db, base, "--revisit-budget", "0")
        assert daily.returncode == 0, daily.stderr
        assert [u for _, u in portal.requests if "/zcwj/index" in u] == [bigportal.list_url(1)]
        corpus = open_corpus(db)
        assert corpus.execute("SELECT count(*) FROM absences").fetchone()[0] == 0

        portal.requests.clear()
        swept = crawl(db, base, "--revisit-budget", "0", "--sweep")
        assert swept.returncode == 0, swept.stderr
        requested = [u for _, u in portal.requests]
        assert [u for u in requested if "/zcwj/index" in u] == [bigportal.list_url(p) for p in range(1, 11)]
        assert not [u for u in requested if "/zcwj/doc/" in u]  # list pages only: all known
        gone = corpus.execute("SELECT d.url, a.reason FROM absences a JOIN documents d ON d.id = a.document_id"
                              ).fetchall()
        assert gone == [(bigportal.doc_url(90), "unlisted")]
        # The run says it was a sweep: the schedule finds a site's last sweep by it.
        mode = corpus.execute("SELECT json_extract(counts, '$.mode') FROM runs ORDER BY id DESC").fetchone()[0]
        assert mode == "sweep"
        from pipelines.health import site_health

        health = {h.site: h for h in site_health(corpus)}["replay_generic"]
        assert health.last_sweep is not None and health.state == "ok"

        # A week later (the absence moved back a day stands for another check day).
        with corpus.conn:
            corpus.execute("UPDATE absences SET day = '2000-01-01'")
        again = crawl(db, base, "--revisit-budget", "0", "--sweep")
        assert again.returncode == 0, again.stderr
        withdrawn = corpus.execute("SELECT d.url FROM changes c JOIN documents d ON d.id = c.document_id "
                                   "WHERE c.kind = 'withdrawn'").fetchall()
        assert withdrawn == [(bigportal.doc_url(90),)]
        corpus.close()


def test_which_sites_are_due_a_sweep(tmp_path):
    from pipelines.revisits import sites_due_a_sweep
    from pipelines.runs import finish_run, start_run

    db = open_corpus(tmp_path / "corpus.db")
    now = datetime(2026, 11, 22, 7, 0, tzinfo=timezone.utc)

    def run(site, when, mode, status="ok"):
        run_id = start_run(db, site, "crawl", when=when)
        finish_run(db, run_id, {"mode": mode}, [], status)

    run("swept_last_week", datetime(2026, 11, 15, 7, 5, tzinfo=timezone.utc), "sweep")  # 5 min later than now
    run("swept_yesterday", datetime(2026, 11, 21, 7, 0, tzinfo=timezone.utc), "sweep")
    run("sweep_failed", datetime(2026, 11, 20, 7, 0, tzinfo=timezone.utc), "sweep", status="failed")
    run("only_incremental", datetime(2026, 11, 21, 7, 0, tzinfo=timezone.utc), "incremental")
    sites = ["swept_last_week", "swept_yesterday"]
    assert sites_due_a_sweep(db, sites, 7, now) == {"swept_last_week"}
    assert sites_due_a_sweep(db, sites, 0, now) == set()
    # Never swept (a failed sweep does not count): each has its own day of the week, so a new
    # corpus spreads its first sweeps over the week.
    unswept = ["sweep_failed", "only_incremental"] + [f"site_{i}" for i in range(40)]
    days = [sites_due_a_sweep(db, unswept, 7, now + timedelta(days=d)) for d in range(7)]
    assert sorted(s for due in days for s in due) == sorted(unswept)  # each once in the week
    assert max(len(due) for due in days) < len(unswept) / 2
    from crawlers.engine.rounds import crawl_command

    assert "--sweep" in crawl_command("x", tmp_path / "c.db", mode="sweep")
    assert "--incremental" in crawl_command("x", tmp_path / "c.db")
