"""Progress of long work: the line said from counters (on numbers), the process's board, and a
real backfill of the replay portal whose log holds periodic lines and a last line that counts
what was stored."""

from __future__ import annotations

import io
import logging
import os
import pty
import re
import sqlite3
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from crawlers.engine.liveline import LiveLine
from crawlers.engine.progress import ProgressBoard
from crawlers.engine.progressline import (
    PREFIX,
    SiteCounters,
    SiteState,
    eta,
    format_duration,
    parse_site_line,
    round_line,
    site_line,
)
from crawlers.engine.roundprogress import RoundProgress, follow
from crawlers.replay.portal import ReplayPortal
from tests import bigportal

REPO = Path(__file__).resolve().parents[1]
N = 60  # documents of the generated column, 20 a list page


# --- the line, from numbers ------------------------------------------------------------------
def test_the_eta_counts_documents_listed_and_not_fetched_yet():
    # Every list page read, a quarter of the documents still to fetch: not "0 s left".
    c = SiteCounters("jx_gov", list_read=10, list_requested=10, list_total=10, listed=200,
                     queued=200, answered=150, new=150)
    assert c.documents_left() == 50
    line = site_line(c, elapsed=150)
    assert line == ("jx_gov: list pages 10/10 · 150 documents (150 new), 50 to fetch · "
                    "0 already stored · 0 refused · 1.0/s · ETA 50 s")


def test_the_list_pages_not_read_yet_count_as_many_documents_as_those_read():
    # 4 of 10 announced pages read, 20 documents on each, all fetched: 6 pages × 20 are left.
    c = SiteCounters("jx_gov", list_read=4, list_requested=5, list_total=10, listed=80, queued=80,
                     answered=80, new=70, unchanged=10, known=5, refused=2)
    assert c.documents_left() == 120
    assert site_line(c, elapsed=80) == ("jx_gov: list pages 4/10 · 80 documents (70 new), 120 to fetch"
                                        " · 5 already stored · 2 refused · 1.0/s · ETA 2 min")


def test_without_an_announced_total_the_pending_list_pages_are_what_is_left_to_read():
    c = SiteCounters("s", list_read=3, list_requested=4, listed=30, queued=35, answered=25)
    assert c.documents_left() == (35 - 25) + 1 * 10
    # Nothing pending and nothing announced: the walk is over, only the listed ones are left.
    assert SiteCounters("s", list_read=4, list_requested=4, listed=40, queued=40,
                        answered=40).documents_left() == 0


def test_a_resumed_backfill_does_not_count_the_pages_an_earlier_run_read_as_left():
    # 40 pages announced, 30 read before the kill, 5 of the last 10 read since.
    c = SiteCounters("s", list_before=30, list_read=5, list_requested=6, list_total=40, listed=100,
                     queued=100, answered=100, new=100)
    assert c.documents_left() == 5 * 20
    assert site_line(c, elapsed=100).startswith("s: list pages 35/40 · 100 documents (100 new), 100 to fetch")


def test_before_any_list_page_is_read_the_eta_is_unknown_not_zero():
    c = SiteCounters("s", list_requested=1)
    assert c.documents_left() is None
    assert site_line(c, elapsed=3).endswith("· 0.0/s · ETA ?")
    assert "to fetch" not in site_line(c, elapsed=3)


def test_a_finished_site_says_what_it_stored_and_how_long_it_took():
    c = SiteCounters("s", list_read=6, list_requested=6, listed=120, queued=120, answered=120,
                     new=1200, revised=34, done=True)
    assert c.documents_left() == 0
    assert site_line(c, elapsed=3700) == ("s done: list pages 6 · 1,234 documents (1,200 new) · "
                                          "0 already stored · 0 refused · 0.0/s · in 1 h 01 min")


