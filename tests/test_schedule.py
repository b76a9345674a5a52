"""The schedule through simulated days: daily rounds, a missed run, per-site jobs, a clean stop."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from apscheduler.executors.debug import DebugExecutor
from apscheduler.schedulers.base import BaseScheduler

import scheduler as cli
from crawlers.replay.portal import ReplayPortal
from scheduler import load_app_config as load_config
from tests import bigportal

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[1]
SHANGHAI = ZoneInfo("Asia/Shanghai")


class ManualScheduler(BaseScheduler):
    """APScheduler's own job processing, run only when the test says (no timer thread)."""

    def wakeup(self):
        pass

    def shutdown(self, wait=True):
        super().shutdown(wait)


@contextmanager
def clock_at(moment: datetime):
    """APScheduler sees ``moment`` as now."""
    class Frozen(datetime):
        @classmethod
        def now(cls, tz=None):
            return moment.astimezone(tz) if tz else moment.replace(tzinfo=None)

    with mock.patch("apscheduler.schedulers.base.datetime", Frozen):
        yield


def runs(db: Path) -> list[tuple]:
    if not db.exists():
        return []
    with sqlite3.connect(db, timeout=10) as conn:
        try:
            return conn.execute("select site, kind, status from runs order by id").fetchall()
        except sqlite3.OperationalError:  # the crawl has created the file, not yet the schema
            return []


def write_config(tmp_path: Path) -> Path:
    config = tmp_path / "policywatch.toml"
    config.write_text(f"""
[paths]
db = "{tmp_path / 'corpus.db'}"
digests = "{tmp_path / 'digests'}"
[schedule]
time = "07:00"
timezone = "Asia/Shanghai"
max_parallel = 2
stagger_seconds = 0
[sites]
enabled = ["replay_generic"]
[channels.files]
formats = ["md", "json"]
""", encoding="utf-8")
    return config


def make(config_path: Path, base: str, jobstore: Path) -> ManualScheduler:
    config = load_config(config_path)
    return cli.build_scheduler(config, config_path=str(config_path), replay_url=base, jobstore=jobstore,
                               scheduler_class=ManualScheduler, executors={"default": DebugExecutor()})


def tick(scheduler: ManualScheduler, moment: datetime) -> None:
    with clock_at(moment):
        if scheduler.state == 2:  # paused, as build_scheduler leaves it
            scheduler.resume()
        scheduler._process_jobs()


def test_simulated_days_and_a_missed_run(tmp_path):
    config_path = write_config(tmp_path)
    db, jobstore = tmp_path / "corpus.db", tmp_path / "schedule.db"
    portal = ReplayPortal()
    bigportal.build(portal, [1, 2, 3])
    with portal.serve() as base:
        with clock_at(datetime(2026, 12, 1, 6, 0, tzinfo=SHANGHAI)):
            sched = make(config_path, base, jobstore)
        assert [j.id for j in sched.get_jobs()] == ["daily"]
        tick(sched, datetime(2026, 12, 1, 6, 30, tzinfo=SHANGHAI))
        assert runs(db) == []  # not yet seven o'clock

        tick(sched, datetime(2026, 12, 1, 7, 0, 5, tzinfo=SHANGHAI))
        assert runs(db) == [("replay_generic", "crawl", "ok")]
        digests_day1 = sorted(p.name for p in (tmp_path / "digests").rglob("*") if p.is_file())
        assert digests_day1, "the daily round ends with the digest delivered to the files channel"

        bigportal.build(portal, [1, 2, 3, 4])  # day 2: a new document
        tick(sched, datetime(2026, 12, 2, 7, 0, 5, tzinfo=SHANGHAI))
        assert len(runs(db)) == 2
        with sqlite3.connect(db) as conn:
            assert conn.execute("select count(*) from documents").fetchone()[0] == 4
        sched.shutdown()

        # The machine is off from day 3 to day 5; started again on day 6 at nine.
        with clock_at(datetime(2026, 12, 6, 9, 0, tzinfo=SHANGHAI)):
            sched = make(config_path, base, jobstore)
        job = sched.get_job("daily")
        assert job.next_run_time == datetime(2026, 12, 3, 7, 0, tzinfo=SHANGHAI)  # kept from before
        tick(sched, datetime(2026, 12, 6, 9, 0, tzinfo=SHANGHAI))
        assert len(runs(db)) == 3  # the missed days run once, not once per day
        assert sched.get_job("daily").next_run_time == datetime(2026, 12, 7, 7, 0, tzinfo=SHANGHAI)
        tick(sched, datetime(2026, 12, 6, 12, 0, tzinfo=SHANGHAI))
        assert len(runs(db)) == 3
        sched.shutdown()


def test_sites_with_their_own_interval_get_their_own_job(tmp_path, monkeypatch):
    from dataclasses import replace

    from crawlers.replay.portal import REPLAY_SITES

    hourly = replace(REPLAY_SITES[0], interval_hours=6.0)
    monkeypatch.setattr(cli, "scheduled_sites",
                        lambda config, interval=None, replay=False: [hourly] if interval else [])
    config_path = write_config(tmp_path)
    with clock_at(datetime(2026, 12, 1, 6, 0, tzinfo=SHANGHAI)):
        sched = make(config_path, "http://127.0.0.1:9", tmp_path / "schedule.db")
    jobs = {j.id: j for j in sched.get_jobs()}
    assert set(jobs) == {"daily", "site:replay_generic"}
    assert jobs["site:replay_generic"].args[0] == "replay_generic"
    sched.shutdown()


def test_sigterm_lets_the_running_crawl_finish(tmp_path):
    config_path = write_config(tmp_path)
    db = tmp_path / "corpus.db"
    portal = ReplayPortal()
    bigportal.build(portal, list(range(1, 41)), delay=0.1)  # ~4 s of crawling
    with portal.serve() as base:
        process = subprocess.Popen(
            [sys.executable, "-m", "scheduler", "schedule", "--config", str(config_path), "--run-now",
             "--replay", base],
            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**__import__("os").environ, "POLICYWATCH_HOME": str(tmp_path)})
        deadline = time.monotonic() + 60
        while not runs(db) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert runs(db), "the run-now round never started"
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert "schedule stopped" in out
    assert runs(db) == [("replay_generic", "crawl", "ok")]  # finished, not left 'running'
    with sqlite3.connect(db) as conn:
        assert conn.execute("select count(*) from documents").fetchone()[0] == 40
