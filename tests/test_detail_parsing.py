"""parse_detail_page on pages written for these tests: every refusal reason, GBK, the
no-selector path, furniture, attachments, titles, dates, 文号 and cover notes."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from crawlers.parsing.detail import DetailRules, ParseError, clean_title_tag, parse_detail_page, truncation

URL = "http://www.example.gov.cn/art/2022/10/31/art_100_200.html"
HANWEB = DetailRules(content=("#zoom",))
PARAS = "".join(f"<p>　　第{i}条　各区要加快元宇宙关键技术攻关，推动虚拟现实终端和数字孪生应用落地见效。</p>" for i in range(1, 6))


def page(body: str, head: str = "<title>示例市人民政府关于促进元宇宙产业发展的通知_示例市人民政府</title>") -> str:
    return f"<!DOCTYPE html><html><head><meta charset='gb2312'>{head}</head><body>{body}</body></html>"


FULL = page(f"""
<div class="header"><div class="position">当前位置：首页 > 政策文件</div></div>
<div class="xxgkTitle"><table><tr>
  <td><b>索 引 号：</b>11111111/2022-00042</td><td><b>发文机关：</b>示例市人民政府</td>
  <td><b>文　　号：</b>示政发［２０２２］１６号</td></tr>
  <tr><td><b>主题分类：</b>工业、信息化</td><td><b>成文日期：</b>2022-10-26</td><td><b>发布日期：</b>2022-10-31</td></tr>
</table></div>
<div id="zoom">
  <p>各区人民政府，市政府各部门：</p>{PARAS}{PARAS}
  <p>附件：1.<a href="/module/download/downfile.jsp?filename=abc.pdf">示例市元宇宙重点任务清单</a></p>
  <p><a href="files/plan.docx">files/plan.docx</a> <a href="/module/download/downfile.jsp?filename=abc.pdf">重复链接</a></p>
  <p style="text-align:right">示例市人民政府</p>
  <p style="text-align:right">二〇二二年十月二十六日</p>
  <p>（此件公开发布）</p>
  <div class="share">分享到：微信 微博</div><p>扫一扫在手机打开当前页</p>
  <p>相关链接：<a href="/a.html">关于元宇宙的解读</a></p>
</div>
<div class="main-word"><a>打印本页</a> <a>关闭窗口</a></div>
<div class="footer"><p>主办单位：示例市人民政府办公室 版权所有 网站标识码1234 示ICP备12345号</p>
  <a href="/guide.pdf">网站使用指南.pdf</a></div>
