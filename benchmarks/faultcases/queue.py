"""Faults of the distributed crawl's queues and of digest delivery's bookkeeping.

Redis is written by every crawler machine, so whatever it holds is hostile: a pickle that would
run code in the requests queue or the items list, messages the writer cannot store, a client
without the password; a worker killed while it holds a site. Each case starts its own redis-server on 127.0.0.1 and runs the real
commands (``python -m scheduler crawl --distributed`` / ``ingest``) in their own processes.
Delivery cases send a digest to a real SMTP server on 127.0.0.1 (aiosmtpd) that refuses at
connect, at login or at DATA, or goes silent while the message is handed over. The builders
here are shared with tests/test_distributed.py and tests/test_delivery.py.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from benchmarks.roundportals import Farm, site_key

from . import FaultCase
from .round import write_config

REPO = Path(__file__).resolve().parents[2]
SITE = "replay_generic"
RUN = "faults:replay_generic:w1"


class Misbehaved(AssertionError):
    """The product did something it must not."""


def expect(condition: bool, what: str) -> None:
    if not condition:
        raise Misbehaved(what)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def redis_server(folder: Path, password: str | None = None) -> Iterator[str]:
    """A real redis-server on 127.0.0.1 (a free port, no persistence); yields its URL, which
    never carries the password. Raises FileNotFoundError when redis-server is missing."""
    import redis

    binary = shutil.which("redis-server")
    if binary is None:
        raise FileNotFoundError("redis-server")
    port = free_port()
    folder.mkdir(parents=True, exist_ok=True)
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder), "--save", "",
            "--appendonly", "no", "--protected-mode", "yes"]
    if password:
        args += ["--requirepass", password]
    server = subprocess.Popen(args, stdout=subprocess.DEVNULL)
    client = redis.Redis(port=port, password=password)
    deadline = time.monotonic() + 20
    try:
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(timeout=10)


def command(args: list[str], env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """``python -m scheduler ARGS`` from the repository, as an operator runs it."""
    return subprocess.run([sys.executable, "-m", "scheduler", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})})


def no_traceback(result: subprocess.CompletedProcess) -> None:
    expect("Traceback" not in result.stderr + result.stdout, f"a traceback:\n{result.stderr[-2000:]}")


# --- hostile payloads -------------------------------------------------------------------------
class _RunsCode:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def pickle_payload(marker: Path) -> bytes:
    """A pickle that, unpickled, creates ``marker`` (what scrapy-redis's default serializer
    would do with it): shaped like a queued request so only unpickling tells them apart."""
    return pickle.dumps({"url": "http://www.example-gov.cn/evil.html", "callback": "parse_detail",
                         "run": _RunsCode(marker)}, protocol=pickle.HIGHEST_PROTOCOL)


def site_declaration() -> dict:
    from crawlers.replay.portal import REPLAY_SITES

    site = next(s for s in REPLAY_SITES if s.key == SITE)
    return {"key": site.key, "name": site.name, "division_code": site.division_code, "level": site.level,
            "family": site.family, "domains": list(site.domains), "enabled": True}


def document_message(n: int) -> bytes:
    """A good document message: the synthetic portal's document ``n``, parsed as a worker would."""
    from benchmarks import synthportal
    from crawlers.families import get_family
    from crawlers.replay.portal import REPLAY_SITES
    from pipelines.redisqueue import encode_item, message_bytes

    site = next(s for s in REPLAY_SITES if s.key == SITE)
    body, headers = synthportal.detail_body(n)
    item = get_family(site.family).parse_detail(site, synthportal.doc_url(n), body, headers)
    return message_bytes({"type": "document", "run": RUN, "item": encode_item(item)})


def good_messages() -> tuple[bytes, list[bytes], bytes]:
    """A run-start, two documents and the run-end of one worker's run."""
    start = json.dumps({"type": "run-start", "run": RUN, "kind": "crawl", "site": site_declaration()})
    end = json.dumps({"type": "run-end", "run": RUN, "site": SITE, "reason": "finished",
                      "counts": {"failed": {}, "blocked": 0, "pages": 3}, "errors": []})
    return start.encode(), [document_message(1), document_message(2)], end.encode()


