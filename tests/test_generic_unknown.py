"""The generic adapter on portals of no known CMS (fixtures/replay/unknown/): the main list and
not the menus, boxes or footer; every page of the column, by 下一页, by numbers or by 尾页;
the documents' fields from their metadata blocks and meta tags."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from crawlers.families import get_family
from crawlers.families.listparse import find_next_link, load_page, page_count, split_dates
from crawlers.items import PageRequest
from crawlers.replay.portal import REPLAY_DIR
from crawlers.sites.spec import Column, Site

GENERIC = get_family("generic")
TRUTH = json.loads((REPLAY_DIR / "unknown" / "truth.json").read_text(encoding="utf-8"))
SERVED = {e["url"]: e for e in json.loads((REPLAY_DIR / "portal.json").read_text(encoding="utf-8"))["pages"]}
FIELDS = ("title", "doc_number", "issuer", "index_no", "written_date", "published_date")
# Furniture of these pages that must never reach a document's text.
FURNITURE = ("分享到", "打印本页", "关闭窗口", "版权所有", "当前位置", "点击数", "网站更新", "【打印】")


def served(url: str) -> bytes:
    return (REPLAY_DIR / SERVED[url]["file"]).read_bytes()


def site_for(key: str) -> Site:
    column = TRUTH[key]["column"]
    return Site(key=f"unknown_{key}", name=TRUTH[key]["issuer"], division_code="429004", level="county",
                family="generic", domains=(urlsplit(column).hostname,),
                columns=(Column(name=TRUTH[key]["name"], url=column),))


def walk(key: str):
    """Every list page of the column, following what each page says comes next."""
    site = site_for(key)
    request, pages = PageRequest(url=site.columns[0].url, page=1), []
    while request is not None:
        listing = GENERIC.parse_list(site, site.columns[0], request, served(request.url), {})
        pages.append((request, listing))
        request = listing.next_pages[0] if listing.next_pages else None
        assert len(pages) <= 10, "the pagination loops"
    return pages


@pytest.mark.parametrize("key", sorted(TRUTH))
def test_every_document_of_the_column_is_found_in_order(key):
    pages = walk(key)
    assert [r.url for r, _ in pages] == TRUTH[key]["pages"]
    found = [(e.url, e.title, e.published_date.isoformat() if e.published_date else None)
             for _, listing in pages for e in listing.entries]
    assert found == [(d["url"], d["title"], d["published_date"]) for d in TRUTH[key]["documents"]]


def test_boxes_of_dated_links_beside_and_under_the_list_are_not_the_list():
    # kfq: a 热点推荐 box (6 dated links, more than the last page's 2) and a 相关链接 box under
    # the list (6 dated links), neither marked by a class; the footer has a date too.
    pages = walk("kfq")
    urls = {e.url for _, listing in pages for e in listing.entries}
    assert not any("/ztzl/" in u or "/gkml/" in u or "example-shi" in u for u in urls)
    assert [len(listing.entries) for _, listing in pages] == [5, 5, 2]


def test_a_sidebar_longer_than_the_last_page_is_not_the_list():
    # xian: the 最新动态 sidebar before the list holds 5 dated links; page 2 holds 3 cards.
    (_, first), (_, last) = walk("xian")
    assert len(first.entries) == 4 and len(last.entries) == 3
    assert all("/tzgg/" in e.url for e in first.entries + last.entries)


def test_card_links_give_their_heading_and_their_split_date():
    (_, first), _ = walk("xian")
    entry = first.entries[0]
    assert entry.title == "示例县关于征集数字文旅元宇宙应用场景的公告"  # not the summary or the date
    assert entry.published_date == date(2024, 6, 3)  # <b>03</b><span>2024-06</span>


def test_truncated_titles_come_from_the_title_attribute():
    (_, first), *_ = walk("kfq")
    assert first.entries[0].title == ("示例经济技术开发区管理委员会关于印发《示例经开区元宇宙产业集聚发展若干措施》"
                                      "的通知")


def test_a_last_page_of_one_document_is_read():
    *_, (request, last) = walk("shi")
    assert request.url.endswith("index_2.html")
    assert [e.title for e in last.entries] == ["示例市科技型中小企业评价工作实施细则"]


def test_the_tail_link_and_page_count_carry_a_column_whose_next_link_is_a_script():
    # shi: 下一页 is javascript:goPage(2); only 尾页 (index_2.html) and 共3页 are real.
    site = site_for("shi")
    url = site.columns[0].url
    page = load_page(url, served(url))
    assert page_count(page) == 3
    assert find_next_link(page, PageRequest(url=url, page=1)) == "http://kjj.example-shi.cn/zcwj/index_1.html"
    second = "http://kjj.example-shi.cn/zcwj/index_1.html"
    assert find_next_link(load_page(second, served(second)), PageRequest(url=second, page=2)) == \
        "http://kjj.example-shi.cn/zcwj/index_2.html"


@pytest.mark.parametrize(("pager", "number", "expected"), [
    # 尾页 of 1-based pages: list_5.htm is page 5.
    ('<span>共5页</span><a href="javascript:next()">下一页</a><a href="list_5.htm">尾页</a>', 1, "list_2.htm"),
    # 尾页 of TRS-style 0-based pages: index_4.html is page 5.
    ('<span>页次：2/5</span><a href="javascript:;">下一页</a><a href="index_4.html">末页</a>', 2, "index_2.html"),
    # a query parameter
    ('<span>共 5 页</span><a href="?pageNo=5">尾页</a>', 3, "index.html?pageNo=4"),
    # the last page: nothing follows
    ('<span>共5页</span><a href="list_5.htm">尾页</a>', 5, None),
    # no page count: the tail link alone cannot say how pages are numbered
    ('<a href="javascript:;">下一页</a><a href="list_5.htm">尾页</a>', 1, None),
])
def test_next_page_from_the_tail_link(pager, number, expected):
    url = "http://www.xx.gov.cn/zcwj/index.html"
    html = (f'<html><body><ul><li><a href="/a/1.html">某某县关于某事项的通知</a><span>2024-05-20</span></li>'
            f'<li><a href="/a/2.html">某某县关于另一事项的通知</a><span>2024-05-18</span></li></ul>'
            f'<div class="page">{pager}</div></body></html>')
    page = load_page(url, html.encode())
    got = find_next_link(page, PageRequest(url=url, page=number))
    assert got == (None if expected is None else f"http://www.xx.gov.cn/zcwj/{expected}")


def test_split_dates():
    assert split_dates("20 2024-05") == [date(2024, 5, 20)]
    assert split_dates("2024年05月 20") == [date(2024, 5, 20)]
    assert split_dates("31 2024-02") == []  # no such day
    assert split_dates("2024-05-20") == []  # a whole date is find_dates' business


@pytest.mark.parametrize("key", sorted(TRUTH))
def test_documents_are_parsed_with_their_fields_and_without_furniture(key):
    site = site_for(key)
    for doc in TRUTH[key]["documents"]:
        item = GENERIC.parse_detail(site, doc["url"], served(doc["url"]), {})
        got = {name: getattr(item, name) for name in FIELDS}
        got = {k: v.isoformat() if isinstance(v, date) else v for k, v in got.items()}
        assert got == {name: doc[name] for name in FIELDS}, doc["url"]
        leaked = [f for f in FURNITURE if f in item.body_text]
        assert not leaked, f"{doc['url']}: {leaked} in the text"
        assert item.body_text.splitlines()[-2] == doc["issuer"]  # the text runs to its signature


def test_a_related_links_box_by_its_heading_only():
    url = "http://www.xx.gov.cn/zcwj/index.html"
    related = "".join(f'<li><a href="/r/{i}.html">某某县相关文件第{i}号文件标题</a><span>2023-01-0{i}</span></li>'
                      for i in range(1, 7))
    html = (f'<html><body><div class="a"><ul><li><a href="/a/1.html">某某县关于某事项的通知</a>'
            f'<span>2024-05-20</span></li><li><a href="/a/2.html">某某县关于另一事项的通知</a>'
            f'<span>2024-05-18</span></li></ul></div>'
            f'<div class="b"><h3>相关文件</h3><ul>{related}</ul></div></body></html>')
    site = Site(key="x", name="测试", division_code="360000", level="province", family="generic",
                domains=("www.xx.gov.cn",), columns=(Column(name="c", url=url),))
    listing = GENERIC.parse_list(site, site.columns[0], PageRequest(url=url), html.encode(), {})
    assert [e.url for e in listing.entries] == ["http://www.xx.gov.cn/a/1.html", "http://www.xx.gov.cn/a/2.html"]


def test_the_unknown_sites_are_served_by_the_replay_portal():
    for key, truth in TRUTH.items():
        for url in truth["pages"] + [d["url"] for d in truth["documents"]]:
            assert url in SERVED, f"{key}: {url} is not in fixtures/replay/portal.json"
            assert (REPLAY_DIR / SERVED[url]["file"]).exists()


# --- end to end: detect, watch add, crawl -----------------------------------------------------
REPO = Path(__file__).resolve().parents[1]


def cli(*args) -> subprocess.CompletedProcess:
    """`policywatch ARGS...` in its own process, as a user runs it."""
    return subprocess.run([sys.executable, "-m", "scheduler", *map(str, args)], cwd=REPO,
                          capture_output=True, text=True, timeout=300)


DIVISIONS = {"kfq": ("429004", "county"), "xian": ("429005", "county"), "shi": ("429006", "prefecture")}


@pytest.fixture(scope="module")
def watched(tmp_path_factory):
    """The three unknown columns added with `watch add` and crawled once, on the replay portal."""
    from click.testing import CliRunner

    from crawlers.replay.portal import ReplayPortal
    from scheduler import main

    folder = tmp_path_factory.mktemp("unknown")
    config, db = folder / "policywatch.toml", folder / "corpus.db"
    portal = ReplayPortal()
    portal.load_extra()
    keys = {}
    with portal.serve() as base:
        for key, truth in sorted(TRUTH.items()):
            division, level = DIVISIONS[key]
            added = CliRunner().invoke(main, ["watch", "add", truth["column"], "--config", str(config),
                                              "--replay", base, "--division", division, "--level", level,
                                              "--key", f"unknown_{key}"])
            assert added.exit_code == 0, added.output
            keys[key] = f"unknown_{key}"
        crawled = cli("crawl", *keys.values(), "--config", config, "--db", db, "--replay", base)
        assert crawled.returncode == 0, crawled.stdout + crawled.stderr
    return config, db, keys, portal


def test_watch_add_reads_an_unknown_cms_with_the_generic_adapter(watched):
    from scheduler import load_app_config as load_config

    config, _, keys, _ = watched
    sites = {s.key: s for s in load_config(config).watch}
    for key, truth in TRUTH.items():
        site = sites[keys[key]]
        assert site.family == "generic"
        assert site.name == truth["issuer"] and site.columns[0].name == truth["name"]
        assert site.domains == (urlsplit(truth["column"]).hostname,)


def test_a_crawl_of_the_watched_columns_stores_every_document(watched):
    from pipelines.schema import open_corpus

    _, db, keys, portal = watched
    corpus = open_corpus(db)
    for key, truth in TRUTH.items():
        stored = {r["url"]: r for r in corpus.query("select * from documents where site = ?", [keys[key]])}
        assert set(stored) == {d["url"] for d in truth["documents"]}, key
        for doc in truth["documents"]:
            row = stored[doc["url"]]
            assert (row["title"], row["doc_number"], row["published_date"]) == \
                (doc["title"], doc["doc_number"], doc["published_date"])
    # Only the column's pages and documents were fetched: no box, menu or footer link.
    fetched = {url for _, url in portal.requests}
    assert not any("/ztzl/" in u or "/gkml/" in u or "/xwzx/" in u for u in fetched)