def test_the_round_line_adds_the_sites_up():
    done = [SiteState(f"d{i}", documents=100, answered=200, left=0.0, done=True) for i in range(12)]
    idle = [SiteState(f"i{i}", documents=1, answered=0, left=0.0, done=False) for i in range(27)]
    busy = [SiteState("busy", documents=7, answered=800, left=768.0, done=False)]
    assert round_line(done + idle + busy, 40, elapsed=1000) == \
        "12/40 sites done · 1,234 documents · 3.2/s · ETA 4 min"


def test_the_round_counts_sites_not_started_as_many_documents_as_the_started_ones():
    first = SiteState("a", documents=10, answered=10, left=0.0, done=True)
    assert round_line([first], 2, elapsed=10) == "1/2 sites done · 10 documents · 1.0/s · ETA 10 s"
    unknown = SiteState("b", documents=0, answered=0, left=None, done=False)
    assert round_line([first, unknown], 2, elapsed=10).endswith("· ETA ?")
    assert round_line([first], 1, elapsed=10) == "1/1 sites done · 10 documents · 1.0/s · in 10 s"


def test_durations_and_etas_read_as_a_person_waits():
    assert [format_duration(s) for s in (0, 44.6, 60, 239, 3590, 3600, 3661 + 4 * 60)] == \
        ["0 s", "45 s", "1 min", "4 min", "1 h 00 min", "1 h 00 min", "1 h 05 min"]
    assert eta(0.5, done=100, elapsed=1) == "1 s"  # work left is never "0 s"
    assert eta(10, done=0, elapsed=5) == "?"


def test_a_round_reads_a_site_line_back_from_a_crawls_log():
    running = SiteCounters("jx_gov", list_read=4, list_requested=5, list_total=10, listed=80,
                           queued=80, answered=1500, new=1000, unchanged=234)
    logged = f"2026-12-03 10:29:45,705 INFO crawlers.engine.progress: {PREFIX}{site_line(running, 100)}"
    assert parse_site_line(logged, elapsed=100) == \
        SiteState("jx_gov", documents=1234, answered=1500, left=120.0, done=False)
    finished = SiteCounters("jx_gov", list_read=10, listed=10, queued=10, answered=10, new=10, done=True)
    assert parse_site_line(site_line(finished, 5), elapsed=5) == \
        SiteState("jx_gov", documents=10, answered=10, left=0.0, done=True)
    assert parse_site_line(site_line(SiteCounters("s", list_requested=1), 1), 1).left is None
    assert parse_site_line("1/2 sites done · 10 documents · 1.0/s · ETA 10 s", 1) is None
    assert parse_site_line("storing into corpus.db (run 3)", 1) is None


# --- the process's board ---------------------------------------------------------------------
class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_on_a_terminal_the_board_redraws_one_line_and_keeps_each_sites_last():
    out, clock = io.StringIO(), Clock()
    board = ProgressBoard(tty=True, interval=0.5, stream=out, clock=clock, tick=False)
    board.expected = 2
    a = SiteCounters("a", list_read=1, list_requested=1, listed=10, queued=10, answered=5, new=5)
    board.add("a", lambda: a)
    board.add("b", lambda: SiteCounters("b"))
    clock.now = 5.0
    board.show()
    assert out.getvalue() == "\r\033[K0/2 sites done · 5 documents · 1.0/s · ETA 5 s"
    a = SiteCounters("a", list_read=1, list_requested=1, listed=10, queued=10, answered=10, new=10)
    board.finish("a")
    assert out.getvalue().endswith("\r\033[Ka done: list pages 1 · 10 documents (10 new) · "
                                   "0 already stored · 0 refused · 2.0/s · in 5 s\n")
    board.finish("b")
    assert out.getvalue().endswith("\n\r\033[K2/2 sites done · 10 documents · 2.0/s · in 5 s\n")
    assert board.all_done()


