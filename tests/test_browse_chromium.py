"""`policywatch browse` as a researcher uses it, in the system Chromium through Playwright, on the
demo's week (real crawls into a real corpus, served by a real `policywatch browse` process on
127.0.0.1): it opens on the documents, in Chinese; a 文号 typed as the researcher types it, an
索引号, OR and a phrase find what `policywatch search` finds, with snippets; a facet narrows in
Chinese; a document's page shows its policy's timeline before any internal field."""

from __future__ import annotations

import re
import sqlite3

import pytest

from digest.labels import RELEVANCE, TECHS
from pipelines.schema import read_corpus
from pipelines.search import search
from tests.demo_corpus import (
    JS_DRAFT,
    JS_FINAL,
    REPO,
    SX_DECISION,
    SX_REPEALED,
    SX_REVISED,
    SX_WITHDRAWN,
    demo_corpus,
)
from tests.pagecheck import assert_no_tofu, browse_server, screenshot, squeezed

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return demo_corpus(tmp_path_factory)[0]


@pytest.fixture(scope="module")
def server(corpus):
    with browse_server(corpus, REPO) as base:
        yield base


def document_id(corpus, url: str) -> int:
    conn = sqlite3.connect(corpus)
    try:
        return conn.execute("SELECT id FROM documents WHERE url = ?", [url]).fetchone()[0]
    finally:
        conn.close()


def shown_ids(page) -> list[int]:
    hrefs = page.locator("td.col-title a").evaluate_all("links => links.map(a => a.pathname)")
    return [int(h.rsplit("/", 1)[1]) for h in hrefs]


def searched(page, query: str) -> None:
    page.fill("#_search", query)
    page.press("#_search", "Enter")
    page.wait_for_load_state()


def expected(corpus, query: str) -> set[int]:
    db = read_corpus(corpus)
    try:
        return {d["id"] for d in search(db, query, limit=10_000)}
    finally:
        db.close()


def test_browse_opens_on_the_documents_in_chinese(server, page, corpus):
    page.goto(server + "/")
    assert page.url == f"{server}/corpus/documents"
    headers = [re.sub(r"\s*[▲▼]$", "", h.strip())
               for h in page.locator("table.rows-and-columns th").all_inner_texts()]
    for label in ("标题", "发文机关", "文号", "发布日期", "相关性", "发文层级", "核心技术", "来源网站"):
        assert label in headers, headers
    assert not {"title", "issuer", "relevance", "doc_number"} & set(headers)
    # Facet values read in Chinese; their links keep the stored codes.
    relevance = page.locator("#facet-relevance li a[data-value]")
    shown = dict(zip(relevance.evaluate_all("links => links.map(a => a.dataset.value)"),
                     (t.strip() for t in relevance.all_inner_texts())))
    assert shown and all(shown[code] == RELEVANCE[code] for code in shown), shown
    techs = page.locator("#facet-techs li a[data-value]")
    tags = dict(zip(techs.evaluate_all("links => links.map(a => a.dataset.value)"),
                    (t.strip() for t in techs.all_inner_texts())))
    assert tags and all(tags[code] == TECHS[code] for code in tags), tags
    cells = {t.strip() for t in page.locator("td.col-relevance").all_inner_texts()}
    assert cells and cells <= set(RELEVANCE.values()), cells
    assert page.locator("h1").first.inner_text().strip() == "政策文件"
    assert_no_tofu(page)
    assert squeezed(page) == []
    screenshot(page, "browse-documents")


def test_a_doc_number_however_typed_an_index_number_or_and_a_phrase(server, page, corpus):
    conn = sqlite3.connect(corpus)
    target, number, index_no = conn.execute(
        "SELECT id, doc_number, index_no FROM documents WHERE doc_number = '赣府厅发〔2026〕38号'"
    ).fetchone()
    conn.close()
    page.goto(server + "/corpus/documents")
    for query in ("赣府厅发[2026]38号", "赣府厅发（2026）38号", number, index_no):
        searched(page, query)
        assert "_search=" in page.url
        ids = shown_ids(page)
        assert target in ids, query
        assert set(ids) == expected(corpus, query), query
    screenshot(page, "browse-search-index-number")

    # OR, and a phrase: what `policywatch search` finds, each with its match shown in its text.
    for query in ("元宇宙 OR 耕地", "耕地 或 元宇宙", '"虚拟现实与元宇宙"'):
        searched(page, query)
        ids = shown_ids(page)
        assert ids and set(ids) == expected(corpus, query), query
        marks = {m.strip() for m in page.locator(".pw-snippet mark").all_inner_texts()}
        terms = {"元宇宙", "耕地", "虚拟现实与元宇宙"}
        assert marks and marks <= terms, marks
    assert_no_tofu(page, "table.rows-and-columns")
    screenshot(page, "browse-search-phrase")

    searched(page, "量子引力波望远镜")
    assert shown_ids(page) == []
    assert "没有找到与“量子引力波望远镜”匹配的文件" in page.inner_text("body")


