"""parse_detail_page on real government pages (../shared/realpages; skipped when absent).

Expected values were read off the pages by hand. Each page is parsed twice: with the rules a
family adapter would pass, and with DetailRules() (the no-selector path).
"""

from __future__ import annotations

import json
from datetime import date

import pytest

from crawlers.parsing.attachments import file_extension
from crawlers.parsing.blocks import detect_block
from crawlers.parsing.detail import DetailRules, parse_detail_page

pytestmark = pytest.mark.realpages

HANWEB = DetailRules(title=(".sp_title", ".con-title"), content=("#zoom",),
                     metadata=(".xxgkTitle",))
TRS = DetailRules(content=(".TRS_Editor",))
UCAP = DetailRules(title=("h1.article-title", "h1"), content=(".detailContent", "#zoomcon"),
                   metadata=(".meta-data",))
GOVCN = DetailRules(content=("#UCAP-CONTENT",), metadata=("table.bd1",))

# Footer, navigation and widget strings that must never be body text.
FURNITURE = ("版权所有", "网站标识码", "ICP备", "主办单位", "当前位置", "扫一扫", "相关链接",
             "相关稿件", "相关解读", "打印本页", "关闭窗口", "分享到", "浏览次数", "网站地图",
             "责任编辑", "字号：", "公网安备")

