"""One policywatch crawl of the synthetic portal, as the benchmark runs it (in its own process).

Run: python benchmarks/crawl.py MODE DB REPLAY_URL [--workers N]

MODE is backfill, full or incremental; the crawl is ``crawlers.engine.runner.run_crawl`` of the site
``replay_generic`` — the same call ``policywatch backfill`` / ``policywatch crawl`` make — with
``POLICYWATCH_PARSE_WORKERS`` set when ``--workers`` is given (0: parse in the crawl process,
as before the process pool). Prints one JSON line: documents stored (new), pages fetched,
seconds from the crawl's start to its finish (Scrapy's own ``elapsed_time_seconds``).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from scrapy import signals

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


class StatsLine:
    """An extension that prints the crawl's figures as one JSON line when the spider closes."""

    def __init__(self, crawler):
        self.crawler = crawler
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def spider_closed(self, spider, reason):
        stats = self.crawler.stats.get_stats()
        elapsed = (stats["finish_time"] - stats["start_time"]).total_seconds() if "finish_time" in stats \
            else float(stats.get("elapsed_time_seconds", 0.0))
        print(json.dumps({
            "new": stats.get("policywatch/documents/new", 0),
            "unchanged": stats.get("policywatch/documents/unchanged", 0),
            "refused": sum(v for k, v in stats.items() if k.startswith("policywatch/failed/")),
            "pages": stats.get("response_received_count", 0),
            "requests": stats.get("downloader/request_count", 0),
            "seconds": elapsed, "finish_reason": reason,
        }), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("mode", choices=("backfill", "full", "incremental"))
    parser.add_argument("db", type=Path)
    parser.add_argument("replay_url")
    parser.add_argument("--workers", type=int, default=None, help="parse worker processes (0: none)")
    args = parser.parse_args()

    from crawlers.engine import settings as defaults
    from crawlers.replay.portal import REPLAY_SITES
    from crawlers.engine.runner import run_crawl

    logging.basicConfig(level=logging.WARNING)
    overrides = {"EXTENSIONS": {**defaults.EXTENSIONS, "benchmarks.crawl.StatsLine": 990}}
    if args.workers is not None:
        overrides["POLICYWATCH_PARSE_WORKERS"] = args.workers
    run_crawl([REPLAY_SITES[0]], args.db, run_kind="backfill" if args.mode == "backfill" else "crawl",
              replay_url=args.replay_url, mode=args.mode, overrides=overrides, log_level=logging.WARNING)


if __name__ == "__main__":
    main()
