"""NormalisePipeline and StorePipeline with Scrapy's own stats and signals (no engine needed:
the full crawl path is exercised in test_attachments_pipeline)."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

import pytest
from scrapy import Spider, signals
from scrapy.exceptions import DropItem
from scrapy.settings import Settings
from scrapy.signalmanager import SignalManager
from scrapy.statscollectors import MemoryStatsCollector

from crawlers.engine.observations import Observations
from crawlers.items import PolicyItem
from crawlers.items.sitecrawls import site_closed, site_opened
from crawlers.sites.spec import Column, Site
from pipelines.normalise import NormalisePipeline
from pipelines.reads import counts_by_table
from pipelines.runs import start_run
from pipelines.schema import open_corpus
from pipelines.store import StorePipeline, counts_from_stats, run_status


class FakeCrawl:
    """What the pipelines use of one site's crawl (``crawlers.engine.spiders.sitecrawl``)."""

    def __init__(self, key: str, stats):
        self.site = Site(key=key, name="示例市人民政府", division_code="110000", level="prefecture",
                         family="trs", domains=("example.gov.cn",),
                         columns=(Column(name="政策文件", url="http://www.example.gov.cn/zcwj/"),))
        self.key = key
        self.mode = "incremental"
        self.stats = stats
        self.failures: list[dict] = []
        self.observations = Observations()


class FakeSpider(Spider):
    """A spider crawling one site, whose counters are the crawler's own."""

    def __init__(self, crawl: FakeCrawl):
        super().__init__(name="policy")
        self.crawl = crawl

    def stats_of(self, key):
        return self.crawl.stats if key == self.crawl.site.key else None

    def site_of(self, key):
        return self.crawl.site if key == self.crawl.site.key else None


class FakeCrawler:
    """What pipelines use of a crawler: settings, stats, signals and the spider."""

    def __init__(self, settings: dict, site_key: str = "demo_gov"):
        self.settings = Settings(settings)
        self.stats = MemoryStatsCollector(self)
        self.signals = SignalManager(self)
        self.crawl = FakeCrawl(site_key, self.stats)
        self.spider = FakeSpider(self.crawl)


def open_site(crawler):
    crawler.signals.send_catch_log(site_opened, crawl=crawler.crawl)


def item(**changes) -> PolicyItem:
    base = dict(
        url="https://www.example.gov.cn/zcwj/2024/0301/c1.html",
        site="demo_gov",
        title="  关于加快发展\n虚拟现实产业的实施意见 ",
        doc_number=" 示政发〔2024〕5号 ",
        issuer="",
        published_date=date(2024, 3, 1),
        body_text="\ufeff　　一、发展目标。\r\n\r\n\r\n\r\n　　到2026年，虚拟现实产业规模显著提升。  ",
        fetched_at=datetime(2024, 3, 1, tzinfo=timezone.utc),
    )
    base.update(changes)
    return PolicyItem(**base)


def close(crawler, reason="finished"):
    crawler.signals.send_catch_log(site_closed, crawl=crawler.crawl, reason=reason)
    crawler.signals.send_catch_log(signals.spider_closed, spider=crawler.spider, reason=reason)


def test_normalise_cleans_text_and_fields():
    crawler = FakeCrawler({})
    out = NormalisePipeline.from_crawler(crawler).process_item(item())
    assert out.title == "关于加快发展 虚拟现实产业的实施意见"
    assert out.body_text == "一、发展目标。\n\n到2026年，虚拟现实产业规模显著提升。"
    assert out.doc_number == "示政发〔2024〕5号"
    assert out.issuer is None


@pytest.mark.parametrize("changes, reason", [({"url": "  "}, "no_url"), ({"title": "\u200b "}, "no_title")])
def test_normalise_drops_with_a_counted_reason(changes, reason):
    crawler = FakeCrawler({})
    with pytest.raises(DropItem, match=reason):
        NormalisePipeline.from_crawler(crawler).process_item(item(**changes))
    assert crawler.stats.get_value(f"policywatch/dropped/{reason}") == 1