""")


def test_full_gbk_page():
    body = FULL.encode("gbk")
    fetched = datetime(2022, 11, 1, 8, 0)
    item = parse_detail_page(URL, body, {"Content-Type": "text/html"}, site="example", rules=HANWEB,
                             fetched_at=fetched, status=200)
    assert item.title == "示例市人民政府关于促进元宇宙产业发展的通知"
    assert item.provenance["title"] == "title_tag"
    assert item.index_no == "11111111/2022-00042" and item.issuer == "示例市人民政府"
    assert item.doc_number == "示政发〔2022〕16号"
    assert item.topic == "工业、信息化"
    assert item.written_date == date(2022, 10, 26) and item.published_date == date(2022, 10, 31)
    lines = item.body_text.split("\n")
    assert lines[0] == "各区人民政府，市政府各部门："
    assert lines[1].startswith("第1条\u3000各区要加快")  # ideographic indent gone, inner one kept
    assert lines[-1] == "（此件公开发布）"
    for junk in ("分享到", "扫一扫", "相关链接", "打印本页", "版权所有", "当前位置", "ICP备", "主办单位"):
        assert junk not in item.body_text
    assert [(a.url, a.name) for a in item.attachments] == [
        ("http://www.example.gov.cn/module/download/downfile.jsp?filename=abc.pdf", "示例市元宇宙重点任务清单"),
        ("http://www.example.gov.cn/art/2022/10/31/files/plan.docx", "files/plan.docx"),
    ]
    assert item.raw_body == body and item.raw_encoding == "gb18030"
    assert item.fetched_at == fetched and item.http_status == 200
    assert item.http_headers == {"Content-Type": "text/html"}
    assert item.text_source == "page"
    assert item.to_json()["written_date"] == "2022-10-26"


def test_written_date_from_the_closing_line_and_doc_number_from_the_body():
    html = page(f"""<div id="zoom"><p>示例市人民政府文件</p><p>示政规〔2022〕16号</p>
        <p>各区人民政府：</p>{PARAS}<p>（依据《方案》（国发〔2021〕3号）执行）</p>
        <p>示例市人民政府</p><p>二〇二二年十月二十六日</p></div>""")
    item = parse_detail_page(URL, html.encode("utf-8"), {}, site="x", rules=HANWEB)
    assert item.doc_number == "示政规〔2022〕16号" and item.provenance["doc_number"] == "body"
    assert item.written_date == date(2022, 10, 26) and item.provenance["written_date"] == "body"
    assert item.published_date == date(2022, 10, 31) and item.provenance["published_date"] == "url"


def test_no_selector_path_uses_trafilatura_and_drops_furniture():
    html = page(f"""<div class="nav"><a href="/">首页</a> <a href="/zc">政策</a></div>
        <div class="wrap"><h1>示例市促进元宇宙产业发展的通知</h1><div class="info">发布时间：2022-11-02</div>
        <div class="text">{PARAS}</div></div>
        <div class="footer"><p>版权所有：示例市人民政府 网站标识码1234</p></div>""", head="")
    item = parse_detail_page("https://example.gov.cn/a/b.html", html.encode("utf-8"), {}, site="x")
    assert item.title == "示例市促进元宇宙产业发展的通知" and item.provenance["title"] == "heading"
    assert item.published_date == date(2022, 11, 2) and item.provenance["published_date"] == "table"
    assert "第1条" in item.body_text and "第5条" in item.body_text
    assert "版权所有" not in item.body_text and "首页" not in item.body_text
    assert item.provenance["body_text"] in ("trafilatura", "dense_block")


def test_cover_note_with_a_pdf_is_attachment_pending():
    html = page("""<div class="detailContent"><p>现将《示例市元宇宙行动计划》印发给你们，请认真贯彻执行。</p>
        <p><a href="plan.pdf">示例市元宇宙行动计划.pdf</a></p></div>""")
    item = parse_detail_page(URL, html.encode("utf-8"), {}, site="x", rules=DetailRules(content=(".detailContent",)))
    assert item.text_source == "attachment_pending"
    assert item.attachments[0].name == "示例市元宇宙行动计划.pdf"


def test_meta_pubdate_that_is_only_the_regeneration_time_loses_to_the_date_line():
    head = ('<meta name="ArticleTitle" content="示例通知"><meta name="PubDate" content="2025-03-27 09:36:38">'
            '<meta name="others" content="页面生成时间 2025-03-27 09:36:38">')
    html = page(f'<div class="info"><p>日期：2025-02-26 11:54 来源：</p></div><div id="zoom">{PARAS}</div>', head=head)
    item = parse_detail_page(URL, html.encode("utf-8"), {}, site="x", rules=HANWEB)
    assert item.published_date == date(2025, 2, 26) and item.provenance["published_date"] == "date_line"
    assert item.issuer is None


@pytest.mark.parametrize("body,headers,status,reason", [
    (b"", {}, 200, "empty"),
    (b"  \n ", {}, 200, "empty"),
    (b"%PDF-1.4 ...", {"Content-Type": "text/html"}, 200, "binary"),
    (b"<html><script>document.cookie='__jsl_clearance=1';location.href=location.href</script></html>", {}, 521, "blocked"),
    ("<html><body><h1>您的访问被阻断</h1><p>创宇云防御</p></body></html>".encode(), {}, 200, "blocked"),
    ("<html><title>404</title><body><p>您访问的页面不存在</p></body></html>".encode(), {}, 200, "error_page"),
    (b"<html><body>gone</body></html>", {}, 404, "error_page"),
    (page(f"<div id='zoom'>{PARAS}").encode()[:-60], {}, 200, "truncated"),
    (b"<html><body><div id='zoom'><p>\xe6\xad\xa3\xe6\x96\x87" * 3, {}, 200, "truncated"),
    (f"<html><head></head><body><div id='zoom'>{PARAS}</div></body></html>".encode(), {}, 200, "no_title"),
    (page("<div id='zoom'><p>见下。</p></div>").encode(), {}, 200, "no_body"),
])
def test_refusals(body, headers, status, reason):
    with pytest.raises(ParseError) as err:
        parse_detail_page(URL, body, headers, site="x", rules=HANWEB, status=status)
    assert err.value.reason == reason, err.value


def test_truncation_definition():
    assert truncation("<html><body><div><p>正文") is not None
    assert truncation("<html><body><div><p>正文</p>") is not None  # a div left open
    assert truncation("<html><body><div><p>正文</p></div>") is None  # only the closing tags omitted
    assert truncation("<div><p>a fragment</p>") is None
    assert truncation("<html><body><p>x</p></body>") is None


@pytest.mark.parametrize("raw,names,clean", [
    ("关于促进元宇宙发展的通知_中国政府网", (), "关于促进元宇宙发展的通知"),
    ("关于促进元宇宙发展的通知 - 江西省人民政府", (), "关于促进元宇宙发展的通知"),
    ("江西省人民政府 政策文件 关于促进元宇宙发展的通知", ("江西省人民政府", "政策文件"), "关于促进元宇宙发展的通知"),
    ("武汉市元宇宙实施方案（2022—2025年）| 武汉市人民政府", (), "武汉市元宇宙实施方案（2022—2025年）"),
])
def test_clean_title_tag(raw, names, clean):
    assert clean_title_tag(raw, names) == clean
