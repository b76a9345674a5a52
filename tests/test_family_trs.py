"""TRS WCM list pages: entries, createPageHTML pagination in its forms, and error pages."""

from __future__ import annotations

from datetime import date

import pytest

from crawlers.families import get_family
from crawlers.families.listparse import page_script, script_page_url
from crawlers.items import PageRequest
from crawlers.parsing.detail import ParseError
from crawlers.sites.spec import Column, Site

TRS = get_family("trs")


def make_site(url: str, domains: tuple[str, ...], max_pages: int = 50) -> Site:
    return Site(key="t", name="测试", division_code="140000", level="province", family="trs",
                domains=domains, columns=(Column(name="列表", url=url, max_pages=max_pages),))


def parse(html: str, url: str = "http://www.example.gov.cn/zw/index.html", page: int = 1,
          domains=("www.example.gov.cn",), max_pages: int = 50):
    site = make_site(url, domains, max_pages)
    return TRS.parse_list(site, site.columns[0], PageRequest(url=url, page=page), html.encode("utf-8"), {})


LIST = """<html><head><title>政策文件</title></head><body>
<div class="nav"><a href="/">首页</a><a href="/zw/">政务</a></div>
<ul class="list">
  <li><a href="./202405/t20240520_101.html" title="关于印发某某市元宇宙产业发展三年行动方案的通知">关于印发某某市元宇宙产业发展三年...</a><span>2024-05-20</span></li>
  <li><a href="./202405/t20240511_100.html">关于做好2024年安全生产工作的通知</a><span>2024年5月11日</span></li>
  <li><a href="./202405/t20240511_100.html">关于做好2024年安全生产工作的通知</a><span>2024-05-11</span></li>
  <li><a href="http://www.other.gov.cn/art/1.html">外站链接的文件标题</a><span>2024-05-09</span></li>
  <li><a href="javascript:void(0)">无效链接的标题文字</a><span>2024-05-08</span></li>
</ul>
<script>var countPage = 3; var currentPage = 0;
createPageHTML(countPage, currentPage, "index", "html");</script>
</body></html>"""


def test_entries_titles_dates_and_next_page():
    parsed = parse(LIST)
    assert [(e.url, e.title, e.published_date) for e in parsed.entries] == [
        ("http://www.example.gov.cn/zw/202405/t20240520_101.html",
         "关于印发某某市元宇宙产业发展三年行动方案的通知", date(2024, 5, 20)),
        ("http://www.example.gov.cn/zw/202405/t20240511_100.html",
         "关于做好2024年安全生产工作的通知", date(2024, 5, 11)),
    ]
    assert [(r.url, r.page) for r in parsed.next_pages] == [("http://www.example.gov.cn/zw/index_1.html", 2)]
    assert parsed.total_pages == 3


def test_second_page_points_at_index_2_and_last_page_has_no_next():
    second = LIST.replace("currentPage = 0", "currentPage = 1")
    parsed = parse(second, url="http://www.example.gov.cn/zw/index_1.html", page=2)
    assert [(r.url, r.page) for r in parsed.next_pages] == [("http://www.example.gov.cn/zw/index_2.html", 3)]
    last = LIST.replace("currentPage = 0", "currentPage = 2")
    assert parse(last, url="http://www.example.gov.cn/zw/index_2.html", page=3).next_pages == []


def test_next_pages_stay_within_max_pages():
    assert parse(LIST, max_pages=1).next_pages == []


def test_base_href_is_honoured():
    html = LIST.replace("<head>", '<head><base href="http://www.example.gov.cn/xxgk/">')
    assert parse(html).entries[0].url == "http://www.example.gov.cn/xxgk/202405/t20240520_101.html"


