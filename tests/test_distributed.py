"""Distributed crawling: crawler processes share a round's sites over Redis (a lease per site, so
each site is crawled by one worker at a time); one writer (`policywatch ingest`) stores every
document exactly once."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from benchmarks import synthportal
from benchmarks.faultcases import queue as faults
from benchmarks.faultcases.round import write_config
from benchmarks.roundportals import Farm, site_key
from crawlers.items import Attachment, PolicyItem
from crawlers.items.codec import MAX_MESSAGE_BYTES, decode_message
from pipelines.redisqueue import decode_item, encode_item, message_bytes
from pipelines.schema import open_corpus

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    """A real redis-server on 127.0.0.1, on a free port, with a temporary directory."""
    try:
        with faults.redis_server(tmp_path_factory.mktemp("redis")) as url:
            yield url
    except FileNotFoundError:
        pytest.fail("redis-server is not installed (.ci/setup installs it)")


def test_two_workers_share_the_sites_each_crawled_by_one_worker_and_one_writer_stores_them(redis_url, tmp_path):
    """Two workers given the same eight sites (their own loopback portals) share them: each
    site is crawled by one worker only (so never by two at once: its politeness holds across
    machines), each worker runs several sites at once, and the writer stores every document once."""
    sites, docs = 8, 3
    farm = Farm(sites, docs, log=True)
    keys = [site_key(i) for i in range(sites)]
    with farm.serving():
        config = write_config(tmp_path, farm, scrapy={"POLICYWATCH_ACTIVE_SITES": 2})
        workers = [faults.worker(tmp_path, config, redis_url, keys, name, crawl_id="share") for name in ("w1", "w2")]
        outputs = [w.communicate(timeout=300) for w in workers]
    for w, (out, err) in zip(workers, outputs):
        assert w.returncode == 0 and "Traceback" not in err, err[-3000:]
    writer = faults.ingest(tmp_path, redis_url)
    assert writer.returncode == 0, writer.stderr[-3000:]
    assert f"stored {sites * docs} new; {sites} run(s) finished; 0 message(s) not storable" in writer.stdout

    # Every portal was fetched by one worker only; both workers had sites.
    crawled_by = {i: {name for _, name in requests} for i, requests in faults.fetchers(farm).items()}
    assert set(crawled_by) == set(range(sites))
    assert all(len(names) == 1 for names in crawled_by.values()), crawled_by
    assert {name for names in crawled_by.values() for name in names} == {"w1", "w2"}, "one worker did all"
    # Each worker's report names the sites it crawled, and only those.
    reported = [{k for k in keys if k in out} for out, _ in outputs]
    assert reported[0] | reported[1] == set(keys) and not reported[0] & reported[1]
    assert reported[0] == {site_key(i) for i, names in crawled_by.items() if names == {"w1"}}

    documents, versions, per_site = faults.stored(tmp_path / "corpus.db")
    assert documents == versions == sites * docs and per_site == {k: docs for k in keys}
    with sqlite3.connect(tmp_path / "corpus.db") as conn:
        runs = conn.execute("SELECT site, status, json_extract(counts, '$.pages') FROM runs").fetchall()
    # One run a site, with its own counts: robots.txt, its list page and three documents.
    assert sorted(runs) == [(k, "ok", 2 + docs) for k in keys]
    # The last worker out cleared the crawl's keys, so the crawl id can run again.
    import redis

    assert not list(redis.Redis.from_url(redis_url).scan_iter(match="policywatch:share:*"))


@pytest.mark.faults
def test_a_worker_killed_holding_a_site_loses_it_to_another_after_the_lease_ttl(tmp_path):
    """Killed mid-site (SIGKILL): the other worker, waiting, takes the site over once the short
    lease TTL has passed, never fetching while the first one did; every document is stored once
    and the dead worker's run is closed as failed (lease_expired)."""
    assert faults.worker_killed_holding_a_site(tmp_path).startswith("taken over")


