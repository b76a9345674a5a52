"""Delivery with outbox semantics against real servers on 127.0.0.1: SMTP (aiosmtpd), a webhook
through apprise (a local HTTP server), files. A change is marked sent on a channel only after the
channel accepted it; a failed send leaves it queued; a process killed between send and mark
re-sends at most once and loses nothing; secrets never reach the logs."""

from __future__ import annotations

import email
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
from dataclasses import replace
from datetime import date, datetime, timezone
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from benchmarks.faultcases.queue import SmtpInbox, smtp_fault, smtp_server
from crawlers.items import PolicyItem
from digest.delivery import (
    AppriseChannel,
    EmailChannel,
    FilesChannel,
    apprise_channel_name,
    deliver,
    message_id,
    pending,
)
from digest.settings import EmailChannel as EmailSettings
from pipelines.runs import start_run
from pipelines.schema import open_corpus
from pipelines.storing import store_document

REPO = Path(__file__).resolve().parents[1]
T = [datetime(2026, 11, d, 8, 0, tzinfo=timezone.utc) for d in range(20, 30)]
PASSWORD = "s3cret-Pa55word"
TOKEN = "T0ken-in-the-url"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """An aiosmtpd handler keeping every message it accepted."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.logins: list[tuple[bytes, bytes]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.messages.append(email.message_from_bytes(envelope.original_content, policy=policy.default))
        return "250 Message accepted for delivery"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        self.logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == PASSWORD.encode(), handled=False)


@pytest.fixture
def smtp():
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, authenticator=inbox.authenticate,
                            auth_require_tls=False)
    controller.start()
    yield inbox, port
    controller.stop()


class Hook(BaseHTTPRequestHandler):
    received: list[dict] = []
    status = 200

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        type(self).received.append({"path": self.path, "auth": self.headers.get("Authorization"),
                                    "json": json.loads(body or b"{}")})
        self.send_response(type(self).status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format, *args):  # noqa: A002
        pass


@pytest.fixture
def webhook():
    Hook.received, Hook.status = [], 200
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Hook, server.server_address[1]
    server.shutdown()
    server.server_close()


def item(n: int, **changes) -> PolicyItem:
    base = PolicyItem(url=f"http://www.example.gov.cn/zcwj/t2026_{n}.html", site="demo_gov",
                      title=f"示例市元宇宙第{n}号文件", doc_number=f"示政发〔2026〕{n}号", issuer="示例市人民政府",
                      body_text=f"第{n}号文件。支持元宇宙产业发展，建设公共服务平台。",
                      published_date=date(2026, 11, n), fetched_at=T[0])
    return replace(base, **changes)


@pytest.fixture
def db_path(tmp_path):
    path = tmp_path / "corpus.db"
    db = open_corpus(path)
    run = start_run(db, "demo_gov", "crawl", when=T[1])
    for n in (1, 2):
        store_document(db, item(n), run_id=run)
    db.close()
    return path


def add_change(path: Path, n: int) -> None:
    db = open_corpus(path)
    store_document(db, item(n, fetched_at=T[2]), run_id=start_run(db, "demo_gov", "crawl", when=T[2]))
    db.close()


def email_settings(port: int, **changes) -> EmailSettings:
    return replace(EmailSettings(host="127.0.0.1", port=port, starttls=False, sender="alerts@example.org",
                                 recipients=("team@example.org", "lead@example.org")), **changes)


def test_an_email_digest_is_sent_once_and_then_only_what_is_new(db_path, smtp):
    inbox, port = smtp
    db = open_corpus(db_path)
    channel = EmailChannel(email_settings(port))
    [report] = deliver(db, [channel])
    assert (report.status, report.changes) == ("sent", 2)
    [message] = inbox.messages
    assert message["Subject"].startswith("元宇宙政策动态 · ") and \
        message["Subject"].endswith("：2 条相关变化（新发布 2）")  # not yet classified: shown
    assert message["To"] == "team@example.org, lead@example.org"
    assert message["Message-ID"] == message_id("email", [1, 2])
    assert {part.get_content_type() for part in message.walk()} >= {"text/plain", "text/html"}
    html = message.get_body(("html",)).get_content()
    assert "示例市元宇宙第1号文件" in html and "示例市元宇宙第2号文件" in html
    assert deliver(db, [channel])[0].status == "nothing" and len(inbox.messages) == 1
    db.close()
    add_change(db_path, 3)
    db = open_corpus(db_path)
    assert deliver(db, [channel])[0].changes == 1
    assert "示例市元宇宙第3号文件" in inbox.messages[1].get_body(("html",)).get_content()
    assert "示例市元宇宙第1号文件" not in inbox.messages[1].get_body(("html",)).get_content()
    assert pending(db, "email") == ([], [])


def test_smtp_login_reads_the_password_from_the_environment_and_never_logs_it(db_path, smtp, monkeypatch, caplog):
    inbox, port = smtp
    db = open_corpus(db_path)
    monkeypatch.setenv("PW_TEST_SMTP_PASSWORD", "wrong-" + PASSWORD)
    channel = EmailChannel(email_settings(port, username="alerts", password_env="PW_TEST_SMTP_PASSWORD"))
    caplog.set_level(logging.DEBUG)
    [failed] = deliver(db, [channel])
    assert failed.status == "failed" and "SMTPAuthenticationError" in failed.error
    assert inbox.messages == [] and pending(db, "email") == ([1, 2], [])  # queued, never sent
    monkeypatch.setenv("PW_TEST_SMTP_PASSWORD", PASSWORD)
    [sent] = deliver(db, [channel])
    assert sent.status == "sent" and sent.resent == 0 and len(inbox.messages) == 1
    assert inbox.logins[-1] == (b"alerts", PASSWORD.encode())
    assert PASSWORD not in caplog.text and PASSWORD not in failed.error


def test_a_server_that_is_down_leaves_the_changes_queued(db_path, smtp):
    inbox, port = smtp
    db = open_corpus(db_path)
    [failed] = deliver(db, [EmailChannel(email_settings(free_port()), timeout=5)])
    assert failed.status == "failed" and "127.0.0.1" in failed.error
    assert pending(db, "email") == ([1, 2], [])  # nothing left: queued as never sent
    [sent] = deliver(db, [EmailChannel(email_settings(port))])
    assert (sent.status, sent.changes, sent.resent) == ("sent", 2, 0)
    assert "可能重复" not in inbox.messages[0].get_body(("plain",)).get_content()


@pytest.fixture
def refusing():
    """An SMTP server that refuses every message after its content (see SmtpInbox)."""
    inbox = SmtpInbox(refuse=True)
    with smtp_server(inbox) as port:
        yield inbox, port


@pytest.mark.faults
def test_a_message_refused_at_data_was_never_sent(db_path, refusing):
    inbox, port = refusing
    db = open_corpus(db_path)
    [failed] = deliver(db, [EmailChannel(email_settings(port))])
    assert failed.status == "failed" and "SMTPDataError" in failed.error and "554" in failed.error
    assert pending(db, "email") == ([1, 2], [])  # the server said no: nothing reached anyone
    inbox.refuse = False
    [sent] = deliver(db, [EmailChannel(email_settings(port))])
    assert (sent.status, sent.changes, sent.resent) == ("sent", 2, 0)
    assert "可能重复" not in inbox.messages[0].get_body(("plain",)).get_content()


@pytest.mark.faults
def test_a_connection_lost_while_handing_over_may_have_delivered(db_path, refusing):
    """The server took the message's content and never answered: it may have delivered it, so
    the next digest says it may repeat those changes — and a later failure before anything
    left does not forget that."""
    inbox, port = refusing
    inbox.hang = 5.0
    db = open_corpus(db_path)
    [lost] = deliver(db, [EmailChannel(email_settings(port), timeout=1)])
    assert lost.status == "failed" and "timed out" in lost.error
    assert pending(db, "email") == ([1, 2], [1, 2])
    [refused] = deliver(db, [EmailChannel(email_settings(free_port()), timeout=5)])  # nobody there
    assert refused.status == "failed" and pending(db, "email") == ([1, 2], [1, 2])
    inbox.refuse = False
    [sent] = deliver(db, [EmailChannel(email_settings(port))])
    assert (sent.status, sent.changes, sent.resent) == ("sent", 2, 2)
    assert "可能重复" in inbox.messages[0].get_body(("plain",)).get_content()


@pytest.mark.faults
def test_a_digest_that_cannot_render_sends_nothing_and_stays_queued(db_path, smtp, tmp_path, monkeypatch):
    from digest import delivery

    inbox, port = smtp
    db = open_corpus(db_path)

    def broken(digest):
        raise KeyError("template")

    monkeypatch.setattr(delivery, "render_markdown", broken)
    [failed] = deliver(db, [EmailChannel(email_settings(port))])
    assert failed.status == "failed" and "could not be rendered: KeyError" in failed.error
    assert inbox.messages == [] and pending(db, "email") == ([1, 2], [])
    monkeypatch.undo()
    [sent] = deliver(db, [EmailChannel(email_settings(port))])
    assert (sent.status, sent.resent) == ("sent", 0) and len(inbox.messages) == 1


def test_a_webhook_through_apprise_is_told_once_and_its_url_stays_secret(db_path, webhook, caplog):
    hook, port = webhook
    url = f"json://alerts:{TOKEN}@127.0.0.1:{port}/hooks/policy"
    db = open_corpus(db_path)
    caplog.set_level(logging.DEBUG)
    channel = AppriseChannel(url)
    assert channel.name == apprise_channel_name(url) and TOKEN not in channel.name and TOKEN not in repr(channel)
    [report] = deliver(db, [channel])
    assert report.status == "sent"
    [call] = hook.received
    assert call["path"] == "/hooks/policy" and call["auth"].startswith("Basic ")
    assert call["json"]["title"].endswith("：2 条相关变化（新发布 2）")
    assert "示例市元宇宙第2号文件" in call["json"]["message"]
    assert deliver(db, [channel])[0].status == "nothing" and len(hook.received) == 1
    assert TOKEN not in caplog.text


def test_a_webhook_that_refuses_keeps_the_changes_for_the_next_run(db_path, webhook):
    hook, port = webhook
    channel = AppriseChannel(f"json://127.0.0.1:{port}/hook")
    db = open_corpus(db_path)
    hook.status = 500
    assert deliver(db, [channel])[0].status == "failed"
    hook.status = 200
    [report] = deliver(db, [channel])
    assert (report.status, report.changes) == ("sent", 2)
    assert len(hook.received) == 2 and pending(db, channel.name) == ([], [])
    bad = AppriseChannel("nosuchscheme://whatever")
    [refused] = deliver(db, [bad])
    assert refused.status == "failed" and "not a URL apprise can notify" in refused.error


def test_channels_keep_separate_outboxes(db_path, smtp, webhook, tmp_path):
    inbox, smtp_port = smtp
    hook, hook_port = webhook
    db = open_corpus(db_path)
    hook.status = 500
    channels = [FilesChannel(tmp_path / "out", ("md",)), EmailChannel(email_settings(smtp_port)),
                AppriseChannel(f"json://127.0.0.1:{hook_port}/hook")]
    reports = {r.channel.split(":")[0]: r.status for r in deliver(db, channels)}
    assert reports == {"files": "sent", "email": "sent", "apprise": "failed"}
    hook.status = 200
    reports = {r.channel.split(":")[0]: (r.status, r.changes) for r in deliver(db, channels)}
    assert reports == {"files": ("sent", 0), "email": ("nothing", 0), "apprise": ("sent", 2)}
    assert len(inbox.messages) == 1


def test_a_kill_between_send_and_mark_resends_once_and_loses_nothing(db_path, smtp, tmp_path):
    """The digest process is killed (SIGKILL) right after the SMTP server accepted the e-mail and
    before the changes were marked sent: the next run sends them again, once; nothing is lost."""
    inbox, port = smtp
    config = tmp_path / "policywatch.toml"
    config.write_text(f"""
