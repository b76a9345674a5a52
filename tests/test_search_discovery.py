"""Keyword discovery: reading site-search result pages, and a real crawl that follows them."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import pytest

from crawlers.engine.search_discovery import parse_results, search_pages, search_url, unwrap
from crawlers.items import PageRequest
from crawlers.replay.portal import ReplayPortal
from crawlers.sites import get_site
from crawlers.sites.spec import SEARCH_TERMS, Column, Search, Site, SiteSpecError
from crawlers.tools.fixtures import load_site_fixtures

REPO = Path(__file__).resolve().parents[1]


def make_site(search: Search | None, **changes) -> Site:
    fields = dict(key="search_test", name="示例搜索市人民政府", division_code="360400", level="prefecture",
                  family="trs", domains=("www.example-search.cn", "jiujiang.gov.cn"),
                  columns=(Column(name="政府文件", url="http://www.example-search.cn/zfwj/index.html"),),
                  search=search)
    fields.update(changes)
    return Site(**fields)


IRS = Search(url="https://zmhd.jiujiang.gov.cn/irs-c-web/?code=183f883089d&searchWord={query}", results="irs")


# --- the real 九江 result page --------------------------------------------------------------
def test_real_irs_result_page(realpages):
    body = (realpages / "html" / "zmhd.jiujiang.gov.cn_list_1.html").read_bytes()
    site = make_site(IRS)
    request = PageRequest(url=search_url(IRS, "种植"))
    listing = parse_results(site, "种植", request, body)
    # Results link all over the city's portals; only the site's domains are kept.
    assert [(e.url, e.title, e.published_date) for e in listing.entries] == [(
        "http://lyj.jiujiang.gov.cn/zwzx_185/lyzx/xqdt/202510/t20251011_7028685.html",
        "彭泽县举行“林下空间种植药材”和“林下空间种植铁皮石斛”三产融合项目签约仪式",
        date(2025, 10, 13),
    )]
    assert listing.next_pages == []  # the template has no {page}


def test_real_irs_results_read_whole(realpages):
    """Every result of the page, titles free of <em> marks and type labels, dates from
    发布时间, the "您可能感兴趣" sidebar left out, service boxes unwrapped."""
    body = (realpages / "html" / "zmhd.jiujiang.gov.cn_list_1.html").read_bytes()
    site = make_site(IRS, domains=("gov.cn", "cn"))
    listing = parse_results(site, "种植", PageRequest(url=search_url(IRS, "种植")), body)
    titles = [e.title for e in listing.entries]
    assert len(listing.entries) == 13
    assert "棉花种植面积核实种植户公示" in titles
    assert "农业-种植技术" in titles  # a jcse service box; the <em> marks of its title attribute gone
    assert not any("<em>" in t or t.startswith("政务信息") for t in titles)
    assert not any("外出务工就业一次性交通补贴" in t for t in titles)  # the sidebar
    dated = {e.title: e.published_date for e in listing.entries}
    assert dated["棉花种植面积核实种植户公示"] == date(2025, 11, 5)
    service = next(e for e in listing.entries if e.title == "农业-种植技术")
    assert service.url.startswith("http://jjlx.jxzwfww.gov.cn/jxzw/bszn/index.do?webId=38")


# --- the project's fixtures of the registry's search site -----------------------------------
def test_jj_gov_search_fixtures_parse_to_their_expected_results():
    site = get_site("jj_gov")
    pages = [p for p in load_site_fixtures("jj_gov") if p.kind == "search"]
    assert {p.expected()["term"] for p in pages} == set(site.search.terms)
    found_any = False
    for page in pages:
        expected = page.expected()
        listing = parse_results(site, expected["term"], page.request(), page.body, page.headers)
        got = [{"url": e.url, "title": e.title, "published_date": e.published_date.isoformat()}
               for e in listing.entries]
        assert got == expected["entries"], expected["term"]
        found_any = found_any or bool(got)
    assert found_any
    # The 元宇宙 page also lists a document of another city: never followed.
    yuan = next(p for p in pages if p.expected()["term"] == "元宇宙")
    assert b"www.ruichang.gov.cn" in yuan.body
    column_urls = {p.url for p in load_site_fixtures("jj_gov") if p.kind == "detail"}
    listed = set(json.loads((REPO / "fixtures/sites/jj_gov/list_1.json").read_text())["entries"][i]["url"]
                 for i in range(2))
    assert column_urls - listed, "one document is reachable only through the site search"


# --- requests, templates, validation --------------------------------------------------------
def test_search_pages_ask_every_term_once_url_encoded():
    site = make_site(Search(url="http://www.example-search.cn/s?q={query}&p={page}", max_pages=2,
                            terms=("元宇宙", "数字孪生", "元宇宙")))
    pages = search_pages(site)
    assert [p.term for p in pages] == ["元宇宙", "数字孪生"]
    assert pages[0].request.url == "http://www.example-search.cn/s?q=%E5%85%83%E5%AE%87%E5%AE%99&p=1"
    assert pages[0].request.page == 1


def test_default_terms_are_the_metaverse_and_its_core_technologies():
    assert SEARCH_TERMS[0] == "元宇宙"
    assert {"虚拟现实", "数字孪生", "数字人", "增强现实"} <= set(SEARCH_TERMS)
    assert make_site(Search(url="http://www.example-search.cn/s?q={query}")).search.terms == SEARCH_TERMS


def test_no_search_and_blocked_sites_ask_nothing():
    assert search_pages(make_site(None)) == []
    blocked = make_site(Search(url="http://www.example-search.cn/s?q={query}"), enabled=False,
                        blocked_reason="robots.txt: Disallow: /")
    assert search_pages(blocked) == []


LIST_PAGE = """<html><head><title>搜索结果</title></head><body>
<div class="nav"><a href="/">首页</a> <a href="/zwgk/">政务公开</a></div>
<ul class="results">
<li><a href="/zfwj/202609/t20260901_1.html">示例市元宇宙产业发展规划</a><span>2026-09-01</span></li>
<li><a href="http://www.elsewhere.cn/a.html">外地元宇宙通知</a><span>2026-08-01</span></li>
<li><a href="/zfwj/202607/t20260720_2.html">示例市虚拟现实产业若干措施</a><span>2026-07-20</span></li>
</ul></body></html>"""


def test_generic_results_paginate_while_pages_hold_results():
    site = make_site(Search(url="http://www.example-search.cn/s?q={query}&p={page}", max_pages=2))
    first = parse_results(site, "元宇宙", PageRequest(url=search_url(site.search, "元宇宙", 1)),
                          LIST_PAGE.encode())
    assert [e.url for e in first.entries] == ["http://www.example-search.cn/zfwj/202609/t20260901_1.html",
                                              "http://www.example-search.cn/zfwj/202607/t20260720_2.html"]
    assert [r.url for r in first.next_pages] == [search_url(site.search, "元宇宙", 2)]
    second = parse_results(site, "元宇宙", first.next_pages[0], LIST_PAGE.encode())
    assert second.next_pages == []  # max_pages reached


def test_unwrap_follows_click_counting_redirects():
    wrapped = ("http://sousuo.jiangxi.gov.cn/jsearchfront/visit/link.do?url=http%3A%2F%2Fwww.jiangxi.gov.cn"
               "%2Fart%2F2026%2F1%2F1%2Fart_1_2.html&q=x")
    assert unwrap(wrapped) == "http://www.jiangxi.gov.cn/art/2026/1/1/art_1_2.html"
    assert unwrap("http://www.jiangxi.gov.cn/art/a.html?id=3") == "http://www.jiangxi.gov.cn/art/a.html?id=3"


@pytest.mark.parametrize(("search", "field"), [
    (Search(url="http://www.example-search.cn/s?q=元宇宙"), "search.url"),
    (Search(url="http://search.elsewhere.cn/s?q={query}"), "search.url"),
    (Search(url="http://www.example-search.cn/s?q={query}", results="baidu"), "search.results"),
    (Search(url="http://www.example-search.cn/s?q={query}", terms=()), "search.terms"),
    (Search(url="http://www.example-search.cn/s?q={query}", max_pages=3), "search.max_pages"),
])
def test_a_bad_search_declaration_names_the_field(search, field):
    with pytest.raises(SiteSpecError, match=field.replace(".", r"\.")):
        make_site(search)


# --- a real crawl of a replay site with a search page ---------------------------------------
CRAWL = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    from crawlers.engine.runner import run_crawl
    from crawlers.sites.spec import Column, Politeness, Search, Site

    site = Site(key="search_test", name="示例搜索市人民政府", division_code="360400", level="prefecture",
                family="trs", domains=("www.example-search.cn",),
                columns=(Column(name="政府文件", url="http://www.example-search.cn/zfwj/index.html"),),
                politeness=Politeness(delay=0.5),
                search=Search(url="http://www.example-search.cn/search?q={query}&page={page}",
                              results="generic", terms=("元宇宙", "数字孪生"), max_pages=2))
    reports = run_crawl([site], Path(sys.argv[1]), replay_url=sys.argv[2])
    print(json.dumps({"failures": reports[0].failures, "items": reports[0].items}))
""")

