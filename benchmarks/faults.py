"""The fault benchmark: every injected fault and hostile input of benchmarks/faultcases, each in
its own process, with the wall time and peak memory it cost.

Run: python benchmarks/faults.py [--area resume,hostile] [--case NAME] [--json]

Each case (see benchmarks/faultcases/__init__.py) builds its input in a scratch directory and
feeds it through the real code path; it returns a one-line outcome, and raises only when the
product misbehaved (a traceback, a wrong exit status, a document lost). A case runs in a child
process of this one, so its peak RSS is its own; what it starts (a crawl, a server) is counted
as its children's peak. The summary adds the figures the resume cases report in their outcome
("N kills survived", "N lost", "N duplicated").
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pkgutil
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import benchmarks.faultcases as faultcases  # noqa: E402

CASE_TIMEOUT = 600  # seconds: a case that runs longer is a hang, which is itself a finding
# As the resume cases say them: "3 kills survived (...): 0 lost, 0 duplicated".
FIGURES = {"kills": r"(\d+) kills survived", "lost": r"(\d+) lost", "duplicated": r"(\d+) duplicated"}


def areas() -> list[str]:
    """The area modules under benchmarks/faultcases, by name."""
    return sorted(m.name for m in pkgutil.iter_modules(faultcases.__path__))


def cases(area: str) -> list:
    return list(importlib.import_module(f"benchmarks.faultcases.{area}").CASES)


def _run_one(area: str, name: str) -> None:
    """In the child: run one case and print its result as JSON on the last line of stdout."""
    case = next(c for c in cases(area) if c.name == name)
    with tempfile.TemporaryDirectory(prefix=f"fault-{name}-") as scratch:
        started = time.monotonic()
        try:
            outcome, ok = case.run(Path(scratch)), True
        except Exception as exc:  # the product misbehaved: that is the finding, not a crash here
            outcome, ok = f"{type(exc).__name__}: {exc}".splitlines()[0][:300], False
        seconds = time.monotonic() - started
    # VmHWM is this process's own peak (ru_maxrss would carry the parent's over exec); what the
    # case started is measured by the largest child it waited for.
    own = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps({"ok": ok, "outcome": outcome, "seconds": seconds,
                      "rss_mb": own / 1024, "children_rss_mb": kids / 1024}, ensure_ascii=False))


def measure(area: str, case) -> dict:
    """Run ``case`` in a child process; its result, or what went wrong with the child."""
    cmd = [sys.executable, __file__, "--_child", f"{area}:{case.name}"]
    started = time.monotonic()
    try:
        done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=CASE_TIMEOUT)
    except subprocess.TimeoutExpired:
        return {"ok": False, "outcome": f"hung: no result after {CASE_TIMEOUT} s",
                "seconds": float(CASE_TIMEOUT), "rss_mb": 0.0, "children_rss_mb": 0.0}
    lines = done.stdout.strip().splitlines()
    try:
        result = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        result = {"ok": False, "outcome": f"case process exit {done.returncode}: {tail[:300]}",
                  "seconds": time.monotonic() - started, "rss_mb": 0.0, "children_rss_mb": 0.0}
    return result


def summary(rows: list[dict]) -> dict:
    """What the table adds up to: cases, misbehaviours, the worst single cost, resume figures."""
    figures = {key: 0 for key in FIGURES}
    for row in rows:
        for key, pattern in FIGURES.items():
            found = re.search(pattern, row["outcome"])
            if found:
                figures[key] += int(found.group(1))
    slowest = max(rows, key=lambda r: r["seconds"], default=None)
    biggest = max(rows, key=lambda r: max(r["rss_mb"], r["children_rss_mb"]), default=None)
    return {
        "cases": len(rows),
        "misbehaved": [r["case"] for r in rows if not r["ok"]],
        "kills_survived": figures["kills"], "documents_lost": figures["lost"],
        "duplicates": figures["duplicated"],
        "worst_seconds": (slowest["case"], round(slowest["seconds"], 2)) if slowest else None,
        "worst_memory_mb": ((biggest["case"], round(max(biggest["rss_mb"], biggest["children_rss_mb"])))
                            if biggest else None),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--area", default="", help="Comma-separated areas (default: all).")
    parser.add_argument("--case", default="", help="Only the case of this name.")
    parser.add_argument("--json", action="store_true", help="Print the rows and summary as JSON.")
    parser.add_argument("--_child", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args._child:
        area, name = args._child.split(":", 1)
        _run_one(area, name)
        return 0
    chosen = [a for a in args.area.split(",") if a] or areas()
    rows = []
    for area in chosen:
        for case in cases(area):
            if args.case and case.name != args.case:
                continue
            result = measure(area, case)
            rows.append({"area": area, "case": case.name, "what": case.what, **result})
            if not args.json:
                peak = max(result["rss_mb"], result["children_rss_mb"])
                print(f"{'ok ' if result['ok'] else 'BAD'} {area:12} {case.name:28} "
                      f"{result['seconds']:7.2f} s {peak:7.0f} MB  {result['outcome']}", flush=True)
    total = summary(rows)
    if args.json:
        print(json.dumps({"rows": rows, "summary": total}, ensure_ascii=False, indent=2))
    else:
        print(f"\n{total['cases']} faults and hostile inputs tried; misbehaved: "
              f"{', '.join(total['misbehaved']) or 'none'}")
        print(f"kills survived {total['kills_survived']}, documents lost {total['documents_lost']}, "
              f"duplicated {total['duplicates']}")
        if total["worst_seconds"]:
            print(f"worst time: {total['worst_seconds'][1]} s ({total['worst_seconds'][0]}); "
                  f"worst memory: {total['worst_memory_mb'][1]} MB ({total['worst_memory_mb'][0]})")
    return 1 if total["misbehaved"] else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
