"""Subscriptions, local time and rolling feeds: the config's [[subscription]] and [feeds] checked
in one line; each subscription matched on a real corpus, with its own digest, its own outbox per
channel (e-mail through a real SMTP server on 127.0.0.1) and its own rolling feed, served by
``policywatch browse``; the default subscription over a corpus crawled from the replay portal."""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import replace
from datetime import date, datetime, timezone
from pathlib import Path

import feedparser
import pytest
from click.testing import CliRunner

from benchmarks.faultcases.queue import SmtpInbox, smtp_server
from benchmarks.faultcases.sub import (
    BAD_SUBSCRIPTIONS,
    CASES,
    WHEN,
    classify,
    deliver_files,
)
from crawlers.items import PolicyItem
from digest.build import build_digest, changes_since, load_entries, split_entries
from digest.cli import _since_value
from digest.delivery import FilesChannel, Route, deliver, pending
from digest.feeds import rolling_feed
from digest.subscriptions import FeedConfig, FeedSettings, Subscription, default_subscription
from pipelines.runs import start_run
from pipelines.schema import open_corpus
from pipelines.storing import store_document
from scheduler import load_app_config as load_config
from scheduler import main
from tests.classified_corpus import classified_copy

CASE = {c.name: c for c in CASES}
TAG = "tag:policywatch.invalid,2026:"
# Words of the English digest that must not come back.
ENGLISH = re.compile(r"policywatch: |\bchanges?\b|revised \(|the start of the corpus|No changes|"
                     r"last success|for maintainers")


def item(n: int, site: str = "jx_gov", **changes) -> PolicyItem:
    base = PolicyItem(url=f"http://www.{site}.example.gov.cn/zcwj/t2026_{n}.html", site=site,
                      title=f"示例市第{n}号文件", doc_number=f"示政发〔2026〕{n}号", issuer="示例市人民政府",
                      body_text=f"第{n}号文件。加强政务服务。" * 10, published_date=date(2026, 11, 1 + n % 28),
                      column="政策文件", fetched_at=WHEN[1])
    return replace(base, **changes)


@pytest.fixture
def corpus(tmp_path):
    """Day 0: each site's first crawl (a backfill, delivered); day 1: five documents, classified
    as a metaverse researcher's corpus would be."""
    path = tmp_path / "corpus.db"
    db = open_corpus(path)
    for n, site in enumerate(("jx_gov", "js_gxt"), 90):
        store_document(db, item(n, site=site, title=f"{site}首份文件", fetched_at=WHEN[0]),
                       run_id=start_run(db, site, "crawl", when=WHEN[0]))
        classify(db, item(n, site=site).url, "none", 0.0)
    db.close()
    deliver_files(path, tmp_path / "before", WHEN[0])
    db = open_corpus(path)
    run = start_run(db, "jx_gov", "crawl", when=WHEN[1])
    store_document(db, item(1, title="江西省元宇宙产业发展行动计划"), run_id=run)
    store_document(db, item(2, title="江西省数字孪生城市建设方案",
                            body_text="推进数字孪生城市建设，建设城市信息模型平台。" * 10), run_id=run)
    store_document(db, item(3, title="江西省关于做好秋冬季森林防火工作的通知"), run_id=run)
    run = start_run(db, "js_gxt", "crawl", when=WHEN[1])
    store_document(db, item(4, site="js_gxt", title="江苏省虚拟现实产业若干措施"), run_id=run)
    store_document(db, item(5, site="js_gxt", title="江苏省关于开展安全生产检查的通知"), run_id=run)
    classify(db, item(1).url, "dedicated", 0.95, techs=["xr", "digital_twin"], scenarios=["industry"],
             level="province", region="华东", province="江西省")
    classify(db, item(2).url, "related", 0.4, techs=["digital_twin"], level="province", region="华东",
             province="江西省")
    classify(db, item(3).url, "none", 0.0, level="province", region="华东", province="江西省")
    classify(db, item(4, site="js_gxt").url, "mentions", 0.7, techs=["xr"], level="province",
             region="华东", province="江苏省")
    classify(db, item(5, site="js_gxt").url, "none", 0.0, level="province", region="华东", province="江苏省")
    db.close()
    return path


