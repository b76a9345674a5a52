"""The crawl benchmark: one command, every figure measured in this run, ratios against baselines
measured in the same run (medians over repeats).

Run: python benchmarks/run.py [--docs 1000] [--repeats 3] [--memory 2000,20000]

Against a synthetic portal served on 127.0.0.1 (``benchmarks/synthportal.py``: realistic 10–60 KB
policy pages, list pages, some GBK, some PDF attachments), it measures:

- backfill end to end (crawl + parse + classify + store into a fresh SQLite corpus), documents
  per second, with the parse pool (one worker per core) and without it (parsing in the crawl
  process, as before the pool): ``benchmarks/crawl.py`` in its own process;
- a bare Scrapy fetch of the same pages with the same settings (``benchmarks/barefetch.py``);
- parsing alone (the site family's ``parse_detail`` on the same pages, one core, in this
  process) and classifying alone (``classify()`` on those parsed documents);
- the requests of a quiet-day incremental run (right after the backfill; and a month later,
  when every document is due for its revisit) against a full re-crawl of the same corpus;
- peak memory (RSS) of the crawl — its process and its worker processes — for backfills of each
  ``--memory`` size, and where the CPU time of a backfill went (crawl process vs workers).

Every rate is "documents (detail pages) per second" from the crawl's start to its finish as
Scrapy's stats record them, for both sides of each ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.synthportal import SyntheticPortal, all_pages  # noqa: E402

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")


# --- measuring a process tree (Linux /proc) ----------------------------------------------
def _children(pid: int) -> list[int]:
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                found.extend(int(c) for c in fh.read().split())
    except OSError:
        pass
    return found


def _tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        todo.extend(_children(current))
    return pids


def _rss_and_cpu(pid: int) -> tuple[int, float] | None:
    try:
        with open(f"/proc/{pid}/statm") as fh:
            rss = int(fh.read().split()[1]) * PAGE_SIZE
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return rss, (int(fields[11]) + int(fields[12])) / TICKS
    except (OSError, IndexError, ValueError):
        return None


class TreeMonitor:
    """Samples a process and its descendants every ``interval`` seconds: the peak RSS of the
    main process, the peak of the whole tree's RSS, and each process's last CPU time."""

    def __init__(self, pid: int, interval: float = 0.1):
        self.pid = pid
        self.interval = interval
        self.peak_main = 0
        self.peak_tree = 0
        self.series: list[int] = []  # the main process's RSS, sample by sample
        self.cpu: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "TreeMonitor":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            total = 0
            for pid in _tree(self.pid):
                sample = _rss_and_cpu(pid)
                if sample is None:
                    continue
                rss, cpu = sample
                total += rss
                self.cpu[pid] = cpu
                if pid == self.pid:
                    self.peak_main = max(self.peak_main, rss)
                    self.series.append(rss)
            self.peak_tree = max(self.peak_tree, total)
            self._stop.wait(self.interval)

    @property
    def cpu_main(self) -> float:
        return self.cpu.get(self.pid, 0.0)

    @property
    def cpu_others(self) -> float:
        return sum(v for k, v in self.cpu.items() if k != self.pid)


def run_json(cmd: list[str], monitor: bool = False) -> dict:
    """Run ``cmd`` and return the JSON object of its last stdout line (with the tree's memory
    and CPU when ``monitor``)."""
    process = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if monitor:
        with TreeMonitor(process.pid) as watch:
            out, err = process.communicate()
    else:
        out, err = process.communicate()
        watch = None
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({process.returncode}):\n{err[-3000:]}")
    lines = [line for line in out.splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(f"{' '.join(cmd)} printed no figures:\n{out[-2000:]}\n{err[-2000:]}")
    result = json.loads(lines[-1])
    if watch is not None:
        # The crawl process at 90% of the run: before the closing work (withdrawal detection
        # reads every URL the crawl saw), to tell a steady growth from the close.
        at_90 = watch.series[int(len(watch.series) * 0.9)] if watch.series else 0
        result.update(peak_main_mb=watch.peak_main / 2**20, peak_tree_mb=watch.peak_tree / 2**20,
                      main_at_90_mb=at_90 / 2**20, cpu_main=watch.cpu_main, cpu_workers=watch.cpu_others)
    return result


def crawl(mode: str, db: Path, url: str, workers: int | None = None, monitor: bool = False) -> dict:
    cmd = [sys.executable, "benchmarks/crawl.py", mode, str(db), url]
    if workers is not None:
        cmd += ["--workers", str(workers)]
    return run_json(cmd, monitor=monitor)


def median(values) -> float:
    return statistics.median(values)


# --- the figures --------------------------------------------------------------------------
def measure_rates(docs: int, repeats: int, tmp: Path, log) -> dict:
    portal = SyntheticPortal(docs)
    pooled, inline, bare, cpu = [], [], [], []
    with portal.serve() as url:
        for r in range(repeats):
            got = run_json([sys.executable, "benchmarks/barefetch.py", url])
            bare.append(got["details"] / got["seconds"])
            log(f"  repeat {r + 1}: bare fetch {bare[-1]:.1f} pages/s")
            for workers, into in ((None, pooled), (0, inline)):
                db = tmp / f"rate-{r}-{workers}.db"
                got = crawl("backfill", db, url, workers, monitor=True)
                if got["new"] != docs:
                    raise RuntimeError(f"backfill stored {got['new']} of {docs} documents")
                into.append(got["new"] / got["seconds"])
                if workers is None:
                    cpu.append((got["cpu_main"] / docs, got["cpu_workers"] / docs))
                log(f"  repeat {r + 1}: backfill {'pool' if workers is None else 'inline'} "
                    f"{into[-1]:.1f} docs/s")
                db.unlink()
    return {"bare": median(bare), "pooled": median(pooled), "inline": median(inline),
            "cpu_main_ms": 1000 * median(c[0] for c in cpu),
            "cpu_workers_ms": 1000 * median(c[1] for c in cpu)}


def measure_cpu_alone(count: int, repeats: int) -> dict:
    """Parsing alone and classifying alone, one core, in this process."""
    from classifiers.classify import classify
    from crawlers.families import get_family
    from crawlers.replay.portal import REPLAY_SITES
    from pipelines.classify import document_for

    site = REPLAY_SITES[0]
    family = get_family(site.family)
    pages = all_pages(count)
    items = [family.parse_detail(site, url, body, headers) for url, body, headers in pages]
    documents = [document_for(item, site) for item in items]
    classify(documents[0])
    parse, tag = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        for url, body, headers in pages:
            family.parse_detail(site, url, body, headers)
        parse.append(len(pages) / (time.perf_counter() - start))
        start = time.perf_counter()
        for document in documents:
            classify(document)
        tag.append(len(documents) / (time.perf_counter() - start))
    sizes = sorted(len(body) for _, body, _ in pages)
    return {"parse": median(parse), "classify": median(tag),
            "page_kb": (sizes[0] / 1024, median(sizes) / 1024, sizes[-1] / 1024)}


def measure_incremental(docs: int, tmp: Path, log) -> dict:
    """Requests of a full re-crawl, of a quiet day right after the backfill, and of a quiet day
    a month later (every document due for its revisit; the budget caps them)."""
    import sqlite3

    portal = SyntheticPortal(docs)
    db = tmp / "incremental.db"
    with portal.serve() as url:
        crawl("backfill", db, url)
        counts = {}
        for name, mode in (("full", "full"), ("quiet", "incremental")):
            portal.requests.clear()
            got = crawl(mode, db, url)
            counts[name] = len(portal.requests)
            log(f"  {name}: {counts[name]} requests ({got['new']} new, {got['unchanged']} unchanged)")
        with sqlite3.connect(db) as conn:
            conn.execute("""update documents set next_check_at =
                            strftime('%Y-%m-%dT%H:%M:%S+00:00', next_check_at, '-31 days')""")
        portal.requests.clear()
        crawl("incremental", db, url)
        counts["month"] = len(portal.requests)
        log(f"  a month later: {counts['month']} requests")
    db.unlink()
    return counts


def measure_memory(sizes: list[int], tmp: Path, log) -> dict:
    peaks = {}
    for n in sizes:
        portal = SyntheticPortal(n)
        db = tmp / f"memory-{n}.db"
        with portal.serve() as url:
            got = crawl("backfill", db, url, monitor=True)
        if got["new"] != n:
            raise RuntimeError(f"backfill of {n} stored {got['new']}")
        peaks[n] = got
        log(f"  N={n}: crawl process {got['peak_main_mb']:.0f} MB, with workers "
            f"{got['peak_tree_mb']:.0f} MB, {n / got['seconds']:.1f} docs/s")
        db.unlink()
    return peaks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=1000, help="documents of the portal for the rates")
    parser.add_argument("--repeats", type=int, default=3, help="repeats of each rate (median)")
    parser.add_argument("--memory", default="2000,20000",
                        help="portal sizes of the peak-memory backfills, comma-separated ('' skips)")
    parser.add_argument("--parse-pages", type=int, default=300, help="pages timed for parsing alone")
    args = parser.parse_args()

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    results: dict = {"cores": len(os.sched_getaffinity(0)), "load_before": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory(prefix="pw-bench-") as tmp_name:
        tmp = Path(tmp_name)
        log(f"parsing and classifying alone ({args.parse_pages} pages)")
        alone = measure_cpu_alone(args.parse_pages, args.repeats)
        log(f"rates: {args.docs} documents, {args.repeats} repeats")
        rates = measure_rates(args.docs, args.repeats, tmp, log)
        log("incremental against full")
        incremental = measure_incremental(args.docs, tmp, log)
        sizes = [int(x) for x in args.memory.split(",") if x.strip()]
        log(f"peak memory: {sizes}")
        memory = measure_memory(sizes, tmp, log) if sizes else {}
    results.update(alone=alone, rates=rates, incremental=incremental,
                   memory={str(k): v for k, v in memory.items()}, load_after=os.getloadavg()[0])

    rows = [
        ("detail page size (min / median / max)", "%.0f / %.0f / %.0f KB" % alone["page_kb"]),
        ("bare Scrapy fetch", f"{rates['bare']:.1f} pages/s"),
        ("backfill end to end, parse pool", f"{rates['pooled']:.1f} docs/s"),
        ("backfill end to end, parsing in the crawl process", f"{rates['inline']:.1f} docs/s"),
        ("parsing alone (one core)", f"{alone['parse']:.1f} pages/s"),
        ("classifying alone (one core)", f"{alone['classify']:.1f} docs/s"),
        ("end to end (pool) / bare fetch", f"{rates['pooled'] / rates['bare']:.2f}"),
        ("end to end (pool) / parsing alone", f"{rates['pooled'] / alone['parse']:.2f}"),
        ("end to end: pool / in-process", f"{rates['pooled'] / rates['inline']:.2f}×"),
        ("CPU per document: crawl process / workers",
         f"{rates['cpu_main_ms']:.0f} ms / {rates['cpu_workers_ms']:.0f} ms"),
        ("requests: full re-crawl", f"{incremental['full']}"),
        ("requests: quiet day right after", f"{incremental['quiet']} "
         f"({incremental['quiet'] / incremental['full']:.4f} of full)"),
        ("requests: quiet day a month later", f"{incremental['month']} "
         f"({incremental['month'] / incremental['full']:.4f} of full)"),
    ]
    for n, got in memory.items():
        rows.append((f"peak RSS, backfill of {n:,}", f"crawl process {got['peak_main_mb']:.0f} MB "
                     f"({got['main_at_90_mb']:.0f} MB at 90% of the run), "
                     f"with workers {got['peak_tree_mb']:.0f} MB; {n / got['seconds']:.1f} docs/s"))
    if len(memory) >= 2:
        small, large = memory[min(memory)], memory[max(memory)]
        rows.append((f"peak RSS {max(memory):,} / {min(memory):,}",
                     f"crawl process {large['peak_main_mb'] / small['peak_main_mb']:.2f}, "
                     f"with workers {large['peak_tree_mb'] / small['peak_tree_mb']:.2f}"))
    rows.append(("load average before / after", f"{results['load_before']:.1f} / {results['load_after']:.1f}"))
    width = max(len(r[0]) for r in rows)
    print(f"{'what':{width}}  figure")
    for what, figure in rows:
        print(f"{what:{width}}  {figure}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