@pytest.mark.parametrize(("call", "count", "current", "name_2"), [
    ('createPageHTML(9, 0, "index", "html");', 9, 1, "index_1.html"),
    ("createPageHTML(3, 1, 'index', 'shtml');", 3, 2, "index_1.shtml"),
    ("createPageHTML('page_div',12,1,'index','shtml',230);", 12, 1, "index_2.shtml"),
    ("createPageHTML('page_div',5, 2,'fg','shtml');", 5, 2, "fg_2.shtml"),
    ('createPageHTML(7, 0, "index", "htm", 140);', 7, 1, "index_1.htm"),
])
def test_page_script_forms(call, count, current, name_2):
    script = page_script(f"<script>{call}</script>")
    assert (script.count, script.current) == (count, current)
    assert script_page_url("http://x.gov.cn/a/index.html", script, 2) == f"http://x.gov.cn/a/{name_2}"
    assert script_page_url("http://x.gov.cn/a/index.html", script, 1).endswith(f"/a/{script.prefix}.{script.ext}")


def test_page_script_ignores_the_function_definition_and_unknown_variables():
    html = ("<script>function createPageHTML(_nPageCount,_nCurrIndex,_sPageName,_sPageExt){}</script>"
            "<script>createPageHTML(pages, cur, 'index', 'html');</script>")
    assert page_script(html) is None


@pytest.mark.parametrize("body", [
    b"",
    "<html><head><title>404 Not Found</title></head><body><h1>404</h1><a href='/'>返回</a></body></html>".encode(),
    "<html><head><title>页面不存在</title></head><body><a href='/'>首页</a></body></html>".encode(),
    "<html><body><script>var $_ts={};</script></body></html>".encode(),
])
def test_error_pages_are_not_lists(body):
    site = make_site("http://www.example.gov.cn/zw/index.html", ("www.example.gov.cn",))
    with pytest.raises(ParseError) as err:
        TRS.parse_list(site, site.columns[0], PageRequest(url=site.columns[0].url), body, {})
    assert err.value.reason == "not_a_list"


def test_gbk_page_declared_only_in_meta():
    html = LIST.replace("<head>", '<head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">')
    site = make_site("http://www.example.gov.cn/zw/index.html", ("www.example.gov.cn",))
    parsed = TRS.parse_list(site, site.columns[0], PageRequest(url=site.columns[0].url), html.encode("gbk"), {})
    assert parsed.entries[1].title == "关于做好2024年安全生产工作的通知"


@pytest.mark.realpages
def test_real_jyt_gansu_list(realpages):
    body = (realpages / "html" / "jyt.gansu.gov.cn_list_1.html").read_bytes()
    url = "https://jyt.gansu.gov.cn/jyt/c110634/zwgklist.shtml"
    site = make_site(url, ("jyt.gansu.gov.cn",))
    parsed = TRS.parse_list(site, site.columns[0], PageRequest(url=url), body, {})
    # The 20 items sit inside an HTML comment on the real page.
    assert len(parsed.entries) == 20
    first = parsed.entries[0]
    assert first.title == "关于开展2024年全域全员全过程使用智慧教育平台专项研究课题结项工作的通知"
    assert first.url == "https://jyt.gansu.gov.cn/jyt/c110634/202511/174240943.shtml"
    assert first.published_date == date(2025, 11, 17)
    assert parsed.entries[-1].published_date == date(2025, 6, 9)
    assert all(e.published_date for e in parsed.entries)
    assert [(r.url, r.page) for r in parsed.next_pages] == [
        ("https://jyt.gansu.gov.cn/jyt/c110634/zwgklist_2.shtml", 2)]
    assert parsed.total_pages == 10


@pytest.mark.realpages
@pytest.mark.parametrize(("name", "url", "title", "in_body"), [
    ("www.shanxi.gov.cn_detail_1.html", "http://www.shanxi.gov.cn/yw/sxyw/201909/t20190918_693227.shtml",
     "山西品牌丝路行（南美站）正式启动", "圣保罗"),
    ("www.cmse.gov.cn_detail_1.html", "http://www.cmse.gov.cn/ztbd/xwfbh/201206/t20120624_43188.html",
     "天宫一号与神舟九号载人交会对接任务第二场新闻发布会", "组合体运行正常"),
])
def test_real_trs_detail_pages(realpages, name, url, title, in_body):
    site = make_site(url, ("shanxi.gov.cn", "cmse.gov.cn"))
    item = TRS.parse_detail(site, url, (realpages / "html" / name).read_bytes(), {})
    assert item.title == title
    assert in_body in item.body_text
    assert "扫一扫" not in item.body_text and "晋ICP备" not in item.body_text
