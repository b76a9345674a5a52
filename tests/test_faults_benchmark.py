"""benchmarks/faults.py: each case in its own process, its cost measured, the summary added up."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from benchmarks.faults import summary

REPO = Path(__file__).resolve().parents[1]


def test_a_case_runs_in_its_own_process_and_its_cost_is_measured():
    done = subprocess.run([sys.executable, "benchmarks/faults.py", "--area", "hostile",
                           "--case", "utf8-bad-bytes", "--json"],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    (row,) = result["rows"]
    assert row["ok"] and row["case"] == "utf8-bad-bytes" and "replacement" in row["outcome"]
    assert row["seconds"] > 0 and row["rss_mb"] > 10  # an interpreter with the project loaded
    assert result["summary"]["cases"] == 1 and result["summary"]["misbehaved"] == []


def test_the_summary_adds_the_resume_figures_and_names_what_misbehaved():
    rows = [
        {"case": "kill", "ok": True, "seconds": 30.0, "rss_mb": 100.0, "children_rss_mb": 120.0,
         "outcome": "3 kills survived (at 1, 2, 3 of 9 documents stored): 0 lost, 0 duplicated"},
        {"case": "bomb", "ok": False, "seconds": 2.0, "rss_mb": 300.0, "children_rss_mb": 0.0,
         "outcome": "MemoryError: 5 GB"},
    ]
    total = summary(rows)
    assert (total["kills_survived"], total["documents_lost"], total["duplicates"]) == (3, 0, 0)
    assert total["misbehaved"] == ["bomb"]
    assert total["worst_seconds"] == ("kill", 30.0) and total["worst_memory_mb"] == ("bomb", 300)