def test_store_pipeline_stores_counts_and_records_its_run(tmp_path):
    path = tmp_path / "corpus.db"
    crawler = FakeCrawler({"POLICYWATCH_DB": str(path)})
    crawler.stats.set_value("response_received_count", 4)
    crawler.stats.inc_value("policywatch/failed/http_404")
    crawler.crawl.failures.append({"url": "https://www.example.gov.cn/gone.html",
                                    "reason": "http_404", "message": "HTTP 404", "stage": "detail"})
    normalise = NormalisePipeline.from_crawler(crawler)
    store = StorePipeline.from_crawler(crawler)
    store.open_spider()
    open_site(crawler)

    store.process_item(normalise.process_item(item()))
    store.process_item(normalise.process_item(item()))  # the same page again
    store.process_item(normalise.process_item(item(body_text="一、发展目标。到2027年。")))
    with pytest.raises(DropItem, match="empty_text"):
        store.process_item(normalise.process_item(item(body_text="   ")))
    close(crawler)

    stats = crawler.stats.get_stats()
    assert stats["policywatch/documents/new"] == 1
    assert stats["policywatch/documents/unchanged"] == 1
    assert stats["policywatch/documents/revised"] == 1
    assert stats["policywatch/dropped/empty_text"] == 1

    db = open_corpus(path)
    assert counts_by_table(db) == {"documents": 1, "versions": 2, "attachments": 0,
                                          "changes": 2, "runs": 1}
    run = next(db.query("SELECT * FROM runs"))
    assert (run["site"], run["kind"], run["status"]) == ("demo_gov", "crawl", "partial")
    counts = json.loads(run["counts"])
    assert counts["pages"] == 4 and counts["documents"] == 3
    assert counts["dropped"] == {"empty_text": 1} and counts["failed"] == {"http_404": 1}
    assert json.loads(run["errors"])[0]["url"] == "https://www.example.gov.cn/gone.html"
    versions = list(db.query("SELECT run_id FROM versions"))
    assert {v["run_id"] for v in versions} == {run["id"]}
    site = next(db.query("SELECT * FROM sites WHERE key = 'demo_gov'"))
    assert site["last_success"] is not None and site["last_failure"] is None
    db.close()


def test_store_pipeline_uses_a_run_the_caller_started(tmp_path):
    path = tmp_path / "corpus.db"
    db = open_corpus(path)
    run_id = start_run(db, "demo_gov", "backfill")
    crawler = FakeCrawler({"POLICYWATCH_DB": str(path), "POLICYWATCH_RUN_ID": run_id})
    store = StorePipeline.from_crawler(crawler)
    store.open_spider()
    open_site(crawler)
    crawler.stats.inc_value("policywatch/failed/blocked")
    crawler.stats.inc_value("policywatch/blocked")
    close(crawler)
    runs = list(db.query("SELECT * FROM runs"))
    assert [(r["id"], r["kind"], r["status"], r["blocked"]) for r in runs] == \
        [(run_id, "backfill", "blocked", 1)]
    site = next(db.query("SELECT * FROM sites WHERE key = 'demo_gov'"))
    assert site["last_failure_reason"] == "blocked on 1 page(s)"
    db.close()


def test_store_pipeline_needs_a_database_path():
    with pytest.raises(ValueError, match="POLICYWATCH_DB"):
        StorePipeline.from_crawler(FakeCrawler({}))


def test_run_status():
    def counts(**stats):
        return counts_from_stats({f"policywatch/{k}": v for k, v in stats.items()})

    assert run_status(counts(**{"documents/new": 2}), "finished") == "ok"
    assert run_status(counts(**{"documents/new": 2, "failed/timeout": 1}), "finished") == "partial"
    assert run_status(counts(**{"failed/timeout": 3}), "finished") == "failed"
    assert run_status(counts(**{"failed/blocked": 2, "blocked": 2}), "finished") == "blocked"
    # Nothing new, but the lists showed stored documents: the few pages refused again do not
    # make a quiet day a failed or blocked one.
    quiet = counts(**{"skipped/known": 20, "failed/http_404": 1, "failed/blocked": 2, "blocked": 2})
    assert run_status(quiet, "finished") == "partial"
    assert run_status(counts(**{"documents/new": 2}), "shutdown") == "failed"


def test_a_crawl_is_broken_only_when_nothing_worked():
    """`policywatch crawl` exits 1 when every site's crawl is broken: no document and no
    stored document listed, and pages refused."""
    from crawlers.engine.runner import SiteRunReport

    assert SiteRunReport("x", failed={"http_404": 1}).broken
    assert not SiteRunReport("x", known=20, failed={"blocked": 2}).broken  # a quiet day
    assert not SiteRunReport("x", items=1, failed={"http_404": 1}).broken
    assert not SiteRunReport("x").broken  # nothing listed, nothing refused: an empty column
    stats = {"policywatch/skipped/known": 7, "policywatch/failed/binary": 1}
    assert SiteRunReport.from_stats("x", stats, []).known == 7
