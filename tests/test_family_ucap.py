"""Ucap/开普云 list pages (list.shtml, list_2.shtml...) and detail pages."""

from __future__ import annotations

from datetime import date

import pytest

from crawlers.families import get_family
from crawlers.items import PageRequest
from crawlers.sites.spec import Column, Site

UCAP = get_family("ucap")
COLUMN_URL = "https://fzgg.example.gov.cn/fzgg/tzgg/list.shtml"


def make_site(max_pages: int = 50) -> Site:
    return Site(key="u", name="测试", division_code="620000", level="province", family="ucap",
                domains=("fzgg.example.gov.cn",), columns=(Column(name="通知公告", url=COLUMN_URL, max_pages=max_pages),))


def page(items: str, count: int, current: int) -> bytes:
    return f"""<html><head><meta charset="UTF-8"><title>通知公告</title></head><body>
<div class="nav"><ul><li><a href="/fzgg/index.shtml">首页</a></li><li><a href="/fzgg/tzgg/list.shtml">通知公告</a></li></ul></div>
<div class="xxgk_list_right"><ul class="list">{items}</ul>
<div class="page"><div id="page_div"></div>
<script>createPageHTML('page_div',{count}, {current},'list','shtml',{count * 2});</script></div></div>
<div class="footer"><p>版权所有：测试单位</p><ul><li><a href="/fzgg/c1/wzdt.shtml">网站地图</a><span>2024-01-01</span></li></ul></div>
</body></html>""".encode("utf-8")


ITEMS = """
<li><a href="/fzgg/tzgg/202510/174250311.shtml" target="_blank" title="关于开展2025年度省级服务业发展专项资金项目申报工作的通知">关于开展2025年度省级服务业发展专项资金项目申报工作的通…</a><span>2025-10-20</span></li>
<li><a href="/fzgg/tzgg/202510/174245020.shtml" target="_blank" title="关于电动汽车充电服务收费有关事项的通知">关于电动汽车充电服务收费有关事项的通知</a><span>2025-10-11</span></li>
"""


def parse(body: bytes, url: str = COLUMN_URL, number: int = 1, max_pages: int = 50):
    site = make_site(max_pages)
    return UCAP.parse_list(site, site.columns[0], PageRequest(url=url, page=number), body, {})


def test_list_entries_and_list_2():
    parsed = parse(page(ITEMS, count=3, current=1))
    assert [(e.url, e.title, e.published_date) for e in parsed.entries] == [
        ("https://fzgg.example.gov.cn/fzgg/tzgg/202510/174250311.shtml",
         "关于开展2025年度省级服务业发展专项资金项目申报工作的通知", date(2025, 10, 20)),
        ("https://fzgg.example.gov.cn/fzgg/tzgg/202510/174245020.shtml",
         "关于电动汽车充电服务收费有关事项的通知", date(2025, 10, 11)),
    ]
    assert [(r.url, r.page) for r in parsed.next_pages] == [("https://fzgg.example.gov.cn/fzgg/tzgg/list_2.shtml", 2)]
    assert parsed.total_pages == 3


def test_middle_and_last_pages():
    middle = parse(page(ITEMS, count=3, current=2), url=COLUMN_URL.replace("list.shtml", "list_2.shtml"), number=2)
    assert [r.url for r in middle.next_pages] == ["https://fzgg.example.gov.cn/fzgg/tzgg/list_3.shtml"]
    last = parse(page(ITEMS, count=3, current=3), url=COLUMN_URL.replace("list.shtml", "list_3.shtml"), number=3)
    assert last.next_pages == []
    assert parse(page(ITEMS, count=3, current=1), max_pages=1).next_pages == []


def test_an_empty_column_is_an_empty_list_not_an_error():
    parsed = parse(page("", count=1, current=1))
    assert parsed.entries == [] and parsed.next_pages == []


@pytest.mark.realpages
def test_real_fzgg_detail_text_is_in_the_pdf(realpages):
    url = "https://fzgg.gansu.gov.cn/fzgg/tzgg/202503/174084153.shtml"
    site = make_site()
    item = UCAP.parse_detail(site, url, (realpages / "html" / "fzgg.gansu.gov.cn_detail_1.html").read_bytes(), {})
    assert item.title == "甘肃省发展和改革委员会等部门关于印发《甘肃省关于加力支持工业企业设备更新的若干措施》的通知"
    assert item.published_date == date(2025, 2, 26)
    assert [a.url for a in item.attachments] == [
        "https://fzgg.gansu.gov.cn/fzgg/tzgg/202503/174084153/files/5e0f97363d1d413c968a35078e0a7fcf.pdf"]
    for furniture in ("扫一扫", "相关链接", "分享", "字号"):
        assert furniture not in item.body_text


@pytest.mark.realpages
def test_real_wanzai_detail(realpages):
    url = "http://www.wanzai.gov.cn/wzxrmzf/tjsja/202305/7215380191c5400397df5d7d0b5fd06b.shtml"
    site = make_site()
    item = UCAP.parse_detail(site, url, (realpages / "html" / "www.wanzai.gov.cn_detail_1.html").read_bytes(), {})
    assert item.title == "万载县2022年国民经济和社会发展统计公报"
    assert item.index_no == "014742224A/2023-0043406"
    assert "全年实现生产总值" in item.body_text
    assert "关联稿件" not in item.body_text and "访问量" not in item.body_text