PAGES = {
    "www.jiangxi.gov.cn_detail_1.html": dict(
        url="http://www.jiangxi.gov.cn/art/2020/2/13/art_4975_1503934.html", rules=HANWEB,
        title="江西省人民政府办公厅关于新时代推进普通高中育人方式改革的实施意见",
        doc_number="赣府厅发〔2020〕4号", index_no="014500815/2020-01655", issuer="省政府办公厅",
        topic="科技、教育", written_date=date(2020, 2, 5), published_date=date(2020, 2, 13),
        first="各市、县(区)人民政府，省政府各部门：", last="（此件主动公开）", attachments=[],
    ),
    "www.jiangxi.gov.cn_detail_2.html": dict(
        url="http://www.jiangxi.gov.cn/art/2020/2/26/art_4975_1510362.html", rules=HANWEB,
        title="江西省人民政府办公厅关于促进3岁以下婴幼儿照护服务发展的实施意见",
        doc_number="赣府厅发〔2020〕6号", index_no="014500815/2020-02346", issuer="省政府办公厅",
        topic="卫健、体育", written_date=date(2020, 2, 21), published_date=date(2020, 2, 26),
        first="各市、县（区）人民政府，省政府各部门：",
        last="省计划生育协会负责参与婴幼儿照护服务的宣传教育和社会监督。", attachments=[],
    ),
    "www.jiangxi.gov.cn_detail_3.html": dict(
        url="http://www.jiangxi.gov.cn/art/2020/3/6/art_4975_1533696.html", rules=HANWEB,
        title="江西省人民政府办公厅关于加快发展流通促进商业消费的实施意见",
        doc_number="赣府厅发〔2020〕7号", index_no="014500815/2020-02974", issuer="省政府办公厅",
        topic="商贸、海关", written_date=date(2020, 2, 28), published_date=date(2020, 3, 6),
        first="各市、县（区）人民政府，省政府各部门：", last="（此件主动公开）", attachments=[],
    ),
    "www.jiangxi.gov.cn_detail_4.html": dict(
        url="http://www.jiangxi.gov.cn/art/2020/3/12/art_4975_1568494.html", rules=HANWEB,
        title="江西省人民政府关于推进全省国家级开发区创新提升打造改革开放新高地的若干意见",
        doc_number="赣府发〔2020〕8号", index_no="014500815/2020-03432", issuer="江西省人民政府",
        topic="国民经济管理、国有资产监管", written_date=date(2020, 3, 6),
        published_date=date(2020, 3, 12),
        first="各市、县（区）人民政府，省政府各部门：", last="（此件主动公开）", attachments=[],
    ),
    "www.jiangxi.gov.cn_detail_9.html": dict(
        url="http://www.jiangxi.gov.cn/art/2020/3/3/art_4980_1515143.html", rules=HANWEB,
        title="江西省人民政府关于袁红林等同志任职的通知", doc_number="赣府字〔2020〕8号",
        index_no="014500815/2020-02781", issuer="江西省人民政府", topic="劳动、人事、监察",
        written_date=date(2020, 2, 27), published_date=date(2020, 3, 3),
        first="各市、县（区）人民政府，省政府各部门：", last="（此件主动公开）", attachments=[],
    ),
    "www.jiangxi.gov.cn_detail_10.html": dict(
        url="http://www.jiangxi.gov.cn/art/2020/2/26/art_18830_1514486.html", rules=HANWEB,
        title="江西省市场监督管理局食品安全监督抽检信息通告（2020年第10期）",
        doc_number=None,  # the table says 文号: 无
        index_no="014501068/2020-02729", issuer="江西省市场监督管理局", topic="市场监管、安全生产监管",
        written_date=date(2020, 2, 26), published_date=date(2020, 2, 26),
        first="近期，江西省市场监督管理局组织食品安全监督抽检肉制品", last="2020年2月26日",
        attachments=["本次检验项目.doc", "肉制品监督抽检产品合格信息.xlsx", "粮食加工品监督抽检产品合格信息.xlsx"],
    ),
    "fgw.zj.gov.cn_detail_1.html": dict(
        url="http://fgw.zj.gov.cn/art/2016/11/22/art_1621004_30332664.html", rules=HANWEB,
        title="1-10月德清县固定资产投资结构趋稳趋优", doc_number=None, index_no=None,
        issuer="省发改委", topic=None, written_date=None, published_date=date(2016, 11, 22),
        first="1-10月，全县固定资产投资完成246.79亿元", last="总体全县投资结构趋稳趋优。（德清县发改局）",
        attachments=[],
    ),
    "www.shanxi.gov.cn_detail_1.html": dict(
        url="http://www.shanxi.gov.cn/yw/sxyw/201909/t20190918_693227.shtml", rules=TRS,
        title="山西品牌丝路行（南美站）正式启动", doc_number=None, index_no=None, issuer="山西日报",
        topic=None, written_date=None, published_date=date(2019, 9, 18),
        first="跨越千山万水，行程近两万公里", last="南美站活动将先后在巴西、乌拉圭、阿根廷举行。（张巨峰）",
        attachments=[],
    ),
    "www.cmse.gov.cn_detail_1.html": dict(
        url="http://www.cmse.gov.cn/ztbd/xwfbh/201206/t20120624_43188.html", rules=TRS,
        title="天宫一号与神舟九号载人交会对接任务第二场新闻发布会", doc_number=None, index_no=None,
        issuer=None, topic=None, written_date=None, published_date=date(2012, 6, 24),
        first="女士们、先生们：", last="上面介绍的是关于这次任务的有关情况。下面，我愿意回答大家的提问。",
        attachments=[],
    ),
    "www.gov.cn_detail_1.html": dict(
        url="https://www.gov.cn/gongbao/content/2007/content_711039.htm", rules=GOVCN,
        title="全国人民代表大会常务委员会关于批准财政部发行特别国债购买外汇及调整2007年末国债余额限额的决议",
        doc_number=None, index_no=None, issuer=None, topic=None, written_date=None,
        published_date=date(2007, 8, 20),  # <meta name="firstpublishedtime">
        first="第十届全国人民代表大会常务委员会第二十八次会议，听取了财政部部长金人庆",
        last="批准2007年末国债余额限额调整为53365.53亿元。", attachments=[],
    ),
    "www.wanzai.gov.cn_detail_1.html": dict(
        url="http://www.wanzai.gov.cn/wzxrmzf/tjsja/202305/7215380191c5400397df5d7d0b5fd06b.shtml",
        rules=UCAP, title="万载县2022年国民经济和社会发展统计公报", doc_number=None,
        index_no="014742224A/2023-0043406", issuer="万载县统计局", topic=None,
        written_date=date(2023, 5, 11),  # 生成日期
        published_date=date(2023, 8, 16),  # <meta PubDate>; the page shows no date of its own
        first="2022年，万载全县上下坚持以习近平新时代中国特色社会主义思想为指导",
        last="其他数据来自县统计局和国家统计局万载调查队。", attachments=[],
    ),
    "fzgg.gansu.gov.cn_detail_1.html": dict(
        url="https://fzgg.gansu.gov.cn/fzgg/tzgg/202503/174084153.shtml", rules=UCAP,
        title="甘肃省发展和改革委员会等部门关于印发《甘肃省关于加力支持工业企业设备更新的若干措施》的通知",
        doc_number=None, index_no=None, issuer="产业处", topic=None,
        written_date=date(2025, 2, 25),  # the date under the issuers' names
        published_date=date(2025, 2, 26),  # 日期：line; <meta PubDate> is the regeneration time
        first="各市、自治州人民政府、兰州新区管委会，省直有关单位，中央在甘有关单位：",
        last="2025年2月25日", attachments=["《甘肃省关于加力支持工业企业设备更新的若干措施》"],
    ),
}


