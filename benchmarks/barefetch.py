"""The baseline of the crawl benchmark: Scrapy fetching the same pages and doing nothing else.

Run (the benchmark runs it in a subprocess): python benchmarks/barefetch.py REPLAY_URL

It crawls the synthetic portal's column (``benchmarks/synthportal.py``) as policywatch's
backfill does — every list page, every detail page, through the same settings
(``crawlers.engine.runner.build_settings`` in replay mode: the same download handler, robots.txt
middleware, per-host slot of 4 requests at a time, no delay) — but its callbacks only find the
links with a regular expression: no parsing, no classifying, no storing. It prints one JSON line:
pages fetched, detail pages, seconds from the crawl's start to its finish (as
``benchmarks/crawl.py`` measures policywatch's crawl).
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import scrapy  # noqa: E402
from scrapy.crawler import CrawlerProcess  # noqa: E402

from benchmarks.synthportal import COLUMN  # noqa: E402

_DETAIL = re.compile(rb'href="(http://www\.example-gov\.cn/zcwj/\d{6}/t[^"]+\.html)"')
_NEXT = re.compile(rb'<a href="([^"]+)">\xe4\xb8\x8b\xe4\xb8\x80\xe9\xa1\xb5</a>')  # 下一页


class BareSpider(scrapy.Spider):
    """Walks the column's list pages and fetches every detail page; keeps nothing."""

    name = "bare"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.details = 0

    async def start(self):
        yield scrapy.Request(COLUMN, callback=self.parse_list, dont_filter=True)

    def parse_list(self, response):
        # Details first, at a higher priority than the next list page: the same frontier order
        # as policywatch's spider.
        for url in _DETAIL.findall(response.body):
            yield scrapy.Request(url.decode(), callback=self.parse_detail, priority=1)
        for url in _NEXT.findall(response.body):
            yield scrapy.Request(url.decode(), callback=self.parse_list, dont_filter=True)

    def parse_detail(self, response):
        self.details += 1
        return ()


def main() -> None:
    from crawlers.replay.portal import REPLAY_SITES
    from crawlers.engine.runner import build_settings
    from crawlers.engine.sitesettings import apply_site_settings

    replay_url = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        settings = build_settings(Path(tmp) / "unused.db", replay_url=replay_url, log_level="WARNING")
        apply_site_settings(settings, REPLAY_SITES[0])
        settings.set("ITEM_PIPELINES", {}, priority="cmdline")
        settings.set("EXTENSIONS", {}, priority="cmdline")
        settings.set("LOG_INSTALL_ROOT_HANDLER", False, priority="cmdline")
        process = CrawlerProcess(settings)
        crawler = process.create_crawler(BareSpider)
        process.crawl(crawler)
        process.start()
    stats = crawler.stats.get_stats()
    print(json.dumps({"pages": stats.get("response_received_count", 0), "details": crawler.spider.details,
                      "requests": stats.get("downloader/request_count", 0),
                      "seconds": (stats["finish_time"] - stats["start_time"]).total_seconds()}))


if __name__ == "__main__":
    main()
