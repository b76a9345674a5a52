"""`policywatch probe SITE` against the replay portal: healthy, changed layout, blocked; saving."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from crawlers.replay.portal import ReplayPortal
from crawlers.sites import get_site
from crawlers.sites.spec import Column, Politeness, Site
from crawlers.tools.fixtures import load_site_fixtures
from crawlers.tools.probe import BLOCKED, BROKEN, OK, PoliteFetcher, probe_site
from scheduler import main

SITE = "sh_gov"


@pytest.fixture
def portal():
    """The fixture portal of one site plus one replay-only page set, served on 127.0.0.1."""
    portal = ReplayPortal.from_fixtures(sites=[SITE, "gd_gov"])
    with portal.serve() as base:
        yield portal, base


def probe(base: str, *args: str, key: str = SITE):
    return CliRunner().invoke(main, ["probe", key, "--replay", base, *args])


def _pages(key: str = SITE):
    pages = load_site_fixtures(key)
    return next(p for p in pages if p.kind == "list"), [p for p in pages if p.kind == "detail"]


def test_a_healthy_site_prints_its_fields_and_exits_0(portal):
    the_portal, base = portal
    result = probe(base)
    assert result.exit_code == 0, result.output
    listed, details = _pages()
    expected = details[0].expected()
    assert "2 entries on the list page" in result.output
    for value in (expected["title"], expected["doc_number"], expected["issuer"], expected["index_no"],
                  expected["published_date"], expected["written_date"]):
        assert value in result.output
    assert "verdict: OK" in result.output
    assert "unverified" in result.output  # the registry's status is shown
    # Politely: robots.txt first, one list page, one document, with the project's User-Agent.
    assert [url for _, url in the_portal.requests] == [
        "https://www.shanghai.gov.cn/robots.txt", listed.url, details[0].url]
    assert all(agent.startswith("policywatch/") for agent in the_portal.user_agents)


def test_a_json_list_api_site(portal):
    _, base = portal
    result = probe(base, key="gd_gov")
    assert result.exit_code == 0, result.output
    assert "http://www.gd.gov.cn/gkmlpt/api/all/5?page=1&sid=2" in result.output
    # gkmlpt content pages label the topic only 分类: reported, not fatal.
    assert "[missing] not found on the document: topic" in result.output


def test_a_list_whose_layout_changed_is_broken(portal):
    the_portal, base = portal
    listed, _ = _pages()
    shell = ("<html><head><title>政策文件</title></head><body><div class='nav'><a href='/'>首页</a></div>"
             "<div id='app'>加载中……</div><script src='/static/list.js'></script></body></html>")
    the_portal.put(listed.url, shell)
    result = probe(base)
    assert result.exit_code == 1, result.output
    assert "[broken] 0 entries on the list page" in result.output
    assert "verdict: BROKEN" in result.output


def test_a_document_whose_layout_changed_names_what_is_missing(portal):
    the_portal, base = portal
    _, details = _pages()
    expected = details[0].expected()
    paragraphs = "".join(f"<p>{line}</p>" for line in expected["body_text"].split("\n"))
    changed = (f"<html><head><meta charset='utf-8'><title>{expected['title']}</title></head><body>"
               f"<div class='nav'><a href='/'>首页</a></div><div class='wrap'><h1>{expected['title']}</h1>"
               f"<div class='new-article-body'>{paragraphs}</div></div></body></html>")
    the_portal.put(details[0].url, changed)
    result = probe(base)
    assert result.exit_code == 1, result.output
    assert "[broken] none of the content selectors (#ivs_content, .trs_editor_view" in result.output
    assert "[missing] not found on the document: doc_number, issuer, index_no, topic" in result.output
    assert "文号" in result.output and "— missing" in result.output


def test_robots_txt_forbidding_the_column_is_blocked(portal):
    the_portal, base = portal
    the_portal.put("https://www.shanghai.gov.cn/robots.txt", "User-agent: *\nDisallow: /nw12344/\n",
                   content_type="text/plain")
    result = probe(base)
    assert result.exit_code == 2, result.output
    assert "robots.txt forbids the list page" in result.output
    assert "verdict: BLOCKED" in result.output
    assert [url for _, url in the_portal.requests] == ["https://www.shanghai.gov.cn/robots.txt"]


def test_a_waf_page_is_blocked(portal):
    the_portal, base = portal
    _, details = _pages()
    waf = ("<html><head><title>访问被拦截</title></head><body><h1>您的访问被拦截</h1>"
           "<p>网站防火墙检测到您的请求存在异常，已被安全狗拦截。</p></body></html>")
    the_portal.put(details[0].url, waf, status=403)
    result = probe(base)
    assert result.exit_code == 2, result.output
    assert "[blocked] document" in result.output


def test_a_site_listed_as_not_crawled_is_blocked_without_a_request():
    site = Site(key="x_blocked", name="示例市人民政府", division_code="360400", level="prefecture",
                family="trs", domains=("www.example-blocked.cn",),
                columns=(Column(name="政策文件", url="http://www.example-blocked.cn/zcwj/"),),
                enabled=False, blocked_reason="robots.txt: Disallow: /zcwj/")
    fetcher = PoliteFetcher("policywatch-test", 2.0, replay_url="http://127.0.0.1:9")
    report = probe_site(site, fetcher)
    assert report.verdict == BLOCKED and report.exit_code == 2
    assert fetcher.requests == []
    assert "robots.txt: Disallow: /zcwj/" in report.notes[0][1]


def test_save_writes_both_pages_as_fixtures_for_review(portal, tmp_path):
    _, base = portal
    result = probe(base, "--save", "--fixtures-dir", str(tmp_path))
    assert result.exit_code == 0, result.output
    folder = tmp_path / SITE
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    kinds = [(p["kind"], p["url"]) for p in meta["pages"]]
    listed, details = _pages()
    assert kinds == [("list", listed.url), ("detail", details[0].url)]
    saved = {p["kind"]: p for p in meta["pages"]}
    assert (folder / saved["list"]["file"]).read_bytes() == listed.body
    detail_expected = json.loads((folder / saved["detail"]["expected"]).read_text(encoding="utf-8"))
    assert detail_expected["title"] == details[0].expected()["title"]
    list_expected = json.loads((folder / saved["list"]["expected"]).read_text(encoding="utf-8"))
    assert [e["url"] for e in list_expected["entries"]] == [d.url for d in details]


def test_without_a_terminal_and_without_save_nothing_is_asked_or_saved(portal, tmp_path):
    _, base = portal
    result = CliRunner().invoke(main, ["probe", SITE, "--replay", base, "--fixtures-dir", str(tmp_path)],
                                input="y\n")
    assert result.exit_code == 0, result.output
    assert "save both pages" not in result.output
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_site_is_named():
    result = CliRunner().invoke(main, ["probe", "no_such_site"])
    assert result.exit_code != 0
    assert "unknown site 'no_such_site'" in result.output


def test_the_fetcher_keeps_the_sites_delay_between_requests():
    """Against a live portal (here: the replay server addressed directly) requests are spaced
    by the site's delay; robots.txt is read once per host."""
    portal = ReplayPortal()
    with portal.serve() as base:
        site = Site(key="pace_test", name="示例市人民政府", division_code="360400", level="prefecture",
                    family="generic", domains=("127.0.0.1",),
                    columns=(Column(name="政策文件", url=f"{base}/zcwj/index.html"),),
                    politeness=Politeness(delay=2.5))
        portal.put(f"{base}/zcwj/index.html",
                   "<html><body><ul><li><a href='/zcwj/a.html'>示例市关于元宇宙产业发展的通知</a><span>2026-09-01</span></li>"
                   "<li><a href='/zcwj/b.html'>示例市关于安全生产检查的通知</a><span>2026-08-01</span></li></ul></body></html>")
        portal.put(f"{base}/zcwj/a.html",
                   "<html><head><title>示例市关于元宇宙产业发展的通知</title></head><body><h1>示例市关于元宇宙产业发展的通知</h1>"
                   "<p>发布日期：2026-09-01</p><div class='article-content'><p>为加快元宇宙产业发展，现将有关事项通知如下，"
                   "请各单位结合实际认真贯彻落实，确保各项工作任务按期完成。</p></div></body></html>")
        sleeps: list[float] = []
        fetcher = PoliteFetcher("policywatch-test", site.politeness.delay, sleep=sleeps.append)
        report = probe_site(site, fetcher)
    assert report.verdict == OK, report.notes
    assert fetcher.requests == [f"{base}/robots.txt", f"{base}/zcwj/index.html", f"{base}/zcwj/a.html"]
    assert len(sleeps) == 2 and all(2.0 < s <= 2.5 for s in sleeps)


