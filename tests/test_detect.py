"""`policywatch detect`: the CMS family of a column and why, its entries and pagination, one
document, and a spec that reads the column as the registry's own site does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from crawlers.families import get_family
from crawlers.items import PageRequest
from crawlers.replay.portal import REPLAY_DIR, ReplayPortal
from crawlers.sites import get_site
from crawlers.tools.detect import (
    BLOCKED,
    BROKEN,
    OK,
    choose,
    detect_column,
    page_clues,
    page_names,
    recognise,
    registrable,
    suggest_key,
)
from crawlers.tools.fixtures import all_fixture_sites, load_site_fixtures
from crawlers.tools.probe import PoliteFetcher
from scheduler import main

# gs_jyt is registered as trs, but its pages are the Gansu cluster's 开普云 (Ucap) templates:
# createPageHTML('page_div', ...) pages from 1, /xhtml/ assets, channelId meta tags,
# #detailContent. detect says so; the spec it proposes reads the column exactly as the
# registry's does (test below), since both adapters know that layout.
DETECTED_OTHERWISE = {"gs_jyt": "ucap"}


@pytest.fixture(scope="module")
def portal():
    portal = ReplayPortal.from_fixtures()
    with portal.serve() as base:
        yield portal, base


def fetcher(base: str) -> PoliteFetcher:
    return PoliteFetcher("policywatch-test (detect)", 2.0, replay_url=base)


def first_list_url(key: str) -> str:
    site = get_site(key)
    return get_family(site.family).first_page(site, site.columns[0]).url


@pytest.fixture(scope="module")
def detections(portal):
    _, base = portal
    return {key: detect_column(first_list_url(key), fetcher(base)) for key in all_fixture_sites()}


@pytest.mark.parametrize("key", all_fixture_sites())
def test_detect_names_the_family_of_every_registered_site(detections, key):
    detection = detections[key]
    site = get_site(key)
    assert detection.verdict == OK, detection.notes
    assert detection.family == DETECTED_OTHERWISE.get(key, site.family), detection.recognition.clues
    if detection.family != "generic":
        assert detection.recognition.reasons(), "a family without a reason"
    assert detection.listing.entries, "no entries on the first page"
    assert detection.item is not None and detection.item.title


@pytest.mark.parametrize("key", all_fixture_sites())
def test_the_proposed_spec_reads_the_site_as_the_registry_does(detections, key):
    """Every saved list page gives the same entries and pages, every saved document the same
    parse, under the proposed spec as under the registry's hand-written one."""
    site, proposed = get_site(key), detections[key].site
    assert proposed is not None
    ours, theirs = get_family(proposed.family), get_family(site.family)
    for page in load_site_fixtures(key):
        if page.kind == "list":
            request = PageRequest(url=page.url, page=page.page or 1)
            column = next((c for c in site.columns if c.name == page.column), site.columns[0])
            want = theirs.parse_list(site, column, request, page.body, page.headers)
            got = ours.parse_list(proposed, proposed.columns[0], request, page.body, page.headers)
            assert [(e.url, e.title, e.published_date) for e in got.entries] == \
                [(e.url, e.title, e.published_date) for e in want.entries], page.url
            if column.url == proposed.columns[0].url:
                assert [(r.url, r.page) for r in got.next_pages] == [(r.url, r.page) for r in want.next_pages]
        elif page.kind == "detail":
            want = theirs.parse_detail(site, page.url, page.body, page.headers).to_json()
            got = ours.parse_detail(proposed, page.url, page.body, page.headers).to_json()
            assert got == want, page.url
    # Every entry the first page lists is on the proposed domains, and so will be fetched.
    assert all(proposed.allows_url(e.url) for e in detections[key].listing.entries)


def test_the_proposed_spec_names_the_column_and_its_jurisdiction(detections):
    jx = detections["jx_gov"].site
    assert (jx.name, jx.division_code, jx.level) == ("江西省人民政府", "360000", "province")
    sthjt = detections["jx_sthjt"]
    assert sthjt.site.columns[0].params["page_url"] == "index.html?uid=380055&pageNum={page}"
    assert sthjt.site.columns[0].params["var"] == "listData"
    assert [r.url for r in sthjt.listing.next_pages] == [
        "https://sthjt.jiangxi.gov.cn/jxssthjt/col/col42150/index.html?uid=380055&pageNum=2"]
    gd = detections["gd_gov"].site
    assert (gd.columns[0].name, gd.division_code) == ("省政府文件", "440000")


