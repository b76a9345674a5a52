"""The daily round's faults (issue #16): many portals crawled by one process, one of them broken.

Each case serves a few small portals on their own loopback addresses (``benchmarks.roundportals``),
declares them as config sites and crawls them all with one real ``policywatch crawl SITE...``
process: an unreachable portal, one whose parser raises, one that never answers, one behind a
WAF — none may stop the others or change what they store; a killed multi-site crawl, run again,
stores every document once. The builders here are the tests' too (tests/test_round.py).
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.faultcases import FaultCase  # noqa: E402
from benchmarks.roundportals import FIRST_DAY, Farm, config_toml, site_key  # noqa: E402

DELAY = 0.5  # each portal's politeness delay in these cases: the least a site may declare
DOCS = 3


def write_config(scratch: Path, farm: Farm, *, delay: float = DELAY, scrapy: dict | None = None) -> Path:
    """A config declaring every portal of ``farm`` ([[watch]]), with a [scrapy] table."""
    scrapy_table = "".join(f"{k} = {json.dumps(v)}\n" for k, v in (scrapy or {}).items())
    path = scratch / "policywatch.toml"
    path.write_text((f"[scrapy]\n{scrapy_table}\n" if scrapy_table else "") + config_toml(farm, delay=delay),
                    encoding="utf-8")
    return path


def crawl(scratch: Path, config: Path, keys: list[str], *, day: int = 0, timeout: float = 300,
          popen: bool = False):
    """``policywatch crawl KEYS... --incremental`` on day ``day`` (POLICYWATCH_NOW is
    ``FIRST_DAY`` + ``day``), writing per-site outcomes to scratch/outcomes.jsonl."""
    from datetime import timedelta

    now = (FIRST_DAY + timedelta(days=day)).isoformat() + "T08:00:00+08:00"
    cmd = [sys.executable, "-m", "scheduler", "crawl", *keys, "--config", str(config),
           "--db", str(scratch / "corpus.db"), "--incremental",
           "--outcomes", str(scratch / "outcomes.jsonl")]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "POLICYWATCH_NOW": now}
    if popen:
        return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=env)


def outcomes(scratch: Path) -> dict[str, dict]:
    from crawlers.engine.rounds import read_outcomes

    return read_outcomes(scratch / "outcomes.jsonl")


def last_runs(db: Path) -> dict[str, tuple[str, dict, list]]:
    """Each site's last run: (status, counts, errors)."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT site, status, counts, errors FROM runs ORDER BY id").fetchall()
    return {site: (status, json.loads(counts or "{}"), json.loads(errors or "[]"))
            for site, status, counts, errors in rows}


