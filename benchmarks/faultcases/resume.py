"""Resume and run status under faults: a backfill SIGKILLed at seeded moments then resumed, a
disk that fills up then has space again, a Ctrl-C, a killed run seen by ``status``.

Each case runs the real ``policywatch backfill`` (``python -m scheduler``) against the synthetic
portal (``benchmarks/synthportal.py``) served on 127.0.0.1, and compares the corpus with an
uninterrupted backfill by (URL, text hash): a document lost or stored twice is a failure. The
builders here are shared with ``tests/test_resume.py``.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import resource
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.faultcases import FaultCase  # noqa: E402
from benchmarks.synthportal import (  # noqa: E402
    PER_PAGE,
    SITE_KEY,
    SyntheticPortal,
    doc_url,
    list_url,
    page_count,
)

SEED = 13
RUN_TIMEOUT = 600  # seconds: a backfill still running after this is a hang


@contextlib.contextmanager
def synthetic_portal(n_docs: int):
    """The synthetic portal of ``n_docs`` documents on 127.0.0.1; yields its replay URL."""
    with SyntheticPortal(n_docs).serve() as base:
        yield base


def backfill_command(db: Path, base: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "scheduler", *extra, "backfill", SITE_KEY, "--db", str(db),
            "--replay", base]


def run_backfill(db: Path, base: str, *, file_limit: int | None = None) -> subprocess.CompletedProcess:
    """One backfill to its end; ``file_limit`` (bytes) makes every file it writes unable to grow
    past that size, as a full disk does (SQLite reports SQLITE_FULL)."""
    return subprocess.run(backfill_command(db, base), cwd=REPO, capture_output=True, text=True,
                          timeout=RUN_TIMEOUT,
                          preexec_fn=(lambda: _limit_files(file_limit)) if file_limit else None)


def _limit_files(limit: int) -> None:
    # Past the limit a write fails with EFBIG instead of killing the process with SIGXFSZ.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def stored_count(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with contextlib.closing(sqlite3.connect(db, timeout=10)) as conn:
            return conn.execute("select count(*) from documents").fetchone()[0]
    except sqlite3.OperationalError:  # not created yet
        return 0


def fingerprint(db: Path) -> Counter:
    """Every stored version as (URL, text hash), counted: a count above 1 is a duplicate."""
    with contextlib.closing(sqlite3.connect(db, timeout=10)) as conn:
        return Counter(conn.execute(
            "select d.url, v.text_hash from versions v join documents d on d.id = v.document_id"))


def compare(expected: Counter, got: Counter) -> tuple[int, int]:
    """(documents lost, documents duplicated) of ``got`` against an uninterrupted run."""
    lost = len(set(expected) - set(got))
    duplicated = sum(n - 1 for n in got.values() if n > 1) + len(set(got) - set(expected))
    return lost, duplicated


def kill_moments(n_docs: int, kills: int, seed: int = SEED) -> list[int]:
    """When to kill, as documents stored, drawn from ``random.Random(seed)``: increasing, so
    that each kill hits a resumed backfill."""
    rng = random.Random(seed)
    return sorted(rng.sample(range(n_docs // 10, n_docs * 9 // 10), kills))


def wait_until_stored(process: subprocess.Popen, db: Path, documents: int) -> None:
    """Wait until ``documents`` are stored in ``db`` (or ``process`` ended, or it took too long)."""
    deadline = time.monotonic() + RUN_TIMEOUT
    while stored_count(db) < documents and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)


def kill_when_stored(db: Path, base: str, documents: int) -> int:
    """Start a backfill, SIGKILL it once ``documents`` are stored; returns how many were."""
    process = subprocess.Popen(backfill_command(db, base), cwd=REPO, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        wait_until_stored(process, db, documents)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
    if process.returncode != -signal.SIGKILL:
        raise AssertionError(f"the backfill ended by itself (exit {process.returncode}) before "
                             f"{documents} documents were stored")
    return stored_count(db)


def interrupt_when_stored(db: Path, base: str, documents: int, signum: int = signal.SIGINT,
                          times: int = 1, gap: float = 0.3) -> subprocess.CompletedProcess:
    """Start a backfill and send it ``signum`` once ``documents`` are stored (as Ctrl-C does),
    ``times`` times, ``gap`` seconds apart (a second Ctrl-C forces the stop)."""
    process = subprocess.Popen(backfill_command(db, base), cwd=REPO, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    wait_until_stored(process, db, documents)
    for n in range(times):
        if n:
            time.sleep(gap)
        if process.poll() is None:
            process.send_signal(signum)
    out, err = process.communicate(timeout=RUN_TIMEOUT)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def done_but_not_stored(db: Path, n_docs: int) -> int:
    """Documents of list pages the checkpoint marks done that the corpus does not hold: the
    loss a resume would never repair (a done page is not read again)."""
    with contextlib.closing(sqlite3.connect(db, timeout=10)) as conn:
        done = {url for (url,) in conn.execute("select url from backfill_pages where state = 'done'")}
        stored = {url for (url,) in conn.execute("select url from documents")}
    missing = 0
    for page in range(1, page_count(n_docs) + 1):
        if list_url(page) in done:
            top = n_docs - (page - 1) * PER_PAGE
            missing += sum(doc_url(n) not in stored for n in range(top, max(0, top - PER_PAGE), -1))
    return missing


def pending_pages(db: Path) -> int:
    with contextlib.closing(sqlite3.connect(db, timeout=10)) as conn:
        return conn.execute("select count(*) from backfill_pages where state = 'pending'").fetchone()[0]


def runs(db: Path) -> list[tuple[int, str, str]]:
    """Every run as (id, status, errors JSON)."""
    with contextlib.closing(sqlite3.connect(db, timeout=10)) as conn:
        return conn.execute("select id, status, coalesce(errors, '') from runs order by id").fetchall()


def _check(result: subprocess.CompletedProcess, code: int, what: str) -> None:
    if result.returncode != code:
        raise AssertionError(f"{what}: exit {result.returncode}, expected {code}: "
                             f"{(result.stdout + result.stderr)[-1500:]}")
    if "Traceback" in result.stderr:
        raise AssertionError(f"{what}: a traceback on stderr: {result.stderr[-1500:]}")


# --- the cases ----------------------------------------------------------------------------------
def kill_and_resume(scratch: Path, n_docs: int = 1200, kills: int = 3, seed: int = SEED,
                    baseline: bool = False) -> str:
    """Kill a backfill at ``kills`` seeded moments, resume it, and check every document is stored
    once: by URL against the portal, and with ``baseline`` by (URL, text hash) against an
    uninterrupted backfill too (the test does; the case skips it to stay near a minute)."""
    with synthetic_portal(n_docs) as base:
        expected = None
        if baseline:
            whole = scratch / "whole.db"
            _check(run_backfill(whole, base), 0, "the uninterrupted backfill")
            expected = fingerprint(whole)
        killed = scratch / "killed.db"
        at = []
        for moment in kill_moments(n_docs, kills, seed):
            at.append(kill_when_stored(killed, base, moment))
            unrepairable = done_but_not_stored(killed, n_docs)
            if unrepairable:
                raise AssertionError(f"killed at {at[-1]} documents: {unrepairable} documents of "
                                     "list pages marked done are not stored")
        resumed = run_backfill(killed, base)
        _check(resumed, 0, "the resumed backfill")
    got = fingerprint(killed)
    urls = Counter(url for url, _ in got)
    portal_urls = {doc_url(n) for n in range(1, n_docs + 1)}
    lost = len(portal_urls - set(urls))
    duplicated = sum(n - 1 for n in urls.values() if n > 1) + len(set(urls) - portal_urls)
    if expected is not None:
        by_hash = compare(expected, got)
        lost, duplicated = max(lost, by_hash[0]), max(duplicated, by_hash[1])
    statuses = Counter(status for _, status, _ in runs(killed))
    if lost or duplicated:
        raise AssertionError(f"after {kills} kills (at {at} documents): {lost} lost, {duplicated} duplicated")
    if statuses["running"] or statuses["killed"] != kills or pending_pages(killed):
        raise AssertionError(f"run records after the resume: {dict(statuses)}, "
                             f"{pending_pages(killed)} list pages pending")
    return (f"{kills} kills survived (at {', '.join(map(str, at))} of {n_docs} documents stored): "
            f"{lost} lost, {duplicated} duplicated; runs {dict(statuses)}")


@contextlib.contextmanager
def small_disk(where: Path, size: int):
    """A tmpfs of ``size`` bytes mounted at ``where`` (root only); yields a function that gives
    it more space, or None where it cannot be mounted."""
    where.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs",
                                            str(where)], capture_output=True).returncode != 0:
        yield None
        return
    try:
        yield lambda more: subprocess.run(["mount", "-o", f"remount,size={more}", str(where)], check=True)
    finally:
        subprocess.run(["umount", "--lazy", str(where)], capture_output=True)


def disk_full_then_space(scratch: Path, n_docs: int = 600, limit: int = 4 * 1024 * 1024) -> str:
    """A backfill on a disk with ``limit`` bytes (a small tmpfs when root may mount one, else a
    file size limit on the process), then the same command with space again."""
    with synthetic_portal(n_docs) as base, small_disk(scratch / "disk", limit) as grow:
        db = scratch / "disk" / "corpus.db"
        full = run_backfill(db, base, file_limit=None if grow else limit)
        _check(full, 1, "the backfill on a full disk")
        line = full.stderr.strip().splitlines()[-1]
        if "cannot be written" not in line or "resume" not in line:
            raise AssertionError(f"the full disk's last line does not say it: {line!r}")
        errors = sum("cannot be written" in line for line in full.stderr.splitlines())
        stored, pending = stored_count(db), pending_pages(db)
        if stored >= n_docs or not pending:
            raise AssertionError(f"the disk never filled ({stored} stored, {pending} pages pending)")
        if grow:
            grow(256 * 1024 * 1024)
        again = run_backfill(db, base)
        _check(again, 0, "the backfill with space again")
        got, left = stored_count(db), pending_pages(db)
        status = runs(db)[0][1]
    if got != n_docs or left:
        raise AssertionError(f"the resume stored {got} of {n_docs} ({left} pages pending)")
    disk = "a tmpfs" if grow else "a file size limit"
    return (f"{disk} of {limit // 1024 // 1024} MB: exit 1 after {stored} documents ({errors} lines "
            f"say it, run {status}, {pending} pages pending): {line[:100]}; then space: exit 0, "
            f"{got}/{n_docs} stored")


def ctrl_c(scratch: Path, n_docs: int = 300) -> str:
    with synthetic_portal(n_docs) as base:
        db = scratch / "corpus.db"
        stopped = interrupt_when_stored(db, base, n_docs // 4)
        _check(stopped, 130, "the interrupted backfill")
        line = stopped.stderr.strip().splitlines()[-1]
        if "run the same command to resume" not in line:
            raise AssertionError(f"no resume hint: {line!r}")
        again = run_backfill(db, base)
        _check(again, 0, "the resumed backfill")
    if stored_count(db) != n_docs:
        raise AssertionError(f"the resume stored {stored_count(db)} of {n_docs}")
    return f"exit 130: {line}; resumed: {n_docs}/{n_docs}"


def killed_run_shown(scratch: Path, n_docs: int = 300) -> str:
    with synthetic_portal(n_docs) as base:
        db = scratch / "corpus.db"
        kill_when_stored(db, base, n_docs // 4)
    status = subprocess.run([sys.executable, "-m", "scheduler", "status", "--db", str(db), "--json"],
                            cwd=REPO, capture_output=True, text=True, timeout=120)
    _check(status, 0, "status")
    shown = {h["site"]: h for h in json.loads(status.stdout)}.get("replay_generic", {})
    if shown.get("last_status") != "killed":
        raise AssertionError(f"status shows the killed run as {shown.get('last_status')!r}")
    if [s for _, s, _ in runs(db)] != ["running"]:  # status only reads
        raise AssertionError(f"status wrote the corpus: runs {runs(db)}")
    return f"status: the run shown killed ({shown.get('last_run_why', '')[:80]})"


CASES = [
    FaultCase("backfill-sigkill-resume", "backfill of 1,200 documents SIGKILLed at 3 seeded moments, "
              "then resumed: every document once, by URL (tests/test_resume.py also compares "
              "text hashes with an uninterrupted run)", kill_and_resume),
    FaultCase("backfill-disk-full", "backfill of 600 documents on a 4 MB disk (a tmpfs where root "
              "may mount one, else a file size limit), then the same command with space again",
              disk_full_then_space),
    FaultCase("backfill-ctrl-c", "SIGINT to a backfill midway, then the same command", ctrl_c),
    FaultCase("run-killed-status", "a backfill SIGKILLed, then `policywatch status`", killed_run_shown),
]
