"""The Hanweb 大汉 adapter: datastore column pages, the dataproxy.jsp feed, detail pages."""

from __future__ import annotations

from datetime import date

import pytest

from crawlers.families.hanweb import HanwebFamily, feed_params, feed_request
from crawlers.parsing.detail import ParseError
from crawlers.sites.spec import Column, Site

FAMILY = HanwebFamily()
GXT_FEED = "data/gxt.jiangsu.gov.cn_jpage_list_page{}.xml"


def make_site(url="https://gxt.jiangsu.gov.cn/col/col80179/index.html", params=None, max_pages=50):
    column = Column(name="政策文件", url=url, params=params if params is not None else
                    {"unitid": "403740", "webid": "23", "webname": "江苏省工业和信息化厅"},
                    max_pages=max_pages)
    site = Site(key="js_test", name="江苏省工业和信息化厅", division_code="320000", level="province",
                family="hanweb", domains=("gxt.jiangsu.gov.cn",), columns=(column,))
    return site, column


COLUMN_PAGE = """<html><head><meta charset="utf-8"><title>政策文件</title></head><body>
<div id="98765"><script type="text/xml"><datastore>
<nextgroup><![CDATA[<a href="/module/web/jpage/dataproxy.jsp?page=1&appid=1&webid=9&path=/&columnid=555&unitid=98765&webname=%25E6%25B5%258B%25E8%25AF%2595%25E7%25AB%2599&permissiontype=0"></a>]]></nextgroup>
<recordset>
<record><![CDATA[<li><a href="/art/2026/3/2/art_555_3.html" title="关于印发某某省元宇宙产业发展行动方案的通知">关于印发某某省元宇宙产业发展行...</a><span>2026-03-02</span></li>]]></record>
<record><![CDATA[<li><a href="/art/2026/2/9/art_555_2.html">某某省工业和信息化厅2026年工作要点</a></li>]]></record>
<record><![CDATA[<li><a href="http://www.elsewhere.cn/art/2026/1/1/art_1_1.html">外站转载的一篇文章标题</a><span>2026-01-01</span></li>]]></record>
<record><![CDATA[<li><a href="/art/2026/3/2/art_555_3.html" title="关于印发某某省元宇宙产业发展行动方案的通知">重复出现的同一条目</a><span>2026-03-02</span></li>]]></record>
</recordset></datastore></script></div>
<script>$('#98765').jpage({perPage: 2, totalRecord: 9, groupSize: 2, proxyUrl: '/module/web/jpage/dataproxy.jsp'});</script>
</body></html>"""


def test_column_page_entries_dates_titles_and_domains():
    site, column = make_site(url="https://gxt.jiangsu.gov.cn/col/col555/index.html", params={})
    parsed = FAMILY.parse_list(site, column, FAMILY.first_page(site, column), COLUMN_PAGE.encode())
    assert [(e.url, e.title, e.published_date) for e in parsed.entries] == [
        # the title attribute, since the visible text is cut short
        ("https://gxt.jiangsu.gov.cn/art/2026/3/2/art_555_3.html",
         "关于印发某某省元宇宙产业发展行动方案的通知", date(2026, 3, 2)),
        # no date beside the link: the one in the /art/ URL
        ("https://gxt.jiangsu.gov.cn/art/2026/2/9/art_555_2.html",
         "某某省工业和信息化厅2026年工作要点", date(2026, 2, 9)),
    ]  # the off-site link and the repeated entry are dropped
    assert parsed.total_pages == 5  # 9 records, 2 a page


def test_column_page_discovers_the_feed_params_and_asks_for_the_next_group():
    site, column = make_site(url="https://gxt.jiangsu.gov.cn/col/col555/index.html", params={})
    parsed = FAMILY.parse_list(site, column, FAMILY.first_page(site, column), COLUMN_PAGE.encode())
    (nxt,) = parsed.next_pages
    # 4 records on the page cover jpage pages 1-2; the next request covers pages 3-4
    assert nxt.url == ("https://gxt.jiangsu.gov.cn/module/web/jpage/dataproxy.jsp"
                       "?startrecord=5&endrecord=8&perpage=2")
    assert nxt.method == "POST" and nxt.page == 3
    assert dict(nxt.formdata) == {
        "col": "1", "appid": "1", "webid": "9", "path": "/", "columnid": "555",
        "sourceContentType": "1", "unitid": "98765", "webname": "测试站", "permissiontype": "0"}


def test_declared_params_win_over_the_page():
    _, column = make_site(url="https://gxt.jiangsu.gov.cn/col/col555/index.html",
                          params={"unitid": "1111", "sourceContentType": "3"})
    form = feed_params(column, COLUMN_PAGE)
    assert form["unitid"] == "1111" and form["sourceContentType"] == "3" and form["webid"] == "9"


def test_next_pages_respect_max_pages():
    site, column = make_site(url="https://gxt.jiangsu.gov.cn/col/col555/index.html", params={}, max_pages=2)
    parsed = FAMILY.parse_list(site, column, FAMILY.first_page(site, column), COLUMN_PAGE.encode())
    assert parsed.next_pages == []


