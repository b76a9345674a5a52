"""The digest: built from a real corpus (one change of every kind, and a backfill), grouped by
kind and sorted by relevance, rendered as Markdown, an HTML e-mail (escaped; checked in
headless Chromium), Atom (read back with feedparser) and JSON; and its commands."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime, timezone
from pathlib import Path

import feedparser
import pytest
from click.testing import CliRunner

from crawlers.items import PolicyItem
from digest.build import build_digest, changes_since
from digest.render import render, render_atom, render_html, render_json, render_markdown
from pipelines.presence import record_observations
from pipelines.runs import start_run
from pipelines.schema import open_corpus
from pipelines.storing import store_document
from scheduler import main

T = [datetime(2026, 11, d, 8, 0, tzinfo=timezone.utc) for d in range(20, 30)]
BASE = "http://www.example.gov.cn/zcwj/"
PLAN = ("一、总体要求。到2026年，建成3个元宇宙产业基地，培育50家元宇宙创新企业。\n"
        "二、重点任务。突破近眼显示、空间计算等关键技术，建设元宇宙公共服务平台。\n"
        "三、保障措施。设立元宇宙产业发展专项资金，加强人才引进和数据安全管理。")
HOSTILE = '关于<script>alert("x")</script>元宇宙 & 数字孪生的“通知”'


def item(n: int, **changes) -> PolicyItem:
    base = PolicyItem(url=f"{BASE}t2026_{n}.html", site="demo_gov", title=f"示例市第{n}号文件",
                      doc_number=f"示政发〔2026〕{n}号", issuer="示例市人民政府",
                      body_text=f"第{n}号文件。{PLAN}", published_date=date(2026, 11, n),
                      column="政策文件", fetched_at=T[0])
    return replace(base, **changes)


TITLES = {}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A corpus whose changes are a backfill of three documents, then one change of each kind."""
    db = open_corpus(tmp_path_factory.mktemp("digest") / "corpus.db")
    backfill = start_run(db, "demo_gov", "backfill", when=T[0])
    for n in (1, 2, 3):
        store_document(db, item(n), run_id=backfill)
    store_document(db, item(4, title="《示例市元宇宙产业发展规划（2026—2030年）（征求意见稿）》",
                            doc_number=None, published_date=date(2026, 11, 4)), run_id=backfill)
    daily = start_run(db, "demo_gov", "crawl", when=T[1])
    store_document(db, item(5, title=HOSTILE, body_text="<b>正文</b> & 元宇宙。" + PLAN, fetched_at=T[1]), run_id=daily)
    store_document(db, item(6, title="示例市数字人产业若干措施", fetched_at=T[1]), run_id=daily)
    store_document(db, item(1, body_text=item(1).body_text.replace("3个", "5个"), fetched_at=T[1]), run_id=daily)
    store_document(db, item(7, title="示例市人民政府关于印发示例市元宇宙产业发展规划（2026—2030年）的通知",
                            fetched_at=T[1]), run_id=daily)
    store_document(db, item(2, validity="失效", fetched_at=T[1]), run_id=daily)
    for day in ("2026-11-21", "2026-11-22"):
        record_observations(db, "demo_gov", daily, gone={item(3).url: "http_404"}, day=day, when=T[2])
    # The classifier's columns: the hostile one is dedicated, the 数字人 one related.
    db.execute("UPDATE documents SET relevance = 'related', relevance_score = 0.4 WHERE url = ?", [item(6).url])
    db.execute("UPDATE documents SET relevance = 'dedicated', relevance_score = 0.9, scenarios = ?, "
               "evidence = ? WHERE url = ?",
               [json.dumps(["industry"]), json.dumps({"relevance": "到2026年，建成3个元宇宙产业基地。",
                                                      "scenario:industry": "建设元宇宙公共服务平台。",
                                                      "issuer": "issuer: 示例市人民政府"}), item(5).url])
    db.conn.commit()
    ids = changes_since(db)
    digest = build_digest(db, ids, since="2026-11-19T00:00:00+00:00", now=T[3])
    TITLES.update({r["url"]: r["title"] for r in db.query("SELECT url, title FROM documents")})
    return db, digest


