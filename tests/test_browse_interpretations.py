"""`policywatch browse` of a policy and its 政策解读, crawled on two days from the replay portal on
127.0.0.1 by real Scrapy crawls into a real SQLite file and served by a real `policywatch browse`
with a config of its own (another time zone, a subscription), driven in the system Chromium: the
policy's page links its 解读 and the 解读's page its policy; the 解读's publication is an event of
the policy's timeline; times are the config's zone's; 各地区专项政策 does not count the 解读; the
subscription's rolling feed is an Atom document."""

from __future__ import annotations

import json
import re
import sqlite3
import urllib.request
from pathlib import Path
from zoneinfo import ZoneInfo

import feedparser
import pytest

from benchmarks.faultcases.interp import (
    INTERPRETATION_TITLE,
    INTERPRETATION_URL,
    POLICY_NUMBER,
    POLICY_TITLE,
    POLICY_URL,
)
from crawlers.replay.portal import REPLAY_DIR, ReplayPortal
from digest.browselabels import column_label
from digest.documentpage import local_time
from tests.pagecheck import assert_no_tofu, browse_server, screenshot
from tests.test_e2e_interpretations import OTHER_URL, day, policywatch

pytestmark = [pytest.mark.browser, pytest.mark.e2e]
REPO = Path(__file__).resolve().parents[1]
# Not the default (Asia/Shanghai): -05:00 in winter, 13 hours behind it.
ZONE = "America/New_York"
FEED = "yuanyuzhou"
CONFIG = f'''
[schedule]
timezone = "{ZONE}"

[[subscription]]
name = "{FEED}"
title = "元宇宙政策"
keywords = ["元宇宙"]
'''
HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def crawled(tmp_path_factory) -> tuple[Path, Path]:
    """(the corpus, the config): the policy crawled on day 1, its 解读 on day 2."""
    folder = tmp_path_factory.mktemp("browse-interp")
    home, db = folder / "home", folder / "corpus.db"
    config = folder / "policywatch.toml"
    config.write_text(CONFIG, encoding="utf-8")
    portal = ReplayPortal()
    portal.put("http://www.example-gov.cn/robots.txt", "User-agent: *\nDisallow: /admin/\n",
               content_type="text/plain")
    portal.put(OTHER_URL, (REPLAY_DIR / "generic" / "detail_1012.html").read_bytes())
    with portal.serve() as base:
        for listing, page in (("list_policy.html", (POLICY_URL, "policy.html")),
                              ("list_both.html", (INTERPRETATION_URL, "interpretation.html"))):
            day(portal, listing, page)
            crawled = policywatch(home, "crawl", "replay_generic", "--db", str(db), "--replay", base)
            assert crawled.returncode == 0, crawled.stdout + crawled.stderr
    return db, config


@pytest.fixture(scope="module")
def server(crawled):
    db, config = crawled
    with browse_server(db, REPO, "--config", str(config)) as base:
        yield base


def ids(db: Path) -> dict[str, int]:
    conn = sqlite3.connect(db)
    try:
        return {url: conn.execute("SELECT id FROM documents WHERE url = ?", [url]).fetchone()[0]
                for url in (POLICY_URL, INTERPRETATION_URL)}
    finally:
        conn.close()


def timeline(page) -> list[tuple[str, str]]:
    return [(item.locator(".what").inner_text().strip(),
             item.locator("a").first.inner_text().strip() if item.locator("a").count()
             else item.inner_text()) for item in page.locator("ol.pw-timeline li").all()]