def huge_message() -> bytes:
    from crawlers.items.codec import MAX_MESSAGE_BYTES

    filler = "元" * (MAX_MESSAGE_BYTES // 3 + 10)
    return json.dumps({"type": "document", "run": RUN, "item": {"url": "http://x/", "site": SITE,
                                                               "title": filler}},
                      ensure_ascii=False).encode()


def _bad_document() -> bytes:
    return json.dumps({"type": "document", "run": RUN,
                       "item": {"url": "http://www.example-gov.cn/x.html", "site": SITE, "title": "t",
                                "published_date": {"$date": "not a date"}}}).encode()


# name -> (builder of the raw message, a words of the reason it must be dead-lettered with)
MALFORMED: dict[str, tuple] = {
    "list": (lambda: b"[1,2,3]", "a message is a JSON object, not a list"),
    "run-start-without-site": (lambda: json.dumps({"type": "run-start", "run": "w9"}).encode(),
                               "run-start without the site's key"),
    "invalid-utf8": (lambda: b'{"type": "document", "run": "w9", "item": "\xff\xfe\xfa"}', "not UTF-8"),
    "huge": (huge_message, "over the"),
    "not-json": (lambda: b"{\"type\": \"document\", ", "not JSON"),
    "bad-date": (_bad_document, "bad $date"),
}


def push(client, key: str, *raws: bytes) -> None:
    """Queue ``raws`` in the order a worker sends them (the writer takes from the right)."""
    for raw in raws:
        client.lpush(key, raw)


def ingest_around(scratch: Path, url: str, bad: bytes) -> tuple[subprocess.CompletedProcess, Path]:
    """A worker's good run with ``bad`` in the middle of it, through ``policywatch ingest``."""
    import redis

    from pipelines.redisqueue import ITEMS_KEY

    client = redis.Redis.from_url(url)
    start, (first, second), end = good_messages()
    push(client, ITEMS_KEY, start, first, bad, second, end)
    db = scratch / "corpus.db"
    result = command(["ingest", "--redis", url, "--db", str(db), "--until-idle", "0.5"])
    return result, db


def check_dead_lettered(scratch: Path, url: str, bad: bytes, reason: str) -> str:
    """``bad`` is dead-lettered with ``reason``, the good messages around it are stored, and
    ``status`` counts it; returns the outcome line."""
    import redis

    from pipelines.schema import open_corpus
    from pipelines.ingest import DEAD_KEY
    from pipelines.redisqueue import INGESTING_KEY, ITEMS_KEY

    result, db = ingest_around(scratch, url, bad)
    no_traceback(result)
    expect(result.returncode == 0, f"ingest exit {result.returncode}: {result.stderr[-500:]}")
    expect("2 new; 1 run(s) finished; 1 message(s) not storable" in result.stdout, result.stdout)
    client = redis.Redis.from_url(url)
    expect(client.llen(ITEMS_KEY) == 0 and client.llen(INGESTING_KEY) == 0, "messages left in the queue")
    letters = [json.loads(x) for x in client.lrange(DEAD_KEY, 0, -1)]
    expect(len(letters) == 1 and reason in letters[0]["reason"], f"dead letters: {letters}")
    corpus = open_corpus(db)
    stored = corpus.execute("SELECT count(*) FROM documents").fetchone()[0]
    corpus.close()
    expect(stored == 2, f"{stored} documents stored, not 2")
    status = command(["status", "--db", str(db)])
    expect(status.returncode == 0 and "dead letters: 1 (last: " in status.stdout, status.stdout[-500:])
    again = command(["ingest", "--redis", url, "--db", str(db), "--until-idle", "0.2"])
    expect(again.returncode == 0 and "0 message(s) not storable" in again.stdout, "met it again")
    return f"dead-lettered: {letters[0]['reason'][:70]}"


# --- sites shared between workers (issue #16) -------------------------------------------------
def worker(scratch: Path, config: Path, redis_url: str, keys: list[str], name: str,
           crawl_id: str = "sites", **popen) -> subprocess.Popen:
    """One worker of a distributed crawl of the config sites ``keys``, started now; its
    User-Agent ends ``contact: <name>``, so a portal knows which worker fetched it."""
    cmd = [sys.executable, "-m", "scheduler", "-v", "crawl", *keys, "--config", str(config),
           "--db", str(scratch / f"{name}.db"), "--distributed", "--redis", redis_url,
           "--crawl-id", crawl_id, "--contact", name]
    return subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(REPO)}, **popen)


