"""The demo's days end to end: `policywatch demo` replays a week of the fixture portal through
real crawls on 127.0.0.1 into a real SQLite file, and every day records exactly the expected
changes — every one present, no other — and writes its digest."""

from __future__ import annotations

import json
from pathlib import Path

import feedparser
import pytest

from pipelines.schema import read_corpus
from tests.demo_corpus import REPEAT_DAY, demo_week

pytestmark = pytest.mark.e2e

SX = "https://www.shanxi.gov.cn/zfxxgk/zfxxgkzl/fdzdgknr/lzyj/szfwj/"
JX_NEW = "http://www.jiangxi.gov.cn/art/2026/11/20/art_4975_1952210.html"
JX_REPEALED = "http://www.jiangxi.gov.cn/art/2026/5/18/art_4975_1890447.html"
SX_REVISED = SX + "202404/t20240412_9540213.shtml"
SX_WITHDRAWN = SX + "202403/t20240314_9431158.shtml"
SX_DECISION = SX + "202611/t20261119_9980101.shtml"
SX_REPEALED = SX + "202402/t20240223_9350842.shtml"  # 晋政发〔2024〕3号
SX_KEPT = SX + "202403/t20240329_9487721.shtml"  # 晋政发〔2024〕6号: 继续有效 in the decision
JS_FINAL = "https://gxt.jiangsu.gov.cn/art/2026/11/18/art_80179_11930017.html"
JS_DRAFT = "https://gxt.jiangsu.gov.cn/art/2026/9/20/art_80179_11887001.html"
REPOST = "http://www.example-gov.cn/zcwj/202403/t20240325_1020.html"
CN_ORIGINAL = "https://www.gov.cn/zhengce/content/202403/content_6938812.htm"