def _parse(realpages, name, rules):
    spec = PAGES[name]
    body = (realpages / "html" / name).read_bytes()
    return parse_detail_page(spec["url"], body, {"Content-Type": "text/html"}, site="real",
                             rules=rules)


@pytest.mark.parametrize("name", sorted(PAGES))
@pytest.mark.parametrize("with_rules", [True, False], ids=["family_rules", "no_rules"])
def test_real_detail_page(realpages, name, with_rules):
    spec = PAGES[name]
    item = _parse(realpages, name, spec["rules"] if with_rules else DetailRules())
    for key in ("title", "doc_number", "index_no", "issuer", "topic", "written_date",
                "published_date"):
        assert getattr(item, key) == spec[key], key
    lines = item.body_text.split("\n")
    # The first paragraph, after at most the centred title lines some portals repeat.
    assert any(spec["first"] in line for line in lines[:6]), lines[:6]
    assert spec["last"] in lines[-1]
    for junk in FURNITURE:
        assert junk not in item.body_text, junk
    assert [a.name for a in item.attachments] == spec["attachments"]
    assert item.raw_body == (realpages / "html" / name).read_bytes()
    assert item.raw_encoding == "utf-8"


def test_jiangxi_json_form_and_provenance(realpages):
    item = _parse(realpages, "www.jiangxi.gov.cn_detail_1.html", HANWEB)
    data = item.to_json()
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data
    assert data["written_date"] == "2020-02-05" and data["published_date"] == "2020-02-13"
    assert data["doc_number"] == "赣府厅发〔2020〕4号"
    assert item.provenance["doc_number"] == "table"
    assert item.provenance["published_date"] == "meta"
    assert item.text_source == "page"
    # The metadata table is not body text.
    assert "索引号" not in item.body_text.replace(" ", "")


def test_fzgg_cover_note_waits_for_its_pdf(realpages):
    item = _parse(realpages, "fzgg.gansu.gov.cn_detail_1.html", UCAP)
    assert item.text_source == "attachment_pending"
    assert [a.url for a in item.attachments] == [
        "https://fzgg.gansu.gov.cn/fzgg/tzgg/202503/174084153/files/5e0f97363d1d413c968a35078e0a7fcf.pdf"
    ]
    assert item.provenance["written_date"] == "body"


def test_hanweb_download_links_are_absolute(realpages):
    item = _parse(realpages, "www.jiangxi.gov.cn_detail_10.html", HANWEB)
    assert item.attachments[0].url.startswith("http://www.jiangxi.gov.cn/module/download/downfile.jsp?")
    assert [file_extension(a.url, a.name) for a in item.attachments] == ["doc", "xlsx", "xlsx"]


def test_nea_metadata_table_and_doc_number_in_body(realpages):
    """nea.gov.cn keeps table1 (公开事项名称/索引号/主办单位/制发日期) above the body, and the
    文号 only as the body's second line."""
    records = json.loads((realpages / "data" / "www.nea.gov.cn_policy_37.json").read_text("utf-8"))
    record = next(r for r in records if 'class="table1"' in r["body_html"] and "〔" in r["body_html"])
    html = ("<html><head><title>x</title></head><body>" + record["body_html"] + "</body></html>")
    item = parse_detail_page(record["url"], html.encode("utf-8"), {}, site="nea",
                             rules=DetailRules(content=("#detailContent",)))
    assert item.title == record["title"]
    assert item.provenance["title"] == "table"
    assert item.index_no and item.index_no.startswith("000019705/")
    assert item.issuer == "国家能源局"
    assert item.written_date is not None and item.provenance["written_date"] == "table"
    assert item.doc_number and "〔" in item.doc_number and item.provenance["doc_number"] == "body"
    assert item.doc_number in record["body_html"]
    assert "公开事项名称" not in item.body_text


@pytest.mark.parametrize("name", sorted(PAGES) + ["jyt.gansu.gov.cn_list_1.html",
                                                   "sthjt.jiangxi.gov.cn_list_1.html",
                                                   "zmhd.jiujiang.gov.cn_list_1.html"])
def test_real_pages_are_not_blocks(realpages, name):
    assert detect_block(200, {}, (realpages / "html" / name).read_bytes()) is None