def titles_of(entries) -> set[str]:
    return {e.document["title"] for e in entries}


# --- the config ---------------------------------------------------------------------------------


@pytest.mark.faults
@pytest.mark.parametrize("name", sorted(BAD_SUBSCRIPTIONS))
def test_a_bad_subscription_or_feed_setting_is_refused_in_one_line(name, tmp_path):
    """benchmarks/faultcases/sub.py: `policywatch digest` with the bad config exits 1 with one
    line naming the file, the subscription and the key; the corpus is left as it was."""
    outcome = CASE[f"subscription-{name}"].run(tmp_path)
    assert outcome.startswith(f"exit 1: Error: {name}.toml: ")


def test_a_valid_config_declares_subscriptions_and_feeds(tmp_path):
    path = tmp_path / "policywatch.toml"
    path.write_text('''
[channels.email]
host = "127.0.0.1"
sender = "a@example.org"
recipients = ["b@example.org"]

[[subscription]]
name = "xr-east"
title = "华东虚拟现实"
min_relevance = "mentions"
tags = ["xr"]
regions = ["华东"]
keywords = ["元宇宙", "VR"]
kinds = ["new", "finalised"]
channels = ["email", "files"]
others = "none"

[feeds]
days = 7
entries = 50
url = "http://research.example.org:8001/"
''', encoding="utf-8")
    config = load_config(path)
    [sub] = config.subscriptions
    assert (sub.name, sub.label, sub.min_relevance, sub.tags, sub.keywords, sub.channels, sub.others) == (
        "xr-east", "华东虚拟现实", "mentions", ("xr",), ("元宇宙", "vr"), ("email", "files"), "none")
    assert sub.outbox("email") == "xr-east/email" and default_subscription().outbox("email") == "email"
    assert sub.describe() == ("相关度不低于“相关政策”；标签：虚拟现实/增强现实/混合现实/扩展现实；地区：华东；"
                              "关键词：元宇宙、vr；变化：新发布、征求意见稿已正式印发")
    assert config.feeds == FeedSettings(days=7, entries=50, url="http://research.example.org:8001/")
    assert config.feeds.feed_url("xr-east") == "http://research.example.org:8001/-/feeds/xr-east.atom"
    # Without a file: no subscription declared (the default one applies), the default feed settings.
    assert load_config(None).subscriptions == () and load_config(None).feeds == FeedSettings()


def test_a_look_back_date_is_a_local_day():
    assert _since_value("2026-11-25") == "2026-11-24T16:00:00+00:00"  # 00:00 in Beijing
    assert _since_value("2026-11-25", "UTC") == "2026-11-25T00:00:00+00:00"
    assert _since_value("2026-11-25T07:00") == "2026-11-24T23:00:00+00:00"
    assert _since_value("2026-11-25T07:00:00+00:00") == "2026-11-25T07:00:00+00:00"


# --- matching -----------------------------------------------------------------------------------