def ingest(scratch: Path, redis_url: str) -> subprocess.CompletedProcess:
    """The one writer, storing what the workers queued into scratch/corpus.db."""
    return command(["ingest", "--redis", redis_url, "--db", str(scratch / "corpus.db"), "--until-idle", "1"])


def fetchers(farm: Farm) -> dict[int, list[tuple[float, str]]]:
    """Per portal: (time, worker name) of every request it got, in order."""
    found: dict[int, list[tuple[float, str]]] = {}
    for portal, at, agent, _ in farm.log or []:
        found.setdefault(portal, []).append((at, agent.rpartition("contact: ")[2]))
    return found


def stored(db: Path) -> tuple[int, int, dict[str, int]]:
    """(documents, versions, documents per site) in the corpus."""
    import sqlite3

    with sqlite3.connect(db) as conn:
        documents = conn.execute("SELECT count(*) FROM documents").fetchone()[0]
        versions = conn.execute("SELECT count(*) FROM versions").fetchone()[0]
        per_site = dict(conn.execute("SELECT site, count(*) FROM documents GROUP BY site").fetchall())
    return documents, versions, per_site


LEASE_TTL = 3  # seconds: a killed worker's site goes to another this long after its last refresh


def worker_killed_holding_a_site(scratch: Path) -> str:
    """Worker a crawls a slow portal; worker b, started while a holds the site, waits. a is
    killed (SIGKILL, its parse pool too) mid-site: after the lease TTL b takes the site over,
    crawls it from the start, and the writer stores every document once and closes a's run."""
    import signal

    import redis

    docs = 6
    farm = Farm(1, docs, log=True)
    with redis_server(scratch / "redis") as url, farm.serving():
        config = write_config(scratch, farm, delay=1.0, scrapy={"POLICYWATCH_LEASE_TTL": LEASE_TTL})
        keys = [site_key(0)]
        a = worker(scratch, config, url, keys, "a", start_new_session=True)
        deadline = time.monotonic() + 60
        while farm.requests[0] < 4 and a.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        expect(a.poll() is None, "worker a ended before it could be killed")
        expect(farm.requests[0] >= 4, "worker a fetched nothing within 60 s")
        b = worker(scratch, config, url, keys, "b")
        time.sleep(1)  # b is up and finds the site leased (a startup slower than this only delays b)
        os.killpg(a.pid, signal.SIGKILL)
        a.wait(timeout=30)
        killed_at = time.monotonic()
        out, err = b.communicate(timeout=180)
        no_traceback(subprocess.CompletedProcess(b.args, b.returncode, out, err))
        expect(b.returncode == 0, f"worker b exit {b.returncode}: {err[-1500:]}")
        expect("taking over from sites:" in err, "worker b never said it took the site over")
        writer = ingest(scratch, url)
        expect(writer.returncode == 0, f"ingest exit {writer.returncode}: {writer.stderr[-800:]}")
        left = list(redis.Redis.from_url(url).scan_iter(match="policywatch:sites:*"))
    requests = fetchers(farm)[0]
    by_a = [at for at, name in requests if name == "a"]
    by_b = [at for at, name in requests if name == "b"]
    expect(by_a and by_b, f"requests by a: {len(by_a)}, by b: {len(by_b)}")
    expect(max(by_a) < min(by_b), "a and b fetched the portal at the same time")
    expect(min(by_b) > killed_at, "b fetched the portal before a was killed")
    documents, versions, _ = stored(scratch / "corpus.db")
    expect((documents, versions) == (docs, docs), f"{documents} documents, {versions} versions, not {docs}")
    runs = last_runs_all(scratch / "corpus.db")
    expect([r[0] for r in runs] == ["failed", "ok"], f"run statuses {[r[0] for r in runs]}")
    expect(any(e.get("reason") == "lease_expired" for e in runs[0][2]), "a's run does not say its lease expired")
    expect(not left, f"keys of the crawl left in Redis: {left[:5]}")
    return (f"taken over: b crawled the site after a was killed ({len(by_a)} requests by a, {len(by_b)} by b, "
            f"none at once); {docs} documents stored once; a's run closed as failed (lease_expired)")