def test_changes_are_grouped_by_kind_and_sorted_by_relevance(built):
    _, digest = built
    assert [(k, [e.document["url"] for e in entries]) for k, entries in digest.by_kind()] == [
        ("new", [item(5).url, item(6).url]),  # dedicated before related
        ("finalised", [item(7).url]),
        ("revised", [item(1).url]),
        ("repealed", [item(2).url]),
        ("withdrawn", [item(3).url]),
    ]
    assert digest.counts() == {"new": 6, "finalised": 1, "revised": 1, "repealed": 1, "withdrawn": 1}


def test_a_backfill_is_one_summary_not_a_list(built):
    _, digest = built
    assert [(s.site, s.count) for s in digest.backfill] == [("demo_gov", 4)]
    assert all(e.backfill for e in digest.backfill[0].top)
    assert not any(e.backfill for e in digest.entries)


def test_markdown_lists_every_change_with_its_facts_evidence_and_diff(built):
    _, digest = built
    md = render_markdown(digest)
    assert md.startswith("# 元宇宙政策动态 · 2026-11-23")  # 16:00 in Beijing
    assert "时段：2026-11-19 08:00 至 2026-11-23 16:00（北京时间 Asia/Shanghai）" in md
    for heading in ("## 新发布（2）", "## 征求意见稿已正式印发（1）", "## 已修订（1）", "## 已废止/失效（1）",
                    "## 已撤下（1）", "## 存量补录：4 篇"):
        assert heading in md
    assert "到2026年，建成~~3~~**5**个元宇宙产业基地" in md  # the changed characters marked
    assert "有效性：有效 → 失效" not in md and "有效性：（无） → 失效" in md
    assert "页面返回 404" in md and "征求意见稿：《示例市元宇宙产业发展规划" in md
    assert "相关度：专项政策（0.90）" in md and "标签：工业" in md
    assert "工业：建设元宇宙公共服务平台。" in md and "issuer: 示例市人民政府" not in md
    assert "\\<script\\>" in md  # Markdown specials escaped
    assert f"<{item(7).url}>" in md


def test_html_escapes_every_field_and_uses_inline_styles_only(built):
    _, digest = built
    html = render_html(digest)
    assert "<script>" not in html and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "&lt;b&gt;正文&lt;/b&gt;" not in html or "<b>正文</b>" not in html
    assert "<style" not in html and 'style="' in html
    assert '<del style="' in html and '<ins style="' in html


def test_the_atom_feed_is_valid_and_has_an_entry_per_change(built):
    _, digest = built
    feed = feedparser.parse(render_atom(digest).encode("utf-8"))
    assert not feed.bozo, feed.bozo_exception
    tag = f"tag:policywatch.invalid,2026:{digest.corpus_id}/"
    assert len(digest.corpus_id) == 36  # the corpus's own id (a UUID)
    listed = [e for e in feed.entries if e.id.startswith(tag + "change/")]
    assert len(listed) == len(digest.entries) == 6
    assert {e.link for e in listed} == {e.document["url"] for e in digest.entries}
    hostile = next(e for e in listed if e.link == item(5).url)
    assert hostile.title == f"[新发布] {HOSTILE}"
    assert "&lt;script&gt;" in hostile.content[0].value
    summary = [e for e in feed.entries if e.id.startswith(tag + "backfill/")]
    assert len(summary) == 1 and "4 篇" in summary[0].title


def test_json_holds_the_whole_digest(built):
    _, digest = built
    data = json.loads(render_json(digest))
    assert data["counts"]["withdrawn"] == 1 and len(data["change_ids"]) == 10
    revised = next(c for c in data["changes"] if c["kind"] == "revised")
    assert revised["diff"]["text"]["changed"] == 1 and revised["document"]["title"] == "示例市第1号文件"