def test_a_relevance_facet_narrows_in_chinese(server, page, corpus):
    page.goto(server + "/corpus/documents")
    link = page.locator('#facet-relevance a[data-value="dedicated"]')
    assert link.inner_text().strip() == "专项政策"
    link.click()
    page.wait_for_load_state()
    assert "relevance=dedicated" in page.url
    conn = sqlite3.connect(corpus)
    dedicated = {r[0] for r in conn.execute("SELECT id FROM documents WHERE relevance = 'dedicated'")}
    conn.close()
    assert dedicated and set(shown_ids(page)) == dedicated
    selected = page.locator("#facet-relevance li[data-value='dedicated']").inner_text()
    assert selected.startswith("专项政策")


def timeline(page) -> list[tuple[str, str]]:
    """(what, title) of each event, in the order shown."""
    events = []
    for item in page.locator("ol.pw-timeline li").all():
        title = item.locator("a").first.inner_text() if item.locator("a").count() else item.inner_text()
        events.append((item.locator(".what").inner_text().strip(), title))
    return events


def test_a_documents_page_shows_its_policys_timeline_before_any_internal_field(server, page, corpus):
    final, draft = document_id(corpus, JS_FINAL), document_id(corpus, JS_DRAFT)
    page.goto(f"{server}/corpus/documents/{final}")
    conn = sqlite3.connect(corpus)
    final_title, draft_title, number = conn.execute(
        "SELECT f.title, d.title, f.doc_number FROM documents f, documents d WHERE f.id = ? AND d.id = ?",
        [final, draft]).fetchone()
    assert page.locator("h1.pw-title").inner_text().strip() == final_title
    meta = dict(zip((t.strip() for t in page.locator(".pw-meta dt").all_inner_texts()),
                    (t.strip() for t in page.locator(".pw-meta dd").all_inner_texts())))
    assert meta["文号"] == number and meta["发文层级"] == "省级"
    assert meta["相关性"].startswith(RELEVANCE["dedicated"])
    events = timeline(page)
    whats = [w for w, _ in events]
    # The draft was published, then the final; policywatch recorded the draft's finalising.
    assert whats.index("征求意见稿发布") < whats.index("正式印发") < whats.index("征求意见稿已正式印发")
    assert ("征求意见稿发布", draft_title) in events
    # Internal fields: after the text, collapsed, not visible.
    order = page.evaluate("""() => ['#timeline', '#text', '#attachments', '#versions', 'details.pw-internal']
        .map(s => document.querySelector(s)).map((el, i, all) => i === 0 ||
             (all[i - 1].compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING) !== 0)""")
    assert all(order), order
    assert page.locator("details.pw-internal").get_attribute("open") is None
    assert not page.get_by_text("text_hash", exact=True).is_visible()
    assert not page.get_by_text("next_check_at", exact=True).is_visible()
    assert_no_tofu(page)
    assert squeezed(page) == []
    screenshot(page, "browse-document-final")

    # The draft's page tells the same story, from the draft's side.
    page.locator("ol.pw-timeline a", has_text=draft_title).first.click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/corpus/documents/{draft}")
    assert ("正式印发", final_title) in timeline(page)


def test_timelines_of_a_revision_a_withdrawal_and_a_repeal(server, page, corpus):
    page.goto(f"{server}/corpus/documents/{document_id(corpus, SX_REVISED)}")
    assert "已修订" in [w for w, _ in timeline(page)]
    page.locator("ol.pw-timeline a", has_text="修订了什么").click()
    page.wait_for_load_state()
    assert "/-/policywatch/diff/" in page.url
    assert page.locator(".pw-diff del, .pw-diff ins").count() > 0

    page.goto(f"{server}/corpus/documents/{document_id(corpus, SX_WITHDRAWN)}")
    assert "原网页已撤下" in [w for w, _ in timeline(page)]

    page.goto(f"{server}/corpus/documents/{document_id(corpus, SX_REPEALED)}")
    whats = [w for w, _ in timeline(page)]
    assert whats.index("正式印发") < whats.index("废止决定发布") < whats.index("已废止/失效")
    decision = page.locator("ol.pw-timeline li.kind-decision a").first
    decision.click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/corpus/documents/{document_id(corpus, SX_DECISION)}")
    screenshot(page, "browse-document-decision")
    assert re.search(r"废止", page.locator("h1.pw-title").inner_text())


def test_the_documents_page_speaks_chinese_about_what_it_shows(server, page):
    page.goto(f"{server}/corpus/documents?relevance=dedicated&techs__arraycontains=xr")
    heading = page.locator("h3.pw-count").inner_text()
    assert re.match(r"\d+ 件文件 · 相关性：专项政策 · 核心技术：虚拟现实/增强现实/混合现实/扩展现实", heading), heading
    assert page.locator("label[for=_search]").inner_text().strip() == "搜索："
    options = page.locator("select[name=_filter_column] option")
    values = options.evaluate_all("os => os.map(o => o.value)")
    assert "doc_number" in values  # the filter keeps the column's code ...
    assert options.nth(values.index("doc_number")).inner_text() == "文号"  # ... and says it in Chinese
    for english in ("rows sorted by", "This data as", "Advanced export", "CREATE TABLE"):
        assert english not in page.inner_text("body")
