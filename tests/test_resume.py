"""Nothing lost on resume and on errors; a run's status and exit code tell the truth.

Real backfills (``python -m scheduler backfill``) of the synthetic portal on 127.0.0.1, killed,
interrupted or starved of disk, then resumed and compared with an uninterrupted backfill by URL
and text hash. The builders are shared with the fault cases (benchmarks/faultcases/resume.py).
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest

from benchmarks import synthportal
from benchmarks.faultcases import resume as faults
from crawlers.engine.pageledger import PageLedger
from crawlers.engine.runner import SiteRunReport
from crawlers.engine.summary import EXIT_BLOCKED, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, crawl_outcome
from pipelines.health import site_health
from pipelines.runs import RUN_STALE_AFTER, beat_run, finish_run, reap_dead_runs, start_run
from pipelines.schema import open_corpus

N = 300  # documents: 15 list pages


@pytest.fixture(scope="module")
def portal():
    with faults.synthetic_portal(N) as base:
        yield base


@pytest.fixture(scope="module")
def uninterrupted(portal, tmp_path_factory):
    db = tmp_path_factory.mktemp("whole") / "whole.db"
    result = faults.run_backfill(db, portal)
    assert result.returncode == 0, result.stdout + result.stderr
    return faults.fingerprint(db)


@pytest.mark.faults
@pytest.mark.e2e
def test_sigkilled_at_seeded_moments_then_resumed_loses_and_duplicates_nothing(portal, uninterrupted, tmp_path):
    assert len(uninterrupted) == N and set(uninterrupted.values()) == {1}
    db = tmp_path / "killed.db"
    moments = faults.kill_moments(N, 3)
    assert moments == sorted(moments) and len(set(moments)) == 3
    stored_at_kills = []
    for moment in moments:
        stored_at_kills.append(faults.kill_when_stored(db, portal, moment))
        # A page marked done holds only stored documents: the resume will not read it again.
        assert faults.done_but_not_stored(db, N) == 0
    assert stored_at_kills[-1] < N, f"the last kill came after the end ({stored_at_kills})"
    resumed = faults.run_backfill(db, portal)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert faults.compare(uninterrupted, faults.fingerprint(db)) == (0, 0)
    assert faults.pending_pages(db) == 0
    # Each killed run is recorded killed (by the next backfill, which found its process gone).
    statuses = [status for _, status, _ in faults.runs(db)]
    assert statuses == ["killed"] * 3 + ["ok"], statuses
    killed_errors = json.loads(faults.runs(db)[0][2])
    assert killed_errors[0]["reason"] == "killed" and "is gone" in killed_errors[0]["message"]


@pytest.mark.faults
@pytest.mark.e2e
def test_a_full_disk_stops_the_backfill_with_one_line_and_the_same_command_resumes(portal, uninterrupted, tmp_path):
    db = tmp_path / "corpus.db"
    full = faults.run_backfill(db, portal, file_limit=3 * 1024 * 1024)
    assert full.returncode == 1, full.stdout + full.stderr
    assert "Traceback" not in full.stderr
    last = full.stderr.strip().splitlines()[-1]
    assert last.startswith("backfill of replay_generic failed: the corpus cannot be written: ")
    assert last.endswith("run the same command to resume")
    # Stopped at the first failed write, not one error per document.
    assert full.stderr.count("the corpus cannot be written") == 2, full.stderr
    stored = faults.stored_count(db)
    assert 0 < stored < N and faults.pending_pages(db) > 0
    run = open_corpus(db).execute("select status, errors from runs").fetchone()
    assert run[0] == "failed" and "corpus_unwritable" in run[1]

    again = faults.run_backfill(db, portal)
    assert again.returncode == 0, again.stdout + again.stderr
    assert faults.compare(uninterrupted, faults.fingerprint(db)) == (0, 0)
    assert faults.pending_pages(db) == 0


@pytest.mark.faults
@pytest.mark.e2e
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_or_sigterm_says_it_stopped_and_how_to_resume_and_exits_130(portal, uninterrupted, tmp_path,
                                                                            signum):
    db = tmp_path / "corpus.db"
    stopped = faults.interrupt_when_stored(db, portal, N // 5, signum)
    assert stopped.returncode == 130, stopped.stdout + stopped.stderr
    assert "Traceback" not in stopped.stderr
    assert stopped.stderr.strip().splitlines()[-1] == \
        "backfill of replay_generic stopped (interrupted); run the same command to resume"
    assert 0 < faults.stored_count(db) < N
    assert [status for _, status, _ in faults.runs(db)] == ["failed"]
    again = faults.run_backfill(db, portal)
    assert again.returncode == 0, again.stderr
    assert faults.compare(uninterrupted, faults.fingerprint(db)) == (0, 0)


@pytest.mark.faults
@pytest.mark.e2e
def test_a_second_ctrl_c_stops_at_once_exits_130_and_the_run_is_recorded_killed(portal, uninterrupted,
                                                                              tmp_path):
    db = tmp_path / "corpus.db"
    # Pages that take a second to answer: the first Ctrl-C's stop waits for those in flight,
    # and the second, 0.3 s later, does not.
    with synthportal.SyntheticPortal(N, delay=1.0).serve() as slow:
        stopped = faults.interrupt_when_stored(db, slow, 8, signal.SIGINT, times=2, gap=0.3)
    assert stopped.returncode == 130, stopped.stdout + stopped.stderr
    assert "Traceback" not in stopped.stderr
    assert stopped.stderr.strip().splitlines()[-1] == \
        "backfill of replay_generic stopped (interrupted); run the same command to resume"
    # Stopped before its run could be recorded: the next writer records it killed.
    assert [status for _, status, _ in faults.runs(db)] == ["running"]
    again = faults.run_backfill(db, portal)  # the same portal, answering at once
    assert again.returncode == 0, again.stderr
    assert [status for _, status, _ in faults.runs(db)] == ["killed", "ok"]
    assert faults.compare(uninterrupted, faults.fingerprint(db)) == (0, 0)


@pytest.mark.faults
@pytest.mark.e2e
def test_a_killed_run_is_shown_killed_by_status(portal, tmp_path):
    db = tmp_path / "corpus.db"
    faults.kill_when_stored(db, portal, N // 5)
    assert [status for _, status, _ in faults.runs(db)] == ["running"]
    owner = open_corpus(db).execute("select pid, host, heartbeat_at from runs").fetchone()
    assert owner[0] and owner[1] == socket.gethostname() and owner[2]  # it beat when it started
    table = subprocess.run([sys.executable, "-m", "scheduler", "status", "--db", str(db)],
                           cwd=faults.REPO, capture_output=True, text=True, timeout=120)
    assert table.returncode == 0, table.stderr
    line = next(line for line in table.stdout.splitlines() if line.startswith("replay_generic"))
    assert " killed " in line and "is gone" in line
    # status only reads; the next writer (a crawl starting) records the run killed.
    assert [status for _, status, _ in faults.runs(db)] == ["running"]
    assert len(reap_dead_runs(open_corpus(db))) == 1
    assert [status for _, status, _ in faults.runs(db)] == ["killed"]
    health = {h.site: h for h in site_health(open_corpus(db))}
    assert health["replay_generic"].last_status == "killed"
    assert health["replay_generic"].last_run_why.startswith("killed: process ")


def test_killed_runs_say_nothing_of_the_portals_health(tmp_path):
    db = open_corpus(tmp_path / "corpus.db")
    worked = start_run(db, "replay_generic", "crawl")
    finish_run(db, worked, {"documents": 3, "failed": {"http_500": 1}}, status="partial")
    for _ in range(3):  # three runs killed in a row: not a silent portal
        start_run(db, "replay_generic", "crawl", pid=2 ** 22 + 1)
    assert len(reap_dead_runs(db)) == 3
    health = {h.site: h for h in site_health(db)}["replay_generic"]
    assert (health.last_status, health.state, health.flags) == ("killed", "ok", [])
    assert health.failures == {"http_500": 1}  # the last run that counted


@pytest.mark.faults
def test_dead_runs_are_told_from_live_ones(tmp_path):
    db = open_corpus(tmp_path / "corpus.db")
    here = socket.gethostname()
    live = start_run(db, "replay_generic", "crawl")  # this process: alive
    dead = start_run(db, "replay_generic", "crawl", pid=2 ** 22 + 1)  # no such process
    elsewhere = start_run(db, "replay_generic", "crawl", pid=1, host="another-host")
    silent = start_run(db, "replay_generic", "crawl", pid=1, host="another-host")
    ended = start_run(db, "replay_generic", "crawl", pid=2 ** 22 + 1)
    finish_run(db, ended, {"failed": {}}, status="ok")
    now = datetime.now(timezone.utc)
    beat_run(db, elsewhere, now)
    beat_run(db, silent, now - RUN_STALE_AFTER - timedelta(minutes=1))
    legacy = db.execute("""INSERT INTO runs (site, kind, started_at, status)
                           VALUES ('replay_generic', 'crawl', '2020-01-01T00:00:00+00:00', 'running')""").lastrowid

    assert sorted(reap_dead_runs(db, now)) == sorted([dead, silent, legacy])
    status = dict(db.execute("select id, status from runs").fetchall())
    assert status == {live: "running", dead: "killed", elsewhere: "running", silent: "killed",
                      ended: "ok", legacy: "killed"}
    assert reap_dead_runs(db, now) == []  # written once
    row = next(db.query("select * from runs where id = ?", [dead]))
    assert row["host"] == here and row["finished_at"]
    with pytest.raises(ValueError, match="status"):
        finish_run(db, live, {}, status="killed")  # only the reaper records a death


def test_a_list_page_is_done_only_when_each_entry_it_listed_is_settled():
    done: list[tuple[str, int]] = []
    ledger = PageLedger(lambda page, entries: done.append((page, entries)))
    ledger.listed("p1", 3, {"a", "b"})  # the third entry is known already
    ledger.settled("a")
    ledger.parsed("p1")
    assert done == []
    # p2 lists b again (lists shift while a backfill runs) and c: it waits for both.
    ledger.listed("p2", 2, {"b", "c"})
    ledger.parsed("p2")
    ledger.settled("b")
    assert done == [("p1", 3)]
    ledger.failed("c")  # a failed store or fetch: p2 stays pending, also once c comes back
    ledger.settled("c")
    assert done == [("p1", 3)] and ledger.pending() == 1
    # An entry that failed earlier in the run spoils a page listing it later.
    ledger.listed("p3", 1, {"c2"})
    ledger.failed("c2")
    ledger.listed("p4", 1, {"c2"})
    ledger.parsed("p3")
    ledger.parsed("p4")
    assert done == [("p1", 3)]
    # A page whose parse did not run to its end is never done, even with nothing to wait for.
    ledger.listed("p5", 0, set())
    assert done == [("p1", 3)]
    ledger.parsed("p5")
    assert done == [("p1", 3), ("p5", 0)]


@pytest.mark.faults
@pytest.mark.e2e
def test_a_crawl_that_stored_nothing_because_of_errors_exits_non_zero(portal, tmp_path):
    db = tmp_path / "corpus.db"
    open_corpus(db).close()  # the corpus exists; hardly a document more fits on the disk
    limit = max(f.stat().st_size for f in tmp_path.iterdir()) + 4096
    result = subprocess.run([sys.executable, "-m", "scheduler", "crawl", "replay_generic", "--db", str(db),
                             "--replay", portal, "--max-pages", "1"], cwd=faults.REPO, capture_output=True,
                            text=True, timeout=300, preexec_fn=lambda: faults._limit_files(limit))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1].startswith(
        "crawl of replay_generic failed: the corpus cannot be written: ")
    assert faults.stored_count(db) < 20  # not one list page's worth


@pytest.mark.faults
@pytest.mark.e2e
def test_a_failed_detail_fetch_leaves_its_list_page_pending_and_a_gone_one_does_not(tmp_path):
    small = 60  # three list pages: 60..41, 40..21, 20..1
    portal = synthportal.SyntheticPortal(small)
    portal.put(faults.doc_url(50), "error", status=500)  # may pass: read again on resume
    portal.put(faults.doc_url(10), "gone", status=404)  # final: the page is gone
    db = tmp_path / "corpus.db"
    with portal.serve() as base:
        first = faults.run_backfill(db, base)
        assert first.returncode == 0, first.stdout + first.stderr  # partial: it worked
        assert faults.stored_count(db) == small - 2
        assert [status for _, status, _ in faults.runs(db)] == ["partial"]
        pending = open_corpus(db).execute(
            "select url from backfill_pages where state = 'pending'").fetchall()
        assert pending == [(synthportal.list_url(1),)]  # only the 500's page

        portal.remove(faults.doc_url(50))  # the server is back
        second = faults.run_backfill(db, base)
        assert second.returncode == 0, second.stdout + second.stderr
    stored = {url for url, _ in faults.fingerprint(db)}
    assert stored == {faults.doc_url(n) for n in range(1, small + 1)} - {faults.doc_url(10)}
    assert faults.pending_pages(db) == 0


@pytest.mark.faults
@pytest.mark.e2e
def test_a_crawl_that_met_only_anti_bot_pages_exits_2(tmp_path):
    portal = synthportal.SyntheticPortal(20)
    portal.put(synthportal.COLUMN, "<html><body><h2>您的访问被阻断</h2><p>创宇云防御</p></body></html>")
    with portal.serve() as base:
        result = subprocess.run([sys.executable, "-m", "scheduler", "crawl", "replay_generic", "--db",
                                 str(tmp_path / "corpus.db"), "--replay", base], cwd=faults.REPO,
                                capture_output=True, text=True, timeout=300)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.strip().splitlines()[-1] == \
        "crawl of replay_generic blocked: only anti-bot pages came back, nothing stored"


def test_exit_statuses_are_decided_in_one_place():
    def report(**kw):
        return SiteRunReport(site="jx_gov", finish_reason=kw.pop("finish_reason", "finished"), **kw)

    assert crawl_outcome([report(items=3, new=3)], "crawl of jx_gov") == (EXIT_OK, "")
    partial = report(items=3, new=3, failed={"http_500": 1})
    assert crawl_outcome([partial], "crawl of jx_gov") == (EXIT_OK, "")
    quiet = report(known=20, failed={"http_404": 1})
    assert crawl_outcome([quiet], "crawl of jx_gov") == (EXIT_OK, "")
    # Every item failed in a pipeline: parsed, never stored.
    unstored = report(items=5, failed={"not_stored": 5})
    assert crawl_outcome([unstored], "crawl of jx_gov") == \
        (EXIT_FAILED, "crawl of jx_gov failed: nothing stored, 5 page(s) refused")
    assert crawl_outcome([report(failed={"blocked": 2})], "crawl of jx_gov") == \
        (EXIT_BLOCKED, "crawl of jx_gov blocked: only anti-bot pages came back, nothing stored")
    refused = report(failed={"robots_forbidden": 1})
    assert crawl_outcome([refused, report(failed={"blocked": 1})], "crawl of a, b")[0] == EXIT_FAILED
    assert crawl_outcome([report(items=1, finish_reason="shutdown")], "backfill of jx_gov", resumable=True) == \
        (EXIT_INTERRUPTED, "backfill of jx_gov stopped (interrupted); run the same command to resume")
    assert crawl_outcome([report(items=1, finish_reason="corpus_unwritable", unwritable="database or disk is full")],
                         "backfill of jx_gov", resumable=True) == \
        (EXIT_FAILED, "backfill of jx_gov failed: the corpus cannot be written: database or disk is full; "
                      "free space (or fix the corpus) and run the same command to resume")
    assert crawl_outcome([report(items=1, finish_reason="")], "crawl of jx_gov") == \
        (EXIT_FAILED, "crawl of jx_gov failed: stopped early (never finished)")
    # One site of two worked: the crawl worked.
    assert crawl_outcome([unstored, report(items=2, new=2)], "crawl of a, b") == (EXIT_OK, "")


@pytest.mark.faults
@pytest.mark.e2e
def test_ctrl_c_on_a_round_exits_130_and_its_crawl_records_its_run(portal, tmp_path):
    import os

    config = tmp_path / "policywatch.toml"
    db = tmp_path / "corpus.db"
    config.write_text(f'[paths]\ndb = "{db}"\n[schedule]\nstagger_seconds = 0\n'
                      '[sites]\nenabled = ["replay_generic"]\n', encoding="utf-8")
    process = subprocess.Popen([sys.executable, "-m", "scheduler", "run", "--config", str(config), "--replay",
                                portal, "--no-digest"], cwd=faults.REPO, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True,
                               env={**os.environ, "POLICYWATCH_HOME": str(tmp_path)})
    faults.wait_until_stored(process, db, N // 5)
    os.killpg(process.pid, signal.SIGINT)  # as Ctrl-C at a terminal: the round and its crawl
    out, err = process.communicate(timeout=300)
    assert process.returncode == 130, out + err
    assert err.strip().splitlines()[-1] == "round interrupted; the next round crawls what this one did not"
    assert "Traceback" not in err
    assert [status for _, status, _ in faults.runs(db)] == ["failed"]  # recorded, not left running
