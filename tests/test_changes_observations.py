"""What a crawl observes for withdrawal detection (crawlers.engine.observations): which column walks
were complete, which pages answered, which were gone."""

from __future__ import annotations

from datetime import date

from crawlers.engine.observations import Observations
from crawlers.items import ListEntry


def entries(*days: int) -> list[ListEntry]:
    return [ListEntry(url=f"http://x.gov.cn/{d}.html", title=str(d), published_date=date(2026, 11, d))
            for d in days]


def test_a_column_read_to_its_last_page_is_complete():
    seen = Observations()
    seen.list_requested("政策文件")
    seen.list_requested("政策文件")  # page 2, asked for while page 1 is read
    seen.list_read("政策文件", 1, entries(20, 19), pages_left_out=False)
    assert seen.complete_columns == set()  # page 2 still open
    seen.list_read("政策文件", 2, entries(18, 17), pages_left_out=False)
    assert seen.complete_columns == {"政策文件"}
    assert seen.oldest["政策文件"] == date(2026, 11, 17)
    assert len(seen.listed["政策文件"]) == 4


def test_a_failed_page_a_page_limit_an_early_stop_or_a_missing_first_page_make_it_incomplete():
    seen = Observations()
    for column in ("blocked", "limited", "resumed", "empty"):
        seen.list_requested(column)
    seen.list_failed("blocked")
    seen.list_read("limited", 1, entries(20), pages_left_out=True)
    seen.list_read("resumed", 3, entries(10), pages_left_out=False)  # a backfill resumed at page 3
    seen.list_read("empty", 1, [], pages_left_out=False)
    assert seen.complete_columns == set()


def test_only_404_and_410_say_a_page_is_gone():
    seen = Observations()
    for status in (404, 410, 500, 503, 412, 403):
        seen.detail_failed(f"http://x.gov.cn/{status}.html", status)
    assert seen.gone == {"http://x.gov.cn/404.html": "http_404", "http://x.gov.cn/410.html": "http_410"}
    seen.detail_present("http://x.gov.cn/a.html", "", "http://x.gov.cn/b.html")
    assert seen.present == {"http://x.gov.cn/a.html", "http://x.gov.cn/b.html"}