def test_each_filter_selects_the_changes_it_names(corpus):
    db = open_corpus(corpus)
    entries = load_entries(db, pending(db, "files")[0])
    assert len(entries) == 5

    def matched(sub: Subscription, texts=None) -> set[str]:
        return titles_of(split_entries(entries, sub, texts)[0])

    everything = titles_of(entries)
    assert matched(Subscription("all")) == everything
    relevant = {"江西省元宇宙产业发展行动计划", "江西省数字孪生城市建设方案", "江苏省虚拟现实产业若干措施"}
    assert matched(default_subscription()) == relevant  # related and above
    assert matched(Subscription("m", min_relevance="mentions")) == relevant - {"江西省数字孪生城市建设方案"}
    assert matched(Subscription("t", tags=["xr"])) == {"江西省元宇宙产业发展行动计划", "江苏省虚拟现实产业若干措施"}
    assert matched(Subscription("s", sites=("js_gxt",))) == {"江苏省虚拟现实产业若干措施", "江苏省关于开展安全生产检查的通知"}
    assert matched(Subscription("p", provinces=("江西省",), min_relevance="related")) == {
        "江西省元宇宙产业发展行动计划", "江西省数字孪生城市建设方案"}
    assert matched(Subscription("l", levels=("prefecture",))) == set()
    assert matched(Subscription("k", kinds=("revised",))) == set()
    from digest.build import document_texts

    texts = document_texts(db, (e.document["id"] for e in entries))
    # "城市信息模型" is only in a document's text, "元宇宙" only in a title.
    assert matched(Subscription("kw", keywords=("城市信息模型",)), texts) == {"江西省数字孪生城市建设方案"}
    assert matched(Subscription("kw2", keywords=("元宇宙", "森林")), texts) == {
        "江西省元宇宙产业发展行动计划", "江西省关于做好秋冬季森林防火工作的通知"}
    # Not yet classified: it may matter — shown by a relevance minimum, but no tag says it has xr.
    unclassified = replace(entries[0], document={**entries[0].document, "relevance": None, "techs": None})
    assert default_subscription().matches("new", unclassified.document)
    assert not Subscription("t", tags=("xr",)).matches("new", unclassified.document)


def test_the_default_digest_lists_the_relevant_in_full_and_summarises_the_rest(corpus):
    db = open_corpus(corpus)
    ids, _ = pending(db, "files")
    digest = build_digest(db, ids, since=WHEN[0].isoformat(), now=WHEN[2])
    assert [e.document["title"] for e in digest.entries] == [
        "江西省元宇宙产业发展行动计划", "江苏省虚拟现实产业若干措施", "江西省数字孪生城市建设方案"]
    assert [(r.site, r.counts, [t["title"] for t in r.titles]) for r in digest.rest] == [
        ("js_gxt", {"new": 1}, ["江苏省关于开展安全生产检查的通知"]),
        ("jx_gov", {"new": 1}, ["江西省关于做好秋冬季森林防火工作的通知"])]
    assert digest.headline() == "元宇宙政策动态 · 2026-11-22：3 条相关变化（新发布 3），另有 2 条其他变化"
    from digest.render import render

    md = render(digest, "md")
    assert "## 新发布（3）" in md and "## 其他变化（不在订阅范围内）：2 条" in md
    assert "- 新发布：[江西省关于做好秋冬季森林防火工作的通知](<http://www.jx_gov.example.gov.cn/zcwj/t2026_3.html>)" \
        in md.replace("\\_", "_")
    assert md.count("### ") == 3  # only the relevant ones have a card
    assert not ENGLISH.search(md), ENGLISH.search(md)
    data = json.loads(render(digest, "json"))
    assert data["matched"] == 3 and data["counts"]["new"] == 5 and data["generated_at"].endswith("+08:00")
    assert data["changes"][0]["summary"] == "新发布：江西省元宇宙产业发展行动计划"


def test_a_withdrawal_nobody_subscribed_to_is_counted_not_detailed(corpus):
    from pipelines.presence import record_observations

    db = open_corpus(corpus)
    run = start_run(db, "jx_gov", "crawl", when=WHEN[2])
    for day in ("2026-11-22", "2026-11-23"):
        record_observations(db, "jx_gov", run, gone={item(3).url: "http_404"}, day=day, when=WHEN[3])
    db.conn.commit()
    [withdrawn] = [i for i in changes_since(db, WHEN[3].isoformat())]
    digest = build_digest(db, [withdrawn], since=WHEN[2].isoformat(), now=WHEN[4])
    assert digest.entries == [] and digest.rest[0].counts == {"withdrawn": 1} and digest.rest[0].titles == []
    from digest.render import render

    md = render(digest, "md")
    assert "没有符合本订阅（相关度不低于“关联技术”）的变化；其他 1 条变化见下方汇总。" in md
    assert "森林防火" not in md and "已撤下 1" in md


