"""www.gov.cn: the 最新政策 and 政策文件库 JSON feeds, static lists, detail pages."""

from __future__ import annotations

import json
from datetime import date

import pytest

from crawlers.families import get_family
from crawlers.families.govcn import library_page_url
from crawlers.items import PageRequest
from crawlers.parsing.detail import ParseError
from crawlers.sites.spec import Column, Site

GOVCN = get_family("govcn")
ZUIXIN = "https://www.gov.cn/zhengce/zuixin/ZUIXINZHENGCE.json"
LIBRARY = ("https://sousuo.www.gov.cn/search-gov/data?t=zhengcelibrary_gw&q=&sort=pubtime"
           "&searchfield=title&p=1&n=20")


def make_site(url: str, max_pages: int = 50) -> Site:
    return Site(key="g", name="中国政府网", division_code="100000", level="national", family="govcn",
                domains=("www.gov.cn", "sousuo.www.gov.cn"),
                columns=(Column(name="c", url=url, max_pages=max_pages),))


def parse(url: str, data, headers=None, max_pages: int = 50, number: int = 1):
    site = make_site(url, max_pages)
    body = data if isinstance(data, bytes) else json.dumps(data, ensure_ascii=False).encode("utf-8")
    return GOVCN.parse_list(site, site.columns[0], PageRequest(url=url, page=number), body, headers or {})


def test_zuixin_feed():
    feed = [
        {"TITLE": "国务院关于印发《某某行动纲要》的通知", "SUB_TITLE": "",
         "URL": "https://www.gov.cn/zhengce/content/202403/content_6938812.htm", "DOCRELPUBTIME": "2024-03-22"},
        {"TITLE": "国务院关于印发《某某行动纲要》的通知", "SUB_TITLE": "",
         "URL": "https://www.gov.cn/zhengce/content/202403/content_6938812.htm", "DOCRELPUBTIME": "2024-03-22"},
        {"TITLE": "外站转载", "URL": "https://www.example.com/a.htm", "DOCRELPUBTIME": "2024-03-21"},
        {"TITLE": "相对地址的文件", "URL": "../content/202403/content_6937905.htm", "DOCRELPUBTIME": "2024-03-15"},
    ]
    parsed = parse(ZUIXIN, feed, {"Content-Type": "application/json"})
    assert [(e.url, e.published_date) for e in parsed.entries] == [
        ("https://www.gov.cn/zhengce/content/202403/content_6938812.htm", date(2024, 3, 22)),
        ("https://www.gov.cn/zhengce/content/202403/content_6937905.htm", date(2024, 3, 15)),
    ]
    assert parsed.next_pages == []


def _library(rows, total, under_cat=False):
    block = {"totalCount": total, "listVO": rows}
    return {"code": 200, "searchVO": {"catMap": {"gongwen": block}} if under_cat else block}


ROW = {"title": "国务院办公厅关于<em>推进</em>公共数据资源开发利用试点工作的通知",
       "url": "https://www.gov.cn/zhengce/content/202403/content_6937905.htm", "pubtimeStr": "2024.03.15",
       "pcode": "国办函〔2024〕21号", "puborg": "国务院办公厅"}


@pytest.mark.parametrize("under_cat", [False, True])
def test_library_feed_entries_and_next_page(under_cat):
    parsed = parse(LIBRARY, _library([ROW], total=45, under_cat=under_cat))
    [entry] = parsed.entries
    assert entry.title == "国务院办公厅关于推进公共数据资源开发利用试点工作的通知"
    assert entry.published_date == date(2024, 3, 15)
    assert entry.extra == {"doc_number": "国办函〔2024〕21号", "issuer": "国务院办公厅"}
    assert [(r.url, r.page) for r in parsed.next_pages] == [(library_page_url(LIBRARY, 2), 2)]
    assert "p=2" in parsed.next_pages[0].url and "p=1" not in parsed.next_pages[0].url
    assert parsed.total_pages == 3


def test_library_last_page_and_max_pages():
    last = parse(library_page_url(LIBRARY, 3), _library([ROW], total=45), number=3)
    assert last.next_pages == []
    assert parse(LIBRARY, _library([ROW], total=45), max_pages=1).next_pages == []


@pytest.mark.parametrize("body", [b"{not json", b'{"code": 500, "msg": "error"}', b"  "])
def test_broken_feeds_are_not_lists(body):
    with pytest.raises(ParseError) as err:
        parse(LIBRARY, body, {"Content-Type": "application/json"})
    assert err.value.reason == "not_a_list"


def test_static_html_list_with_next_page():
    html = """<html><head><title>最新政策</title></head><body>
    <div class="header"><ul class="nav"><li><a href="https://www.gov.cn/yaowen/">要闻</a></li></ul></div>
    <div class="news_box"><div class="list list_1 list_2"><ul>
      <li><h4><a href="./202403/content_6938812.htm" target="_blank">国务院关于印发《某某行动纲要》的通知</a><span class="date">2024-03-22</span></h4></li>
      <li><h4><a href="./202403/content_6937905.htm" target="_blank">国务院办公厅关于推进试点工作的通知</a><span class="date">2024-03-15</span></h4></li>
      <li class="line"></li>
    </ul></div></div>
    <div class="page"><a href="home_1.htm">下一页</a></div></body></html>"""
    url = "https://www.gov.cn/zhengce/zuixin/home.htm"
    parsed = parse(url, html.encode("utf-8"), {"Content-Type": "text/html; charset=utf-8"})
    assert [e.url for e in parsed.entries] == [
        "https://www.gov.cn/zhengce/zuixin/202403/content_6938812.htm",
        "https://www.gov.cn/zhengce/zuixin/202403/content_6937905.htm",
    ]
    assert [(r.url, r.page) for r in parsed.next_pages] == [("https://www.gov.cn/zhengce/zuixin/home_1.htm", 2)]


@pytest.mark.realpages
def test_real_gongbao_detail(realpages):
    url = "https://www.gov.cn/gongbao/content/2007/content_711039.htm"
    site = make_site(ZUIXIN)
    item = GOVCN.parse_detail(site, url, (realpages / "html" / "www.gov.cn_detail_1.html").read_bytes(), {})
    assert item.title.startswith("全国人民代表大会常务委员会关于批准财政部发行特别国债")
    assert "第十届全国人民代表大会常务委员会第二十八次会议" in item.body_text
    assert "扫一扫" not in item.body_text and "相关稿件" not in item.body_text
