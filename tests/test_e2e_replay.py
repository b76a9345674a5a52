"""End to end: real Scrapy crawls of the replay portal on 127.0.0.1 into a real SQLite file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from crawlers.replay.portal import ReplayPortal
from crawlers.tools.fixtures import all_fixture_sites, load_site_fixtures

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[1]

# What the replay-only generic site holds behind its list links (fixtures/replay/portal.json).
GENERIC_STORED = {
    "http://www.example-gov.cn/zcwj/202203/t20220315_1001.html",
    "http://www.example-gov.cn/zcwj/202203/t20220310_1002.html",
    "http://www.example-gov.cn/zcwj/202203/t20220305_1003.html",  # GBK, no charset declared
    "http://www.example-gov.cn/zcwj/202202/t20220210_1010.docx",  # the document is the file
    "http://www.example-gov.cn/zcwj/202201/t20220128_1011.html",
    "http://www.example-gov.cn/zcwj/202201/t20220120_1012.html",
}
GENERIC_REFUSED = {
    "http://www.example-gov.cn/zcwj/202203/t20220301_1004.html": "blocked",  # 412 JS challenge
    "http://www.example-gov.cn/zcwj/202202/t20220228_1005.html": "blocked",  # 200 WAF block page
    "http://www.example-gov.cn/zcwj/202202/t20220225_1006.html": "empty",
    "http://www.example-gov.cn/zcwj/202202/t20220220_1007.html": "blocked",  # login wall
    "http://www.example-gov.cn/zcwj/202202/t20220218_1008.html": "truncated",
    "http://www.example-gov.cn/zcwj/202202/t20220215_1009.html": "binary",
    "http://www.example-gov.cn/zcwj/202201/t20220115_1013.html": "http_404",
}


def crawl(keys: list[str], db: Path, replay_url: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "scheduler", "crawl", *keys, "--db", str(db), "--replay", replay_url],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )


@pytest.fixture(scope="module")
def portal():
    portal = ReplayPortal.from_fixtures()
    with portal.serve() as base:
        yield portal, base


@pytest.fixture(scope="module")
def crawled(portal, tmp_path_factory):
    """The corpus after one crawl of every fixture site and the generic replay site."""
    _, base = portal
    db = tmp_path_factory.mktemp("e2e") / "corpus.db"
    keys = all_fixture_sites() + ["replay_generic"]
    result = crawl(keys, db, base)
    assert result.returncode == 0, result.stdout + result.stderr
    from pipelines.schema import open_corpus

    return open_corpus(db), db, result


def test_every_fixture_detail_is_stored_with_its_expected_fields(crawled):
    db, _, _ = crawled
    stored = {row["url"]: row for row in db.query("select * from documents")}
    for key in all_fixture_sites():
        for page in load_site_fixtures(key):
            if page.kind != "detail" or page.expected_path is None:
                continue
            expected = page.expected()
            assert page.url in stored, f"{key}: {page.url} was not stored"
            row = stored[page.url]
            assert row["site"] == key
            assert row["title"] == expected["title"]
            assert row["doc_number"] == expected["doc_number"]
            assert row["published_date"] == expected["published_date"]


def test_bad_pages_are_refused_and_recorded_never_stored(crawled):
    db, _, _ = crawled
    urls = {row["url"] for row in db.query("select url from documents where site = 'replay_generic'")}
    assert urls == GENERIC_STORED
    run = next(db.query("select * from runs where site = 'replay_generic'"))
    reasons = {e["url"]: e["reason"] for e in json.loads(run["errors"])}
    for url, reason in GENERIC_REFUSED.items():
        assert reasons.get(url) == reason, f"{url}: refused as {reasons.get(url)!r}, expected {reason!r}"


def test_undeclared_gbk_page_is_decoded(crawled):
    db, _, _ = crawled
    row = next(db.query("select * from documents where url like '%t20220305_1003.html'"))
    assert row["title"] == "示例市数字经济促进办法（试行）"
    assert "以数据资源为关键要素" in row["body_text"]


def test_attachment_text_is_extracted(crawled, portal):
    db, _, _ = crawled
    requested = [url for _, url in portal[0].requests]
    # A list entry that is the file itself is downloaded once per crawl, not again as an attachment.
    assert requested.count("http://www.example-gov.cn/zcwj/202202/t20220210_1010.docx") == \
        requested.count("http://www.example-gov.cn/zcwj/index.html")
    docx_doc = next(db.query("select * from documents where url like '%t20220210_1010.docx'"))
    assert "虚拟现实产业园" in docx_doc["body_text"]
    att = next(db.query("select * from attachments where url like '%t20220210_1010.docx'"))
    assert att["sha256"] and "近眼显示" in att["text"]


def test_chinese_full_text_search(crawled):
    from pipelines.search import search

    db, _, _ = crawled
    four = [d["url"] for d in search(db, "元宇宙产业")]
    assert "http://www.example-gov.cn/zcwj/202203/t20220315_1001.html" in four
    two = [d["url"] for d in search(db, "植树")]
    assert two == []  # the 植树 notice sits behind a WAF page: never stored
    two = [d["url"] for d in search(db, "文旅")]
    assert "http://www.example-gov.cn/zcwj/202201/t20220128_1011.html" in two


def test_recrawl_of_an_unchanged_portal_stores_nothing_new(crawled, portal):
    db, path, _ = crawled
    _, base = portal
    before = {t: db.execute(f"select count(*) from {t}").fetchone()[0]
              for t in ("documents", "versions", "attachments", "changes")}
    result = crawl(all_fixture_sites() + ["replay_generic"], path, base)
    assert result.returncode == 0, result.stderr
    after = {t: db.execute(f"select count(*) from {t}").fetchone()[0]
             for t in ("documents", "versions", "attachments", "changes")}
    assert after == before


def test_revised_page_gets_a_second_version(portal, tmp_path):
    the_portal, base = portal
    db_path = tmp_path / "corpus.db"
    assert crawl(["replay_generic"], db_path, base).returncode == 0
    url = "http://www.example-gov.cn/zcwj/202203/t20220310_1002.html"
    original = the_portal.get(url)
    revised = original.body.decode("utf-8").replace("定期开展专项审计", "每半年开展一次专项审计")
    the_portal.put(url, revised, headers=original.headers)
    try:
        assert crawl(["replay_generic"], db_path, base).returncode == 0
    finally:
        the_portal.put(url, original.body, headers=original.headers)
    from pipelines.schema import open_corpus

    db = open_corpus(db_path)
    doc = next(db.query("select * from documents where url = ?", [url]))
    versions = list(db.query("select body_text from versions where document_id = ? order by id", [doc["id"]]))
    assert len(versions) == 2
    assert "定期开展专项审计" in versions[0]["body_text"]
    assert "每半年开展一次专项审计" in versions[1]["body_text"]
    kinds = [c["kind"] for c in db.query("select kind from changes where document_id = ? order by id", [doc["id"]])]
    assert kinds == ["new", "revised"]


@pytest.mark.browser
def test_browser_rendered_list(portal, tmp_path):
    if not Path("/usr/bin/chromium").exists():
        pytest.fail("/usr/bin/chromium is missing: .ci/setup installs it")
    _, base = portal
    db_path = tmp_path / "corpus.db"
    result = crawl(["replay_browser"], db_path, base)
    assert result.returncode == 0, result.stdout + result.stderr
    from pipelines.schema import open_corpus

    titles = {r["title"] for r in open_corpus(db_path).query("select title from documents")}
    assert titles == {"示例区关于征集数字人应用场景的公告", "示例区关于举办2022年元宇宙创新大赛的通知"}


def test_stored_documents_carry_their_classification(crawled):
    """The classify stage runs in the crawl: relevance from the body (the generic site's
    related-links box says 元宇宙 on every page), level and region from the site's jurisdiction."""
    db, _, _ = crawled
    rows = {r["url"]: r for r in db.query("select * from documents")}
    assert all(r["relevance"] and r["classifier_version"] for r in rows.values())
    generic = "http://www.example-gov.cn/zcwj/"
    plan = rows[generic + "202203/t20220315_1001.html"]
    assert (plan["relevance"], plan["level"], plan["region"], plan["province"]) == (
        "dedicated", "county", "华中", "湖北省")
    assert "元宇宙" in json.loads(plan["evidence"])["relevance"]
    for url in ("202203/t20220310_1002.html", "202203/t20220305_1003.html",
                "202201/t20220128_1011.html", "202201/t20220120_1012.html"):
        assert rows[generic + url]["relevance"] == "none", url
    assert rows[generic + "202202/t20220210_1010.docx"]["relevance"] == "related"
    by_title = {r["title"]: r for r in rows.values()}
    shanxi = by_title["山西省人民政府关于印发山西省元宇宙产业创新发展行动计划（2024—2026年）的通知"]
    assert (shanxi["relevance"], shanxi["level"], shanxi["region"]) == ("dedicated", "province", "华北")
    national = [r for r in rows.values() if r["site"] == "cn_gov"]
    assert national and all(r["level"] == "national" for r in national)