def test_a_document_survives_the_queue_intact():
    from datetime import date, datetime, timezone

    item = PolicyItem(url="http://www.example-gov.cn/a.html", site="replay_generic", title="关于元宇宙的通知",
                      published_date=date(2026, 3, 1), fetched_at=datetime(2026, 3, 2, 8, tzinfo=timezone.utc),
                      raw_body="<html>元宇宙</html>".encode("gbk"), http_headers={"Content-Type": "text/html"},
                      attachments=[Attachment(url="http://www.example-gov.cn/a.pdf", name="附件", sha256="ab",
                                              size=3, text="正文", data=b"%PDF")],
                      classification={"relevance": "dedicated", "scenarios": ["文旅"], "relevance_score": 0.9})
    back = decode_item(decode_message(message_bytes({"item": encode_item(item)}), MAX_MESSAGE_BYTES)["item"])
    assert back == item and back.raw_body == item.raw_body and back.fetched_at == item.fetched_at
    assert back.attachments[0].data is None  # the file's bytes are never queued
    with pytest.raises(ValueError, match="unknown item fields: evil"):
        decode_item({"url": "x", "site": "s", "title": "t", "evil": 1})


def test_no_redis_is_a_clear_error(tmp_path):
    port = faults.free_port()
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
    from crawlers.replay.portal import REPLAY_SITES
    from pipelines.ingest import DEAD_COUNT_KEY, DEAD_KEY, RUNS_KEY, Writer
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
    [letter] = [json.loads(x) for x in client.lrange(DEAD_KEY, 0, -1)]
    assert letter["reason"] == "unknown message type 'nonsense'" and letter["message"] == '{"type": "nonsense"}'
    client.delete(DEAD_KEY, DEAD_COUNT_KEY)
    corpus = open_corpus(tmp_path / "corpus.db")
    assert corpus.execute("select count(*) from versions").fetchone()[0] == 1
    run = next(corpus.query("select * from runs"))
    assert run["status"] == "ok" and json.loads(run["counts"])["new"] == 1


def test_an_incremental_distributed_crawl_fetches_only_what_the_corpus_lacks(redis_url, tmp_path):
    """The daily run at scale: the writer publishes the corpus' URLs when it starts; two
    incremental crawler processes skip them, read list pages only until one holds nothing new,
    and the writer stores the new documents."""
    import redis

    from crawlers.replay.portal import REPLAY_SITES
    from pipelines.storing import store_document

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
    # One site: one worker crawled it, one run (the other worker found it leased, then done).
    assert "stored 10 new; 1 run(s) finished" in stored.stdout
    corpus = open_corpus(db)
    assert corpus.execute("SELECT count(*) FROM documents").fetchone()[0] == total
    assert client.scard("policywatch:known:replay_generic") == total  # the writer keeps the set current


# --- hostile queues (builders shared with benchmarks/faultcases/queue.py) ---------------------
@pytest.mark.faults
def test_a_pickle_in_the_request_queue_is_refused_and_the_crawl_goes_on(tmp_path):
    """A pickle whose loading would run a command sits at the head of the shared request queue
    of a real redis-server: the worker never loads it (the command never runs), refuses and
    counts it, and crawls the site."""
    assert faults.pickle_in_request_queue(tmp_path).startswith("refused: pickle")
    assert not (tmp_path / "pwned").exists()


@pytest.mark.faults
def test_a_pickle_in_the_items_list_is_a_dead_letter(tmp_path):
    assert faults.pickle_in_items(tmp_path).startswith("dead-lettered")


@pytest.mark.faults
@pytest.mark.parametrize("name", sorted(faults.MALFORMED))
def test_a_malformed_message_is_dead_lettered_and_the_writer_goes_on(name, tmp_path):
    """Each malformed message, in the middle of a good run: moved to the dead letters with its
    reason, counted by status, never met again; the documents around it are stored."""
    assert faults.malformed(name)(tmp_path).startswith("dead-lettered")