# --- delivery per subscription and channel -----------------------------------------------------


def config_with(tmp_path: Path, port: int) -> Path:
    path = tmp_path / "policywatch.toml"
    path.write_text(f'''
[paths]
digests = "{tmp_path / 'digests'}"

[channels.email]
host = "127.0.0.1"
port = {port}
starttls = false
sender = "alerts@example.org"
recipients = ["team@example.org"]

[[subscription]]
name = "xr"
title = "虚拟现实政策"
tags = ["xr"]
channels = ["email", "files"]

[[subscription]]
name = "jiangxi"
title = "江西省全部文件"
sites = ["jx_gov"]
channels = ["email"]
others = "none"
''', encoding="utf-8")
    return path


@pytest.fixture
def inbox():
    box = SmtpInbox()
    with smtp_server(box) as port:
        yield box, port


def test_each_subscription_gets_its_own_email_files_feed_and_outbox(corpus, inbox, tmp_path):
    box, port = inbox
    config = config_with(tmp_path, port)
    run = CliRunner().invoke(main, ["--config", str(config), "digest", "--db", str(corpus)])
    assert run.exit_code == 0, run.output
    # A new subscription's outboxes start with every change not yet sent on them: here the
    # two sites' first crawls (summarised) and the day's five documents.
    for outbox in ("xr/email", "xr/files", "jiangxi/email"):
        assert f"{outbox}: 7 change(s) delivered" in run.output
    by_subject = {m["Subject"]: m for m in box.messages}
    assert sorted(by_subject) == [f"江西省全部文件 · {_today()}：4 条相关变化（新发布 4），另有 3 条其他变化",
                                  f"虚拟现实政策 · {_today()}：2 条相关变化（新发布 2），另有 5 条其他变化"]
    xr = next(m for s, m in by_subject.items() if s.startswith("虚拟现实政策"))
    jx = next(m for s, m in by_subject.items() if s.startswith("江西省全部文件"))
    xr_html = xr.get_body(("html",)).get_content()
    assert "江西省元宇宙产业发展行动计划" in xr_html and "江苏省虚拟现实产业若干措施" in xr_html
    assert "其他变化（不在订阅范围内）：5 条" in xr_html  # others = summary (the default)
    jx_text = jx.get_body(("plain",)).get_content()
    assert "江西省关于做好秋冬季森林防火工作的通知" in jx_text and "江苏省" not in jx_text  # others = none
    assert "不在订阅范围内的其他变化（未列出）：新发布 3" in jx_text
    assert xr["Message-ID"] != jx["Message-ID"]
    out = tmp_path / "digests"
    assert sorted(p.suffix for p in (out / "xr").iterdir()) == [".atom", ".html", ".json", ".md"]
    assert not (out / "jiangxi").exists()  # no files channel
    feed = feedparser.parse((out / "feeds" / "xr.atom").read_bytes())
    assert not feed.bozo and {e.title for e in feed.entries} == {
        "[新发布] 江西省元宇宙产业发展行动计划", "[新发布] 江苏省虚拟现实产业若干措施"}
    assert feed.feed.links[0].href == "http://127.0.0.1:8001/-/feeds/xr.atom"
    assert "http://127.0.0.1:8001/-/feeds/xr.atom" in xr_html  # the digest says where its feed is
    db = open_corpus(corpus)
    for outbox in ("xr/email", "xr/files", "jiangxi/email"):
        assert pending(db, outbox) == ([], [])
    assert pending(db, "email")[0]  # the default subscription is not declared: not delivered
    db.close()

    again = CliRunner().invoke(main, ["--config", str(config), "digest", "--db", str(corpus)])
    assert again.exit_code == 0 and "xr/email: nothing new to send" in again.output
    assert "jiangxi/email: nothing new to send" in again.output and len(box.messages) == 2

    # A change only one subscription covers: only its e-mail goes out; the other's is settled.
    db = open_corpus(corpus)
    store_document(db, item(6, site="js_gxt", title="江苏省关于做好冬季供暖的通知", fetched_at=WHEN[3]),
                   run_id=start_run(db, "js_gxt", "crawl", when=WHEN[3]))
    db.close()
    third = CliRunner().invoke(main, ["--config", str(config), "digest", "--db", str(corpus)])
    assert third.exit_code == 0, third.output
    assert "jiangxi/email: nothing new to send" in third.output
    assert "xr/email: 1 change(s) delivered" in third.output  # the summary of the rest
    assert len(box.messages) == 3
    db = open_corpus(corpus)
    assert pending(db, "jiangxi/email") == ([], [])


