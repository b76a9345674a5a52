"""The metadata-block scanner on the layouts portals use (our own markup and text)."""

from __future__ import annotations

import lxml.html
import pytest

from crawlers.parsing.metadata import (
    find_doc_number,
    find_metadata,
    normalize_doc_number,
    read_meta_tags,
    read_metadata,
)


def tree(body: str):
    return lxml.html.document_fromstring(f"<html><head></head><body>{body}</body></html>")


def test_govcn_bd1_table_label_cells_and_value_cells():
    html = """<table class="bd1"><tbody>
      <tr><td><b>索<span style="padding-left:2em"></span>引<span></span>号：</b></td><td>000014349/2022-00071</td>
          <td><b>主题分类：</b></td><td>工业、交通\\信息产业</td></tr>
      <tr><td><b>发文机关：</b></td><td>国务院办公厅</td><td><b>成文日期：</b></td><td>2022年10月26日</td></tr>
      <tr><td><b>标　　题：</b></td><td colspan="3">国务院办公厅关于推进数字场景建设的意见</td></tr>
      <tr><td><b>发文字号：</b></td><td>国办发〔2022〕35号</td><td><b>发布日期：</b></td><td>2022年10月31日</td></tr>
    </tbody></table>"""
    assert read_metadata(tree(html)) == {
        "index_no": "000014349/2022-00071", "topic": "工业、交通\\信息产业", "issuer": "国务院办公厅",
        "written_date": "2022年10月26日", "title": "国务院办公厅关于推进数字场景建设的意见",
        "doc_number": "国办发〔2022〕35号", "published_date": "2022年10月31日",
    }


def test_hanweb_value_after_the_bold_label_in_the_same_cell():
    html = """<div class="xxgkTitle"><table><tr>
      <td><b><span>索  引  号: </span></b>014500815/2022-00001</td>
      <td><b> 发文机关: </b> 省政府办公厅</td><td><b>文      号:</b> 赣府厅字〔2022〕9号</td></tr>
      <tr><td><b>主题分类: </b> 科技、教育</td><td><b>组配分类: </b> 政策文件</td><td><b>成文日期: </b> 2022-03-01   </td></tr>
    </table></div>"""
    got = read_metadata(tree(html))
    assert got["index_no"] == "014500815/2022-00001" and got["doc_number"] == "赣府厅字〔2022〕9号"
    assert got["issuer"] == "省政府办公厅" and got["written_date"] == "2022-03-01"
    assert "组配分类" not in str(got)


def test_ucap_dl_with_label_and_div_value():
    html = """<div class="meta-data"><dl>
      <dd><label><font>索 引 号：</font></label><div class="display-block"> 11360000/2023-0000123 </div></dd>
      <dd><label><font>发布机构：</font></label><div> 县数据局 </div></dd>
      <dd><label><font>公开方式：</font></label><div> 主动公开 </div></dd>
    </dl></div>"""
    assert read_metadata(tree(html)) == {"index_no": "11360000/2023-0000123", "issuer": "县数据局"}


def test_dt_dd_and_th_without_colons():
    html = """<dl><dt>文号</dt><dd>沪府办规〔2023〕3号</dd></dl>
              <table><tr><th>发文机关</th><td>市政府办公厅</td></tr><tr><th>有效性</th><td>有效</td></tr></table>"""
    assert read_metadata(tree(html)) == {"doc_number": "沪府办规〔2023〕3号", "issuer": "市政府办公厅",
                                         "validity": "有效"}


def test_several_labels_on_one_line_are_split():
    html = "<div class='info'>发布时间：2023-05-22 10:00 | 来源：市数据局 | 浏览次数：</div>"
    assert read_metadata(tree(html)) == {"published_date": "2023-05-22 10:00", "source": "市数据局"}


def test_li_items_with_fullwidth_colons():
    html = "<ul class='xxgk'><li>索引号：ABC/2023-1</li><li>发布日期：2023年5月22日</li><li>时效：有效</li></ul>"
    assert read_metadata(tree(html)) == {"index_no": "ABC/2023-1", "published_date": "2023年5月22日", "validity": "有效"}


def test_stronger_label_beats_weaker_one_and_first_occurrence_wins():
    html = """<p>来源：本网</p><table><tr><td>主办单位：</td><td>市工信局</td></tr>
              <tr><td>发文机关：</td><td>市政府</td></tr><tr><td>发文机关：</td><td>别的</td></tr></table>"""
    meta = find_metadata(tree(html))
    assert meta.fields["issuer"] == "市政府" and meta.labels["issuer"] == "发文机关"
    assert meta.fields["source"] == "本网"


def test_footers_and_body_paragraphs_are_not_metadata():
    html = """<div id="zoom"><p>来源：这句话在正文里</p><p>发布日期：正文第二段</p></div>
              <div class="footer"><p>主办单位：某某市人民政府办公室</p><p>版权所有</p></div>"""
    root = tree(html)
    assert read_metadata(root, content=root.get_element_by_id("zoom")) == {}


def test_a_table_inside_the_content_still_counts_and_is_reported_as_container():
    html = """<div id="c"><table class="table1"><tr><td>公开事项名称:</td><td>关于某事的复函</td></tr>
              <tr><td>索引号:</td><td>000019705/2025-000001</td></tr></table><p>正文。</p></div>"""
    root = tree(html)
    meta = find_metadata(root, content=root.get_element_by_id("c"))
    assert meta.fields == {"title": "关于某事的复函", "index_no": "000019705/2025-000001"}
    assert [c.get("class") for c in meta.containers] == ["table1"]


def test_meta_tags_first_nonempty_wins():
    root = lxml.html.document_fromstring(
        '<html><head><meta name="ArticleTitle" content=""><meta name="ArticleTitle" content="标题甲">'
        '<meta name="PubDate" content="2023-05-22 10:00"><meta property="og:title" content="OG"></head><body></body></html>')
    assert read_meta_tags(root) == {"articletitle": "标题甲", "pubdate": "2023-05-22 10:00", "og:title": "OG"}


@pytest.mark.parametrize("raw,norm", [
    ("武政规〔2022〕16号", "武政规〔2022〕16号"),
    ("武政规[2022]16号", "武政规〔2022〕16号"),
    ("武政规【2022】16号", "武政规〔2022〕16号"),
    ("武政规(2022)16号", "武政规〔2022〕16号"),
    ("武政规（2022）16号", "武政规〔2022〕16号"),
    ("武政规［２０２２］１６号", "武政规〔2022〕16号"),
    (" 国办发 〔2019〕 29 号", "国办发〔2019〕29号"),
    ("无", None), ("", None), ("暂无", None),
])
def test_normalize_doc_number(raw, norm):
    assert normalize_doc_number(raw) == norm


def test_doc_number_from_the_body_only_as_its_own_line_before_the_addressee():
    body = "关于印发某方案的通知\n鄂政办发［2023］７号\n各市、州人民政府：\n根据《方案》（国办发〔2019〕29号）……"
    assert find_doc_number(body) == "鄂政办发〔2023〕7号"
    cited_only = "各市、州人民政府：\n根据《方案》（国办发〔2019〕29号）精神，现通知如下。"
    assert find_doc_number(cited_only) is None