@pytest.mark.parametrize("key", ["replay_generic"])
def test_an_unknown_cms_falls_back_to_the_generic_adapter(portal, key):
    _, base = portal
    detection = detect_column("http://www.example-gov.cn/zcwj/index.html", fetcher(base))
    assert detection.family == "generic"
    assert len(detection.listing.entries) == 10
    assert detection.listing.next_pages[0].url == "http://www.example-gov.cn/zcwj/index_2.html"
    # tYYYYMMDD_N.html links are seen, but TRS naming alone does not make a TRS site.
    assert 0 < detection.recognition.scores.get("trs", 0) < 5


def test_recognition_of_real_pages(realpages):
    html = realpages / "html"
    cases = {
        "jyt.gansu.gov.cn_list_1.html": ("https://jyt.gansu.gov.cn/jyt/c110634/zwgklist.shtml", "ucap"),
        "sthjt.jiangxi.gov.cn_list_1.html": ("https://sthjt.jiangxi.gov.cn/jxssthjt/col/col42150/index.html",
                                             "scripted"),
        "www.shanxi.gov.cn_detail_1.html": ("https://www.shanxi.gov.cn/zfxxgk/szfwj/201909/t20190918_693227.shtml",
                                            "trs"),
        "www.cmse.gov.cn_detail_1.html": ("http://www.cmse.gov.cn/xwzx/201206/t20120618_1.html", "trs"),
        "www.wanzai.gov.cn_detail_1.html": ("http://www.wanzai.gov.cn/xxgk/tjsj/1.html", "ucap"),
        "www.jiangxi.gov.cn_detail_1.html": ("http://www.jiangxi.gov.cn/art/2022/3/1/art_4975_1.html", "hanweb"),
        "fgw.zj.gov.cn_detail_1.html": ("http://fgw.zj.gov.cn/art/2022/3/1/art_1599528_1.html", "hanweb"),
        "www.gov.cn_detail_1.html": ("https://www.gov.cn/gongbao/content/2008/content_1.htm", "govcn"),
        "zmhd.jiujiang.gov.cn_list_1.html": ("https://zmhd.jiujiang.gov.cn/irs-c-web/?code=183f883089d", "generic"),
    }
    for name, (url, family) in cases.items():
        recognition = recognise(url, (html / name).read_bytes())
        assert recognition.family == family, (name, recognition.clues)
    # The script-data list of sthjt: 50 records, none of them links in the markup.
    sthjt = recognise(cases["sthjt.jiangxi.gov.cn_list_1.html"][0],
                      (html / "sthjt.jiangxi.gov.cn_list_1.html").read_bytes())
    assert sthjt.params == {"var": "listData", "records": "articleList",
                            "page_url": "index.html?uid=380055&pageNum={page}"}
    assert any("50 records in listData.articleList" in r for r in sthjt.reasons())


def test_the_names_a_page_states(realpages):
    html = (realpages / "html" / "jyt.gansu.gov.cn_list_1.html").read_text(encoding="utf-8")
    assert page_names(html) == ("文件通知", "甘肃省教育厅")
    assert page_names("<title>政策文件_示例市人民政府</title>") == ("政策文件", "示例市人民政府")
    assert page_names("<title>政策文件 | 示例县人民政府</title>") == ("政策文件", "示例县人民政府")
    assert page_names("<html></html>") == ("", "")


def test_clues_each_family():
    assert choose(page_clues("http://x.gov.cn/a/index.html",
                             b'<script>createPageHTML(12, 0, "index", "html");</script>')) == "trs"
    assert choose(page_clues("http://x.gov.cn/a/list.shtml",
                             b"<script>createPageHTML('page_div', 12, 1, 'list', 'shtml', 230);</script>")) == "ucap"
    assert choose(page_clues("http://x.gov.cn/col/col1/index.html",
                             b'<div id="1"><script type="text/xml"><datastore></datastore></script></div>')) == "hanweb"
    assert choose(page_clues("http://www.gd.gov.cn/gkmlpt/api/all/5?page=1&sid=2",
                             b'{"articles": [], "classify": {}}')) == "gkmlpt"
    assert choose(page_clues("https://www.gov.cn/zhengce/zuixin/ZUIXINZHENGCE.json",
                             b'[{"TITLE": "a", "URL": "/b"}]')) == "govcn"
    # The site-standard meta tags alone say nothing: every family writes them.
    assert choose(page_clues("http://x.gov.cn/a/", b'<meta name="ColumnName" content="c">'
                                                   b'<meta name="SiteName" content="s">')) == "generic"
    # A function that defines createPageHTML is not a call of it.
    defined = b"<script>function createPageHTML(a, b, c, d) {}</script>"
    assert choose(page_clues("http://x.gov.cn/a/", defined)) == "generic"


