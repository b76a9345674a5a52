"""Hostile pages: every parser linear in its input (no timing here: each pathological page runs
at the 8 MB page cap under a timeout, a quadratic parser hangs it; benchmarks/faultcases/
hostile.py prints the growth), and the linear scans find what the regular expressions found."""

from __future__ import annotations

import random
import re

import pytest

from benchmarks.faultcases.hostile import PAGE_CAP, PAGES, parse_everywhere
from crawlers.families import get_family
from crawlers.families.scripted import script_literals
from crawlers.items import PageRequest
from crawlers.parsing.blocks import visible_text
from crawlers.parsing.errors import ParseError
from crawlers.parsing.numbers import small_int
from crawlers.parsing.scan import contents, remove_blocks, remove_tags
from crawlers.sites.spec import Column, Site

pytestmark = pytest.mark.faults


@pytest.mark.timeout(240)
@pytest.mark.parametrize("name", sorted(PAGES))
def test_pathological_page_at_the_page_cap_is_read_or_refused(name):
    outcomes = parse_everywhere(PAGES[name](PAGE_CAP))
    assert len(outcomes) == 12  # every reader answered: a result or a ParseError reason


def _hanweb(url="https://www.example.gov.cn/col/col555/index.html"):
    column = Column(name="c", url=url, params={"unitid": "1", "webid": "2"})
    site = Site(key="x_hostile", name="测试", division_code="320000", level="province", family="hanweb",
                domains=("www.example.gov.cn",), columns=(column,))
    return site, column


def test_records_before_an_unclosed_tail_are_still_read():
    site, column = _hanweb()
    record = ('<record><![CDATA[<li><a href="/art/2024/1/{0}/art_555_{0}.html">关于元宇宙产业的第{0}号通知</a>'
              '<span>2024-01-0{0}</span></li>]]></record>')
    feed = ("<datastore><totalrecord>3</totalrecord><recordset>" + "".join(record.format(i) for i in (1, 2, 3))
            + "<record>" * 5000 + "</recordset></datastore>").encode()
    request = PageRequest(url=column.url + "?startrecord=1&endrecord=60&perpage=20", method="POST")
    listing = get_family("hanweb").parse_list(site, column, request, feed, {})
    assert [e.url.rsplit("_", 1)[-1] for e in listing.entries] == ["1.html", "2.html", "3.html"]


_OLD_INVISIBLE = re.compile(r"<(script|style|noscript|template|textarea|select)\b.*?</\1\s*>|<!--.*?-->", re.I | re.S)
_OLD_TAG = re.compile(r"<[^>]+>")
_OLD_RECORD = re.compile(r"<record\b[^>]*>(.*?)</record\s*>", re.I | re.S)
_ALPHABET = ["<script>", "</script>", "<style a=1>", "</style >", "<!--", "-->", "<record>", "<record x='1'>",
             "</record>", "<", ">", "a", " ", "文", "<p>", "</p>"]


@pytest.mark.parametrize("seed", range(200))
def test_linear_scans_find_what_the_regular_expressions_found(seed):
    rng = random.Random(seed)
    text = "".join(rng.choice(_ALPHABET) for _ in range(rng.randint(0, 40)))
    assert remove_blocks(text, ("script", "style", "noscript", "template", "textarea", "select")) == \
        _OLD_INVISIBLE.sub(" ", text)
    assert remove_tags(text) == _OLD_TAG.sub(" ", text)
    assert contents(text, "record") == _OLD_RECORD.findall(text)


def test_visible_text_of_a_page_with_an_unclosed_script_keeps_the_text_after_closed_ones():
    html = "<title>标题</title><script>var a;</script><p>正文</p><script>unclosed <p>尾部"
    assert visible_text(html) == "标题 正文 unclosed 尾部"


def test_a_js_literal_nested_past_the_limit_is_skipped_not_a_recursion_error():
    page = "<script>var deep = " + "[" * 50_000 + "]" * 50_000 + "; var listData = [{title: '关于', url: '/a.html'}];</script>"
    literals = script_literals(page)
    assert "deep" not in literals
    assert literals["listData"] == [{"title": "关于", "url": "/a.html"}]


@pytest.mark.parametrize("family, body", [
    ("gkmlpt", b'{"articles": [], "total": "' + b"9" * 5000 + b'"}'),
    ("govcn", b'{"searchVO": {"listVO": [], "totalCount": ' + b"9" * 5000 + b"}}"),
    ("hanweb", b"<datastore><totalrecord>" + b"9" * 5000 + b"</totalrecord><recordset></recordset></datastore>"),
])
def test_a_count_of_thousands_of_digits_is_ignored_or_refused_not_a_crash(family, body):
    site, column = _hanweb()
    site = Site(key="x_hostile", name="测试", division_code="320000", level="province", family=family,
                domains=("www.example.gov.cn",), columns=(column,))
    request = PageRequest(url=column.url + "?startrecord=1&endrecord=60&perpage=20&n=20&p=1",
                          method="POST" if family == "hanweb" else "GET")
    try:
        listing = get_family(family).parse_list(site, column, request, body, {})
    except ParseError as exc:
        assert exc.reason == "not_a_list"
    else:
        assert listing.total_pages in (None, 1) and listing.entries == []


def test_small_int():
    assert [small_int(v) for v in (12, "34", " 5 ", "9" * 10, -1, "x", True, None, "１２")] == \
        [12, 34, 5, None, None, None, None, None, None]


def test_a_page_of_more_links_than_any_list_is_refused_in_one_line():
    from benchmarks.faultcases.hostile import many_links
    from crawlers.families.listparse import MAX_LINKS

    site, column = _hanweb("https://www.example.gov.cn/list/index.html")
    site = Site(key="x_hostile", name="测试", division_code="320000", level="province", family="generic",
                domains=("www.example.gov.cn",), columns=(column,))
    body = many_links(100 * (MAX_LINKS + 10))  # about 100 bytes a link
    with pytest.raises(ParseError) as refused:
        get_family("generic").parse_list(site, column, PageRequest(url=column.url), body, {})
    assert refused.value.reason == "not_a_list"
    assert "links, more than a list page holds (10,000)" in str(refused.value) and "\n" not in str(refused.value)


@pytest.mark.timeout(60)  # the old patterns took 28 s on ten widgets and doubled with each more
def test_a_line_of_repeated_widgets_is_judged_at_once():
    from crawlers.parsing.body import _FURNITURE_LINE as body_line
    from pipelines.changes import _FURNITURE_LINE as change_line

    for pattern in (body_line, change_line):
        assert pattern.search("打印  " * 100_000 + "x") is None
        assert pattern.search("字体  " * 100_000 + "x") is None
        assert pattern.search("【打印本页】 【关闭窗口】")
