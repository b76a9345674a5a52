"""`policywatch browse`: the corpus in Datasette, started as the user starts it, driven in the
system Chromium through Playwright; canned queries, document pages and diffs over HTTP."""

from __future__ import annotations

import hashlib
import json
import re
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from crawlers.engine.settings import PLAYWRIGHT_LAUNCH_OPTIONS
from crawlers.parsing.textnorm import search_form
from crawlers.replay.portal import ReplayPortal
from digest.browse import canned_queries, metadata
from pipelines.schema import read_corpus
from pipelines.search import search
from tests.classified_corpus import DRAFT_TITLE, REPO, classified_copy

REVISED_URL = "http://www.example-gov.cn/zcwj/202203/t20220310_1002.html"
BEFORE, AFTER = "定期开展专项审计", "每半年开展一次专项审计"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(base: str, path: str, **params) -> str:
    query = ("?" + urllib.parse.urlencode(params)) if params else ""
    with urllib.request.urlopen(base + path + query, timeout=30) as response:
        return response.read().decode("utf-8")


def get_json(base: str, path: str, **params):
    return json.loads(get(base, path, **params))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """The classified corpus, then a second crawl of the generic site with one page revised."""
    path = classified_copy(tmp_path_factory, "browse")
    portal = ReplayPortal.from_fixtures(sites=[])  # the replay-only sites' pages
    page = portal.get(REVISED_URL)
    portal.put(REVISED_URL, page.body.decode("utf-8").replace(BEFORE, AFTER), headers=page.headers)
    with portal.serve() as base:
        result = subprocess.run(
            [sys.executable, "-m", "scheduler", "crawl", "replay_generic", "--db", str(path),
             "--replay", base], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return path


@pytest.fixture(scope="module")
def server(corpus):
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "scheduler", "browse", "--db", str(corpus), "--port", str(port)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                get(base, "/-/versions.json")
                break
            except (urllib.error.URLError, ConnectionError):
                if process.poll() is not None or time.monotonic() > deadline:
                    process.kill()
                    pytest.fail(f"policywatch browse did not start:\n{process.stdout.read()}")
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def matching(corpus: Path, *terms: str, where: str = "1") -> set[str]:
    """Titles of the documents whose title or text holds every term (in search form)."""
    conn = sqlite3.connect(corpus)
    rows = conn.execute(f"SELECT title, body_text FROM documents WHERE {where}").fetchall()
    return {t for t, body in rows
            if all(term in search_form(t) or term in search_form(body) for term in terms)}


def shown_titles(page) -> set[str]:
    return {link.inner_text().strip() for link in page.locator("td.col-title a").all()}


def shown_count(page) -> int:
    heading = page.locator("h3.pw-count").inner_text()
    return int(re.match(r"([\d,]+) 件文件", heading).group(1).replace(",", ""))


@pytest.mark.browser
@pytest.mark.e2e
def test_search_two_and_four_characters_then_a_facet_in_chromium(server, corpus):
    if not Path("/usr/bin/chromium").exists():
        pytest.fail("/usr/bin/chromium is missing: .ci/setup installs it")
    from playwright.sync_api import sync_playwright

    two, four = matching(corpus, "文旅"), matching(corpus, "元宇宙产业")
    assert two and four and two != four  # terms that tell the two searches apart
    with sync_playwright() as p:
        browser = p.chromium.launch(**PLAYWRIGHT_LAUNCH_OPTIONS)
        try:
            page = browser.new_page()
            page.goto(f"{server}/corpus/documents")
            assert page.locator("#_search").is_visible()

            page.fill("#_search", "文旅")
            page.press("#_search", "Enter")
            page.wait_for_load_state()
            assert "_search=" in page.url
            assert shown_titles(page) == two
            assert shown_count(page) == len(two)

            page.fill("#_search", "元宇宙产业")
            page.press("#_search", "Enter")
            page.wait_for_load_state()
            assert shown_titles(page) == four
            assert shown_count(page) == len(four)

            # Narrow the four-character search by a facet value the results have.
            conn = sqlite3.connect(corpus)
            relevance = {r for (r,) in conn.execute("SELECT DISTINCT relevance FROM documents "
                                                    "WHERE title IN (%s)" % ",".join("?" * len(four)),
                                                    sorted(four))}
            value = "dedicated" if "dedicated" in relevance else sorted(relevance)[0]
            page.locator(f'#facet-relevance a[data-value="{value}"]').click()
            page.wait_for_load_state()
            assert f"relevance={value}" in page.url and "_search=" in page.url
            narrowed = matching(corpus, "元宇宙产业", where=f"relevance = '{value}'")
            assert narrowed and shown_titles(page) == narrowed
            assert page.locator("#_search").input_value() == "元宇宙产业"

            # A tag facet (the JSON list of technologies) narrows further.
            tags = json.loads(conn.execute(
                "SELECT techs FROM documents WHERE relevance = ? AND techs != '[]' AND title IN (%s)"
                % ",".join("?" * len(narrowed)), [value, *sorted(narrowed)]).fetchone()[0])
            page.locator(f'#facet-techs a[data-value="{tags[0]}"]').click()
            page.wait_for_load_state()
            assert f"techs__arraycontains={tags[0]}" in page.url
            tagged = {t for t in narrowed if tags[0] in json.loads(conn.execute(
                "SELECT techs FROM documents WHERE title = ?", [t]).fetchone()[0])}
            assert shown_titles(page) == tagged
        finally:
            browser.close()


@pytest.mark.e2e
def test_month_and_site_facets_count_the_corpus(server, corpus):
    data = get_json(server, "/corpus/documents.json", _search="元宇宙",
                    _facet="site", _facet_size="max")
    facets = data["facet_results"]
    conn = sqlite3.connect(corpus)
    titles = matching(corpus, "元宇宙")
    placeholders = ",".join("?" * len(titles))
    months = dict(conn.execute(
        f"SELECT substr(published_date, 1, 7), count(*) FROM documents WHERE title IN ({placeholders}) "
        "AND published_date IS NOT NULL GROUP BY 1", sorted(titles)))
    month_facet = next(f for f in facets.values() if f["type"] == "month")
    assert {v["value"]: v["count"] for v in month_facet["results"]} == months
    some_month = next(iter(months))
    narrowed = get_json(server, "/corpus/documents.json", _search="元宇宙",
                        published_date__startswith=some_month, _shape="array")
    assert len(narrowed) == months[some_month]


@pytest.mark.e2e
def test_canned_queries(server, corpus):
    conn = sqlite3.connect(corpus)
    new = get_json(server, "/corpus/new_this_week.json", _shape="array", _size="max")
    recent = {r[0] for r in conn.execute(
        "SELECT id FROM documents WHERE first_seen >= strftime('%Y-%m-%dT%H:%M:%S', 'now', '-7 days')")}
    assert {r["id"] for r in new} == recent and recent

    drafts = get_json(server, "/corpus/drafts_without_final.json", _shape="array")
    titles = {r["title"] for r in drafts}
    assert DRAFT_TITLE not in titles  # its policy has a final
    for r in drafts:
        assert "征求意见" in r["title"] or "草案" in r["title"]

    regions = get_json(server, "/corpus/dedicated_by_region.json", _shape="array")
    policies: dict[int, list] = {}
    for row in conn.execute(
            "SELECT id, coalesce(policy_id, id), status, title, withdrawn_at, "
            "coalesce(published_date, written_date, substr(first_seen, 1, 10)), relevance, region "
            "FROM documents WHERE doc_type IS NOT 'interpretation' "
            "AND id NOT IN (SELECT document_id FROM interpretations)"):
        policies.setdefault(row[1], []).append(row)
    # A 政策解读 explains a policy and is none: the corpus has a dedicated one, not counted.
    assert conn.execute("SELECT count(*) FROM documents WHERE doc_type = 'interpretation' "
                        "AND relevance = 'dedicated'").fetchone()[0]
    expected: dict[str, int] = {}
    for members in policies.values():
        # Each policy once, as its final: drafts last, then withdrawn pages, then the earliest.
        head = min(members, key=lambda r: (
            r[2] == "draft" if r[2] else ("征求意见" in r[3] or "草案" in r[3]),
            r[4] is not None, r[5], r[0]))
        if head[6] == "dedicated":
            region = head[7] or "（无地区：国家级或未标注）"
            expected[region] = expected.get(region, 0) + 1
    assert {r["region"]: r["policies"] for r in regions} == expected and expected


@pytest.mark.e2e
def test_a_document_page_links_its_versions_and_the_diff(server, corpus):
    conn = sqlite3.connect(corpus)
    doc_id = conn.execute("SELECT id FROM documents WHERE url = ?", [REVISED_URL]).fetchone()[0]
    first, second = [r[0] for r in conn.execute(
        "SELECT id FROM versions WHERE document_id = ? ORDER BY id", [doc_id])]
    page = get(server, f"/corpus/documents/{doc_id}")
    assert f'href="/corpus/versions/{first}"' in page and f'href="/corpus/versions/{second}"' in page
    assert f'href="/-/policywatch/diff/{second}"' in page
    assert "已修订" in page  # the change, on the policy's timeline

    diff = get(server, f"/-/policywatch/diff/{second}")
    assert f"/corpus/versions/{first}" in diff
    changed = re.search(r'<p class="changed">(.*?)</p>', diff, re.S).group(1)
    as_before = re.sub(r"<[^>]+>", "", re.sub(r"<ins>.*?</ins>", "", changed))
    as_after = re.sub(r"<[^>]+>", "", re.sub(r"<del>.*?</del>", "", changed))
    assert BEFORE in as_before and AFTER not in as_before
    assert AFTER in as_after and BEFORE not in as_after
    original = get(server, f"/-/policywatch/diff/{first}")
    assert "首个版本" in original and BEFORE in original and "<del>" not in original
    with pytest.raises(urllib.error.HTTPError) as missing:
        get(server, "/-/policywatch/diff/999999")
    assert missing.value.code == 404


@pytest.mark.e2e
def test_the_corpus_is_served_read_only(server, corpus):
    databases = get_json(server, "/-/databases.json")
    assert [(d["name"], d["is_mutable"]) for d in databases] == [("corpus", False)]
    before = hashlib.sha256(corpus.read_bytes()).hexdigest()
    get(server, "/corpus/documents", _search="文旅", _facet="relevance")
    get(server, "/corpus/new_this_week")
    assert hashlib.sha256(corpus.read_bytes()).hexdigest() == before
    assert not Path(str(corpus) + "-wal").exists() or Path(str(corpus) + "-wal").stat().st_size == 0


@pytest.mark.e2e
def test_browse_finds_what_policywatch_search_finds(server, corpus):
    """One query language: browse filters by pipelines.search's matches (terms of any length,
    OR, phrases, 文号 however bracketed, 索引号), so both find the same documents."""
    db = read_corpus(corpus)
    number, index_no = next(iter(db.query(
        "SELECT doc_number, index_no FROM documents WHERE doc_number LIKE '%〔%' "
        "AND index_no IS NOT NULL ORDER BY id LIMIT 1"))).values()
    bracketed = number.replace("〔", "[").replace("〕", "]")
    queries = ["文旅", "元宇宙产业", "元宇宙产业 文旅", "文旅 OR 规划", '"元宇宙 产业"', "vr",
               bracketed, index_no, f"{bracketed} | 文旅"]
    for query in queries:
        found = {d["id"] for d in search(db, query, limit=10_000)}
        shown = {r["id"] for r in get_json(server, "/corpus/documents.json", _search=query,
                                           _shape="array", _size="max")}
        assert shown == found, query
    assert {d["doc_number"] for d in search(db, bracketed)} >= {number}
    db.close()


@pytest.mark.faults
@pytest.mark.e2e
def test_a_hostile_search_is_refused_in_one_line_or_searched_as_text(server):
    from benchmarks.faultcases.browse import EMPTY_QUERIES, HOSTILE_QUERIES, TOO_MANY_TERMS

    for query in HOSTILE_QUERIES:  # searched as text: FTS syntax, SQL and markup stay text
        page = get(server, "/corpus/documents", _search=query)
        assert "<script>alert" not in page
    for query, why in [*((q, "empty search query") for q in EMPTY_QUERIES),
                       (TOO_MANY_TERMS, "too many search terms")]:
        with pytest.raises(urllib.error.HTTPError) as refused:
            get(server, "/corpus/documents", _search=query)
        assert refused.value.code == 400
        assert why in refused.value.read().decode("utf-8")


def test_metadata_leaves_out_what_an_unclassified_corpus_lacks():
    base = {"id", "site", "url", "title", "issuer", "doc_number", "published_date", "first_seen",
            "status", "body_text"}
    meta = metadata(base, {"documents", "documents_fts"})
    table = meta["databases"]["corpus"]["tables"]["documents"]
    assert table["facets"] == ["site", {"month": "published_date"}, "status"]
    assert meta["databases"]["corpus"]["tables"]["documents_fts"] == {"hidden": True}
    queries = canned_queries(base)
    assert set(queries) == {"new_this_week", "drafts_without_final"}
    # ... and its canned queries run on such a corpus.
    conn = sqlite3.connect(":memory:")
    conn.execute(f"CREATE TABLE documents ({', '.join(sorted(base))})")
    for query in queries.values():
        conn.execute(query["sql"]).fetchall()


def test_browse_names_a_missing_corpus(tmp_path):
    result = subprocess.run([sys.executable, "-m", "scheduler", "browse", "--db",
                             str(tmp_path / "none.db")], cwd=REPO, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode != 0 and "no corpus at" in result.stderr
    assert not (tmp_path / "none.db").exists()


def test_live_mode_follows_a_crawl_that_writes_while_it_serves(tmp_path_factory):
    import asyncio

    from digest.browse import make_datasette

    path = classified_copy(tmp_path_factory, "live")
    ds = make_datasette(path, live=True)

    async def count() -> int:
        response = await ds.client.get("/corpus/documents.json?_size=0")
        return response.json()["filtered_table_rows_count"]

    async def scenario() -> tuple[int, int, bool]:
        await ds.invoke_startup()
        before = await count()
        conn = sqlite3.connect(path)  # a crawl storing a document meanwhile
        with conn:
            conn.execute(
                "INSERT INTO documents (site, url, title, text_hash, first_seen, last_seen, "
                "last_changed) SELECT site, url || '?moved', title, text_hash, first_seen, "
                "last_seen, last_changed FROM documents LIMIT 1")
        conn.close()
        mutable = (await ds.client.get("/-/databases.json")).json()[0]["is_mutable"]
        return before, await count(), mutable

    before, after, mutable = asyncio.run(scenario())
    assert after == before + 1 and mutable


def test_labels_translate_the_codes_and_leave_other_values_as_datasette_shows_them():
    from digest.browselabels import column_label, value_label

    assert value_label("relevance", "dedicated") == "专项政策"
    assert value_label("level", None) == "未标注"
    assert value_label("techs", '["xr", "ai"]') == "虚拟现实/增强现实/混合现实/扩展现实、人工智能"
    assert value_label("techs", "not-a-tag") == "not-a-tag"
    assert value_label("kind", "finalised") == "征求意见稿已正式印发"
    assert value_label("site", "jx_gov", {"jx_gov": "江西省人民政府"}) == "江西省人民政府"
    # A foreign key's label (a change's document) stays Datasette's.
    assert value_label("document_id", 3, label="某文件标题") == "某文件标题"
    assert column_label("doc_number") == "文号" and column_label("text_hash") == "text_hash"