def test_in_a_log_the_board_says_one_line_for_one_site(caplog):
    caplog.set_level(logging.INFO, logger="crawlers.engine.progress")
    board = ProgressBoard(tty=False, interval=30, clock=Clock(), tick=False)
    board.add("s", lambda: SiteCounters("s", list_requested=1))
    board.show()
    board.finish("s")
    assert [r.levelno for r in caplog.records] == [logging.INFO, logging.INFO]
    assert [r.getMessage() for r in caplog.records] == [
        PREFIX + "s: list pages 0 · 0 documents (0 new) · 0 already stored · 0 refused · 0.0/s · ETA ?",
        PREFIX + "s done: list pages 0 · 0 documents (0 new) · 0 already stored · 0 refused · 0.0/s · in 0 s",
    ]


# --- a real backfill ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def portal():
    the_portal = ReplayPortal()
    bigportal.build(the_portal, list(range(1, N + 1)))
    # One slow document: the crawl lasts seconds longer than the progress interval, whatever
    # the machine's speed, so periodic lines must appear before the last one.
    the_portal.put(bigportal.doc_url(N // 2), bigportal.detail_page(N // 2), delay=3)
    with the_portal.serve() as base:
        yield base


def backfill(tmp_path: Path, base: str) -> tuple[list[str], Path]:
    config = tmp_path / "policywatch.toml"
    config.write_text("[scrapy]\nPOLICYWATCH_PROGRESS_INTERVAL = 0.2\n", encoding="utf-8")
    db = tmp_path / "corpus.db"
    return [sys.executable, "-m", "scheduler", "-v", "backfill", "replay_generic", "--config",
            str(config), "--db", str(db), "--replay", base], db


def stored_documents(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("select count(*) from documents").fetchone()[0]


@pytest.mark.e2e
def test_a_backfill_logs_its_progress_and_its_last_line_counts_what_was_stored(portal, tmp_path):
    cmd, db = backfill(tmp_path, portal)
    log = tmp_path / "backfill.log"
    with log.open("w", encoding="utf-8") as stderr:
        done = subprocess.run(cmd, check=False, cwd=REPO, stdout=subprocess.PIPE, stderr=stderr, text=True,
                              timeout=300)
    text = log.read_text(encoding="utf-8")
    assert done.returncode == 0, text[-3000:]
    lines = [line.rsplit(PREFIX, 1)[1] for line in text.splitlines()
             if " INFO crawlers.engine.progress: " + PREFIX in line]
    periodic = [line for line in lines if line.startswith("replay_generic: ")]
    final = [line for line in lines if line.startswith("replay_generic done: ")]
    assert len(periodic) >= 2, text[-3000:]
    assert all(re.search(r" · [\d.]+/s · ETA (\?|.*\d (s|min))$", line) for line in periodic), periodic
    assert len(final) == 1 and final[0] == lines[-1]
    state = parse_site_line(final[0], elapsed=1)
    assert state is not None and state.done
    assert state.documents == stored_documents(db) == N
    assert f"{N} documents ({N} new)" in final[0] and "list pages 3 ·" in final[0]
    assert "\r" not in text  # not a terminal: plain lines only


@pytest.mark.e2e
def on_a_terminal(cmd: list[str], **kwargs) -> tuple[int, str]:
    """Run ``cmd`` with its stderr on a pseudo-terminal: its exit status and what it drew."""
    primary, secondary = pty.openpty()
    chunks: list[bytes] = []

    def read() -> None:
        while True:
            try:
                data = os.read(primary, 65536)
            except OSError:  # the terminal closed with the process
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        done = subprocess.run(cmd, check=False, cwd=REPO, stdout=subprocess.PIPE, stderr=secondary,
                              timeout=600, **kwargs)
    finally:
        os.close(secondary)
    reader.join(timeout=30)
    os.close(primary)
    return done.returncode, b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.e2e
def test_on_a_terminal_a_backfill_redraws_its_line_in_place(portal, tmp_path):
    cmd, db = backfill(tmp_path, portal)
    code, screen = on_a_terminal(cmd)
    assert code == 0, screen[-3000:]
    redraws = screen.count("\r\033[Kreplay_generic: ")
    assert redraws >= 2, screen[-3000:]
    assert f"\r\033[Kreplay_generic done: list pages 3 · {N} documents ({N} new)" in screen
    assert stored_documents(db) == N


@pytest.mark.e2e
def test_on_a_terminal_a_round_redraws_its_own_line_in_place(portal, tmp_path):
    db = tmp_path / "corpus.db"
    config = tmp_path / "policywatch.toml"
    config.write_text(f'[paths]\ndb = "{db}"\n[schedule]\nstagger_seconds = 0\n'
                      '[sites]\nenabled = ["replay_generic"]\n', encoding="utf-8")
    code, screen = on_a_terminal([sys.executable, "-m", "scheduler", "run", "--config", str(config),
                                  "--replay", portal, "--no-digest"],
                                 env={**os.environ, "POLICYWATCH_HOME": str(tmp_path)})
    assert code == 0, screen[-3000:]
    assert screen.count("\r\033[K0/1 sites done · ") >= 2, screen[-3000:]
    assert re.search(r"\r\033\[K1/1 sites done · [\d,]+ documents · [\d.]+/s · in \d+ (s|min)\r?\n", screen)
    assert stored_documents(db) == N


# --- a round -------------------------------------------------------------------------------------
def test_a_round_passes_its_crawls_lines_on_and_says_itself_in_one_line(caplog):
    caplog.set_level(logging.INFO, logger="crawlers.engine.roundprogress")
    clock = Clock()
    progress = RoundProgress(["a", "b"], tty=False, interval=30, clock=clock)
    progress.site_started("a")
    progress.site_started("b")
    clock.now = 10.0
    a = SiteCounters("a", list_read=1, list_requested=1, listed=20, queued=20, answered=10, new=10)
    progress.heard("a", f"2026-12-03 10:00:00,000 INFO crawlers.engine.progress: {PREFIX}{site_line(a, 10)}\n")
    progress.heard("a", "2026-12-03 10:00:00,000 INFO pipelines.store: storing into corpus.db (run 3)\n")
    progress.heard("a", f"... {PREFIX}{site_line(SiteCounters('x', new=99), 10)}")  # not the round's
    assert progress.line() == "0/2 sites done · 10 documents · 1.0/s · ETA ?"  # b has said nothing yet
    done = SiteCounters("a", list_read=1, list_requested=1, listed=20, queued=20, answered=20, new=20,
                        done=True)
    progress.heard("a", f"{PREFIX}{site_line(done, 10)}")
    progress.site_finished("a")
    progress.site_finished("b")  # its crawl said nothing (it failed early): done with nothing
    assert [r.getMessage() for r in caplog.records] == [
        PREFIX + site_line(a, 10),
        PREFIX + site_line(done, 10),
        PREFIX + "1/2 sites done · 20 documents · 2.0/s · ETA ?",
        PREFIX + "2/2 sites done · 20 documents · 2.0/s · in 10 s",
    ]


def test_a_rounds_line_moves_with_the_line_a_crawl_of_many_sites_says_of_them_all():
    """A crawl process of many sites says each site's line when it ends, and one line for all
    of them every interval: the round's line follows that one between the sites' ends."""
    clock = Clock()
    progress = RoundProgress(["a", "b", "c"], tty=False, interval=30, clock=clock)
    for site in ("a", "b"):
        progress.site_started(site, batch="a")
    progress.site_started("c")
    clock.now = 10.0
    assert progress.line() == "0/3 sites done · 0 documents · 0.0/s · ETA ?"
    progress.heard("a", f"2026-12-03 10:00:10,000 INFO crawlers.engine.progress: {PREFIX}"
                        "0/2 sites done · 40 documents · 4.0/s · ETA 10 s\n")
    assert progress.line() == "0/3 sites done · 40 documents · 4.0/s · ETA ?"
    progress.heard("c", PREFIX + site_line(SiteCounters("c", listed=10, queued=10, answered=10,
                                                        new=10, done=True), 10))
    progress.heard("a", PREFIX + "1/2 sites done · 60 documents · 6.0/s · ETA 10 s")
    assert progress.line() == "2/3 sites done · 70 documents · 7.0/s · ETA 5 s"
    progress.heard("a", PREFIX + "1/2 sites done · 60 documents · 6.0/s · ETA 10 s · not a number: 1/x")
    progress.heard("a", PREFIX + "x/2 sites done · 9,999 documents · 6.0/s · ETA 10 s")  # not a line
    assert progress.line() == "2/3 sites done · 70 documents · 7.0/s · ETA 5 s"


def test_on_a_terminal_a_round_redraws_its_line_and_keeps_each_sites_last(tmp_path):
    out, clock = io.StringIO(), Clock()
    with RoundProgress(["a"], tty=True, stream=out, clock=clock) as progress:
        progress.site_started("a")
        clock.now = 4.0
        running = SiteCounters("a", list_read=1, list_requested=1, listed=8, queued=8, answered=4, new=4)
        progress.heard("a", PREFIX + site_line(running, 4))
        assert out.getvalue() == ""  # the site's own periodic line only updates the round's
        progress.heard("a", PREFIX + site_line(replace(running, answered=8, new=8, done=True), 4))
        progress.site_finished("a")
    assert out.getvalue().endswith("\r\033[Ka done: list pages 1 · 8 documents (8 new) · 0 already stored"
                                   " · 0 refused · 2.0/s · in 4 s\n\r\033[K1/1 sites done · 8 documents"
                                   " · 2.0/s · in 4 s\n")


@pytest.mark.faults
def test_a_round_ignores_what_is_not_a_progress_line_in_a_crawls_output():
    progress = RoundProgress(["a"], tty=False)
    progress.site_started("a")
    for hostile in (PREFIX + "a: list pages " + "9" * 1_000_000,  # one huge line
                    PREFIX * 10_000 + "a: " + "·" * 100_000,
                    PREFIX + "a done: list pages 1 · x documents (1 new) · 0 already stored",
                    "\x00\xff" + PREFIX):
        progress.heard("a", hostile)
    assert progress.states["a"] == SiteState("a", 0, 0, None, False)


@pytest.mark.faults
def test_a_crawl_followed_line_by_line_gives_its_exit_status_and_output_tail(tmp_path):
    heard: list[str] = []
    script = "import sys\nfor i in range(500): print('line', i, flush=True)\nsys.exit(3)"
    code, tail = follow([sys.executable, "-c", script], tmp_path, 60, heard.append)
    assert code == 3 and len(heard) == 500 and heard[-1] == "line 499\n"
    assert tail.endswith("line 499\n") and len(tail) <= 2000
    with pytest.raises(subprocess.TimeoutExpired) as timed_out:
        follow([sys.executable, "-c", "import time; print('started', flush=True); time.sleep(60)"],
               tmp_path, 1, heard.append)
    assert timed_out.value.output == "started\n"


@pytest.mark.e2e
def test_a_round_logs_each_sites_progress_and_a_last_line_that_counts_what_was_stored(tmp_path):
    config = tmp_path / "policywatch.toml"
    db = tmp_path / "corpus.db"
    config.write_text(f'[paths]\ndb = "{db}"\n[schedule]\nstagger_seconds = 0\nmax_parallel = 2\n'
                      '[sites]\nenabled = ["jx_gov", "replay_generic"]\n'
                      '[scrapy]\nPOLICYWATCH_PROGRESS_INTERVAL = 0.2\n', encoding="utf-8")
    the_portal = ReplayPortal.from_fixtures(["jx_gov"])
    bigportal.build(the_portal, list(range(1, N + 1)))
    the_portal.put(bigportal.doc_url(N // 2), bigportal.detail_page(N // 2), delay=3)
    log = tmp_path / "run.log"
    with the_portal.serve() as base, log.open("w", encoding="utf-8") as stderr:
        done = subprocess.run([sys.executable, "-m", "scheduler", "-v", "run", "--config", str(config),
                               "--replay", base, "--no-digest"], check=False, cwd=REPO, stdout=subprocess.PIPE,
                              stderr=stderr, text=True, timeout=600,
                              env={**os.environ, "POLICYWATCH_HOME": str(tmp_path)})
    text = log.read_text(encoding="utf-8")
    assert done.returncode == 0, text[-3000:]
    said = [line.rsplit(PREFIX, 1)[1] for line in text.splitlines()
            if " INFO crawlers.engine.roundprogress: " + PREFIX in line]
    # The round's own line every interval ([scrapy] POLICYWATCH_PROGRESS_INTERVAL), and each
    # site's last line, passed on from the crawl process that crawled it.
    assert len([line for line in said if " sites done · " in line and " ETA " in line]) >= 2, text[-3000:]
    finals = {line.split(" done: ")[0]: parse_site_line(line, 1) for line in said if " done: " in line}
    assert set(finals) == {"jx_gov", "replay_generic"}
    assert finals["replay_generic"].documents == N
    # The round's own line each time a site is done (and every 30 s); the last counts every
    # stored document.
    rounds = [line for line in said if " sites done · " in line]
    counted = [line.split(" · ")[0] for line in rounds]
    assert counted == sorted(counted) and {"1/2 sites done", "2/2 sites done"} <= set(counted)
    assert counted[-1] == "2/2 sites done" and rounds[-1] == said[-1]
    assert rounds[-1].startswith(f"2/2 sites done · {stored_documents(db):,} documents · ")
    assert stored_documents(db) == N + finals["jx_gov"].documents


def test_a_log_line_on_the_terminal_clears_the_live_line_first():
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    logging.getLogger().addHandler(handler)
    live = LiveLine(out)
    try:
        live.attach()
        live.draw("3/40 sites done")
        logging.getLogger("crawlers.test").warning("list page refused (http_503)")
        live.draw("4/40 sites done")
        live.detach()
        logging.getLogger("crawlers.test").warning("after the round")
    finally:
        logging.getLogger().removeHandler(handler)
    assert out.getvalue() == ("\r\033[K3/40 sites done\r\033[Klist page refused (http_503)\n"
                              "\r\033[K4/40 sites done" "after the round\n")


@pytest.mark.e2e
def test_a_crawl_of_two_sites_says_each_site_and_one_line_for_both(tmp_path):
    config = tmp_path / "policywatch.toml"
    config.write_text("[scrapy]\nPOLICYWATCH_PROGRESS_INTERVAL = 0.2\n", encoding="utf-8")
    db = tmp_path / "corpus.db"
    the_portal = ReplayPortal.from_fixtures(["jx_gov"])
    bigportal.build(the_portal, list(range(1, N + 1)))
    the_portal.put(bigportal.doc_url(N // 2), bigportal.detail_page(N // 2), delay=3)
    log = tmp_path / "crawl.log"
    with the_portal.serve() as base, log.open("w", encoding="utf-8") as stderr:
        done = subprocess.run([sys.executable, "-m", "scheduler", "-v", "crawl", "jx_gov", "replay_generic",
                               "--config", str(config), "--db", str(db), "--replay", base],
                              check=False, cwd=REPO, stdout=subprocess.PIPE, stderr=stderr, text=True,
                              timeout=600)
    text = log.read_text(encoding="utf-8")
    assert done.returncode == 0, text[-3000:]
    said = [line.rsplit(PREFIX, 1)[1] for line in text.splitlines()
            if " INFO crawlers.engine.progress: " + PREFIX in line]
    # One line for the process while it crawls, each site's last line, then the process's.
    periodic = [line for line in said if re.match(r"[01]/2 sites done · .* · ETA (\?|.*\d (s|min))$", line)]
    assert len(periodic) >= 2, text[-3000:]
    finals = {line.split(" done: ")[0]: parse_site_line(line, 1) for line in said if " done: " in line}
    assert set(finals) == {"jx_gov", "replay_generic"} and finals["replay_generic"].documents == N
    assert said[-1].startswith(f"2/2 sites done · {stored_documents(db):,} documents · ")
    assert stored_documents(db) == N + finals["jx_gov"].documents