def documents(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        return dict(conn.execute("SELECT site, count(*) FROM documents GROUP BY site").fetchall())


def check_others(db: Path, keys: list[str], broken: str, done: subprocess.CompletedProcess) -> None:
    """Every site but ``broken`` stored all its documents and ran ok; no traceback."""
    if "Traceback" in done.stderr:
        raise AssertionError(f"a traceback: {done.stderr[-1500:]}")
    runs, stored = last_runs(db), documents(db)
    for key in keys:
        if key == broken:
            continue
        if runs.get(key, ("missing",))[0] != "ok" or stored.get(key) != DOCS:
            raise AssertionError(f"{key}: run {runs.get(key, ('missing',))[0]}, "
                                 f"{stored.get(key, 0)} document(s) stored, not {DOCS}")
    if stored.get(broken):
        raise AssertionError(f"{broken}: {stored[broken]} document(s) stored from a broken portal")


def one_broken(scratch: Path, kind: str, *, count: int = 6, scrapy: dict | None = None) -> tuple[str, dict, dict]:
    """``count`` portals, the second of kind ``kind``, crawled by one process: the broken
    site's last run and outcome, and the slowest good site's seconds."""
    farm = Farm(count, DOCS, {1: kind})
    keys = [site_key(i) for i in range(count)]
    with farm.serving():
        config = write_config(scratch, farm, scrapy=scrapy)
        done = crawl(scratch, config, keys)
    db = scratch / "corpus.db"
    check_others(db, keys, keys[1], done)
    found = outcomes(scratch)
    slowest = max(found[k]["seconds"] for k in keys if k != keys[1])
    status, counts, errors = last_runs(db)[keys[1]]
    return keys[1], {"status": status, "counts": counts, "errors": errors, "exit": done.returncode,
                     "outcome": found[keys[1]]}, {"slowest_good": slowest}


def _unreachable(scratch: Path) -> str:
    key, broken, good = one_broken(scratch, "down")
    if broken["status"] != "failed" or "unreachable" not in broken["counts"].get("failed", {}):
        raise AssertionError(f"{key}: {broken}")
    return (f"exit {broken['exit']}; {key} failed unreachable in {broken['outcome']['seconds']:.1f} s, "
            f"5 others ok (slowest {good['slowest_good']:.1f} s)")


def _waf(scratch: Path) -> str:
    key, broken, good = one_broken(scratch, "waf")
    if broken["status"] != "blocked":
        raise AssertionError(f"{key}: {broken}")
    return f"exit {broken['exit']}; {key} blocked, 5 others ok (slowest {good['slowest_good']:.1f} s)"


def _timeout(scratch: Path) -> str:
    key, broken, good = one_broken(scratch, "hang", scrapy={"DOWNLOAD_TIMEOUT": 3, "RETRY_TIMES": 1})
    if broken["status"] != "failed":
        raise AssertionError(f"{key}: {broken}")
    return (f"exit {broken['exit']}; {key} failed ({', '.join(broken['counts'].get('failed', {}))}) "
            f"after {broken['outcome']['seconds']:.1f} s, 5 others ok (slowest {good['slowest_good']:.1f} s)")


def crawl_with_raising_parser(scratch: Path, config: Path, keys: list[str], broken: str) -> subprocess.CompletedProcess:
    """The crawl of ``keys`` in one process whose generic parser raises on ``broken``'s list page
    (a parser bug, injected: ``python -m benchmarks.faultcases.round``); parsing in-process."""
    return subprocess.run([sys.executable, "-m", "benchmarks.faultcases.round", str(config),
                           str(scratch / "corpus.db"), broken, *keys],
                          cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def _parser_raises(scratch: Path) -> str:
    farm = Farm(6, DOCS)
    keys = [site_key(i) for i in range(6)]
    with farm.serving():
        done = crawl_with_raising_parser(scratch, write_config(scratch, farm), keys, keys[1])
    if done.returncode != 0:
        raise AssertionError(f"exit {done.returncode}: {done.stderr[-1500:]}")
    db = scratch / "corpus.db"
    check_others(db, keys, keys[1], done)
    status, counts, _ = last_runs(db)[keys[1]]
    if status != "failed" or "parser_error" not in counts.get("failed", {}):
        raise AssertionError(f"{keys[1]}: {status} {counts}")
    return f"{keys[1]} failed parser_error; 5 others ok"


def _killed_and_resumed(scratch: Path) -> str:
    """Twelve portals (delay 1 s) crawled by one process killed with SIGKILL once some
    documents are stored; the same crawl again stores the rest, every document once."""
    count = 12
    farm = Farm(count, DOCS)
    keys = [site_key(i) for i in range(count)]
    db = scratch / "corpus.db"
    with farm.serving():
        config = write_config(scratch, farm, delay=1.0)
        process = crawl(scratch, config, keys, popen=True)
        deadline = time.monotonic() + 120
        stored = 0
        while time.monotonic() < deadline and process.poll() is None:
            try:
                stored = sum(documents(db).values())
            except sqlite3.Error:
                stored = 0
            if stored >= 4:
                break
            time.sleep(0.05)
        if process.poll() is not None:
            raise AssertionError(f"the crawl ended before it was killed: {process.communicate()[1][-800:]}")
        process.send_signal(signal.SIGKILL)
        process.communicate()
        at_kill = sum(documents(db).values())
        done = crawl(scratch, config, keys)
    if done.returncode != 0 or "Traceback" in done.stderr:
        raise AssertionError(f"exit {done.returncode}: {done.stderr[-1500:]}")
    with sqlite3.connect(db) as conn:
        total, distinct = conn.execute("SELECT count(*), count(DISTINCT url) FROM documents").fetchone()
        killed = conn.execute("SELECT count(*) FROM runs WHERE status = 'killed'").fetchone()[0]
    lost = count * DOCS - distinct
    if lost or total != distinct or not killed:
        raise AssertionError(f"{distinct} of {count * DOCS} documents, {total - distinct} duplicated, "
                             f"{killed} run(s) recorded killed")
    return (f"1 kills survived (at {at_kill} of {count * DOCS} documents stored): 0 lost, 0 duplicated; "
            f"{killed} run(s) recorded killed")


CASES = [
    FaultCase("round-unreachable", "one portal of six unreachable (connection refused), one process", _unreachable),
    FaultCase("round-parser-raises", "the parser raises on one portal's list page of six", _parser_raises),
    FaultCase("round-timeout", "one portal of six never answers (DOWNLOAD_TIMEOUT 3 s)", _timeout),
    FaultCase("round-waf", "one portal of six answers a WAF block page", _waf),
    FaultCase("round-killed", "a crawl of twelve portals killed (SIGKILL) mid-way, then run again",
              _killed_and_resumed),
]


def _main(config: str, db: str, broken: str, keys: list[str]) -> int:
    """Crawl ``keys`` with the generic family's list parser raising on ``broken``'s pages."""
    from crawlers.config import load_config
    from crawlers.engine.runner import run_crawl
    from crawlers.engine.summary import crawl_outcome
    from crawlers.families import get_family
    from crawlers.sites.declared import find_sites
    from pipelines.schema import open_corpus

    family = get_family("generic")
    parse_list = family.parse_list

    def raising(site, column, page, body, headers):
        if site.key == broken:
            raise IndexError("list index out of range")  # as a parser's bug would
        return parse_list(site, column, page, body, headers)

    family.parse_list = raising
    open_corpus(Path(db)).close()
    sites = find_sites(keys, load_config(config))
    reports = run_crawl(sites, Path(db), mode="incremental", overrides={"POLICYWATCH_PARSE_WORKERS": 0})
    code, line = crawl_outcome(reports, "crawl")
    if line:
        print(line, file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]))