@pytest.mark.faults
def test_a_dead_letter_of_a_run_marks_the_run_partial(redis_url, tmp_path):
    import redis

    from pipelines.ingest import DEAD_KEY, Writer, dead_letters
    from pipelines.redisqueue import INGESTING_KEY, ITEMS_KEY

    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    start, (first, second), end = faults.good_messages()
    faults.push(client, ITEMS_KEY, start, first, faults.MALFORMED["bad-date"][0](), second, end)
    writer = Writer(client, tmp_path / "corpus.db")
    report = writer.run(until_idle=0.2, poll=0.1)
    found = dead_letters(writer.db)
    writer.close()
    assert report.documents == {"new": 2} and report.bad == 1 and report.runs_finished == 1
    assert found.count == 1 and found.last_reason.startswith("bad $date")
    run = next(open_corpus(tmp_path / "corpus.db").query("select * from runs"))
    assert run["status"] == "partial" and json.loads(run["counts"])["failed"] == {"dead_letter": 1}
    assert any(e["reason"] == "dead_letter" and e["count"] == 1 for e in json.loads(run["errors"]))
    assert client.llen(DEAD_KEY) == 1 and client.llen(INGESTING_KEY) == 0


@pytest.mark.faults
def test_a_locked_corpus_stops_the_writer_and_dead_letters_nothing(tmp_path):
    """Not the message's fault: exit 1 with one line, the message stays queued and the next
    start stores it."""
    assert faults.corpus_locked(tmp_path).startswith("exit 1: Error: stopped: OperationalError: database is locked")


@pytest.mark.faults
def test_a_redis_with_a_password_refuses_clients_without_it(tmp_path):
    assert faults.wrong_password(tmp_path).startswith("exit 1")


def test_workers_and_the_writer_use_the_password_from_the_environment(tmp_path):
    """A redis-server with --requirepass: with $POLICYWATCH_REDIS_PASSWORD a worker crawls and
    the writer stores; the password is in no command line and no output."""
    env = {"POLICYWATCH_REDIS_PASSWORD": faults.PASSWORD}
    with faults.redis_server(tmp_path / "redis", password=faults.PASSWORD) as url:
        portal = synthportal.SyntheticPortal(3)
        with portal.serve() as base:
            crawl = faults.command(["crawl", "replay_generic", "--distributed", "--redis", url,
                                    "--crawl-id", "auth", "--replay", base], env=env, timeout=180)
        assert crawl.returncode == 0, crawl.stderr[-2000:]
        ingest = faults.command(["ingest", "--redis", url, "--db", str(tmp_path / "c.db"), "--until-idle", "0.5"],
                                env=env)
        assert ingest.returncode == 0, ingest.stderr[-2000:]
        assert "stored 3 new; 1 run(s) finished; 0 message(s) not storable" in ingest.stdout
        # The URL may carry a user name; its password never shows.
        user_url = url.replace("redis://", "redis://default@")
        again = faults.command(["ingest", "--redis", user_url, "--db", str(tmp_path / "c.db"), "--until-idle", "0.1"],
                               env=env)
        assert again.returncode == 0 and "ingesting from redis://default:***@127.0.0.1" in again.stdout
    for result in (crawl, ingest, again):
        assert faults.PASSWORD not in result.stdout + result.stderr


@pytest.mark.faults
@pytest.mark.parametrize("raw, why", [
    (b'{"url": "http://x/", "_class": "subprocess.Popen"}', "request class 'subprocess.Popen' is not allowed"),
    (b'{"url": "http://x/", "callback": "close"}', "callback 'close' is not one of the spider's"),
    (b'{"url": "http://x/", "args": ["id"]}', "unknown request fields: args"),
    (b'{"url": "http://x/", "cb_kwargs": {"e": {"$dc": ["Popen", {}]}}}', "bad $dc"),
    (b'{"url": "http://x/", "meta": {"$eval": "1"}}', "unknown tag '$eval'"),
    (b"[1, 2, 3]", "not a request"),
    (b"[" * 200_000, "nests too deeply"),
    (b'{"url": "' + b"x" * (2 << 20) + b'"}', "over the"),
])
def test_the_request_codec_refuses_what_is_not_a_request_of_the_spider(raw, why):
    from crawlers.items import codec as queuecodec

    with pytest.raises(queuecodec.CodecError, match=__import__("re").escape(why)):
        queuecodec.loads(raw)


