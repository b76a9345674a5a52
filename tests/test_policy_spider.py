"""PolicySpider's bookkeeping of many sites, without a network: which site a request is for,
when a site has ended, what its report says. (Real multi-site crawls: tests/test_round.py.)"""

from __future__ import annotations

import logging

import pytest
from scrapy.http import Request
from scrapy.utils.test import get_crawler

from crawlers.engine.spiders import policy
from crawlers.engine.spiders.policy import TICKET, PolicySpider
from crawlers.items import Revisit
from crawlers.items.sitecrawls import SITE_META, site_closed, site_opened, stats_for
from crawlers.sites.spec import Column, Site


def site(key: str, host: str) -> Site:
    return Site(key=key, name="示例市人民政府", division_code="360400", level="prefecture",
                family="generic", domains=(host,),
                columns=(Column(name="通知公告", url=f"http://{host}/tzgg/"),))


@pytest.fixture
def spider():
    crawler = get_crawler(PolicySpider)
    spider = PolicySpider.from_crawler(crawler, sites=[site("a_gov", "www.a.gov.cn"),
                                                       site("b_gov", "www.b.gov.cn")], active=1)
    crawler.spider = spider
    heard = []
    crawler.signals.connect(lambda crawl: heard.append(("opened", crawl.key)), signal=site_opened, weak=False)
    crawler.signals.connect(lambda crawl, reason: heard.append(("closed", crawl.key, reason)),
                            signal=site_closed, weak=False)
    spider.heard = heard
    return spider


def test_requests_and_items_of_a_site_hold_it_open_and_its_counters_are_its_own(spider):
    crawl = spider._open(spider.waiting.pop())
    spider._starting.discard(crawl.key)
    request = spider._outgoing(crawl, Request("http://www.a.gov.cn/tzgg/", meta={SITE_META: "a_gov"}))
    item = spider._outgoing(crawl, Revisit(url="http://www.a.gov.cn/1.html", site="a_gov"))
    assert request.meta[TICKET] and item is not None
    # A redirect or a retry inherits the meta, hence the ticket: still one request held.
    spider._outgoing(crawl, request.replace(url="http://www.a.gov.cn/tzgg/index.html"))
    assert len(spider._held["a_gov"]) == 1

    stats_for(spider.crawler, "a_gov").inc_value("policywatch/documents/unchanged")
    assert spider.stats_of("a_gov").get_value("policywatch/documents/unchanged") == 1
    assert spider.crawler.stats.get_value("policywatch/documents/unchanged") is None
    assert spider.site_on_host("www.a.gov.cn") == "a_gov" and spider.site_on_host("www.b.gov.cn") is None

    spider._settle("a_gov", request.meta)
    assert "a_gov" in spider.crawls  # its item is still in the pipelines
    spider._item_stored(item, response=None)
    spider._end_if_settled("a_gov")
    assert "a_gov" not in spider.crawls and spider.reports["a_gov"].finish_reason == "finished"
    assert spider.heard == [("opened", "a_gov"), ("closed", "a_gov", "finished")]
    assert spider.report_of(site("b_gov", "www.b.gov.cn")).finish_reason == "not_started"


def test_a_site_whose_requests_went_unaccounted_is_ended_when_the_engine_is_at_rest(
        spider, monkeypatch, caplog):
    crawl = spider._open(spider.waiting.pop())
    spider._starting.discard(crawl.key)
    spider._outgoing(crawl, Request("http://www.a.gov.cn/tzgg/", meta={SITE_META: "a_gov"}))
    monkeypatch.setattr(policy, "_engine_at_rest", lambda crawler: False)
    spider._find_leaks()
    assert "a_gov" in spider.crawls  # the engine still works: not a leak
    monkeypatch.setattr(policy, "_engine_at_rest", lambda crawler: True)
    with caplog.at_level(logging.WARNING, logger="crawlers.engine.spiders.policy"):
        spider._find_leaks()
    assert "a_gov" not in spider.crawls
    assert ["a_gov: 1 request(s) and 0 item(s) unaccounted for; the site's crawl is ended"] == \
        [r.getMessage() for r in caplog.records]


def test_sites_still_running_when_the_spider_closes_end_with_its_reason(spider):
    crawl = spider._open(spider.waiting.pop())
    spider._outgoing(crawl, Request("http://www.a.gov.cn/tzgg/", meta={SITE_META: "a_gov"}))
    spider._closed(spider, "shutdown")
    assert spider.reports["a_gov"].interrupted
    assert spider.heard[-1] == ("closed", "a_gov", "shutdown")


def test_a_spider_needs_its_sites_once_each():
    with pytest.raises(ValueError, match="needs a site"):
        PolicySpider(sites=[])
    with pytest.raises(ValueError, match="named twice"):
        PolicySpider(sites=[site("a_gov", "www.a.gov.cn"), site("a_gov", "www.a.gov.cn")])
    assert PolicySpider(site=site("a_gov", "www.a.gov.cn")).name == "policy:a_gov"