def test_keys_and_domains():
    assert suggest_key("https://sthjt.jiangxi.gov.cn/jxssthjt/col/col42150/index.html") == "sthjt_jiangxi_col42150"
    assert suggest_key("http://www.example-kfq.cn/zcwj/list.htm", {"example_kfq_zcwj"}) == "example_kfq_zcwj_2"
    assert suggest_key("http://1.2.3.4/") [0].isalpha()
    assert registrable("sthjt.jiangxi.gov.cn") == "jiangxi.gov.cn"
    assert registrable("www.example-gov.cn") == "example-gov.cn"
    assert registrable("sousuo.www.gov.cn") == "www.gov.cn"


def test_a_gkmlpt_catalogue_page_without_its_site_id_says_what_to_give(portal):
    _, base = portal
    detection = detect_column("http://www.gd.gov.cn/gkmlpt/index", fetcher(base))
    assert detection.family == "gkmlpt"
    assert detection.verdict == BROKEN
    assert any("sid" in m for _, m in detection.notes)
    assert any("site id (sid) is not on the page" in n for n in detection.recognition.notes)


def test_a_gkmlpt_catalogue_page_with_its_site_id_is_read_through_the_api(portal):
    server, base = portal
    server.put("http://www.gd.gov.cn/gkmlpt/zcwj", "<html><head><title>政府信息公开_广东省人民政府</title></head>"
               "<body><div id='app'></div><script>var SID = '2'; window.gkmlpt = {sid: 2};</script>"
               "<script src='/gkmlpt/static/app.js'></script></body></html>")
    # The catalogue's every category is category 0: serve the saved answer there too.
    saved = next(p for p in load_site_fixtures("gd_gov") if p.kind == "list")
    server.put("http://www.gd.gov.cn/gkmlpt/api/all/0?page=1&sid=2", saved.body, content_type="application/json")
    detection = detect_column("http://www.gd.gov.cn/gkmlpt/zcwj", fetcher(base))
    assert detection.verdict == OK, detection.notes
    assert detection.site.columns[0].params == {"sid": "2", "category": 0}
    assert "http://www.gd.gov.cn/gkmlpt/api/all/0?page=1&sid=2" in detection.fetched
    assert len(detection.listing.entries) == 2


def test_a_blocked_column_is_reported_as_blocked(portal):
    server, base = portal
    waf = (REPLAY_DIR / "generic" / "waf_412.html").read_bytes()
    server.put("http://www.example-waf.cn/zcwj/index.html", waf, status=412)
    detection = detect_column("http://www.example-waf.cn/zcwj/index.html", fetcher(base))
    assert detection.verdict == BLOCKED and detection.exit_code == 2
    assert detection.listing is None and detection.site is None


def test_robots_txt_is_obeyed(portal):
    server, base = portal
    server.put("http://www.example-robots.cn/robots.txt", "User-agent: *\nDisallow: /zcwj/\n",
               content_type="text/plain")
    server.put("http://www.example-robots.cn/zcwj/index.html", "<html><body>never fetched</body></html>")
    before = len(server.requests)
    detection = detect_column("http://www.example-robots.cn/zcwj/index.html", fetcher(base))
    assert detection.verdict == BLOCKED
    assert any("robots.txt forbids" in m for _, m in detection.notes)
    asked = [url for _, url in server.requests[before:]]
    assert asked == ["http://www.example-robots.cn/robots.txt"]


def test_detect_is_polite(portal):
    server, base = portal
    before = len(server.requests)
    agents = set()
    detect_column("http://www.example-gov.cn/zcwj/index.html", fetcher(base))
    asked = [url for _, url in server.requests[before:]]
    # robots.txt, the column page and one document: nothing else.
    assert asked == ["http://www.example-gov.cn/robots.txt", "http://www.example-gov.cn/zcwj/index.html",
                     "http://www.example-gov.cn/zcwj/202203/t20220315_1001.html"]
    agents = server.user_agents
    assert any("policywatch-test" in a for a in agents)


def test_a_page_with_no_list_is_broken(portal):
    server, base = portal
    server.put("http://www.example-none.cn/about.html", "<html><head><title>关于我们</title></head><body>"
               "<p>本站由示例单位主办。</p><a href='/'>首页</a></body></html>")
    detection = detect_column("http://www.example-none.cn/about.html", fetcher(base))
    assert detection.verdict == BROKEN and detection.exit_code == 1
    assert any("0 entries" in m for _, m in detection.notes)