[paths]
db = "{db_path}"
digests = "{tmp_path / 'digests'}"

[channels.email]
host = "127.0.0.1"
port = {port}
starttls = false
sender = "alerts@example.org"
recipients = ["team@example.org"]
""", encoding="utf-8")
    killer = (
        "import os, signal, sys\n"
        "import digest.delivery as delivery\n"
        "mark_sent = delivery._mark_sent\n"
        "def die_before_marking(db, channel, *args):\n"
        "    if channel == 'email':\n"
        "        os.kill(os.getpid(), signal.SIGKILL)\n"
        "    return mark_sent(db, channel, *args)\n"
        "delivery._mark_sent = die_before_marking\n"
        "from scheduler import main\n"
        "main(sys.argv[1:])\n"
    )
    env = {**os.environ, "POLICYWATCH_HOME": str(tmp_path / "home")}
    cmd = ["digest", "--config", str(config)]
    killed = subprocess.run([sys.executable, "-c", killer, *cmd], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=120)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert len(inbox.messages) == 1  # the server had it
    db = open_corpus(db_path)
    assert pending(db, "email") == ([1, 2], [1, 2])  # not marked: to be sent again
    assert pending(db, "files") == ([], [])  # the files channel finished before the kill
    db.close()

    again = subprocess.run([sys.executable, "-m", "scheduler", *cmd], cwd=REPO, env=env,
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "email: 2 change(s) delivered (re-sent 2 that may have reached it before)" in again.stdout
    assert len(inbox.messages) == 2
    first, second = inbox.messages
    assert first["Message-ID"] == second["Message-ID"]  # mail systems can drop the duplicate
    assert "可能重复" in second.get_body(("plain",)).get_content()

    third = subprocess.run([sys.executable, "-m", "scheduler", *cmd], cwd=REPO, env=env,
                           capture_output=True, text=True, timeout=120)
    assert third.returncode == 0 and "email: nothing new to send" in third.stdout
    assert len(inbox.messages) == 2  # at worst once more, never again
    db = open_corpus(db_path)
    sent = db.execute("SELECT count(*) FROM deliveries WHERE channel = 'email' AND state = 'sent'").fetchone()[0]
    assert sent == db.execute("SELECT count(*) FROM changes").fetchone()[0] == 2


def test_files_are_written_whole_with_a_feed_to_follow(db_path, tmp_path):
    import feedparser

    db = open_corpus(db_path)
    folder = tmp_path / "digests"
    [report] = deliver(db, [FilesChannel(folder, ("md", "json", "atom"))])
    assert sorted(Path(p).suffix for p in report.delivered) == [".atom", ".atom", ".json", ".md"]
    assert not list(folder.glob("*.partial"))
    feed = feedparser.parse((folder / "feeds" / "default.atom").read_bytes())
    corpus_id = db.execute("SELECT value FROM corpus_meta WHERE key = 'id'").fetchone()[0]
    tag = f"tag:policywatch.invalid,2026:{corpus_id}"
    assert not feed.bozo and feed.feed.id == f"{tag}/feed/default"
    # The site's first crawl: one summary entry, with a stable id.
    assert [e.id for e in feed.entries] == [f"{tag}/backfill/demo_gov/1"]
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the folder should be")
    [failed] = deliver(db, [FilesChannel(blocked / "sub", ("md",), name="files2")])
    assert failed.status == "failed" and "cannot write the digest" in failed.error
    assert pending(db, "files2")[0] == [1, 2]
    with pytest.raises(ValueError, match="unknown digest format"):
        FilesChannel(folder, ("pdf",))


class SlowChannel:
    """A channel that records what it sent and, the first time, waits to be let go."""

    name = "slow"
    sends_empty = False

    def __init__(self):
        self.entered, self.release = threading.Event(), threading.Event()
        self.sent: list[str] = []

    def send(self, digest):
        self.entered.set()
        assert self.release.wait(30), "never let go"
        self.sent.append(digest.headline())
        return ["ok"]


def test_two_delivery_runs_at_once_send_each_change_once(db_path):
    """A scheduled round and an operator's digest started together: the second waits for the
    first and then finds nothing left to send."""
    channel = SlowChannel()
    reports = {}

    def run(name):
        db = open_corpus(db_path)
        try:
            reports[name] = deliver(db, [channel], now=T[3])[0]
        finally:
            db.close()

    first = threading.Thread(target=run, args=("first",))
    first.start()
    assert channel.entered.wait(30)
    second = threading.Thread(target=run, args=("second",))
    second.start()
    second.join(0.5)
    assert second.is_alive(), "the second run must wait for the first"
    channel.release.set()
    first.join(30)
    second.join(30)
    assert len(channel.sent) == 1
    assert (reports["first"].status, reports["first"].changes) == ("sent", 2)
    assert reports["second"].status == "nothing"


def test_a_delivery_that_waits_too_long_sends_nothing_and_says_why(db_path, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from digest import delivery
    from scheduler import main

    holder = open(db_path.with_name(db_path.name + ".deliver.lock"), "a+b")
    delivery.fcntl.flock(holder, delivery.fcntl.LOCK_EX)
    try:
        db = open_corpus(db_path)
        with pytest.raises(delivery.DeliveryBusy, match="another digest delivery"):
            deliver(db, [FilesChannel(tmp_path / "out")], lock_wait=0.3)
        assert pending(db, "files")[0] == [1, 2] and not (tmp_path / "out").exists()
        db.close()
        monkeypatch.setattr(delivery, "LOCK_WAIT_SECONDS", 0.3)
        result = CliRunner().invoke(main, ["digest", "--deliver", "--db", str(db_path),
                                           "--out", str(tmp_path / "out")])
        assert result.exit_code == 1 and "another digest delivery" in result.output
    finally:
        holder.close()
    db = open_corpus(db_path)
    assert deliver(db, [FilesChannel(tmp_path / "out")], lock_wait=0.3)[0].status == "sent"


@pytest.mark.faults
@pytest.mark.parametrize("mode", ["connect", "login", "data", "silent"])
def test_the_delivery_fault_cases(mode, tmp_path, monkeypatch):
    """benchmarks/faultcases/queue.py's SMTP cases: refused at connect, at login, at DATA —
    queued as never sent; silent once the message was handed over — may have reached it."""
    monkeypatch.setenv("PW_FAULTS_SMTP_PASSWORD", "")
    outcome = smtp_fault(mode)(tmp_path)
    assert outcome.startswith("queued as may have reached it" if mode == "silent" else "queued as never sent")