def test_without_feed_params_the_first_page_still_parses():
    site, column = make_site(url="https://gxt.jiangsu.gov.cn/col/col555/index.html", params={})
    page = COLUMN_PAGE.replace('<div id="98765">', "<div>").replace("<nextgroup>", "<x>").replace("</nextgroup>", "</x>")
    parsed = FAMILY.parse_list(site, column, FAMILY.first_page(site, column), page.encode())
    assert len(parsed.entries) == 2 and parsed.next_pages == []


def test_a_feed_answer_without_datastore_is_a_parse_error():
    site, column = make_site()
    request = feed_request(column, column.url, feed_params(column), 4, 25, 3)
    with pytest.raises(ParseError) as err:
        FAMILY.parse_list(site, column, request, b"<html><body>Access denied</body></html>")
    assert err.value.reason == "not_a_list"


def test_column_page_without_datastore_falls_back_to_its_markup():
    site, column = make_site()
    page = """<html><body><ul class="list">
      <li><a href="/art/2026/5/6/art_80179_7.html">省工业和信息化厅关于某项工作的通知</a><span>2026-05-06</span></li>
      <li><a href="/art/2026/4/1/art_80179_6.html">省工业和信息化厅关于另一项工作的通知</a><span>2026-04-01</span></li>
    </ul></body></html>"""
    parsed = FAMILY.parse_list(site, column, FAMILY.first_page(site, column), page.encode())
    assert [e.published_date for e in parsed.entries] == [date(2026, 5, 6), date(2026, 4, 1)]


@pytest.mark.parametrize("number", [1, 2, 3])
def test_real_gxt_feed_pages(realpages, number):
    site, column = make_site()
    first_page = 1 + (number - 1) * 3
    request = feed_request(column, column.url, feed_params(column), first_page, 25, 3)
    parsed = FAMILY.parse_list(site, column, request, (realpages / GXT_FEED.format(number)).read_bytes())
    assert len(parsed.entries) == 76
    assert parsed.total_pages == 31
    (nxt,) = parsed.next_pages
    assert nxt.page == first_page + 3 and nxt.method == "POST"
    assert dict(nxt.formdata)["columnid"] == "80179"
    assert all(e.published_date for e in parsed.entries)


def test_real_gxt_feed_first_entries(realpages):
    site, column = make_site()
    request = feed_request(column, column.url, feed_params(column), 1, 25, 3)
    parsed = FAMILY.parse_list(site, column, request, (realpages / GXT_FEED.format(1)).read_bytes())
    first = parsed.entries[0]
    assert first.url == "https://gxt.jiangsu.gov.cn/art/2025/10/29/art_80179_11664839.html"
    assert first.title == "省政府办公厅印发关于进一步支持专精特新中小企业高质量发展若干政策措施的通知"
    assert first.published_date == date(2025, 10, 29)
    # a record whose visible text is cut short ("...的...") keeps its full title
    assert parsed.entries[5].title == "省工业和信息化厅关于印发《江苏省制造强省建设专项资金项目验收管理办法（试行）》的通知"


def test_feed_stops_at_the_last_page(realpages):
    site, column = make_site()
    request = feed_request(column, column.url, feed_params(column), 31, 25, 3)
    parsed = FAMILY.parse_list(site, column, request, (realpages / GXT_FEED.format(3)).read_bytes())
    assert parsed.next_pages == []


def test_real_jiangxi_detail_page(realpages):
    column = Column(name="政策文件", url="http://www.jiangxi.gov.cn/col/col4975/index.html")
    site = Site(key="jx_test", name="江西省人民政府", division_code="360000", level="province",
                family="hanweb", domains=("www.jiangxi.gov.cn",), columns=(column,))
    url = "http://www.jiangxi.gov.cn/art/2020/2/13/art_4975_1503934.html"
    body = (realpages / "html" / "www.jiangxi.gov.cn_detail_1.html").read_bytes()
    item = FAMILY.parse_detail(site, url, body)
    assert item.title == "江西省人民政府办公厅关于新时代推进普通高中育人方式改革的实施意见"
    assert item.doc_number == "赣府厅发〔2020〕4号"
    assert item.index_no == "014500815/2020-01655"
    assert item.written_date == date(2020, 2, 5)
    assert item.published_date == date(2020, 2, 13)
    assert "把握总体要求" in item.body_text
    for furniture in ("扫一扫", "打印本页", "关闭窗口"):
        assert furniture not in item.body_text


def test_real_zhejiang_detail_page(realpages):
    column = Column(name="投资运行", url="http://fgw.zj.gov.cn/col/col1621004/index.html")
    site = Site(key="zj_test", name="浙江省发展和改革委员会", division_code="330000", level="province",
                family="hanweb", domains=("fgw.zj.gov.cn",), columns=(column,))
    url = "http://fgw.zj.gov.cn/art/2016/11/22/art_1621004_30332664.html"
    item = FAMILY.parse_detail(site, url, (realpages / "html" / "fgw.zj.gov.cn_detail_1.html").read_bytes())
    assert item.title == "1-10月德清县固定资产投资结构趋稳趋优"
    assert item.published_date == date(2016, 11, 22)
    assert "固定资产投资完成246.79亿元" in item.body_text
    for furniture in ("版权所有", "浙ICP备", "分享到"):
        assert furniture not in item.body_text