def test_the_request_codec_keeps_every_request_the_spider_makes():
    """List, form, search and detail requests as the spider builds them go through JSON and
    come back equal; what JSON cannot hold is refused when queued, naming where it is."""
    from datetime import date

    from scrapy import FormRequest, Request
    from scrapy.utils.request import request_from_dict

    from crawlers.items import ListEntry, PageRequest
    from crawlers.items import codec as queuecodec
    from crawlers.sites.spec import Column

    class Spider:
        name = "policy:x"

        def parse_list(self, response, **kwargs): ...

        def parse_detail(self, response, **kwargs): ...

        def on_error(self, failure): ...

    spider = Spider()
    column = Column("政策文件", "http://www.example-gov.cn/zcwj/", {"columnid": 7})
    page = PageRequest("http://www.example-gov.cn/feed", "POST", (("page", "2"),), 2)
    requests = [
        FormRequest(page.url, formdata=dict(page.formdata), callback=spider.parse_list, errback=spider.on_error,
                    cb_kwargs={"column": column, "page": page}, dont_filter=True,
                    meta={"dont_obey_robotstxt": True, "policywatch_list_page": ("政策文件", page.url, "{}")}),
        Request("http://www.example-gov.cn/a.html", callback=spider.parse_detail, errback=spider.on_error,
                cb_kwargs={"column": "政策文件", "entry": ListEntry("http://www.example-gov.cn/a.html", "标题",
                                                                   date(2026, 3, 1), {"$weird": [1, None]})},
                meta={"download_maxsize": 1 << 20}, priority=10, headers={"If-None-Match": '"e1"'}),
    ]
    for request in requests:
        back = request_from_dict(queuecodec.loads(queuecodec.dumps(request.to_dict(spider=spider))), spider=spider)
        assert type(back) is type(request) and back.to_dict(spider=spider) == request.to_dict(spider=spider)
    with pytest.raises(queuecodec.CodecError, match=r"request.meta.handle: a object cannot be queued"):
        queuecodec.dumps(Request("http://x/", meta={"handle": object()}).to_dict())


def test_a_site_lease_is_one_workers_and_a_stalled_worker_cannot_touch_its_successors(redis_url):
    """The leases on a real Redis: one holder at a time; a worker whose lease expired (it
    stalled past the TTL) learns it lost the site at its next refresh, and neither its refresh
    nor its release touches the lease another worker took since; a done site is taken by none;
    the last worker out clears the crawl's keys."""
    import redis

    from crawlers.engine.distributed import SiteLeases

    client = redis.Redis.from_url(redis_url)
    a, b = (SiteLeases(client, "leases", name, ttl=30) for name in ("a", "b"))
    a.join()
    b.join()
    assert a.take("s1") and not b.take("s1") and b.take("s2")
    assert a.refresh() == [] and client.ttl("policywatch:leases:policy:s1:lease") > 25
    client.delete("policywatch:leases:policy:s1:lease")  # a's lease expired while a stalled
    assert b.take("s1")
    assert a.refresh() == ["s1"] and "s1" not in a.held
    a.held.add("s1")  # even a release by a worker that still believes it holds the site
    a.release("s1", finished=True)
    assert client.get("policywatch:leases:policy:s1:lease") == b"b"
    assert not client.exists("policywatch:leases:policy:s1:done")
    b.release("s1", finished=True)
    assert not a.take("s1") and not b.take("s1")  # done: nobody crawls it again in this crawl
    b.release("s2", finished=False)
    assert a.take("s2")  # let go unfinished: another worker may take it
    a.release("s2", finished=True)
    assert not a.leave()  # b is still in the crawl
    assert b.leave() and not list(client.scan_iter(match="policywatch:leases:*"))