def test_a_policy_and_its_interpretation_link_each_other_on_their_pages(server, page, crawled):
    doc = ids(crawled[0])
    page.goto(f"{server}/corpus/documents/{doc[POLICY_URL]}")
    assert page.locator("h2#interpretations").inner_text().strip() == "政策解读"
    assert page.locator("h2#explains").count() == 0  # a policy explains nothing
    link = page.locator("ul.pw-interpretations a")
    assert [t.strip() for t in link.all_inner_texts()] == [INTERPRETATION_TITLE]
    # Under the metadata and the timeline, before the text.
    order = page.evaluate("""() => ['#metadata', '#timeline', '#interpretations', '#text']
        .map(s => document.querySelector(s)).map((el, i, all) => i === 0 ||
             (all[i - 1].compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING) !== 0)""")
    assert all(order), order
    # The 解读's publication is an event of the policy, after the policy's own.
    events = timeline(page)
    whats = [w for w, _ in events]
    assert ("政策解读发布", INTERPRETATION_TITLE) in events
    assert whats.index("正式印发") < whats.index("政策解读发布")
    assert_no_tofu(page)
    screenshot(page, "browse-policy-with-interpretation")

    link.click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/corpus/documents/{doc[INTERPRETATION_URL]}")
    assert page.locator("h2#explains").inner_text().strip() == "解读的政策"
    assert page.locator("h2#interpretations").count() == 0
    assert POLICY_NUMBER in page.locator("p.pw-explains").inner_text()
    policy = page.locator("p.pw-explains a")
    assert policy.inner_text().strip() == POLICY_TITLE
    screenshot(page, "browse-interpretation")
    policy.click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/corpus/documents/{doc[POLICY_URL]}")


def test_times_on_a_documents_page_are_in_the_configs_time_zone(server, page, crawled):
    db = crawled[0]
    doc = ids(db)[POLICY_URL]
    conn = sqlite3.connect(db)
    first_seen, fetched_at = conn.execute(
        "SELECT d.first_seen, v.fetched_at FROM documents d JOIN versions v ON v.document_id = d.id "
        "WHERE d.id = ? ORDER BY v.id LIMIT 1", [doc]).fetchone()
    conn.close()
    here, shanghai = ZoneInfo(ZONE), ZoneInfo("Asia/Shanghai")
    assert local_time(first_seen, here) != local_time(first_seen, shanghai)  # the zones tell apart
    page.goto(f"{server}/corpus/documents/{doc}")
    meta = dict(zip((t.strip() for t in page.locator(".pw-meta dt").all_inner_texts()),
                    (t.strip() for t in page.locator(".pw-meta dd").all_inner_texts())))
    assert meta[column_label("first_seen")] == local_time(first_seen, here)
    fetched = page.locator("table.pw-versions tbody tr td").nth(1).inner_text().strip()
    assert fetched == local_time(fetched_at, here)
    # The timeline's 首次收录 (the change policywatch recorded) too.
    recorded = page.locator("ol.pw-timeline li.kind-new .when").first.inner_text().strip()
    assert recorded[:10] in {local_time(first_seen, here)[:10]}


@pytest.mark.parametrize("table, columns", [
    ("documents", ("first_seen", "last_seen", "last_changed", "published_date")),
    ("changes", ("detected_at",)),
    ("runs", ("started_at", "finished_at")),
])
def test_times_in_the_tables_are_in_the_configs_time_zone(server, page, crawled, table, columns):
    """The lists show stored UTC times as the config's zone reads them (as the document page
    does); a date stays a date; the JSON keeps the stored values."""
    conn = sqlite3.connect(crawled[0])
    stored = [dict(zip(("id", *columns), row)) for row in conn.execute(
        f"SELECT id, {', '.join(columns)} FROM {table} ORDER BY id")]
    conn.close()
    here, shanghai = ZoneInfo(ZONE), ZoneInfo("Asia/Shanghai")
    times = [r[c] for r in stored for c in columns if r[c] and len(r[c]) > 10]
    assert times and all(local_time(t, here) != local_time(t, shanghai) for t in times)
    query = "&".join(f"_col={c}" for c in columns)
    page.goto(f"{server}/corpus/{table}?_sort=id&{query}")
    for column in columns:
        cells = [t.strip() for t in page.locator(f"td.col-{column}").all_inner_texts()]
        assert cells == [local_time(r[column], here) for r in stored], (column, cells)
    dates = [r["published_date"] for r in stored if "published_date" in r]
    assert all(d is None or len(d) == 10 for d in dates)  # shown as stored, by the check above
    with urllib.request.urlopen(f"{server}/corpus/{table}.json?_shape=array&_sort=id&{query}",
                                timeout=30) as response:
        exported = json.loads(response.read())
    assert [{c: r[c] for c in ("id", *columns)} for r in exported] == stored


