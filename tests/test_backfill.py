"""Backfill: the whole archive, resumable after a hard kill, idempotent, date-bounded."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crawlers.replay.portal import ReplayPortal
from pipelines.schema import open_corpus
from tests import bigportal

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[1]
N = 120


def backfill_cmd(db: Path, base: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "scheduler", "backfill", "replay_generic", "--db", str(db),
            "--replay", base, *extra]


def stored(db: Path) -> set[str]:
    return {r["url"] for r in open_corpus(db).query("select url from documents")}


def count(db: Path) -> int:
    if not db.exists():
        return 0
    with sqlite3.connect(db, timeout=10) as conn:
        try:
            return conn.execute("select count(*) from documents").fetchone()[0]
        except sqlite3.OperationalError:  # not created yet
            return 0


@pytest.fixture(scope="module")
def portal():
    portal = ReplayPortal()
    bigportal.build(portal, list(range(1, N + 1)), delay=0.02)
    with portal.serve() as base:
        yield portal, base


def test_uninterrupted_then_killed_and_resumed_backfills_store_the_same(portal, tmp_path):
    the_portal, base = portal
    whole = tmp_path / "whole.db"
    # -v: the progress lines are logged at INFO (tests/test_progress.py tests them).
    verbose = [*backfill_cmd(whole, base)[:3], "-v", *backfill_cmd(whole, base)[3:]]
    result = subprocess.run(verbose, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    expected = stored(whole)
    assert expected == {bigportal.doc_url(n) for n in range(1, N + 1)}
    assert "progress: replay_generic done:" in result.stderr and f"{N} documents ({N} new)" in result.stderr
    kinds = {r["kind"] for r in open_corpus(whole).query("select kind from runs")}
    assert kinds == {"backfill"}

    # Idempotent: a second backfill re-reads the list pages and fetches no document.
    the_portal.requests.clear()
    again = subprocess.run(backfill_cmd(whole, base), cwd=REPO, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert not [u for _, u in the_portal.requests if "/zcwj/doc/" in u]
    assert open_corpus(whole).execute("select count(*) from versions").fetchone()[0] == N

    # Killed hard midway, then run again: the same documents, none lost, none twice.
    killed = tmp_path / "killed.db"
    process = subprocess.Popen(backfill_cmd(killed, base), cwd=REPO, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while count(killed) < N // 4 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    partial = count(killed)
    assert 0 < partial < N, f"the kill came too late or too early ({partial} stored)"
    resumed = subprocess.run(backfill_cmd(killed, base), cwd=REPO, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert stored(killed) == expected
    db = open_corpus(killed)
    assert db.execute("select count(*) from versions").fetchone()[0] == N
    assert db.execute("select count(*) from changes where kind = 'new'").fetchone()[0] == N


def test_since_and_until_bound_the_backfill(portal, tmp_path):
    _, base = portal
    db = tmp_path / "bounded.db"
    since, until = bigportal.doc_date(100), bigportal.doc_date(200)
    result = subprocess.run(backfill_cmd(db, base, "--since", since.isoformat(), "--until", until.isoformat()),
                            cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    dates = [r[0] for r in open_corpus(db).execute("select published_date from documents")]
    assert dates and all(since.isoformat() <= d <= until.isoformat() for d in dates)
    expected = {n for n in range(1, N + 1) if since <= bigportal.doc_date(n) <= until}
    assert len(dates) == len(expected)


def test_bad_dates_are_named(tmp_path):
    result = subprocess.run(backfill_cmd(tmp_path / "x.db", "http://127.0.0.1:9", "--since", "2022-13-01"),
                            cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "'2022-13-01' is not a date" in result.stderr
    result = subprocess.run(backfill_cmd(tmp_path / "x.db", "http://127.0.0.1:9", "--since", "2022-02-01",
                                         "--until", "2022-01-01"), cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "is after --until" in result.stderr