def test_verdict_order_blocked_beats_broken():
    report = probe_site.__globals__["ProbeReport"](get_site(SITE))
    report.note(BROKEN, "x")
    report.note(BLOCKED, "y")
    report.note(BROKEN, "z")
    assert report.verdict == BLOCKED


DECLARED = """
[[watch]]
key = "sh_column_by_hand"
issuer = "上海市人民政府"
name = "规范性文件"
url = "https://www.shanghai.gov.cn/nw12344/index.html"
family = "trs"
division_code = "310000"
level = "province"
"""


@pytest.fixture
def declared_config(tmp_path):
    path = tmp_path / "policywatch.toml"
    path.write_text(DECLARED, encoding="utf-8")
    return path


def test_a_config_declared_site_is_probed_and_saved_where_told(portal, declared_config, tmp_path):
    """A maintainer who declared a column in the config checks it as a registry site is checked;
    its fixtures go to the folder named, never into the project's registry fixtures. Declared
    with the family's defaults only, it is told that its content selectors do not match (the
    registry's sh_gov has its own)."""
    the_portal, base = portal
    result = probe(base, "--config", str(declared_config), "--save", "--fixtures-dir", str(tmp_path / "fx"),
                   key="sh_column_by_hand")
    listed, details = _pages()
    assert result.exit_code == 1, result.output
    assert "none of the content selectors" in result.output and "verdict: BROKEN" in result.output
    assert details[0].expected()["title"] in result.output and "2 entries on the list page" in result.output
    meta = json.loads((tmp_path / "fx" / "sh_column_by_hand" / "meta.json").read_text(encoding="utf-8"))
    assert meta["site"] == "sh_column_by_hand"
    assert [(p["kind"], p["url"]) for p in meta["pages"]] == [("list", listed.url), ("detail", details[0].url)]

    refused = probe(base, "--config", str(declared_config), "--save", key="sh_column_by_hand")
    assert refused.exit_code == 2 and "pass --fixtures-dir" in refused.output


def test_fixture_save_takes_a_config_declared_site(declared_config, tmp_path):
    _, details = _pages()
    page = tmp_path / "page.html"
    page.write_bytes(details[0].body)
    args = ["fixture", "save", "sh_column_by_hand", str(page), "--url", details[0].url,
            "--config", str(declared_config)]
    refused = CliRunner().invoke(main, args)
    assert refused.exit_code == 2 and "pass --fixtures-dir" in refused.output
    saved = CliRunner().invoke(main, [*args, "--fixtures-dir", str(tmp_path / "fx")])
    assert saved.exit_code == 0, saved.output
    expected = json.loads((tmp_path / "fx" / "sh_column_by_hand" / "detail_1.json").read_text(encoding="utf-8"))
    assert expected["title"] == details[0].expected()["title"]
    unknown = CliRunner().invoke(main, ["fixture", "save", "nobody_declared_this", str(page), "--url", details[0].url,
                                        "--config", str(declared_config)])
    assert unknown.exit_code == 2 and "sh_column_by_hand" in unknown.output  # the known ones are listed