def test_the_changes_table_reads_as_the_digest_does(server, page, crawled):
    """Kinds and summaries in the digest's Chinese, not the stored codes and English log lines;
    the JSON keeps what is stored."""
    conn = sqlite3.connect(crawled[0])
    stored = conn.execute("SELECT c.kind, c.summary, d.title FROM changes c "
                          "JOIN documents d ON d.id = c.document_id ORDER BY c.id").fetchall()
    conn.close()
    assert stored and {k for k, _, _ in stored} == {"new"} and not HAN.search(stored[0][1][:3])
    page.goto(f"{server}/corpus/changes?_sort=id")
    kinds = [t.strip() for t in page.locator("td.col-kind").all_inner_texts()]
    summaries = [t.strip() for t in page.locator("td.col-summary").all_inner_texts()]
    assert kinds == ["新发布"] * len(stored)
    assert summaries == [f"新发布：{title}" for _, _, title in stored]
    with urllib.request.urlopen(f"{server}/corpus/changes.json?_shape=array&_sort=id",
                                timeout=30) as response:
        exported = json.loads(response.read())
    assert [(r["kind"], r["summary"]) for r in exported] == [(k, s) for k, s, _ in stored]


def test_dedicated_by_region_leaves_the_interpretation_out(server, crawled):
    conn = sqlite3.connect(crawled[0])
    rows = dict(conn.execute("SELECT url, relevance FROM documents"))
    doc_type = conn.execute("SELECT doc_type FROM documents WHERE url = ?",
                            [INTERPRETATION_URL]).fetchone()[0]
    conn.close()
    # Both dedicated: a query that counted documents would count two.
    assert rows[POLICY_URL] == rows[INTERPRETATION_URL] == "dedicated" and doc_type == "interpretation"
    with urllib.request.urlopen(f"{server}/corpus/dedicated_by_region.json?_shape=array",
                                timeout=30) as response:
        counted = json.loads(response.read())
    assert sum(r["policies"] for r in counted) == 1, counted
    titles = "；".join(r["titles"] for r in counted)
    assert POLICY_TITLE in titles and INTERPRETATION_TITLE not in titles


def test_a_subscriptions_feed_is_an_atom_document_in_chromium(server, page, crawled):
    response = page.goto(f"{server}/-/feeds/{FEED}.atom")
    assert response.status == 200
    assert response.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(response.body())
    assert not feed.bozo, feed.bozo_exception
    assert feed.feed.id.startswith("tag:") and feed.feed.title.startswith("元宇宙政策")
    assert feed.entries
    assert all(e.id.startswith("tag:") for e in feed.entries)
    assert len({e.id for e in feed.entries}) == len(feed.entries)
    assert all(HAN.search(e.title) for e in feed.entries), [e.title for e in feed.entries]
    assert any(INTERPRETATION_TITLE in e.title for e in feed.entries), [e.title for e in feed.entries]
    # Its times are the config's zone's, as the document pages' are (New York, winter).
    assert all(e.updated.endswith(("-05:00", "-04:00")) for e in feed.entries)
    # An unknown feed is a 404 naming the feeds there are.
    missing = page.goto(f"{server}/-/feeds/nosuch.atom")
    assert missing.status == 404 and f"/-/feeds/{FEED}.atom" in missing.text()


def test_the_readme_says_where_the_feeds_are():
    """The documents and search pages do not link the feeds; the README's browse row says
    where they are (and `policywatch browse` prints each one's URL when it starts)."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    [row] = [line for line in readme.splitlines() if line.startswith("| `policywatch browse")]
    assert "`/-/feeds/<name>.atom`" in row