def test_an_empty_digest_says_so_plainly(built):
    db, _ = built
    empty = build_digest(db, [], since="2026-11-23T08:00:00+00:00", now=T[4])
    assert empty.empty and empty.headline() == "元宇宙政策动态 · 2026-11-24：没有变化"
    for fmt in ("md", "html"):
        assert "没有变化：所监测网站自2026-11-23 16:00以来没有新发布" in render(empty, fmt)
    assert not feedparser.parse(render(empty, "atom").encode()).bozo
    with pytest.raises(ValueError, match="unknown digest format"):
        render(empty, "pdf")


@pytest.mark.browser
def test_the_html_email_shows_every_change_in_chromium(built, tmp_path):
    from playwright.sync_api import sync_playwright

    from crawlers.engine.settings import PLAYWRIGHT_LAUNCH_OPTIONS

    if not Path("/usr/bin/chromium").exists():
        pytest.fail("/usr/bin/chromium is missing: .ci/setup installs it")
    _, digest = built
    page_path = tmp_path / "digest.html"
    page_path.write_text(render_html(digest), encoding="utf-8")
    with sync_playwright() as p:
        browser = p.chromium.launch(**PLAYWRIGHT_LAUNCH_OPTIONS)
        page = browser.new_page(viewport={"width": 820, "height": 900})
        page.goto(page_path.as_uri())
        shot = tmp_path / "digest.png"
        page.screenshot(path=str(shot), full_page=True)
        text = page.inner_text("body")
        scripts = page.evaluate("document.scripts.length")
        browser.close()
    assert shot.stat().st_size > 10_000
    assert scripts == 0  # the hostile title stayed text
    for entry in digest.entries:
        assert entry.document["title"] in text
    for label in ("新发布（2）", "征求意见稿已正式印发（1）", "已修订（1）", "已废止/失效（1）", "已撤下（1）", "存量补录：4 篇"):
        assert label in text


# --- the commands ------------------------------------------------------------------------------


@pytest.fixture
def small_corpus(tmp_path):
    path = tmp_path / "corpus.db"
    db = open_corpus(path)
    run = start_run(db, "demo_gov", "crawl", when=T[0])
    store_document(db, item(1), run_id=run)
    run = start_run(db, "demo_gov", "crawl", when=T[1])
    store_document(db, item(2, fetched_at=T[1]), run_id=run)
    db.close()
    return path


def invoke(*args):
    return CliRunner().invoke(main, list(args))


def test_digest_writes_the_files_and_a_second_run_has_nothing_new(small_corpus, tmp_path):
    out = tmp_path / "out"
    first = invoke("digest", "--db", str(small_corpus), "--out", str(out))
    assert first.exit_code == 0, first.output
    assert "files: 2 change(s) delivered" in first.output
    written = sorted(p.name.split(".", 1)[1] for p in out.iterdir() if p.name.startswith("digest-"))
    assert written == ["atom", "html", "json", "md"]
    assert (out / "feeds" / "default.atom").exists()  # the rolling feed to follow
    second = invoke("digest", "--db", str(small_corpus), "--out", str(out), "--format", "md")
    assert second.exit_code == 0 and "files: 0 change(s) delivered" in second.output
    newest = max(out.glob("*.md"), key=lambda p: p.stat().st_mtime_ns)
    assert "没有变化" in newest.read_text(encoding="utf-8")


def test_a_preview_and_a_look_back_mark_nothing(small_corpus, tmp_path):
    shown = invoke("digest", "--db", str(small_corpus), "--no-deliver", "--out", "-", "--format", "json")
    assert shown.exit_code == 0, shown.output
    preview = json.loads(shown.output)
    assert [c["document"]["url"] for c in preview["changes"]] == [item(2).url]
    assert [s["count"] for s in preview["backfill"]] == [1]  # a site's first crawl is summarised
    back = invoke("digest", "--db", str(small_corpus), "--since", "2026-11-21", "--out", str(tmp_path / "lb"),
                  "--format", "md,atom")
    assert back.exit_code == 0, back.output
    assert sorted(p.suffix for p in (tmp_path / "lb").iterdir()) == [".atom", ".md"]
    db = open_corpus(small_corpus)
    assert db.execute("SELECT count(*) FROM deliveries").fetchone()[0] == 0


