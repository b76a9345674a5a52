"""Parsing and classifying in worker processes (crawlers/engine/parsepool.py): the same results as in
the crawl process, refusals with their reasons, a dead worker loses no page, and a crawl uses
the pool, stops cleanly on Ctrl-C and leaves no process behind, even when killed. (Jobs over
their time or memory limit: tests/test_attachment_limits.py.)"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from benchmarks import synthportal
from crawlers.engine.parsepool import OffloadedWork, workers_setting
from crawlers.families import get_family
from crawlers.parsing.errors import ParseError
from crawlers.replay.portal import REPLAY_SITES
from crawlers.sites.spec import Selectors
from pipelines.schema import open_corpus

REPO = Path(__file__).resolve().parents[1]
SITE = REPLAY_SITES[0]  # replay_generic: a site the registry does not hold
N = 60


def run(coro):
    return asyncio.run(coro)


@pytest.fixture
def pool():
    work = OffloadedWork(2)
    yield work
    work.close()


def test_pool_parses_exactly_as_the_crawl_process_does(pool):
    pages = synthportal.all_pages(24)  # utf-8 and GBK (declared or not), with and without attachments
    assert any(synthportal.is_gbk(n) for n in range(1, 25)) and any(synthportal.has_attachment(n) for n in range(1, 25))
    family = get_family(SITE.family)

    async def parse_all():
        return await asyncio.gather(*(pool.parse_detail(SITE, url, body, headers, None)
                                      for url, body, headers in pages))

    pooled = run(parse_all())
    for (url, body, headers), item in zip(pages, pooled):
        here = family.parse_detail(SITE, url, body, headers)
        assert item.to_json() == here.to_json()
        assert item.raw_body == body and item.raw_encoding == here.raw_encoding
        assert item.provenance == here.provenance and item.text_source == here.text_source
    assert pool.counts.jobs == len(pages) and pool.counts.inline == 0


def test_refusals_keep_their_reason(pool):
    cases = {
        b"": "empty",
        b"%PDF-1.4\n" + bytes(range(256)) * 8: "binary",
        "<html><head><title>访问被拒绝</title></head><body>您的访问请求被拦截，"
        "请开启JavaScript后刷新页面</body></html>".encode(): "blocked",
        "<html><body><div class='content'><p>正文开始".encode(): "truncated",
    }
    for body, reason in cases.items():
        with pytest.raises(ParseError) as inline:
            get_family(SITE.family).parse_detail(SITE, "http://www.example-gov.cn/x.html", body, {})
        with pytest.raises(ParseError) as pooled:
            run(pool.parse_detail(SITE, "http://www.example-gov.cn/x.html", body, {}, None))
        assert pooled.value.reason == inline.value.reason == reason
        assert pooled.value.message == inline.value.message


def test_the_job_carries_the_site_it_parses_for(pool):
    """A config-declared site exists only in the crawl process: its selectors travel with the job."""
    url, body, headers = synthportal.all_pages(1)[0]
    declared = replace(SITE, key="declared_only", selectors=Selectors(content="div.footer"))
    item = run(pool.parse_detail(declared, url, body, headers, None))
    assert item.site == "declared_only"
    assert item.body_text.startswith("主办单位：")  # the override's element, not the document
    listing = run(pool.parse_list(SITE, SITE.columns[0], synthportal_request(),
                                  synthportal.list_page(1, 40).encode(), {}))
    assert [e.url for e in listing.entries] == [synthportal.doc_url(n) for n in range(40, 20, -1)]
    assert [p.url for p in listing.next_pages] == [synthportal.list_url(2)]


def synthportal_request():
    from crawlers.items import PageRequest

    return PageRequest(url=synthportal.COLUMN)


def test_a_dead_worker_loses_no_page(pool):
    url, body, headers = synthportal.all_pages(1)[0]
    expected = get_family(SITE.family).parse_detail(SITE, url, body, headers).to_json()
    run(pool.parse_detail(SITE, url, body, headers, None))  # the pool is up

    from crawlers.engine import parsepool

    before = parsepool._POOL.pids()
    assert before
    for pid in before:
        os.kill(pid, signal.SIGKILL)
    time.sleep(0.3)
    item = run(pool.parse_detail(SITE, url, body, headers, None))
    assert item.to_json() == expected
    # Done by a new worker, not in the crawl process: a job is never run unguarded.
    assert pool.counts.inline == 0 and pool.counts.refused == 0
    assert parsepool._POOL.pids() and not set(parsepool._POOL.pids()) & set(before)


def test_classify_in_the_pool_is_the_classifier(pool):
    from classifiers.classify import Document, classify
    from crawlers.parsing.textnorm import BodyForms, search_form, text_hash

    document = Document(title="示例市元宇宙产业创新发展行动方案",
                        text="加快虚拟现实、数字孪生技术融合创新，打造元宇宙产业集聚区。" * 5,
                        site="replay_generic", site_division="429004", site_level="county")
    outcome, columns, relevance, forms = run(pool.classify(document))
    here = classify(document)
    assert outcome == "ok" and relevance == here.relevance == "dedicated"
    assert columns == here.columns()
    # The store's hash and search form of the text, computed in the worker.
    assert forms == BodyForms.of(document.text)
    assert forms.text_hash == text_hash(document.text) and forms.search_form == search_form(document.text)
    failed = run(pool.classify(Document()))
    assert failed[0] == "failed" and failed[3] == BodyForms.of("")  # nothing to read: stored untagged


def test_workers_setting_is_checked():
    from scrapy.settings import Settings

    assert workers_setting(Settings({"POLICYWATCH_PARSE_WORKERS": 0})) == 0
    assert workers_setting(Settings({"POLICYWATCH_PARSE_WORKERS": None})) >= 1
    with pytest.raises(ValueError, match="must be 0 or more"):
        workers_setting(Settings({"POLICYWATCH_PARSE_WORKERS": -1}))
    with pytest.raises(ValueError, match="number of processes, not 'many'"):
        workers_setting(Settings({"POLICYWATCH_PARSE_WORKERS": "many"}))


# --- a real crawl --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def portal():
    portal = synthportal.SyntheticPortal(N, delay=0.1)  # slow enough to stop a crawl midway
    with portal.serve() as base:
        yield portal, base


def _descendants(pid: int) -> set[int]:
    found, todo = set(), [pid]
    while todo:
        current = todo.pop()
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as fh:
                    children = [int(c) for c in fh.read().split()]
                found.update(children)
                todo.extend(children)
        except OSError:
            continue
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _count(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=10) as conn:
            return conn.execute("select count(*) from documents").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


@pytest.mark.e2e
def test_ctrl_c_stops_a_backfill_cleanly_and_the_resumed_crawl_stores_what_the_parser_reads(portal, tmp_path):
    from classifiers.classify import classify
    from pipelines.classify import document_for
    from pipelines.normalise import NormalisePipeline

    _, base = portal
    db = tmp_path / "corpus.db"
    cmd = [sys.executable, "-m", "scheduler", "-v", "backfill", "replay_generic", "--db", str(db),
           "--replay", base]
    process = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    workers = _wait_for(process, db, N // 4)
    os.kill(process.pid, signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    stored = _count(db)
    assert 0 < stored < N, f"the stop came too late or too early ({stored} stored)"
    # A graceful stop: what was fetched is parsed and stored, the run is recorded.
    run = next(open_corpus(db).query("select * from runs order by id desc limit 1"))
    assert run["status"] == "failed" and "shutdown" in (run["errors"] or ""), run
    assert '"new": %d' % stored in run["counts"]
    _assert_gone(workers)

    resumed = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "offloaded " in resumed.stderr and "; 0 done in-process" in resumed.stderr
    family = get_family(SITE.family)
    corpus = open_corpus(db)
    rows = {r["url"]: r for r in corpus.query("select * from documents")}
    assert set(rows) == {synthportal.doc_url(n) for n in range(1, N + 1)}
    assert corpus.execute("select count(*) from versions").fetchone()[0] == N
    for url, body, headers in synthportal.all_pages(N):
        item = NormalisePipeline().process_item(family.parse_detail(SITE, url, body, headers))
        row = rows[url]
        assert (row["title"], row["doc_number"], row["published_date"]) == \
            (item.title, item.doc_number, item.published_date.isoformat())
        if not item.attachments:  # (an attachment's text would be classified too)
            # Classified in a worker, stored with the document: what the classifier says here.
            assert row["relevance"] == classify(document_for(item, SITE)).relevance
    relevant = {r["url"] for r in rows.values() if r["relevance"] != "none"}
    assert relevant and relevant <= {synthportal.doc_url(n) for n in range(1, N + 1) if synthportal.is_metaverse(n)}


@pytest.mark.e2e
def test_a_killed_crawl_leaves_no_worker_behind(portal, tmp_path):
    """SIGKILL gives the crawl no chance to stop its pool: the workers notice and exit.
    (tests/test_backfill.py resumes a killed backfill.)"""
    _, base = portal
    db = tmp_path / "corpus.db"
    process = subprocess.Popen([sys.executable, "-m", "scheduler", "backfill", "replay_generic", "--db", str(db),
                                "--replay", base], cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers = _wait_for(process, db, 1)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    _assert_gone(workers)


def _wait_for(process: subprocess.Popen, db: Path, documents: int) -> set[int]:
    """Wait until ``documents`` are stored; the crawl's descendant processes seen meanwhile."""
    seen: set[int] = set()
    deadline = time.monotonic() + 120
    while _count(db) < documents and time.monotonic() < deadline and process.poll() is None:
        seen |= _descendants(process.pid)
        time.sleep(0.05)
    seen |= _descendants(process.pid)
    assert seen, "the crawl started no worker process"
    return seen


def _assert_gone(pids: set[int]) -> None:
    deadline = time.monotonic() + 15
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in pids if _alive(pid)], "worker processes outlived the crawl"