def _today() -> str:
    from digest.localtime import local_date, zone

    return local_date(datetime.now(timezone.utc), zone())


# --- rolling feeds -----------------------------------------------------------------------------


def test_the_rolling_feed_keeps_the_day_before_after_a_quiet_day(corpus, tmp_path):
    folder = tmp_path / "digests"
    db = open_corpus(corpus)
    deliver(db, [FilesChannel(folder)], now=WHEN[2])
    first = (folder / "feeds" / "default.atom").read_bytes()
    [quiet] = deliver(db, [FilesChannel(folder)], now=WHEN[3])
    assert quiet.changes == 0  # a quiet day: its digest says so ...
    feed = feedparser.parse((folder / "feeds" / "default.atom").read_bytes())
    assert not feed.bozo, feed.bozo_exception
    before = feedparser.parse(first)
    corpus_id = db.execute("SELECT value FROM corpus_meta WHERE key = 'id'").fetchone()[0]
    # ... and its feed still holds yesterday's entries, under the same ids.
    assert [e.id for e in feed.entries] == [e.id for e in before.entries] and len(feed.entries) == 3
    assert all(e.id.startswith(f"{TAG}{corpus_id}/change/") for e in feed.entries)
    assert feed.entries[0].title.startswith("[新发布] ") and feed.entries[0].updated.endswith("+08:00")
    # The window and the cap: 1 day later nothing; at most 2 entries, the newest.
    late = datetime(2026, 12, 30, tzinfo=timezone.utc)
    assert feedparser.parse(rolling_feed(db, default_subscription(), FeedSettings(days=1), now=late)).entries == []
    capped = feedparser.parse(rolling_feed(db, default_subscription(), FeedSettings(entries=2), now=WHEN[3]))
    assert [e.id for e in capped.entries] == [e.id for e in feed.entries][:2]


def test_entry_ids_differ_between_corpora(corpus, tmp_path):
    other = tmp_path / "other.db"
    open_corpus(other).close()
    ids = {open_corpus(p).execute("SELECT value FROM corpus_meta WHERE key = 'id'").fetchone()[0]
           for p in (corpus, other)}
    assert len(ids) == 2


