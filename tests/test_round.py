"""The daily round over many portals (issue #16): one crawl process crawls many sites, each with
its own run record; a broken portal among them stops none of the others; a quiet day makes only
the requests it needs; the round deals its sites to a few processes and reports each site.

Real crawls: portals served on their own loopback addresses (127.0.0.2, 127.0.0.3, ...), config
sites, ``policywatch crawl`` processes, a real SQLite corpus.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta

import pytest

from benchmarks.faultcases.round import (
    DOCS,
    ROOT,
    check_others,
    crawl,
    crawl_with_raising_parser,
    documents,
    last_runs,
    outcomes,
    write_config,
)
from benchmarks.roundportals import FIRST_DAY, Farm, host, site_key
from crawlers.engine.rounds import crawl_processes, deal, run_round
from crawlers.parsing import clock

pytestmark = pytest.mark.timeout(300)


@pytest.mark.faults
def test_one_process_crawls_many_portals_an_unreachable_one_stops_none_and_a_quiet_day_asks_only_whats_due(tmp_path):
    farm = Farm(5, DOCS, {2: "down"})
    keys = [site_key(i) for i in range(5)]
    good = [0, 1, 3, 4]
    assert len({host(i) for i in range(5)}) == 5  # five hosts: five download slots
    with farm.serving():
        config = write_config(tmp_path, farm)
        day1 = crawl(tmp_path, config, keys)
        first = dict(farm.requests)
        day2 = crawl(tmp_path, config, keys, day=1)
        second = {i: farm.requests[i] - first.get(i, 0) for i in good}
        again = crawl(tmp_path, config, keys, day=1)  # the same day once more: nothing is due
        third = {i: farm.requests[i] - first.get(i, 0) - second[i] for i in good}
    db = tmp_path / "corpus.db"
    assert day1.returncode == 0, day1.stderr
    check_others(db, keys, keys[2], day1)
    runs = last_runs(db)
    assert runs[keys[2]][0] == "failed" and runs[keys[2]][1]["failed"] == {"unreachable": 1}
    # Day 1: robots.txt, the list page and its three documents, per portal.
    assert first == {i: 2 + DOCS for i in good}
    # A quiet day (the clock moved a day): robots.txt, the first list page (nothing new on it)
    # and the daily revisit of the three documents (days old), though the round starts a little
    # earlier in the day than the moment they were checked.
    assert day2.returncode == 0, day2.stderr
    assert second == {i: 2 + DOCS for i in good}
    # The same day again: nothing is due, robots.txt and the list page only.
    assert again.returncode == 0, again.stderr
    assert third == {i: 2 for i in good}
    assert documents(db) == {keys[i]: DOCS for i in good}
    with sqlite3.connect(db) as conn:
        per_day = conn.execute("SELECT substr(started_at, 1, 10), count(*), count(DISTINCT site) "
                               "FROM runs GROUP BY 1 ORDER BY 1").fetchall()
        revised = conn.execute("SELECT count(*) FROM changes WHERE kind != 'new'").fetchone()[0]
        quiet = [json.loads(c) for (c,) in conn.execute(
            "SELECT counts FROM runs WHERE site = ? ORDER BY id", [keys[0]]).fetchall()][1]
        seen = {d for (d,) in conn.execute("SELECT substr(last_seen, 1, 10) FROM documents")}
    # A run record per site and crawl, dated by the moved clock (POLICYWATCH_NOW).
    assert per_day == [(str(FIRST_DAY), 5, 5), (str(FIRST_DAY + timedelta(days=1)), 10, 5)]
    assert revised == 0
    # The revisits came back with the very bytes stored: not parsed again, each an unchanged
    # document seen on the quiet day.
    assert quiet["revisits"] == {"requested": DOCS, "same_bytes": DOCS, "scheduled": DOCS}
    assert quiet["unchanged"] == DOCS and quiet["new"] == 0
    assert seen == {str(FIRST_DAY + timedelta(days=1))}  # 08:00 in Beijing is midnight UTC
    found = outcomes(tmp_path)  # the last crawl's line per site
    assert {k: found[k]["exit"] for k in keys} == {k: (1 if k == keys[2] else 0) for k in keys}


def test_a_sites_run_is_recorded_when_that_site_ends_while_another_still_crawls(tmp_path):
    """One crawler, many sites: a site's run is finished (and its health recorded) when its own
    last request is settled, not when the process ends; a portal that never answers keeps only
    its own run open."""
    farm = Farm(3, DOCS, {1: "hang"})
    keys = [site_key(i) for i in range(3)]
    with farm.serving():
        config = write_config(tmp_path, farm, scrapy={"DOWNLOAD_TIMEOUT": 20, "RETRY_TIMES": 0})
        process = crawl(tmp_path, config, keys, popen=True)
        db = tmp_path / "corpus.db"
        deadline = time.monotonic() + 120
        seen: dict[str, str] = {}
        while time.monotonic() < deadline and process.poll() is None:
            try:
                with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
                    seen = dict(conn.execute("SELECT site, status FROM runs").fetchall())
            except sqlite3.OperationalError:  # no corpus yet, or its tables not created yet
                seen = {}
            if seen.get(keys[0]) == "ok" and seen.get(keys[2]) == "ok":
                break
            time.sleep(0.2)
        still_running = process.poll() is None
        out, err = process.communicate(timeout=120)
    assert still_running, f"the crawl ended before the good sites' runs were seen: {err[-2000:]}"
    assert seen == {keys[0]: "ok", keys[1]: "running", keys[2]: "ok"}
    assert "Traceback" not in err
    runs = last_runs(tmp_path / "corpus.db")
    assert runs[keys[1]][0] == "failed" and runs[keys[0]][0] == runs[keys[2]][0] == "ok"


def test_at_most_the_active_sites_crawl_at_once_and_each_starts_as_another_ends(tmp_path):
    farm = Farm(3, DOCS)
    keys = [site_key(i) for i in range(3)]
    with farm.serving():
        config = write_config(tmp_path, farm, scrapy={"POLICYWATCH_ACTIVE_SITES": 1})
        done = crawl(tmp_path, config, keys)
    assert done.returncode == 0, done.stderr[-2000:]
    check_others(tmp_path / "corpus.db", keys, "", done)
    with sqlite3.connect(tmp_path / "corpus.db") as conn:
        spans = conn.execute("SELECT site, started_at, finished_at FROM runs ORDER BY id").fetchall()
    assert [site for site, _, _ in spans] == keys  # in the order given
    for (_, _, finished), (_, started, _) in zip(spans, spans[1:]):
        assert started >= finished  # one at a time: the next started when the last had ended


@pytest.mark.faults
def test_a_parser_that_raises_on_one_portal_refuses_its_page_and_the_others_are_stored(tmp_path):
    farm = Farm(4, DOCS)
    keys = [site_key(i) for i in range(4)]
    with farm.serving():
        done = crawl_with_raising_parser(tmp_path, write_config(tmp_path, farm), keys, keys[0])
    assert done.returncode == 0, done.stderr
    db = tmp_path / "corpus.db"
    check_others(db, keys, keys[0], done)
    status, counts, errors = last_runs(db)[keys[0]]
    assert status == "failed" and counts["failed"] == {"parser_error": 1}
    assert errors[0]["reason"] == "parser_error" and "IndexError" in errors[0]["message"]


def test_the_round_deals_its_sites_to_processes_and_reports_each_site(tmp_path):
    farm = Farm(6, DOCS, {4: "waf"})
    keys = [site_key(i) for i in range(6)]
    with farm.serving():
        config = write_config(tmp_path, farm)
        db = tmp_path / "corpus.db"  # created by the first processes, as in a first round
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr("crawlers.engine.rounds.SITES_PER_PROCESS", 3)
            found = run_round(keys, db, max_parallel=4, cores=2, stagger=0, config_path=config)
    assert [o.site for o in found] == keys
    assert {o.site: o.returncode for o in found} == {k: (2 if k == keys[4] else 0) for k in keys}
    assert "blocked" in found[4].output_tail
    with sqlite3.connect(db) as conn:
        processes = conn.execute("SELECT count(DISTINCT pid) FROM runs").fetchone()[0]
        statuses = dict(conn.execute("SELECT site, status FROM runs").fetchall())
    assert processes == 2  # three sites a process, max_parallel 4, but two cores: two processes
    assert statuses == {k: ("blocked" if k == keys[4] else "ok") for k in keys}


def test_sites_are_dealt_to_at_most_one_process_per_core():
    assert crawl_processes(8, cores=2) == 2 and crawl_processes(1, cores=4) == 1
    assert crawl_processes(8, cores=4, sites=40) == 1  # a process takes three thousand sites
    assert crawl_processes(8, cores=4, sites=2500) == 1
    assert crawl_processes(8, cores=4, sites=7000) == 3
    assert deal(["a", "b", "c", "d", "e"], 2) == [["a", "c", "e"], ["b", "d"]]
    assert deal(["a"], 3) == [["a"]]


@pytest.mark.faults
def test_a_bad_policywatch_now_is_one_line(tmp_path):
    done = subprocess.run([sys.executable, "-m", "scheduler", "status", "--db", str(tmp_path / "c.db")],
                          cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "POLICYWATCH_NOW": "tomorrow"})
    assert done.returncode == 1
    assert done.stderr.strip() == ("Error: POLICYWATCH_NOW: 'tomorrow' is not a date (YYYY-MM-DD) "
                                   "or an ISO date and time")


def test_the_clock_moves_and_keeps_running():
    try:
        clock.start_at(clock.parse_moment("2030-01-02"))
        first = clock.now()
        assert first.date().isoformat() == "2030-01-02" and first.tzinfo is not None
        assert clock.now() >= first
        assert clock.parse_moment("2030-01-02T08:00:00+08:00") == clock.parse_moment("2030-01-02")
    finally:
        clock.start_at(None)
    assert clock.now().year < 2030


def test_the_crawl_settings_copy_is_independent_where_a_crawler_changes_it(tmp_path):
    from crawlers.engine.runner import build_settings

    settings = build_settings(tmp_path / "c.db")
    copied = settings.copy()
    assert type(copied) is type(settings) and copied.copy_to_dict() == settings.copy_to_dict()
    copied.set("DOWNLOAD_SLOTS", {"127.0.0.2": {"delay": 9}}, priority="spider")
    copied["DOWNLOADER_MIDDLEWARES"].set("x.Middleware", 1)
    copied.set("LOG_LEVEL", "DEBUG", priority="cmdline")
    assert settings.getdict("DOWNLOAD_SLOTS") == {} and "x.Middleware" not in settings["DOWNLOADER_MIDDLEWARES"]
    assert settings["LOG_LEVEL"] != "DEBUG"


def test_a_stopped_round_lets_the_running_sites_finish_and_starts_no_other(tmp_path):
    from crawlers.engine.rounds import STOP_STARTING

    farm = Farm(6, DOCS)
    keys = [site_key(i) for i in range(6)]
    db = tmp_path / "corpus.db"
    with farm.serving():
        config = write_config(tmp_path, farm, scrapy={"POLICYWATCH_ACTIVE_SITES": 2})
        process = crawl(tmp_path, config, keys, popen=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not sum(farm.requests.values()):
            time.sleep(0.05)
        process.send_signal(STOP_STARTING)  # as run_round does when the schedule is stopped
        _, stderr = process.communicate(timeout=240)
    assert "Traceback" not in stderr
    found = outcomes(tmp_path)
    started = [k for k in keys if found[k]["exit"] is not None]
    assert started == keys[:2], found  # two at a time: the first two ran, no other started
    assert all(found[k]["exit"] == 0 for k in started)
    assert all(found[k]["why"] == "not started: the round was stopped" for k in keys[2:])
    assert {k: v[0] for k, v in last_runs(db).items()} == {k: "ok" for k in started}
    assert documents(db) == {k: DOCS for k in started}
