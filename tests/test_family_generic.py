"""Unknown portals: the main list is found by its shape; next pages by 下一页 or numbers."""

from __future__ import annotations

from datetime import date

import pytest

from crawlers.families import get_family
from crawlers.items import PageRequest
from crawlers.sites.spec import Column, Site

GENERIC = get_family("generic")


def make_site(url: str, domains: tuple[str, ...], max_pages: int = 50) -> Site:
    return Site(key="x", name="测试", division_code="360000", level="province", family="generic",
                domains=domains, columns=(Column(name="c", url=url, max_pages=max_pages),))


def parse(body: bytes, url: str, domains: tuple[str, ...], number: int = 1, max_pages: int = 50):
    site = make_site(url, domains, max_pages)
    return GENERIC.parse_list(site, site.columns[0], PageRequest(url=url, page=number), body, {})


PAGE = """<html><head><title>通知公告</title></head><body>
<div class="menu"><ul>
  <li><a href="/a/1.html">网站首页栏目导航</a><span>2024-01-01</span></li>
  <li><a href="/a/2.html">政务公开栏目导航</a><span>2024-01-01</span></li>
  <li><a href="/a/3.html">办事服务栏目导航</a><span>2024-01-01</span></li>
</ul></div>
<div class="zx"><table><tbody>
  <tr><td><a href="/art/2024/5/20/art_1_101.html">某某县关于开展元宇宙应用场景征集的通知</a></td><td>2024-05-20</td></tr>
  <tr><td><a href="/art/2024/5/18/art_1_100.html">某某县关于做好防汛抗旱工作的通知</a></td><td>2024-05-18</td></tr>
  <tr><td><a href="/art/2024/5/16/art_1_99.html">某某县关于公布行政许可事项清单的公告</a></td><td>2024/5/16</td></tr>
  <tr><td><a href="/art/2024/5/12/art_1_98.html">某某县关于2024年度项目申报的通知</a></td><td>2024年5月12日</td></tr>
</tbody></table></div>
<div class="xglj"><h3>相关链接</h3><ul>
  <li><a href="/art/2023/1/1/art_9_1.html">相关的一篇旧文章标题</a><span>2023-01-01</span></li>
  <li><a href="/art/2023/1/2/art_9_2.html">相关的另一篇旧文章</a><span>2023-01-02</span></li>
  <li><a href="/art/2023/1/3/art_9_3.html">相关的第三篇旧文章</a><span>2023-01-03</span></li>
  <li><a href="/art/2023/1/4/art_9_4.html">相关的第四篇旧文章</a><span>2023-01-04</span></li>
  <li><a href="/art/2023/1/5/art_9_5.html">相关的第五篇旧文章</a><span>2023-01-05</span></li>
</ul></div>
<div class="pagination">%s</div>
<div class="footer"><p>版权所有 某某县人民政府</p></div>
</body></html>"""


def test_main_list_not_menu_nor_related_links():
    parsed = parse((PAGE % '<a href="?page=2">下一页</a>').encode(), "http://www.xx.gov.cn/col/col1/index.html",
                   ("www.xx.gov.cn",))
    assert [e.title for e in parsed.entries] == [
        "某某县关于开展元宇宙应用场景征集的通知", "某某县关于做好防汛抗旱工作的通知",
        "某某县关于公布行政许可事项清单的公告", "某某县关于2024年度项目申报的通知"]
    assert [e.published_date for e in parsed.entries] == [
        date(2024, 5, 20), date(2024, 5, 18), date(2024, 5, 16), date(2024, 5, 12)]
    assert parsed.entries[0].url == "http://www.xx.gov.cn/art/2024/5/20/art_1_101.html"
    assert [(r.url, r.page) for r in parsed.next_pages] == [("http://www.xx.gov.cn/col/col1/index.html?page=2", 2)]


@pytest.mark.parametrize(("pager", "expected"), [
    ('<a href="index_1.html">1</a><a href="index_2.html">2</a><a href="index_3.html">3</a>', "index_2.html"),
    ('<a href="index_2.html">后一页</a>', "index_2.html"),
    ('<a href="index_2.html">&gt;</a>', "index_2.html"),
    ('<a href="javascript:void(0)">下一页</a>', None),
    ("", None),
])
def test_next_page_links(pager, expected):
    parsed = parse((PAGE % pager).encode(), "http://www.xx.gov.cn/col/col1/index.html", ("www.xx.gov.cn",))
    got = [r.url for r in parsed.next_pages]
    assert got == ([f"http://www.xx.gov.cn/col/col1/{expected}"] if expected else [])


def test_next_page_beyond_max_pages_is_dropped():
    parsed = parse((PAGE % '<a href="?page=2">下一页</a>').encode(), "http://www.xx.gov.cn/col/col1/index.html",
                   ("www.xx.gov.cn",), max_pages=1)
    assert parsed.next_pages == []


@pytest.mark.realpages
def test_real_jyt_gansu_list(realpages):
    url = "https://jyt.gansu.gov.cn/jyt/c110634/zwgklist.shtml"
    parsed = parse((realpages / "html" / "jyt.gansu.gov.cn_list_1.html").read_bytes(), url, ("jyt.gansu.gov.cn",))
    assert len(parsed.entries) == 20
    assert parsed.entries[0].published_date == date(2025, 11, 17)
    assert parsed.next_pages[0].url == "https://jyt.gansu.gov.cn/jyt/c110634/zwgklist_2.shtml"


@pytest.mark.realpages
def test_real_script_rendered_list_gives_no_false_entries(realpages):
    url = "https://sthjt.jiangxi.gov.cn/jxssthjt/col/col42150/index.html"
    parsed = parse((realpages / "html" / "sthjt.jiangxi.gov.cn_list_1.html").read_bytes(), url,
                   ("sthjt.jiangxi.gov.cn",))
    # The items are a JSON object in `var listData`: nothing in the markup is the list.
    assert parsed.entries == []


@pytest.mark.realpages
def test_real_site_search_results(realpages):
    url = "https://zmhd.jiujiang.gov.cn/irs-c-web/?code=183f883089d&searchWord=种植"
    parsed = parse((realpages / "html" / "zmhd.jiujiang.gov.cn_list_1.html").read_bytes(), url,
                   ("gov.cn", "jjzxyey.cn", "jjskx.com.cn"))
    assert len(parsed.entries) == 10
    assert parsed.entries[0].title == "棉花种植面积核实种植户公示"
    assert parsed.entries[0].published_date == date(2025, 11, 5)
    # The source link beside each title ("九江市中心幼儿园") is not the title.
    assert "种植趣味多" in [e.title for e in parsed.entries]