@pytest.mark.e2e
def test_browse_serves_each_subscriptions_feed_from_a_crawled_corpus(tmp_path_factory):
    """The corpus crawled from the replay portal and classified; browse's /-/feeds/<name>.atom."""
    from digest.browse import make_datasette

    path = classified_copy(tmp_path_factory, "feeds")
    subs = (default_subscription(), Subscription("xr", title="虚拟现实", tags=("xr",)))
    ds = make_datasette(path, feeds=FeedConfig(subs, FeedSettings(days=3650)))

    async def fetch(url):
        await ds.invoke_startup()
        return await ds.client.get(url)

    responses = {name: asyncio.run(fetch(f"/-/feeds/{name}.atom")) for name in ("default", "xr", "nosuch")}
    assert responses["nosuch"].status_code == 404
    db = open_corpus(path)
    corpus_id = db.execute("SELECT value FROM corpus_meta WHERE key = 'id'").fetchone()[0]
    for name in ("default", "xr"):
        response = responses[name]
        assert response.status_code == 200 and response.headers["content-type"].startswith("application/atom+xml")
        feed = feedparser.parse(response.content)
        assert not feed.bozo, feed.bozo_exception
        assert feed.feed.id == f"{TAG}{corpus_id}/feed/{name}"
    # The crawl was each site's first: one summary entry per site, of its relevant documents.
    default = feedparser.parse(responses["default"].content)
    relevant_sites = {r[0] for r in db.execute(
        "SELECT DISTINCT site FROM documents WHERE relevance IN ('dedicated', 'mentions', 'related')")}
    assert len(default.entries) == len(relevant_sites) > 0
    assert all(e.title.startswith("[存量补录] ") for e in default.entries)


@pytest.mark.e2e
def test_a_look_back_over_a_crawled_corpus_is_short_and_in_chinese(tmp_path_factory):
    path = classified_copy(tmp_path_factory, "lookback")
    shown = CliRunner().invoke(main, ["digest", "--db", str(path), "--since", "2000-01-01",
                                      "--out", "-", "--format", "md"])
    assert shown.exit_code == 0, shown.output
    md = shown.output
    db = open_corpus(path)
    total = db.execute("SELECT count(*) FROM changes").fetchone()[0]
    irrelevant = [r[0] for r in db.execute("SELECT title FROM documents WHERE relevance = 'none'")]
    assert total > 30 and irrelevant
    assert not any(title in md for title in irrelevant)  # counted per site, never listed
    assert "## 其他变化（不在订阅范围内）" in md and "## 存量补录：" in md
    assert not ENGLISH.search(md), ENGLISH.search(md)
    assert len(md) < 20_000


# --- the fault cases ---------------------------------------------------------------------------


@pytest.mark.faults
@pytest.mark.parametrize("name", ["digest-hostile-titles", "digest-3000-changes-a-day", "feed-unknown-name"])
def test_the_digest_fault_cases(name, tmp_path):
    assert CASE[name].run(tmp_path)


def test_a_route_of_the_default_subscription_keeps_the_old_outbox_names(corpus, tmp_path):
    db = open_corpus(corpus)
    [report] = deliver(db, [Route(default_subscription(), FilesChannel(tmp_path / "d"))])
    assert report.channel == "files" and pending(db, "files") == ([], [])


def test_a_preview_is_one_subscriptions_and_an_unknown_one_is_refused(corpus, tmp_path):
    config = config_with(tmp_path, 9)  # nothing is sent: the port is never dialled
    shown = CliRunner().invoke(main, ["--config", str(config), "digest", "--db", str(corpus), "--no-deliver",
                                      "--subscription", "jiangxi", "--out", "-", "--format", "json"])
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.output)
    assert data["subscription"] == {"name": "jiangxi", "title": "江西省全部文件", "filters": "网站：jx_gov"}
    assert data["matched"] == 4 and data["others_unlisted"] == {"new": 3}
    assert data["feed"] == "http://127.0.0.1:8001/-/feeds/jiangxi.atom"
    wrong = CliRunner().invoke(main, ["--config", str(config), "digest", "--db", str(corpus), "--no-deliver",
                                      "--subscription", "nosuch", "--out", "-", "--format", "md"])
    assert wrong.exit_code == 2 and "no subscription 'nosuch'; the config declares xr, jiangxi" in wrong.output
    db = open_corpus(corpus)
    assert db.execute("SELECT count(*) FROM deliveries WHERE channel LIKE '%/%'").fetchone()[0] == 0
