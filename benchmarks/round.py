"""The daily round benchmark (issue #16): K portals, day 1 then a quiet day, against bare Scrapy.

Run: python benchmarks/round.py [--sizes 40,400,2000] [--delay 2.0] [--max-parallel 2]

K portals (``benchmarks/roundportals.py``: one column of three documents each, every portal on
its own loopback address, so its own download slot) are served by one server process and
declared as config sites. For each K, in one run:

- day 1: the daily round (``crawlers.engine.rounds.run_round``, as ``policywatch run`` runs it)
  into a fresh corpus: robots.txt, the list page and three documents per portal;
- a quiet day: the same round with the clock a day later (``POLICYWATCH_NOW``): robots.txt, the
  list page (nothing new) and the three documents' daily revisit;
- the lower bound: a bare Scrapy crawl (one process, one spider, no parsing, no storing) issuing
  the same requests per portal (robots.txt, the list page, its three links) with the same
  politeness (per-host slots of one request, the same delay and AutoThrottle).

Printed per K and day: wall seconds, CPU seconds of every process (the crawl processes and their
parse workers; not the portal server), CPU per site, peak RSS summed over those processes,
requests the portals answered.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.roundportals import FIRST_DAY, Farm, config_toml, host, site_key  # noqa: E402
from benchmarks.run import _rss_and_cpu, _tree  # noqa: E402


class Meter:
    """Samples this process's descendants (but ``exclude``): each one's last CPU time and the
    peak of their RSS summed."""

    def __init__(self, exclude: set[int], interval: float = 0.2) -> None:
        self.exclude = exclude
        self.interval = interval
        self.cpu: dict[int, float] = {}
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "Meter":
        self.started = time.perf_counter()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.wall = time.perf_counter() - self.started
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        total = 0
        me = os.getpid()
        for pid in _tree(me):
            if pid == me or pid in self.exclude:
                continue
            found = _rss_and_cpu(pid)
            if found is None:
                continue
            rss, cpu = found
            total += rss
            self.cpu[pid] = cpu
        self.peak = max(self.peak, total)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval)

    @property
    def cpu_seconds(self) -> float:
        return sum(self.cpu.values())


class Server:
    """The portals, served by ``benchmarks/roundportals.py`` in its own process."""

    def __init__(self, count: int, scratch: Path, kinds: dict[int, str] | None = None) -> None:
        self.port_file, self.stats_file = scratch / "port", scratch / "served.json"
        self.process = subprocess.Popen(
            [sys.executable, str(REPO / "benchmarks" / "roundportals.py"), str(count), "3",
             json.dumps({str(k): v for k, v in (kinds or {}).items()}), str(self.port_file),
             str(self.stats_file)], cwd=REPO)
        deadline = time.monotonic() + 300
        while not self.port_file.exists() or not self.port_file.read_text():
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError("the portal server did not start")
            time.sleep(0.1)
        self.port = int(self.port_file.read_text())

    def requests(self) -> int:
        """Requests answered so far (all portals)."""
        self.stats_file.unlink(missing_ok=True)
        self.process.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + 30
        while not self.stats_file.exists():
            if time.monotonic() > deadline:
                raise RuntimeError("the portal server did not say its counts")
            time.sleep(0.05)
        time.sleep(0.05)
        return sum(json.loads(self.stats_file.read_text()).values())

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)


def round_day(keys: list[str], db: Path, config: Path, day: int, max_parallel: int,
              exclude: set[int]) -> tuple[Meter, list]:
    from crawlers.engine.rounds import run_round

    os.environ["POLICYWATCH_NOW"] = (FIRST_DAY + timedelta(days=day)).isoformat() + "T07:00:00+08:00"
    with Meter(exclude) as meter:
        outcomes = run_round(keys, db, max_parallel=max_parallel, stagger=0, config_path=config)
    return meter, outcomes


def bare(count: int, port: int, delay: float, exclude: set[int]) -> Meter:
    with Meter(exclude) as meter:
        subprocess.run([sys.executable, str(Path(__file__).resolve()), "--bare", str(count), str(port),
                        str(delay)], cwd=REPO, check=True, timeout=7200)
    return meter


def measure(count: int, delay: float, max_parallel: int, unreachable: bool = False) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="round-bench-") as scratch:
        scratch = Path(scratch)
        kinds = {count // 2: "down"} if unreachable else {}
        server = Server(count, scratch, kinds)
        try:
            farm = Farm(count)
            farm.port = server.port
            farm.kinds = kinds
            config = scratch / "policywatch.toml"
            config.write_text(config_toml(farm, delay=delay), encoding="utf-8")
            keys = [site_key(i) for i in range(count)]
            exclude = {server.process.pid}
            for day, name in ((0, "day 1"), (1, "quiet day")):
                before = server.requests()
                meter, outcomes = round_day(keys, scratch / "corpus.db", config, day, max_parallel, exclude)
                failed = sum(1 for o in outcomes if not o.ok)
                rows.append(row(count, name + (" (1 unreachable)" if unreachable else ""), meter,
                                server.requests() - before, failed))
            if not unreachable:
                before = server.requests()
                meter = bare(count, server.port, delay, exclude)
                rows.append(row(count, "bare Scrapy", meter, server.requests() - before, 0))
        finally:
            server.stop()
    return rows


def row(count: int, what: str, meter: Meter, requests: int, failed: int) -> dict:
    return {"K": count, "run": what, "wall_s": round(meter.wall, 1), "cpu_s": round(meter.cpu_seconds, 1),
            "cpu_ms_per_site": round(1000 * meter.cpu_seconds / count, 1),
            "peak_rss_mb": round(meter.peak / 2**20), "requests": requests, "sites_failed": failed}


# --- the lower bound: a bare Scrapy crawl of the same requests ---------------------------------
def bare_main(count: int, port: int, delay: float) -> None:
    import scrapy
    from scrapy.crawler import CrawlerProcess

    from crawlers.engine import settings as defaults

    links = re.compile(rb'href="(/art/\d+\.html)"')

    class Bare(scrapy.Spider):
        name = "bare"

        async def start(self):
            for i in range(count):
                yield scrapy.Request(f"http://{host(i)}:{port}/col/index.html", callback=self.parse_list,
                                     dont_filter=True)

        def parse_list(self, response):
            for link in links.findall(response.body):
                yield response.follow(link.decode(), callback=self.parse_detail, priority=1)

        def parse_detail(self, response):
            return ()

    slot = {"concurrency": 1, "delay": delay}
    process = CrawlerProcess({
        "ROBOTSTXT_OBEY": True, "USER_AGENT": defaults.USER_AGENT,
        "CONCURRENT_REQUESTS": max(16, count), "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
        "DOWNLOAD_DELAY": delay, "DOWNLOAD_SLOTS": {host(i): dict(slot) for i in range(count)},
        "AUTOTHROTTLE_ENABLED": defaults.AUTOTHROTTLE_ENABLED,
        "AUTOTHROTTLE_START_DELAY": defaults.AUTOTHROTTLE_START_DELAY,
        "AUTOTHROTTLE_MAX_DELAY": defaults.AUTOTHROTTLE_MAX_DELAY,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": defaults.AUTOTHROTTLE_TARGET_CONCURRENCY,
        "TELNETCONSOLE_ENABLED": False, "LOG_LEVEL": "WARNING",
        "TWISTED_REACTOR": defaults.TWISTED_REACTOR,
    })
    process.crawl(Bare)
    process.start()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="40,400,2000", help="K values, comma-separated")
    parser.add_argument("--delay", type=float, default=2.0, help="each portal's politeness delay (s)")
    parser.add_argument("--max-parallel", type=int, default=2, help="[schedule] max_parallel")
    parser.add_argument("--unreachable", action="store_true",
                        help="also run each K with one portal unreachable (day 1 and quiet day)")
    args = parser.parse_args()
    print(f"delay {args.delay} s per portal; max_parallel {args.max_parallel}; {os.cpu_count()} cores")
    header = ("K", "run", "wall_s", "cpu_s", "cpu_ms_per_site", "peak_rss_mb", "requests", "sites_failed")
    print("  ".join(f"{h:>15}" for h in header))
    for count in (int(k) for k in args.sizes.split(",")):
        for unreachable in ((False, True) if args.unreachable else (False,)):
            for found in measure(count, args.delay, args.max_parallel, unreachable):
                print("  ".join(f"{str(found[h]):>15}" for h in header), flush=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--bare":
        bare_main(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]))
    else:
        main()