# Day 1 (the backfill) is checked separately: every stored document, new.
EXPECTED = {
    2: {("new", JX_NEW)},  # the repost of a 国务院 document is not news
    3: {("revised", SX_REVISED)},  # the page taken off its list is only a first check
    4: set(),  # WAF pages everywhere: no alert
    5: {("withdrawn", SX_WITHDRAWN)},
    6: {("finalised", JS_FINAL)},
    7: {("new", SX_DECISION), ("repealed", SX_REPEALED), ("repealed", JX_REPEALED)},
    8: set(),
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The week as `policywatch demo --repeat-day 3` replays it (built once per session, shared
    with the browser tests, read-only here)."""
    week = demo_week(tmp_path_factory)
    assert REPEAT_DAY == 3
    summary = {d["day"]: d for d in json.loads((week.out / "summary.json").read_text(encoding="utf-8"))}
    return read_corpus(week.db), week.out, summary, week.output


def kinds_and_urls(day: dict) -> set[tuple[str, str]]:
    return {(c["kind"], c["url"]) for c in day["changes"]}


def test_the_demo_tells_the_days_and_says_where_the_digests_are(demo):
    _, out, summary, output = demo
    assert sorted(summary) == list(range(1, 9))
    for n, day in summary.items():
        assert f"== day {n} · {day['date']} · {day['slug']} ==" in output
        md = out / f"day-{n}-{day['slug']}" / "digest.md"
        assert str(md) in output and md.exists()
    assert "changes: none" in output


def test_day_1_is_a_backfill_summarised_per_site(demo):
    db, out, summary, _ = demo
    stored = {r["url"] for r in db.query("SELECT url FROM documents d JOIN changes c ON c.document_id = d.id "
                                         "WHERE c.id <= ?", [max(c["id"] for c in summary[1]["changes"])])}
    assert kinds_and_urls(summary[1]) == {("new", url) for url in stored}
    assert len(stored) == 41  # 8 fixture sites' documents (35) and the generic site's (6)
    digest = json.loads((out / "day-1-backfill" / "digest.json").read_text(encoding="utf-8"))
    assert digest["changes"] == []  # nothing listed one by one
    # The relevant documents summarised with the most relevant named; the rest only counted.
    relevant = sum(s["count"] for s in digest["backfill"])
    others = sum(site["backfill"] + sum(site["counts"].values()) for site in digest["others"])
    assert relevant + others == 41 and 0 < relevant < 41
    assert all(site["titles"] == [] for site in digest["others"])  # an archive is not listed
    assert {s["site"] for s in digest["backfill"]} | {s["site"] for s in digest["others"]} == {
        "cn_gov", "gs_fzgg", "gs_jyt", "js_gxt", "jx_gov", "jx_sthjt", "sx_gov", "zj_fgw", "replay_generic"}
    md = (out / "day-1-backfill" / "digest.md").read_text(encoding="utf-8")
    assert f"存量补录：{relevant} 篇" in md and "最相关的几篇" in md


@pytest.mark.parametrize("day", sorted(EXPECTED))
def test_each_day_records_exactly_its_changes(demo, day):
    _, _, summary, _ = demo
    assert kinds_and_urls(summary[day]) == EXPECTED[day]
    assert summary[day]["delivered"] == len(EXPECTED[day])


def test_running_the_same_day_twice_adds_no_change_and_sends_nothing_twice(demo):
    db, out, summary, _ = demo
    repeat = summary[3]["repeat"]
    assert repeat["changes"] == [] and repeat["delivered"] == 0
    # Nothing of the withdrawal was concluded early: one absence on day 3, however often checked.
    doc_id = next(db.query("SELECT id FROM documents WHERE url = ?", [SX_WITHDRAWN]))["id"]
    days = [r["day"] for r in db.query("SELECT day FROM absences WHERE document_id = ? ORDER BY day", [doc_id])]
    assert days == [summary[3]["date"], summary[5]["date"]]  # day 4's WAF was no check
    # Every change went out once on the files channel, and nothing is left to send.
    assert db.execute("SELECT count(*) FROM changes").fetchone()[0] == \
        db.execute("SELECT count(*) FROM deliveries WHERE channel = 'files' AND state = 'sent'").fetchone()[0]
    from digest.delivery import pending

    assert pending(db, "files") == ([], [])


def test_the_anti_bot_day_is_blocked_runs_and_no_alert(demo):
    db, out, summary, _ = demo
    assert all(site["status"] == "blocked" for site in summary[4]["sites"].values())
    md = (out / "day-4-anti-bot" / "digest.md").read_text(encoding="utf-8")
    assert "没有变化" in md


def test_lineage_and_repeal_are_stored(demo):
    db, _, _, _ = demo
    final = next(db.query("SELECT * FROM documents WHERE url = ?", [JS_FINAL]))
    draft = next(db.query("SELECT * FROM documents WHERE url = ?", [JS_DRAFT]))
    assert final["policy_id"] == draft["policy_id"] == draft["id"]  # one policy
    repost = next(db.query("SELECT * FROM documents WHERE url = ?", [REPOST]))
    original = next(db.query("SELECT * FROM documents WHERE url = ?", [CN_ORIGINAL]))
    assert repost["policy_id"] == original["policy_id"]
    assert [r["relation"] for r in db.query("SELECT relation FROM lineage WHERE document_id = ?",
                                            [repost["id"]])] == ["copy"]
    kept = next(db.query("SELECT repealed_at FROM documents WHERE url = ?", [SX_KEPT]))
    assert kept["repealed_at"] is None  # listed under 继续有效, not repealed
    withdrawn = next(db.query("SELECT withdrawn_at FROM documents WHERE url = ?", [SX_WITHDRAWN]))
    assert withdrawn["withdrawn_at"] is not None


def test_the_quiet_day_digest_says_plainly_there_is_nothing(demo):
    _, out, _, _ = demo
    md = (out / "day-8-quiet" / "digest.md").read_text(encoding="utf-8")
    assert "没有变化：所监测网站自2026-11-29 07:00以来" in md
    html = (out / "day-8-quiet" / "digest.html").read_text(encoding="utf-8")
    assert "没有变化" in html


def test_a_digest_is_named_and_titled_by_its_local_date(demo):
    _, out, summary, _ = demo
    # Day 3's digest is written at 07:00 in Beijing on 2026-11-25 (23:00 UTC the day before).
    md = (out / "day-3-revision" / "digest.md").read_text(encoding="utf-8")
    assert md.startswith("# 元宇宙政策动态 · 2026-11-25\n")
    assert "时段：2026-11-24 07:00 至 2026-11-25 07:00（北京时间 Asia/Shanghai）" in md
    assert "+00:00" not in md and "T23:00" not in md
    data = json.loads((out / "day-3-revision" / "digest.json").read_text(encoding="utf-8"))
    assert data["date"] == "2026-11-25"
    assert data["period"] == {"since": "2026-11-24T07:00:00+08:00", "until": "2026-11-25T07:00:00+08:00",
                              "label": "2026-11-24 07:00 至 2026-11-25 07:00（北京时间 Asia/Shanghai）"}
    assert data["changes"][0]["kind"] == "revised" and data["changes"][0]["kind_label"] == "已修订"
    assert data["changes"][0]["summary"].startswith("已修订（正文）：山西省人民政府")


def test_the_repeal_day_lists_no_irrelevant_document_in_full(demo):
    _, out, summary, _ = demo
    md = (out / "day-7-repeal" / "digest.md").read_text(encoding="utf-8")
    assert "没有符合本订阅（相关度不低于“关联技术”）的变化" in md
    assert "晋政发〔2024〕3号" not in md and "有效性" not in md  # no repealed document in full
    decision = next(c for c in summary[7]["changes"] if c["kind"] == "new")
    assert f"新发布：[{decision['title']}]" in md  # the irrelevant decision: one line
    for change in summary[7]["changes"]:
        if change["kind"] == "repealed":
            assert change["title"] not in md  # counted, not detailed
    assert "- **江西省人民政府**：已废止/失效 1" in md and "- **山西省人民政府**：新发布 1、已废止/失效 1" in md


def test_the_rolling_feed_still_holds_the_week_after_a_quiet_day(demo):
    db, out, summary, _ = demo
    corpus_id = db.execute("SELECT value FROM corpus_meta WHERE key = 'id'").fetchone()[0]
    feed = feedparser.parse((out / "day-8-quiet" / "feeds" / "default.atom").read_bytes())
    assert not feed.bozo, feed.bozo_exception
    assert feed.feed.id == f"tag:policywatch.invalid,2026:{corpus_id}/feed/default"
    ids = {e.id for e in feed.entries}
    for day, kind, url in ((2, "new", JX_NEW), (3, "revised", SX_REVISED), (6, "finalised", JS_FINAL)):
        change = next(c for c in summary[day]["changes"] if c["url"] == url)
        assert f"tag:policywatch.invalid,2026:{corpus_id}/change/{change['id']}" in ids
    assert not any(e.link in (SX_WITHDRAWN, SX_REPEALED, JX_REPEALED) for e in feed.entries)  # 不相关


@pytest.mark.parametrize("day", [2, 3, 5, 6, 7])
def test_each_days_atom_feed_is_valid_and_holds_its_changes(demo, day):
    _, out, summary, _ = demo
    folder = out / f"day-{day}-{summary[day]['slug']}"
    feed = feedparser.parse((folder / "digest.atom").read_bytes())
    assert not feed.bozo, feed.bozo_exception
    db, _, _, _ = demo
    corpus_id = db.execute("SELECT value FROM corpus_meta WHERE key = 'id'").fetchone()[0]
    # The day's feed lists what the default subscription covers (related and above).
    relevant = {c["id"]: c["url"] for c in summary[day]["changes"] if next(db.query(
        "SELECT relevance FROM documents WHERE url = ?", [c["url"]]))["relevance"] != "none"}
    assert {e.link for e in feed.entries} == set(relevant.values())
    assert {e.id for e in feed.entries} == {f"tag:policywatch.invalid,2026:{corpus_id}/change/{i}" for i in relevant}


@pytest.mark.browser
def test_a_days_html_digest_shows_every_change_of_the_day_in_chromium(demo, tmp_path):
    from playwright.sync_api import sync_playwright

    from crawlers.engine.settings import PLAYWRIGHT_LAUNCH_OPTIONS

    if not Path("/usr/bin/chromium").exists():
        pytest.fail("/usr/bin/chromium is missing: .ci/setup installs it")
    _, out, summary, _ = demo
    page_path = out / "day-7-repeal" / "digest.html"
    with sync_playwright() as p:
        browser = p.chromium.launch(**PLAYWRIGHT_LAUNCH_OPTIONS)
        page = browser.new_page(viewport={"width": 820, "height": 900})
        page.goto(page_path.as_uri())
        page.screenshot(path=str(tmp_path / "day-7.png"), full_page=True)
        text = page.inner_text("body")
        browser.close()
    assert (tmp_path / "day-7.png").stat().st_size > 10_000
    decision = next(c for c in summary[7]["changes"] if c["kind"] == "new")
    assert decision["title"] in text and "没有符合本订阅" in text
    assert "其他变化（不在订阅范围内）：3 条" in text and "新发布 1、已废止/失效 1" in text
    assert "晋政发〔2024〕3号" not in text
