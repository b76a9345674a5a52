"""The demo's week as a corpus for the browser and layout tests: `policywatch demo` replays the
fixture portal's days (a backfill, a new policy, a revision, a withdrawal, a draft finalised, a
repeal) through real crawls on 127.0.0.1 into a real SQLite file, once per test session."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
_CACHE: dict[str, tuple[Path, Path]] = {}

# Documents of the demo's days (tests/test_demo_days.py tells which day does what).
SX = "https://www.shanxi.gov.cn/zfxxgk/zfxxgkzl/fdzdgknr/lzyj/szfwj/"
JS_DRAFT = "https://gxt.jiangsu.gov.cn/art/2026/9/20/art_80179_11887001.html"
JS_FINAL = "https://gxt.jiangsu.gov.cn/art/2026/11/18/art_80179_11930017.html"
SX_REVISED = SX + "202404/t20240412_9540213.shtml"
SX_WITHDRAWN = SX + "202403/t20240314_9431158.shtml"
SX_REPEALED = SX + "202402/t20240223_9350842.shtml"
SX_DECISION = SX + "202611/t20261119_9980101.shtml"


def demo_corpus(tmp_path_factory) -> tuple[Path, Path]:
    """(the corpus, the folder of each day's digests) after the demo's week; do not change
    them."""
    if "demo" not in _CACHE:
        folder = tmp_path_factory.mktemp("demo-week")
        db, out = folder / "demo.db", folder / "digests"
        result = subprocess.run(
            [sys.executable, "-m", "scheduler", "demo", "--no-browser", "--db", str(db),
             "--out", str(out)], cwd=REPO, capture_output=True, text=True, timeout=900)
        assert result.returncode == 0, result.stdout + result.stderr
        _CACHE["demo"] = (db, out)
    return _CACHE["demo"]
