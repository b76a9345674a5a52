"""Distributed crawling: two crawler processes share one Redis frontier (scrapy-redis) and the
replay portal; one writer (`policywatch ingest`) stores every document exactly once."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from benchmarks import synthportal
from crawlers.items import Attachment, PolicyItem
from pipelines.corpus import open_corpus
from pipelines.redisqueue import decode_item, encode_item

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[1]
N = 40


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    """A real redis-server on 127.0.0.1, on a free port, with a temporary directory."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed (.ci/setup installs it)")
    port = _free_port()
    folder = tmp_path_factory.mktemp("redis")
    server = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder),
                               "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL)
    import redis

    client = redis.Redis(port=port)
    deadline = time.monotonic() + 20
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                server.kill()
                raise
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture(scope="module")
def portal():
    portal = synthportal.SyntheticPortal(N, delay=0.2)  # slow enough for two processes to share
    with portal.serve() as base:
        yield portal, base


def test_two_crawlers_one_writer_store_every_document_exactly_once(redis_url, portal, tmp_path):
    the_portal, base = portal
    crawl = [sys.executable, "-m", "scheduler", "-v", "crawl", "replay_generic", "--distributed",
             "--redis", redis_url, "--crawl-id", "test", "--replay", base]
    crawlers = [subprocess.Popen(crawl, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for _ in range(2)]
    outputs = [c.communicate(timeout=300) for c in crawlers]
    for crawler, (out, err) in zip(crawlers, outputs):
        assert crawler.returncode == 0, err[-3000:]
    # The writer may run anywhere, any time: here it drains what the two crawlers queued.
    db = tmp_path / "corpus.db"
    writer = subprocess.run([sys.executable, "-m", "scheduler", "ingest", "--redis", redis_url, "--db", str(db),
                             "--until-idle", "1"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert writer.returncode == 0, writer.stderr[-3000:]
    assert f"stored {N} new; 2 run(s) finished; 0 message(s) not storable" in writer.stdout

    # Each page was fetched once, by one of the two processes (the shared duplicate filter).
    details = Counter(url for _, url in the_portal.requests if "/zcwj/2" in url and url.endswith(".html"))
    assert set(details) == {synthportal.doc_url(n) for n in range(1, N + 1)}
    assert set(details.values()) == {1}
    assert sum("seeding the distributed crawl" in err for _, err in outputs) == 1

    corpus = open_corpus(db)
    assert {r["url"] for r in corpus.query("select url from documents")} == \
        {synthportal.doc_url(n) for n in range(1, N + 1)}
    assert corpus.execute("select count(*) from versions").fetchone()[0] == N
    assert corpus.execute("select count(*) from changes where kind = 'new'").fetchone()[0] == N
    assert corpus.execute("select count(*) from documents where relevance is null").fetchone()[0] == 0
    runs = list(corpus.query("select * from runs order by id"))
    assert len(runs) == 2 and all(r["status"] == "ok" for r in runs)
    shares = [json.loads(r["counts"])["new"] for r in runs]
    assert sum(shares) == N and min(shares) > 0, f"one process did all the work: {shares}"
    # The last process out cleared the crawl's frontier, so the crawl id can run again.
    import redis

    assert not list(redis.Redis.from_url(redis_url).scan_iter(match="policywatch:test:*"))


def test_a_document_survives_the_queue_intact():
    from datetime import date, datetime, timezone

    item = PolicyItem(url="http://www.example-gov.cn/a.html", site="replay_generic", title="关于元宇宙的通知",
                      published_date=date(2026, 3, 1), fetched_at=datetime(2026, 3, 2, 8, tzinfo=timezone.utc),
                      raw_body="<html>元宇宙</html>".encode("gbk"), http_headers={"Content-Type": "text/html"},
                      attachments=[Attachment(url="http://www.example-gov.cn/a.pdf", name="附件", sha256="ab",
                                              size=3, text="正文", data=b"%PDF")],
                      classification={"relevance": "dedicated", "scenarios": ["文旅"], "relevance_score": 0.9})
    back = decode_item(json.loads(json.dumps(encode_item(item), ensure_ascii=False)))
    assert back == item and back.raw_body == item.raw_body and back.fetched_at == item.fetched_at
    assert back.attachments[0].data is None  # the file's bytes are never queued
    with pytest.raises(ValueError, match="unknown item fields: evil"):
        decode_item({"url": "x", "site": "s", "title": "t", "evil": 1})


def test_no_redis_is_a_clear_error(tmp_path):
    port = _free_port()
    result = subprocess.run([sys.executable, "-m", "scheduler", "crawl", "replay_generic", "--distributed",
                             "--redis", f"redis://127.0.0.1:{port}/0", "--replay", "http://127.0.0.1:9"],
                            cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and f"no Redis at redis://127.0.0.1:{port}/0" in result.stderr
    result = subprocess.run([sys.executable, "-m", "scheduler", "crawl", "replay_generic", "--distributed",
                             "--sweep", "--replay", "http://127.0.0.1:9"],
                            cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "a sweep runs where the corpus is" in result.stderr


def test_the_writer_stores_what_a_dead_writer_left_and_nothing_twice(redis_url, tmp_path):
    import redis

    from crawlers.families import get_family
    from crawlers.replay import REPLAY_SITES
    from pipelines.ingest import RUNS_KEY, Writer
    from pipelines.redisqueue import INGESTING_KEY, ITEMS_KEY

    client = redis.Redis.from_url(redis_url)
    client.delete(ITEMS_KEY, INGESTING_KEY, RUNS_KEY)
    site = REPLAY_SITES[0]
    url, body, headers = synthportal.all_pages(1)[0]
    item = get_family(site.family).parse_detail(site, url, body, headers)
    start = {"type": "run-start", "run": "t:replay_generic:w1", "kind": "crawl",
             "site": {"key": site.key, "name": site.name, "division_code": site.division_code,
                      "level": site.level, "family": site.family, "domains": list(site.domains),
                      "enabled": True}}
    document = {"type": "document", "run": "t:replay_generic:w1", "item": encode_item(item)}
    end = {"type": "run-end", "run": "t:replay_generic:w1", "site": site.key, "reason": "finished",
           "counts": {"failed": {}, "blocked": 0, "pages": 1}, "errors": []}
    # A writer died while storing the document: it waits in the ingesting list. The crawler sent
    # the same document again, a message no writer can store, and the end of its run.
    client.lpush(INGESTING_KEY, json.dumps(start), json.dumps(document))
    for message in (document, {"type": "nonsense"}, end):
        client.lpush(ITEMS_KEY, json.dumps(message))
    writer = Writer(client, tmp_path / "corpus.db")
    report = writer.run(until_idle=0.2, poll=0.1)
    writer.close()
    assert report.documents == {"new": 1, "unchanged": 1} and report.bad == 1 and report.runs_finished == 1
    assert client.llen(ITEMS_KEY) == 0 and client.llen(INGESTING_KEY) == 0 and client.hlen(RUNS_KEY) == 0
    corpus = open_corpus(tmp_path / "corpus.db")
    assert corpus.execute("select count(*) from versions").fetchone()[0] == 1
    run = next(corpus.query("select * from runs"))
    assert run["status"] == "ok" and json.loads(run["counts"])["new"] == 1


def test_an_incremental_distributed_crawl_fetches_only_what_the_corpus_lacks(redis_url, tmp_path):
    """The daily run at scale: the writer publishes the corpus' URLs when it starts; two
    incremental crawler processes skip them, read list pages only until one holds nothing new,
    and the writer stores the new documents."""
    import redis

    from crawlers.replay import REPLAY_SITES
    from pipelines.corpus import store_document

    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    db = tmp_path / "corpus.db"
    corpus = open_corpus(db)
    total = 80  # four list pages of 20
    for n in range(1, total - 9):  # all but the newest ten are stored already
        store_document(corpus, PolicyItem(url=synthportal.doc_url(n), site=REPLAY_SITES[0].key,
                                          title=synthportal.doc_title(n), body_text=f"第{n}号文件正文。"))
    corpus.close()
    crawl = [sys.executable, "-m", "scheduler", "-v", "crawl", "replay_generic", "--distributed", "--incremental",
             "--redis", redis_url, "--crawl-id", "daily"]
    ingest = [sys.executable, "-m", "scheduler", "ingest", "--redis", redis_url, "--db", str(db), "--until-idle", "1"]

    portal = synthportal.SyntheticPortal(total, delay=0.1)
    with portal.serve() as base:
        refused = subprocess.run([*crawl, "--replay", base], cwd=REPO, capture_output=True, text=True, timeout=120)
        assert refused.returncode != 0 and "start `policywatch ingest`" in refused.stderr + refused.stdout
        assert portal.requests == []

        published = subprocess.run(ingest, cwd=REPO, capture_output=True, text=True, timeout=120)
        assert published.returncode == 0, published.stderr[-3000:]
        assert client.scard("policywatch:known:replay_generic") == total - 10
        crawlers = [subprocess.Popen([*crawl, "--replay", base], cwd=REPO, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True) for _ in range(2)]
        for crawler in crawlers:
            out, err = crawler.communicate(timeout=300)
            assert crawler.returncode == 0, err[-3000:]
    requested = [url for _, url in portal.requests]
    details = Counter(url for url in requested if "/zcwj/2" in url and url.endswith(".html"))
    assert details == Counter({synthportal.doc_url(n): 1 for n in range(total - 9, total + 1)})
    # Page 1 lists 80…61 (ten new), page 2 lists 60…41 (nothing new): pages 3 and 4 are not read.
    assert sorted(u for u in requested if "index" in u) == sorted([synthportal.list_url(1), synthportal.list_url(2)])

    stored = subprocess.run(ingest, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert stored.returncode == 0, stored.stderr[-3000:]
    assert "stored 10 new; 2 run(s) finished" in stored.stdout
    corpus = open_corpus(db)
    assert corpus.execute("SELECT count(*) FROM documents").fetchone()[0] == total
    assert client.scard("policywatch:known:replay_generic") == total  # the writer keeps the set current
