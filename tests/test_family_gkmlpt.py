"""The Guangdong gkmlpt adapter: the JSON list API and the post_ID.html content pages."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from crawlers.families.gkmlpt import GkmlptFamily, api_url
from crawlers.items import PageRequest
from crawlers.parsing.detail import ParseError
from crawlers.sites.spec import Column, Site

DATA = Path(__file__).parent / "data" / "gkmlpt"
FAMILY = GkmlptFamily()


def make_site(**column_args) -> tuple[Site, Column]:
    column = Column(name="政策文件", **{"url": "http://www.example-gd.gov.cn/gkmlpt/policy",
                                      "params": {"sid": "200099", "category": 2791, "per_page": 3},
                                      **column_args})
    site = Site(key="gd_example", name="某区人民政府", division_code="440100", level="county",
                family="gkmlpt", domains=("www.example-gd.gov.cn",), columns=(column,))
    return site, column


def test_first_page_is_the_api_of_the_column_category():
    site, column = make_site()
    request = FAMILY.first_page(site, column)
    assert request.url == "http://www.example-gd.gov.cn/gkmlpt/api/all/2791?page=1&sid=200099"
    assert request.method == "GET" and request.page == 1


def test_api_url_keeps_a_portal_path_prefix_and_an_api_column_url():
    _, column = make_site(url="http://www.example-gd.gov.cn/qkjj/gkmlpt/index")
    assert api_url(column, 2) == "http://www.example-gd.gov.cn/qkjj/gkmlpt/api/all/2791?page=2&sid=200099"
    _, column = make_site(url="http://www.example-gd.gov.cn/gkmlpt/api/all/5?page=1&sid=2", params={})
    assert api_url(column, 3) == "http://www.example-gd.gov.cn/gkmlpt/api/all/5?page=3&sid=2"


def test_a_column_without_sid_is_a_clear_error():
    site, column = make_site(params={"category": 1})
    with pytest.raises(ValueError, match="sid"):
        FAMILY.first_page(site, column)


def test_list_entries_carry_the_feed_metadata():
    site, column = make_site()
    request = FAMILY.first_page(site, column)
    parsed = FAMILY.parse_list(site, column, request, (DATA / "list_1.json").read_bytes())
    urls = [e.url for e in parsed.entries]
    assert urls == [
        "http://www.example-gd.gov.cn/gkmlpt/content/4/4712/post_4712031.html",
        "http://www.example-gd.gov.cn/gkmlpt/content/4/4712/post_4698805.html",
        "http://www.example-gd.gov.cn/gkmlpt/content/4/4650/post_4650117.html",
    ]  # the article hosted on www.gd.gov.cn is off the site's domains
    first = parsed.entries[0]
    assert first.title == "广州市某区促进元宇宙产业集聚发展若干措施"
    assert first.published_date == date(2026, 9, 8)  # epoch seconds, China time
    assert first.extra["doc_number"] == "穗某府规〔2026〕3号"
    assert first.extra["index_no"] == "11440100MB2C00000X/2026-00318"
    assert first.extra["written_date"] == date(2026, 9, 1)
    assert first.extra["issuer"] == "某区人民政府"
    assert "doc_number" not in parsed.entries[1].extra  # an empty 文号 is no 文号
    # no first_publish_time: the displayed publish time is used
    assert parsed.entries[2].published_date == date(2026, 4, 2)


def test_pages_follow_until_the_total_is_covered():
    site, column = make_site()
    body = (DATA / "list_1.json").read_bytes()
    parsed = FAMILY.parse_list(site, column, FAMILY.first_page(site, column), body)
    assert parsed.total_pages == 3  # 7 articles, 3 a page
    assert [r.url for r in parsed.next_pages] == [
        "http://www.example-gd.gov.cn/gkmlpt/api/all/2791?page=2&sid=200099"]
    last = PageRequest(url=api_url(column, 3), page=3)
    assert FAMILY.parse_list(site, column, last, body).next_pages == []


def test_pages_stop_at_max_pages_and_at_an_empty_page():
    site, column = make_site(max_pages=1)
    body = (DATA / "list_1.json").read_bytes()
    assert FAMILY.parse_list(site, column, FAMILY.first_page(site, column), body).next_pages == []
    site, column = make_site()
    empty = json.dumps({"articles": [], "total": 7}).encode()
    assert FAMILY.parse_list(site, column, FAMILY.first_page(site, column), empty).next_pages == []


@pytest.mark.parametrize("body", [b"<html><body>403 Forbidden</body></html>", b"", b'{"error": "x"}'])
def test_an_answer_that_is_not_the_api_is_a_parse_error(body):
    site, column = make_site()
    with pytest.raises(ParseError) as err:
        FAMILY.parse_list(site, column, FAMILY.first_page(site, column), body)
    assert err.value.reason == "not_a_list"


def test_content_page_metadata_table_and_body():
    site, _ = make_site()
    url = "http://www.example-gd.gov.cn/gkmlpt/content/4/4712/post_4712031.html"
    item = FAMILY.parse_detail(site, url, (DATA / "post_4712031.html").read_bytes(),
                               {"Content-Type": "text/html; charset=utf-8"})
    assert item.title == "广州市某区促进元宇宙产业集聚发展若干措施"
    assert item.doc_number == "穗某府规〔2026〕3号"
    assert item.index_no == "11440100MB2C00000X/2026-00318"
    assert item.written_date == date(2026, 9, 1)
    assert item.published_date == date(2026, 9, 8)
    assert "第五条" in item.body_text and "元宇宙技术研发中心" in item.body_text
    for furniture in ("分享到", "版权所有", "粤ICP备", "相关文件"):
        assert furniture not in item.body_text
    assert [a.url for a in item.attachments] == [
        "http://www.example-gd.gov.cn/attachment/0/90/90112/4712031.pdf"]
