"""The record of runs: every crawl, backfill or demo day, started, beating while it works and
finished with its counts — and the runs whose process died, found and recorded as killed."""

from __future__ import annotations

import logging
import os
import socket
from datetime import datetime, timedelta
from typing import Any, Callable, Mapping

import sqlite_utils

from pipelines.siterows import ensure_site
from pipelines.values import iso_time, to_json, utcnow

logger = logging.getLogger(__name__)

RUN_KINDS = ("crawl", "backfill", "demo")
RUN_STATUSES = ("running", "ok", "partial", "failed", "blocked", "killed")
# What a run's own process records when it ends; 'killed' is recorded for it by whoever finds
# it dead (``reap_dead_runs``).
FINISHED_STATUSES = ("ok", "partial", "failed", "blocked")
# A crawl beats every RUN_HEARTBEAT; one silent for RUN_STALE_AFTER is dead (a hung or
# vanished process, or its pid reused).
RUN_HEARTBEAT = timedelta(seconds=30)
RUN_STALE_AFTER = timedelta(minutes=15)
LEGACY_RUN_TIMEOUT = timedelta(hours=6)


def start_run(
    db: sqlite_utils.Database, site: str | None, kind: str = "crawl",
    when: datetime | None = None, *, pid: int | None = None, host: str | None = None,
) -> int:
    """Record the start of a run and return its id; ``site`` may be None for a multi-site run.
    The run belongs to process ``pid`` on ``host`` (default: this process), so that a run whose
    process died can be told from a live one (``reap_dead_runs``)."""
    if kind not in RUN_KINDS:
        raise ValueError(f"run kind {kind!r} is not one of {', '.join(RUN_KINDS)}")
    with db.atomic():
        if site:
            ensure_site(db, site)
        stamp = iso_time(when)
        # It beats as it starts: alive from its first moment (``beat_run`` keeps it so).
        cursor = db.execute(
            """INSERT INTO runs (site, kind, started_at, heartbeat_at, status, pid, host)
            VALUES (?, ?, ?, ?, 'running', ?, ?)""",
            [site, kind, stamp, stamp, pid or os.getpid(), host or socket.gethostname()],
        )
        return cursor.lastrowid


def beat_run(db: sqlite_utils.Database, run_id: int, when: datetime | None = None) -> None:
    """The run's process is alive at ``when``: a run that stops beating is dead
    (``reap_dead_runs``), wherever its process ran."""
    with db.atomic():
        db.execute("UPDATE runs SET heartbeat_at = ? WHERE id = ? AND status = 'running'",
                   [iso_time(when), run_id])


def beat_runs(db: sqlite_utils.Database, run_ids: list[int], when: datetime | None = None) -> None:
    """``beat_run`` for many runs of one process, in one transaction."""
    if not run_ids:
        return
    stamp = iso_time(when)
    with db.atomic():
        for start in range(0, len(run_ids), 500):
            chunk = run_ids[start:start + 500]
            db.execute(f"UPDATE runs SET heartbeat_at = ? WHERE status = 'running' AND id IN "
                       f"({', '.join('?' * len(chunk))})", [stamp, *chunk])


def finish_run(
    db: sqlite_utils.Database, run_id: int, counts: Mapping[str, Any],
    errors: Any = None, status: str = "ok", when: datetime | None = None,
) -> None:
    """Record the end of a run: its counts, errors and status (ok/partial/failed/blocked).

    ``blocked`` is set when the status says so or ``counts["blocked"]`` is positive.
    """
    if status not in FINISHED_STATUSES:
        raise ValueError(f"run status {status!r} is not one of {', '.join(FINISHED_STATUSES)}")
    blocked = status == "blocked" or bool(counts.get("blocked"))
    with db.atomic():
        cursor = db.execute(
            """UPDATE runs SET finished_at = ?, status = ?, counts = ?, errors = ?, blocked = ?
            WHERE id = ?""",
            [iso_time(when), status, to_json(dict(counts)),
             to_json(errors if errors is not None else []), int(blocked), run_id],
        )
        if cursor.rowcount != 1:
            raise ValueError(f"no run with id {run_id}")


def process_alive(pid: int) -> bool:
    """Is process ``pid`` on this host alive (a zombie is not)?"""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return True


def dead_runs(db: sqlite_utils.Database, now: datetime | None = None,
              alive: Callable[[int], bool] = process_alive) -> dict[int, str]:
    """The runs still ``running`` whose process is gone, with why: on this host its pid is
    dead; anywhere its heartbeat stopped ``RUN_STALE_AFTER`` ago; a run recorded before runs
    had owners (no pid) after ``LEGACY_RUN_TIMEOUT``. Reads only (``status`` shows them)."""
    now = now or utcnow()
    here, own = socket.gethostname(), os.getpid()
    killed: list[tuple[int, str]] = []
    rows = db.execute("""SELECT id, pid, host, started_at, heartbeat_at FROM runs
                         WHERE status = 'running'""").fetchall()
    for run_id, pid, host, started_at, heartbeat_at in rows:
        if pid == own and host == here:
            continue  # this process's other sites' runs (a crawl runs many): alive
        why = None
        if pid and host == here and not alive(pid):
            why = f"process {pid} on {host} is gone"
        elif heartbeat_at and now - datetime.fromisoformat(heartbeat_at) > RUN_STALE_AFTER:
            why = f"process {pid} on {host} stopped beating at {heartbeat_at}"
        elif not pid and now - datetime.fromisoformat(started_at) > LEGACY_RUN_TIMEOUT:
            why = f"still running {LEGACY_RUN_TIMEOUT} after it started, with no process recorded"
        if why:
            killed.append((run_id, why))
    return dict(killed)


def reap_dead_runs(db: sqlite_utils.Database, now: datetime | None = None,
                   alive: Callable[[int], bool] = process_alive) -> list[int]:
    """Record as ``killed`` every run ``dead_runs`` finds, each once, in one transaction;
    returns their ids. Writers do it when they start."""
    killed = list(dead_runs(db, now, alive).items())
    if not killed:
        return []
    with db.atomic():
        for run_id, why in killed:
            db.execute(
                """UPDATE runs SET status = 'killed', finished_at = coalesce(heartbeat_at, started_at),
                errors = ? WHERE id = ? AND status = 'running'""",
                [to_json([{"reason": "killed", "message": why}]), run_id])
    for run_id, why in killed:
        logger.warning("run %d was killed: %s", run_id, why)
    return [run_id for run_id, _ in killed]