# --- the command ------------------------------------------------------------------------------
def test_detect_command_on_the_replay_portal(portal):
    _, base = portal
    result = CliRunner().invoke(main, ["detect", "http://www.jiangxi.gov.cn/col/col4975/index.html",
                                       "--replay", base, "--no-browser"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "family: hanweb" in out and "because: a <datastore>" in out
    assert "3 entries on the first page" in out
    assert "文号" in out and "[[watch]]" in out and 'division_code = "360000"' in out
    assert "verdict: OK" in out


def test_detect_command_offline_on_saved_pages_as_json(tmp_path):
    page = next(p for p in load_site_fixtures("gs_fzgg") if p.kind == "list" and p.page == 1)
    document = next(p for p in load_site_fixtures("gs_fzgg") if p.kind == "detail")
    saved, saved_doc = tmp_path / "list.html", tmp_path / "doc.html"
    saved.write_bytes(page.body)
    saved_doc.write_bytes(document.body)
    result = CliRunner().invoke(main, ["detect", page.url, "--file", str(saved), "--detail-file",
                                       str(saved_doc), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["family"] == "ucap" and data["verdict"] == "ok"
    assert data["fetched"] == []  # offline: nothing was fetched
    assert len(data["list"]["entries"]) == 3
    assert data["list"]["next_pages"][0]["url"] == "https://fzgg.gansu.gov.cn/fzgg/tzgg/list_2.shtml"
    assert data["document"]["title"] and data["document"]["url"] == data["list"]["entries"][0]["url"]
    assert data["proposed"]["family"] == "ucap" and data["proposed"]["division_code"] == "620000"


def test_detect_command_says_what_is_wrong_with_its_input(tmp_path):
    result = CliRunner().invoke(main, ["detect", "www.example.cn/zcwj/"])
    assert result.exit_code == 2 and "is not an http(s) URL" in result.output
    saved = tmp_path / "list.html"
    saved.write_text("<html><body><a href='/'>首页</a></body></html>", encoding="utf-8")
    result = CliRunner().invoke(main, ["detect", "http://www.example.cn/zcwj/", "--detail-file", str(saved)])
    assert result.exit_code == 2 and "--detail-file goes with --file" in result.output


@pytest.mark.browser
def test_a_list_only_script_fills_is_rendered_in_chromium(portal):
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("no Chromium")
    _, base = portal
    url = "http://www.example-js.cn/tzgg/index.html"
    without = detect_column(url, fetcher(base), browser=False)
    assert without.recognition.needs_browser and without.verdict == BROKEN
    from crawlers.tools.detect import chromium_renderer

    detection = detect_column(url, fetcher(base), renderer=chromium_renderer(base))
    assert detection.verdict == OK, detection.notes
    assert detection.site.needs_browser and detection.family == "generic"
    assert [e.title for e in detection.listing.entries] == ["示例区关于征集数字人应用场景的公告",
                                                            "示例区关于举办2022年元宇宙创新大赛的通知"]
    assert detection.list_page.source == "browser"
    assert detection.item.published_date.isoformat() == "2022-05-20"


def test_the_document_settles_a_close_call(portal):
    """A list page that says little (TRS-style document names only) and a document with a TRS
    editor body: the document's markup decides, and the TRS adapter reads both."""
    server, base = portal
    rows = "".join(f'<li><a href="./202406/t202406{day:02d}_{n}.html">示例市关于第{n}项工作的通知</a>'
                   f'<span>2024-06-{day:02d}</span></li>' for n, day in ((71, 12), (70, 5)))
    server.put("http://www.example-trs.cn/zwgk/zcwj/", f"<html><head><title>政策文件_示例市人民政府</title></head>"
               f"<body><ul class='list'>{rows}</ul></body></html>")
    server.put("http://www.example-trs.cn/zwgk/zcwj/202406/t20240612_71.html",
               "<html><head><title>示例市关于第71项工作的通知_示例市人民政府</title></head><body>"
               "<h1 class='article-title'>示例市关于第71项工作的通知</h1><p>发布时间：2024-06-12</p>"
               "<div class='TRS_Editor'><p>为做好第七十一项工作，现将有关事项通知如下。各单位要高度重视，"
               "认真组织实施，确保工作取得实效。</p></div></body></html>")
    detection = detect_column("http://www.example-trs.cn/zwgk/zcwj/", fetcher(base))
    assert detection.family == "trs", detection.recognition.clues
    assert any(r.startswith("document: a TRS editor body element") for r in detection.recognition.reasons())
    assert len(detection.listing.entries) == 2 and detection.item.title == "示例市关于第71项工作的通知"