def last_runs_all(db: Path) -> list[tuple[str, dict, list]]:
    """Every run, oldest first: (status, counts, errors)."""
    import sqlite3

    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT status, counts, errors FROM runs ORDER BY id").fetchall()
    return [(status, json.loads(counts or "{}"), json.loads(errors or "[]")) for status, counts, errors in rows]


# --- cases ------------------------------------------------------------------------------------
def _skip_without_redis(run):
    def wrapped(scratch: Path) -> str:
        if shutil.which("redis-server") is None:
            return "skipped: no redis-server"
        return run(scratch)
    return wrapped


def pickle_in_request_queue(scratch: Path) -> str:
    """A pickle that would run code, at the head of the shared requests queue: a worker refuses
    it, counts it, and crawls the site."""
    import redis

    from benchmarks import synthportal
    from crawlers.engine.distributed import requests_key
    from pipelines.redisqueue import ITEMS_KEY

    marker = scratch / "pwned"
    with redis_server(scratch / "redis") as url:
        client = redis.Redis.from_url(url)
        # The lowest score pops first: before any request the seeding worker queues.
        client.execute_command("ZADD", requests_key("faults", SITE), -10_000, pickle_payload(marker))
        portal = synthportal.SyntheticPortal(3)
        with portal.serve() as base:
            result = command(["-v", "crawl", SITE, "--distributed", "--redis", url, "--crawl-id", "faults",
                              "--replay", base], timeout=180)
        queued = client.llen(ITEMS_KEY)
    no_traceback(result)
    expect(not marker.exists(), "the pickle ran: the marker file exists")
    expect(result.returncode == 0, f"crawl exit {result.returncode}: {result.stderr[-800:]}")
    expect("refused a message in the shared request queue" in result.stderr, "no refusal logged")
    expect(queued == 5, f"{queued} messages queued for the writer, not run-start + 3 documents + run-end")
    return "refused: pickle in the request queue; the crawl went on (3 documents queued)"


def pickle_in_items(scratch: Path) -> str:
    """A pickle that would run code, in the writer's items list: dead-lettered, never loaded."""
    marker = scratch / "pwned"
    with redis_server(scratch / "redis") as url:
        outcome = check_dead_lettered(scratch, url, pickle_payload(marker), "not")
    expect(not marker.exists(), "the pickle ran: the marker file exists")
    return outcome


def malformed(name: str):
    build, reason = MALFORMED[name]

    def run(scratch: Path) -> str:
        with redis_server(scratch / "redis") as url:
            return check_dead_lettered(scratch, url, build(), reason)
    return run


PASSWORD = "pw-faults-Zq9"