@pytest.mark.parametrize("args, message", [
    (["--since", "yesterday"], "is not a date"),
    (["--since", "2026-11-01", "--deliver"], "never delivered"),
    (["--format", "pdf"], "'pdf' is not one of"),
    (["--out", "-"], "--out - prints one format"),
])
def test_digest_refuses_bad_options_clearly(small_corpus, args, message):
    result = invoke("digest", "--db", str(small_corpus), *args)
    assert result.exit_code != 0 and message in result.output


def test_digest_without_a_corpus_says_so(tmp_path):
    result = invoke("digest", "--db", str(tmp_path / "none.db"))
    assert result.exit_code != 0 and "no corpus at" in result.output


def test_changes_lists_and_prints_json(small_corpus):
    listed = invoke("changes", "--db", str(small_corpus))
    assert listed.exit_code == 0 and "示例市第2号文件" in listed.output
    data = json.loads(invoke("changes", "--db", str(small_corpus), "--json", "--kind", "new").output)
    assert [c["document"]["url"] for c in data] == [item(1).url, item(2).url]
    later = invoke("changes", "--db", str(small_corpus), "--since", "2026-11-21T00:00:00+00:00")
    assert "示例市第2号文件" in later.output and "示例市第1号文件" not in later.output
    invoke("digest", "--db", str(small_corpus), "--out", str(small_corpus.parent / "d"))
    assert "自上次摘要以来没有变化" in invoke("changes", "--db", str(small_corpus)).output


def test_changes_reads_in_chinese_in_the_schedules_time_zone(small_corpus, tmp_path):
    """Kinds and summaries are the digest's Chinese ones, times the config's zone's (New York:
    08:00 UTC is 03:00 there); --json keeps its keys, and ISO times with the zone's offset."""
    db = open_corpus(small_corpus)
    run = start_run(db, "demo_gov", "crawl", when=T[2])
    store_document(db, item(1, body_text="第1号文件。已修订。" + PLAN, fetched_at=T[2]), run_id=run)
    db.close()
    config = tmp_path / "policywatch.toml"
    config.write_text('[schedule]\ntimezone = "America/New_York"\n', encoding="utf-8")
    listed = invoke("changes", "--db", str(small_corpus), "--config", str(config))
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert lines[0] == "自上次摘要以来共 3 项变化（时间为America/New_York）"
    assert "2026-11-20 03:00" in lines[1] and "新发布：示例市第1号文件" in lines[1]
    assert "2026-11-22 03:00" in lines[5] and "已修订（正文）：示例市第1号文件" in lines[5]
    assert lines[6].strip() == item(1).url
    assert not any(word in listed.output for word in ("new", "revised", "(text)", "+00:00"))
    data = json.loads(invoke("changes", "--db", str(small_corpus), "--config", str(config),
                             "--json").output)
    assert [c["kind"] for c in data] == ["new", "new", "revised"]
    assert data[2]["summary"] == "已修订（正文）：示例市第1号文件"
    assert data[2]["detected_at"] == "2026-11-22T03:00:00-05:00"
    since = invoke("changes", "--db", str(small_corpus), "--config", str(config),
                   "--since", "2026-11-23")
    assert since.output.strip() == "自 2026-11-23 00:00 起没有变化（America/New_York）"


def test_health_reasons_read_in_chinese_keeping_the_sites_own_words():
    from digest.labels import health_reason

    assert health_reason("blocked", "blocked: 2 WAF/challenge/login pages, nothing stored") == \
        "遇到防火墙、验证或登录页面，未存储任何内容"
    assert health_reason("not_crawled", "not crawled: 需要登录") == "未抓取（需要登录）"
    assert health_reason("unreachable", "the portal could not be resolved or connected to") == \
        "无法解析域名或连接网站"
    assert health_reason("unreachable", "DNS lookup failed") == "无法解析域名或连接网站（DNS lookup failed）"
    assert health_reason("stale", "some new reason") == "some new reason"  # unknown: as written
