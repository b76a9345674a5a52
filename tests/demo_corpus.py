"""The demo's week as a corpus for the demo-day, browser and layout tests: `policywatch demo`
replays the fixture portal's days (a backfill, a new policy, a revision, day 3 crawled twice, a
withdrawal, a draft finalised, a repeal) through real crawls on 127.0.0.1 into a real SQLite
file, once per test run, shared by every module that reads it (none may change it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

from tests.shared_build import built_once

REPO = Path(__file__).resolve().parents[1]

# Documents of the demo's days (tests/test_demo_days.py tells which day does what).
SX = "https://www.shanxi.gov.cn/zfxxgk/zfxxgkzl/fdzdgknr/lzyj/szfwj/"
JS_DRAFT = "https://gxt.jiangsu.gov.cn/art/2026/9/20/art_80179_11887001.html"
JS_FINAL = "https://gxt.jiangsu.gov.cn/art/2026/11/18/art_80179_11930017.html"
SX_REVISED = SX + "202404/t20240412_9540213.shtml"
SX_WITHDRAWN = SX + "202403/t20240314_9431158.shtml"
SX_REPEALED = SX + "202402/t20240223_9350842.shtml"
SX_DECISION = SX + "202611/t20261119_9980101.shtml"

# Day 3 is crawled twice: tests/test_demo_days.py checks that the repeat changes and sends
# nothing, so the browser tests read the documents, versions and changes of the plain week.
REPEAT_DAY = 3


class DemoWeek(NamedTuple):
    db: Path  # the corpus
    out: Path  # the folder of each day's digests (and summary.json)
    output: str  # what `policywatch demo` said (stdout, then stderr)


def demo_week(tmp_path_factory) -> DemoWeek:
    """The demo's week, run once per test run by a real `policywatch demo` process; do not
    change what it wrote."""
    def build(folder: Path) -> None:
        result = subprocess.run(
            [sys.executable, "-m", "scheduler", "demo", "--no-browser", "--repeat-day",
             str(REPEAT_DAY), "--db", str(folder / "demo.db"), "--out", str(folder / "digests")],
            cwd=REPO, capture_output=True, text=True, timeout=900)
        assert result.returncode == 0, result.stdout + result.stderr
        (folder / "output.txt").write_text(result.stdout + result.stderr, encoding="utf-8")

    folder = built_once(tmp_path_factory, "demo-week", build)
    return DemoWeek(folder / "demo.db", folder / "digests",
                    (folder / "output.txt").read_text(encoding="utf-8"))


def demo_corpus(tmp_path_factory) -> tuple[Path, Path]:
    """(the corpus, the folder of each day's digests) after the demo's week; do not change
    them."""
    week = demo_week(tmp_path_factory)
    return week.db, week.out
