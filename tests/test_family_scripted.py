"""The scripted-list adapter: list data in script literals, with a rendered-DOM fallback."""

from __future__ import annotations

from datetime import date

import pytest

from crawlers.families.scripted import (
    JSLiteralError,
    ScriptedFamily,
    as_date,
    parse_js_literal,
    pick_title,
    script_literals,
)
from crawlers.items import PageRequest
from crawlers.sites.spec import Column, Site

FAMILY = ScriptedFamily()
STHJT = "https://sthjt.jiangxi.gov.cn/jxssthjt/col/col42150/index.html"


def make_site(params=None, url=STHJT, needs_browser=False, max_pages=50):
    column = Column(name="政策解读", url=url, params=params or {}, max_pages=max_pages)
    site = Site(key="sthjt_test", name="江西省生态环境厅", division_code="360000", level="province",
                family="scripted", domains=("sthjt.jiangxi.gov.cn",), columns=(column,),
                needs_browser=needs_browser)
    return site, column


def test_js_literals_beyond_json():
    text = """{ list: [ {'title': '关于\\'某\\'的通知', url: "/a.html", n: 0x1F, },  // comment
                /* block */ {title: "二", url: '/b.html', ok: true, none: undefined} ], }"""
    value, end = parse_js_literal(text)
    assert end == len(text)
    assert value == {"list": [{"title": "关于'某'的通知", "url": "/a.html", "n": 31},
                              {"title": "二", "url": "/b.html", "ok": True, "none": None}]}


def test_js_literal_with_code_is_refused():
    with pytest.raises(JSLiteralError):
        parse_js_literal("{a: foo(1)}")


def test_script_literals_skip_what_is_not_data():
    html = """<script>var a = {x: 1}; window.cfg = [1, 2]; var b = {y: getY()}; c = 3;</script>"""
    assert script_literals(html) == {"a": {"x": 1}, "cfg": [1, 2]}


def test_titles_and_dates():
    assert pick_title("关于印发某某方案...", "关于印发某某方案的通知") == "关于印发某某方案的通知"
    assert pick_title("关于印发某某方案的通知", "点击查看") == "关于印发某某方案的通知"
    assert as_date("2025-07-29 16:59") == date(2025, 7, 29)
    assert as_date(1651201543) == date(2022, 4, 29)
    assert as_date(1651161600000) == date(2022, 4, 29)  # milliseconds, midnight China time


PAGE = """<html><head><base href="https://sthjt.jiangxi.gov.cn/jxssthjt/"><script>
var pageInfo = {totalPage: 4, perPage: 2};
var docs = [
  {docTitle: '江西省某项生态环境政策的解读文章', link: 'col/col42150/content/content_1.html', time: 1751328000},
  {docTitle: '江西省另一项生态环境政策的通知', link: 'https://www.other.gov.cn/a.html', time: 1751328000},
  {docTitle: '江西省第三项生态环境工作的通知', link: '/jxssthjt/col/col42150/content/content_3.html', time: '2025-06-30'}
];
</script></head><body><div id="list"></div></body></html>"""


def test_records_found_without_declared_fields():
    site, column = make_site({"page_url": "index.html?pageNum={page}"})
    parsed = FAMILY.parse_list(site, column, PageRequest(url=STHJT), PAGE.encode())
    assert [(e.url, e.title, e.published_date) for e in parsed.entries] == [
        ("https://sthjt.jiangxi.gov.cn/jxssthjt/col/col42150/content/content_1.html",
         "江西省某项生态环境政策的解读文章", date(2025, 7, 1)),  # <base href>, epoch seconds
        ("https://sthjt.jiangxi.gov.cn/jxssthjt/col/col42150/content/content_3.html",
         "江西省第三项生态环境工作的通知", date(2025, 6, 30)),
    ]  # the off-site record is dropped
    assert parsed.total_pages == 4
    assert [(r.url, r.page) for r in parsed.next_pages] == [(STHJT + "?pageNum=2", 2)]


def test_pagination_stops_at_the_total_and_max_pages():
    site, column = make_site({"page_url": "index.html?pageNum={page}"})
    assert FAMILY.parse_list(site, column, PageRequest(url=STHJT, page=4), PAGE.encode()).next_pages == []
    site, column = make_site({"page_url": "index.html?pageNum={page}"}, max_pages=1)
    assert FAMILY.parse_list(site, column, PageRequest(url=STHJT), PAGE.encode()).next_pages == []


def test_rendered_dom_falls_back_to_the_markup():
    rendered = """<html><body><div id="380055"><ul class='List_list'>
      <li><a href='/jxssthjt/col/col42150/content/content_7.html' title='《江西省某办法》政策解读'>《江西省某办法》政策解读</a><span class='list_span'>2025-07-29</span></li>
      <li><a href='/jxssthjt/col/col42150/content/content_8.html' title='江西省某方案的通知'>江西省某方案的通知</a><span class='list_span'>2025-07-24</span></li>
    </ul></div></body></html>"""
    site, column = make_site({"var": "listData"})
    parsed = FAMILY.parse_list(site, column, PageRequest(url=STHJT, browser=True), rendered.encode())
    assert [(e.title, e.published_date) for e in parsed.entries] == [
        ("《江西省某办法》政策解读", date(2025, 7, 29)), ("江西省某方案的通知", date(2025, 7, 24))]


def test_a_browser_site_asks_for_the_browser():
    site, column = make_site(needs_browser=True)
    assert FAMILY.first_page(site, column).browser is True


def test_real_sthjt_list_page(realpages):
    body = (realpages / "html" / "sthjt.jiangxi.gov.cn_list_1.html").read_bytes()
    site, column = make_site({"var": "listData", "records": "articleList", "url": "urls.pc",
                              "page_url": "index.html?uid=380055&pageNum={page}",
                              "total": "channelsTagSelf.articleCount"})
    parsed = FAMILY.parse_list(site, column, PageRequest(url=STHJT), body)
    assert len(parsed.entries) == 50
    first = parsed.entries[0]
    assert first.title == "《江西省生态环境分类执法监管办法》政策解读"
    assert first.url == ("https://sthjt.jiangxi.gov.cn/jxssthjt/col/col42150/content/"
                         "content_1951206363677671424.html")
    assert first.published_date == date(2025, 7, 29)
    assert parsed.total_pages == 30  # articleCount 444, perPage 15
    assert [r.url for r in parsed.next_pages] == [STHJT + "?uid=380055&pageNum=2"]


def test_real_sthjt_list_page_found_without_params(realpages):
    body = (realpages / "html" / "sthjt.jiangxi.gov.cn_list_1.html").read_bytes()
    site, column = make_site()
    parsed = FAMILY.parse_list(site, column, PageRequest(url=STHJT), body)
    assert len(parsed.entries) == 50
    assert parsed.entries[-1].published_date == date(2022, 12, 16)