def wrong_password(scratch: Path) -> str:
    """A Redis with requirepass: without the password and with a wrong one, both commands stop
    with one line and exit 1; the password never shows."""
    with redis_server(scratch / "redis", password=PASSWORD) as url:
        outcomes = []
        for env in ({}, {"POLICYWATCH_REDIS_PASSWORD": "not-" + PASSWORD}):
            for args in (["ingest", "--redis", url, "--db", str(scratch / "c.db"), "--until-idle", "0.2"],
                         ["crawl", SITE, "--distributed", "--redis", url, "--replay", "http://127.0.0.1:9"]):
                result = command(args, env={"POLICYWATCH_REDIS_PASSWORD": "", **env})
                no_traceback(result)
                expect(result.returncode == 1, f"{args[0]} exit {result.returncode}")
                lines = [x for x in result.stderr.splitlines() if x.strip()]
                expect(len(lines) == 1 and "refused us" in lines[0], f"{args[0]}: {result.stderr[-500:]}")
                expect(PASSWORD not in result.stderr + result.stdout, "the password was shown")
                outcomes.append(lines[0])
    return f"exit 1: {outcomes[-1][:90]}"


def corpus_locked(scratch: Path) -> str:
    """The corpus locked by another process while the writer stores: ingest stops with one line
    and exit 1, dead-letters nothing, and the next start stores the message."""
    import sqlite3

    import redis

    from pipelines.schema import open_corpus
    from pipelines.ingest import DEAD_KEY
    from pipelines.redisqueue import INGESTING_KEY, ITEMS_KEY

    db = scratch / "corpus.db"
    open_corpus(db).close()
    with redis_server(scratch / "redis") as url:
        client = redis.Redis.from_url(url)
        start, (first, _), end = good_messages()
        push(client, ITEMS_KEY, start, first, end)
        holder = sqlite3.connect(db)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            result = command(["ingest", "--redis", url, "--db", str(db), "--until-idle", "0.2"])
        finally:
            holder.rollback()
            holder.close()
        no_traceback(result)
        expect(result.returncode == 1 and "database is locked" in result.stderr, result.stderr[-500:])
        expect(client.llen(DEAD_KEY) == 0, "a good message was dead-lettered")
        expect(client.llen(INGESTING_KEY) + client.llen(ITEMS_KEY) == 3, "a message was lost")
        again = command(["ingest", "--redis", url, "--db", str(db), "--until-idle", "0.2"])
        expect(again.returncode == 0 and "stored 1 new; 1 run(s) finished; 0 message(s)" in again.stdout,
               again.stdout + again.stderr[-500:])
    return "exit 1: " + result.stderr.strip().splitlines()[-1][:90]


# --- delivery ---------------------------------------------------------------------------------
SMTP_PASSWORD = "smtp-Pw-faults"


class SmtpInbox:
    """An aiosmtpd handler: accepts (keeping each message), or refuses every message after its
    content (``refuse``), or first stays silent for ``hang`` seconds."""

    def __init__(self, refuse: bool = False, hang: float = 0.0):
        self.messages: list = []
        self.logins: list[tuple[bytes, bytes]] = []
        self.refuse = refuse
        self.hang = hang

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        import asyncio
        import email
        from email import policy

        if self.hang:
            await asyncio.sleep(self.hang)
        if self.refuse:
            return "554 5.7.1 Message refused"
        self.messages.append(email.message_from_bytes(envelope.original_content, policy=policy.default))
        return "250 Message accepted for delivery"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        from aiosmtpd.smtp import AuthResult

        self.logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == SMTP_PASSWORD.encode(), handled=False)


@contextmanager
def smtp_server(inbox: SmtpInbox) -> Iterator[int]:
    """A real SMTP server on 127.0.0.1 handled by ``inbox``; yields its port."""
    from aiosmtpd.controller import Controller

    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, authenticator=inbox.authenticate,
                            auth_require_tls=False)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def corpus_with_changes(path: Path, n: int = 2) -> Path:
    """A corpus holding ``n`` new documents: ``n`` changes to deliver."""
    from datetime import date

    from crawlers.items import PolicyItem
    from pipelines.runs import start_run
    from pipelines.schema import open_corpus
    from pipelines.storing import store_document

    db = open_corpus(path)
    run = start_run(db, "demo_gov", "crawl")
    for k in range(1, n + 1):
        store_document(db, PolicyItem(url=f"http://www.example.gov.cn/zcwj/t2026_{k}.html", site="demo_gov",
                                      title=f"示例市元宇宙第{k}号文件", body_text=f"第{k}号文件。支持元宇宙产业发展。",
                                      published_date=date(2026, 11, k)), run_id=run)
    db.close()
    return path