COLUMN = """<html><head><title>政府文件</title></head><body><div class="nav"><a href="/">首页</a></div>
<ul class="list"><li><a href="/zfwj/202609/t20260901_1.html">示例市元宇宙产业发展规划</a><span>2026-09-01</span></li>
<li><a href="/zfwj/202608/t20260810_3.html">示例市关于开展安全生产检查的通知</a><span>2026-08-10</span></li></ul>
</body></html>"""

NO_RESULTS = """<html><head><title>搜索结果</title></head><body><div class="nav"><a href="/">首页</a></div>
<p>很抱歉，没有找到相关结果。</p></body></html>"""


def _detail(title: str, day: str) -> str:
    return (f"<html><head><meta charset='utf-8'><title>{title}</title></head><body>"
            f"<div class='nav'><a href='/'>首页</a></div><h1 class='article-title'>{title}</h1>"
            f"<div class='article-infos'>发布时间：{day}</div><div class='TRS_Editor'>"
            f"<p>为推动元宇宙和虚拟现实产业发展，现就{title}有关事项作出安排，请认真贯彻执行。</p>"
            f"<p>各单位要结合实际，抓好落实，确保各项任务按期完成。</p></div></body></html>")


def test_a_crawl_follows_the_site_search_politely(tmp_path):
    portal = ReplayPortal()
    base_url = "http://www.example-search.cn"
    portal.put(f"{base_url}/robots.txt", "User-agent: *\nDisallow: /search?q=%E6%95%B0\n",
               content_type="text/plain")
    portal.put(f"{base_url}/zfwj/index.html", COLUMN)
    search = Search(url=f"{base_url}/search?q={{query}}&page={{page}}", results="generic",
                    terms=("元宇宙", "数字孪生"), max_pages=2)
    portal.put(search_url(search, "元宇宙", 1), LIST_PAGE)
    portal.put(search_url(search, "元宇宙", 2), NO_RESULTS)
    portal.put(search_url(search, "数字孪生", 1), LIST_PAGE)  # robots.txt forbids it
    for path, title, day in [("/zfwj/202609/t20260901_1.html", "示例市元宇宙产业发展规划", "2026-09-01"),
                             ("/zfwj/202608/t20260810_3.html", "示例市关于开展安全生产检查的通知", "2026-08-10"),
                             ("/zfwj/202607/t20260720_2.html", "示例市虚拟现实产业若干措施", "2026-07-20")]:
        portal.put(base_url + path, _detail(title, day))
    db = tmp_path / "corpus.db"
    with portal.serve() as base:
        result = subprocess.run([sys.executable, "-c", CRAWL, str(db), base], cwd=REPO,
                                capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    from pipelines.schema import open_corpus

    stored = {r["url"]: r["column"] for r in open_corpus(db).query("select url, column from documents")}
    # The search found the document the column does not list; the column's own documents
    # were fetched once each, whichever way they were found first.
    assert set(stored) == {f"{base_url}/zfwj/202609/t20260901_1.html",
                           f"{base_url}/zfwj/202608/t20260810_3.html",
                           f"{base_url}/zfwj/202607/t20260720_2.html"}
    assert stored[f"{base_url}/zfwj/202607/t20260720_2.html"] == "站内搜索：元宇宙"
    assert stored[f"{base_url}/zfwj/202608/t20260810_3.html"] == "政府文件"
    requested = [url for _, url in portal.requests]
    assert requested.count(f"{base_url}/zfwj/202609/t20260901_1.html") == 1
    assert "http://www.elsewhere.cn/a.html" not in requested  # off the site's domains
    assert search_url(search, "元宇宙", 2) in requested  # the second result page
    assert search_url(search, "数字孪生", 1) not in requested  # robots.txt said no
    reasons = {f["url"]: f["reason"] for f in report["failures"]}
    assert reasons.get(search_url(search, "数字孪生", 1)) == "robots_forbidden"
    assert any("policywatch" in agent for agent in portal.user_agents)