def email_channel(port: int, password_env: str | None = None, timeout: float = 10.0):
    from digest.settings import EmailChannel as EmailSettings
    from digest.delivery import EmailChannel

    return EmailChannel(EmailSettings(host="127.0.0.1", port=port, starttls=False, sender="alerts@example.org",
                                      recipients=("team@example.org",), username="alerts" if password_env else "",
                                      password_env=password_env), timeout=timeout)


def send_digest(scratch: Path, port: int, **channel) -> tuple:
    """Deliver a fresh corpus' two changes by e-mail; returns (report, pending ids, of which
    may have reached the server)."""
    from digest.delivery import deliver, pending
    from pipelines.schema import open_corpus

    db = open_corpus(corpus_with_changes(scratch / "corpus.db"))
    try:
        [report] = deliver(db, [email_channel(port, **channel)])
        return report, *pending(db, "email")
    finally:
        db.close()


def smtp_fault(mode: str):
    """A failed send: before anything left (``connect``, ``login``, ``data``: labelled never
    sent) or while the message was handed over (``silent``: labelled may have reached it)."""
    def run(scratch: Path) -> str:
        if mode == "connect":
            report, queued, maybe = send_digest(scratch, free_port())
        else:
            inbox = SmtpInbox(refuse=mode == "data", hang=5.0 if mode == "silent" else 0.0)
            with smtp_server(inbox) as port:
                if mode == "login":
                    os.environ["PW_FAULTS_SMTP_PASSWORD"] = "wrong-" + SMTP_PASSWORD
                    report, queued, maybe = send_digest(scratch, port, password_env="PW_FAULTS_SMTP_PASSWORD")
                else:
                    report, queued, maybe = send_digest(scratch, port, timeout=1.0)
            expect(inbox.messages == [], "the server kept a message")
        expect(report.status == "failed" and queued == [1, 2], f"{report.status}, pending {queued}")
        expected = [1, 2] if mode == "silent" else []
        expect(maybe == expected, f"labelled may-have-reached: {maybe}, not {expected}")
        label = "may have reached it" if maybe else "never sent"
        return f"queued as {label}: {report.error[:80]}"
    return run


CASES: list[FaultCase] = [
    FaultCase("queue-pickle-requests", "a pickle that runs code, at the head of the shared request queue",
              _skip_without_redis(pickle_in_request_queue)),
    FaultCase("queue-pickle-items", "a pickle that runs code, in the writer's items list",
              _skip_without_redis(pickle_in_items)),
    *[FaultCase(f"queue-malformed-{name}", f"a malformed message for the writer: {name}",
                _skip_without_redis(malformed(name))) for name in MALFORMED],
    FaultCase("queue-worker-killed-holding-a-site", "a distributed worker killed (SIGKILL) mid-site; "
              "another takes the site over after the lease TTL", _skip_without_redis(worker_killed_holding_a_site)),
    FaultCase("queue-wrong-password", "Redis with requirepass; no password, then a wrong one",
              _skip_without_redis(wrong_password)),
    FaultCase("queue-corpus-locked", "the corpus locked by another process while the writer stores",
              _skip_without_redis(corpus_locked)),
    FaultCase("delivery-smtp-refused-connect", "no SMTP server listening", smtp_fault("connect")),
    FaultCase("delivery-smtp-wrong-login", "the SMTP server refuses the login", smtp_fault("login")),
    FaultCase("delivery-smtp-refused-data", "the SMTP server answers 554 to the message", smtp_fault("data")),
    FaultCase("delivery-smtp-silent-data", "the SMTP server goes silent once the message is sent",
              smtp_fault("silent")),
]
