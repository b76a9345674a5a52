"""Delivering digests with outbox semantics: files, SMTP e-mail, and chat/webhooks via apprise.

Every subscription (digest.subscriptions) has its own digest, and each of its channels its own
outbox in the ``deliveries`` table (``files``, ``email``, ``apprise:…`` for the default
subscription, as before subscriptions existed; ``<name>/files``… for a declared one). A delivery
run, per subscription and channel:

1. takes the changes not yet sent on that channel (including ones an earlier run claimed but
   never confirmed), builds their digest, and claims them (``state = 'sending'``);
2. sends it; only if the channel accepted it,
3. marks them ``sent`` — in one transaction with the digest's record.

One delivery run at a time per corpus (``delivery_lock``): a scheduled round and an operator's
``policywatch digest`` started together would otherwise read the same outbox and both send it.
A send that failed before anything left (connection refused, login refused, the server refused
the message, a digest that would not render) gives its claim back: the changes are queued for
the next run as never sent. Only a send that may really have happened — the message was being
handed over when the connection broke, or the process died between 2 and 3 — leaves its claim,
and the next run re-sends those changes once (the digest says it may repeat them, and an e-mail
keeps the same Message-ID so mail systems can drop the duplicate); nothing is lost, and nothing
already marked is ever sent again. Secrets (SMTP password, apprise URLs, which carry tokens) are
never logged: an apprise channel is named by a hash of its URL.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import smtplib
import ssl
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Callable, Iterable, Iterator, Protocol, Sequence, TypeVar

import sqlite_utils

from crawlers.parsing import clock
from digest.build import Digest, build_digest
from digest.feeds import rolling_feed, write_feed
from digest.localtime import zone
from digest.render import FORMATS, SUFFIXES, render, render_html, render_markdown
from digest.settings import ChannelsConfig
from digest.settings import EmailChannel as EmailSettings
from digest.subscriptions import FeedSettings, Subscription, default_subscription, effective_subscriptions

logger = logging.getLogger(__name__)
T = TypeVar("T")

APPRISE_MAX_CHARS = 3500  # chat services cap message sizes; the full digest is in the files
FEEDS_FOLDER = "feeds"  # <digests>/feeds/<subscription>.atom


# How long a delivery run waits for another one of the same corpus to finish.
LOCK_WAIT_SECONDS = 600.0


class DeliveryError(RuntimeError):
    """A channel did not accept a digest; the message names the channel, never a secret.

    ``maybe_sent``: the failure came while the digest was being handed over, so the recipient
    may have it (a re-send is labelled so); False when nothing left."""

    def __init__(self, message: str, *, maybe_sent: bool = False):
        super().__init__(message)
        self.maybe_sent = maybe_sent


class DeliveryBusy(DeliveryError):
    """Another delivery run of the same corpus held the lock for longer than we waited."""


class Channel(Protocol):
    name: str
    sends_empty: bool

    def send(self, digest: Digest) -> list[str]:
        """Deliver the digest; return what was delivered (paths, message ids). Raise
        ``DeliveryError`` when the channel did not accept it."""


def _rendered(channel: str, build: Callable[[], T], maybe_sent: bool = False) -> T:
    """``build()``, a digest's rendering; a renderer's failure is a ``DeliveryError`` (logged
    with its traceback: it is a bug), so the changes stay queued as not sent."""
    try:
        return build()
    except Exception as exc:
        logger.exception("%s: the digest could not be rendered", channel)
        raise DeliveryError(f"{channel}: the digest could not be rendered: {type(exc).__name__}: {exc}",
                            maybe_sent=maybe_sent) from None




@dataclass
class FilesChannel:
    """Digest files in a folder, one file per format (written whole, then renamed into place),
    named by the digest's local date; the delivery then rebuilds the subscription's rolling feed
    (``feeds/<name>.atom``) beside them."""

    folder: Path
    formats: Sequence[str] = FORMATS
    basename: str | None = None  # default: digest-<local date of the digest>
    latest_feed: bool = True  # rebuild the rolling feed (not for previews and look-backs)
    name: str = "files"
    sends_empty: bool = True  # a quiet day's digest says so

    def __post_init__(self) -> None:
        bad = [f for f in self.formats if f not in FORMATS]
        if bad:
            raise ValueError(f"unknown digest format(s) {', '.join(bad)}; known: {', '.join(FORMATS)}")

    def send(self, digest: Digest) -> list[str]:
        written: list[str] = []
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            base = self.basename or f"digest-{digest.date}"
            n, stem = 1, base
            while any((self.folder / f"{stem}{SUFFIXES[f]}").exists() for f in self.formats):
                n += 1
                stem = f"{base}-{n}"
            for fmt in self.formats:
                path = self.folder / f"{stem}{SUFFIXES[fmt]}"
                partial = path.with_name(path.name + ".partial")
                text = _rendered(self.name, lambda: render(digest, fmt), maybe_sent=bool(written))
                with open(partial, "w", encoding="utf-8") as out:
                    out.write(text)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(partial, path)
                written.append(str(path))
        except OSError as exc:
            # A file already renamed into place may have been read.
            raise DeliveryError(f"files: cannot write the digest in {self.folder}: {exc}",
                                maybe_sent=bool(written)) from None
        return written



def message_id(channel: str, change_ids: Iterable[int]) -> str:
    """The same Message-ID for the same changes on the same channel: a re-send after an
    interrupted delivery can be recognised as a duplicate by mail systems."""
    key = f"{channel}:{','.join(map(str, sorted(change_ids)))}".encode()
    return f"<policywatch.{hashlib.sha256(key).hexdigest()[:24]}@policywatch.invalid>"


@dataclass
class EmailChannel:
    """The digest as one e-mail (text and HTML) over SMTP, with the standard library."""

    settings: EmailSettings
    name: str = "email"
    sends_empty: bool = False
    timeout: float = 30.0

    def build_message(self, digest: Digest) -> EmailMessage:
        message = EmailMessage()
        message["Subject"] = digest.headline()
        message["From"] = self.settings.sender
        message["To"] = ", ".join(self.settings.recipients)
        message["Date"] = format_datetime(datetime.now(timezone.utc))
        message["Message-ID"] = message_id(digest.channel or self.name, digest.change_ids)
        message.set_content(render_markdown(digest))
        message.add_alternative(render_html(digest), subtype="html")
        return message

    def send(self, digest: Digest) -> list[str]:
        s = self.settings
        message = _rendered(self.name, lambda: self.build_message(digest))
        client: _TrackedSMTP | _TrackedSMTPSSL | None = None
        try:
            if s.ssl:
                client = _TrackedSMTPSSL(s.host, s.port, timeout=self.timeout,
                                         context=ssl.create_default_context())
            else:
                client = _TrackedSMTP(s.host, s.port, timeout=self.timeout)
            if s.starttls and not s.ssl:
                client.starttls(context=ssl.create_default_context())
            if s.username:
                client.login(s.username, s.password)
            refused = client.send_message(message)
        except (smtplib.SMTPException, OSError) as exc:
            # The server answered "no" (any reply code): it did not take the message. Only a
            # connection lost once DATA had begun leaves the message possibly delivered.
            maybe = bool(client and client.data_started) and not isinstance(exc, smtplib.SMTPResponseException)
            # smtplib's messages carry the server's reply, never our password.
            raise DeliveryError(f"email via {s.host}:{s.port}: {type(exc).__name__}: {exc}",
                                maybe_sent=maybe) from None
        finally:
            if client is not None:
                client.close_quietly()
        if refused and len(refused) == len(s.recipients):
            raise DeliveryError(f"email via {s.host}:{s.port}: every recipient was refused")
        if refused:
            logger.warning("email: %d of %d recipients refused the digest", len(refused), len(s.recipients))
        logger.info("email: digest of %d changes sent via %s:%d to %d recipient(s)",
                    len(digest.change_ids), s.host, s.port, len(s.recipients))
        return [message["Message-ID"]]


class _DataTracking:
    """Knows whether the DATA command began: before it, a failure sent nothing."""

    data_started = False

    def data(self, msg):
        self.data_started = True
        return super().data(msg)

    def close_quietly(self) -> None:
        # QUIT after the server accepted the message: a failure now changes nothing.
        try:
            self.quit()
        except (smtplib.SMTPException, OSError):
            self.close()


class _TrackedSMTP(_DataTracking, smtplib.SMTP):
    pass


class _TrackedSMTPSSL(_DataTracking, smtplib.SMTP_SSL):
    pass


def apprise_channel_name(url: str) -> str:
    return "apprise:" + hashlib.sha256(url.encode("utf-8")).hexdigest()[:12]


@dataclass
class AppriseChannel:
    """A chat or webhook notification through apprise (one channel per apprise URL)."""

    url: str = field(repr=False)
    sends_empty: bool = False
    timeout: float = 30.0

    @property
    def name(self) -> str:
        return apprise_channel_name(self.url)

    def send(self, digest: Digest) -> list[str]:
        import apprise

        notifier = apprise.Apprise()
        if not notifier.add(self.url):
            raise DeliveryError(f"{self.name}: not a URL apprise can notify (check its scheme)")
        body = _rendered(self.name, lambda: render_markdown(digest))
        if len(body) > APPRISE_MAX_CHARS:
            body = body[:APPRISE_MAX_CHARS].rsplit("\n", 1)[0] + "\n\n……（完整摘要见文件或邮件版本）"
        ok = notifier.notify(body=body, title=digest.headline(),
                             body_format=apprise.NotifyFormat.MARKDOWN)
        if not ok:
            raise DeliveryError(f"{self.name}: the service did not accept the notification")
        return [self.name]


def configured_channels(channels: ChannelsConfig, out: Path,
                        formats: Sequence[str] | None = None) -> list[Channel]:
    """The channels of a configuration: files in ``out`` always, e-mail and apprise if set."""
    found: list[Channel] = [FilesChannel(out, tuple(formats or channels.files_formats))]
    if channels.email is not None:
        found.append(EmailChannel(channels.email))
    found += [AppriseChannel(url) for url in channels.apprise_urls]
    return found


@dataclass(frozen=True)
class Route:
    """One subscription on one channel: its own outbox, and (files) where its feed goes."""

    subscription: Subscription
    channel: Channel
    feed_path: Path | None = None

    @property
    def outbox(self) -> str:
        return self.subscription.outbox(self.channel.name)


def _as_route(target: "Route | Channel") -> Route:
    if isinstance(target, Route):
        return target
    feed = None
    if isinstance(target, FilesChannel) and target.latest_feed:
        feed = target.folder / FEEDS_FOLDER / f"{default_subscription().name}.atom"
    return Route(default_subscription(), target, feed)


def subscription_routes(subscriptions: Sequence[Subscription], channels: ChannelsConfig, out: Path,
                        formats: Sequence[str] | None = None) -> list[Route]:
    """Every subscription on each of its channels (the default subscription, on every
    configured channel, when none is declared). Files go to ``out`` (the default) or
    ``out/<name>``; feeds to ``out/feeds/<name>.atom``."""
    names = ("files",) + (("email",) if channels.email is not None else ()) + \
        (("apprise",) if channels.apprise_urls_env else ())
    routes = []
    for sub in effective_subscriptions(subscriptions, names):
        folder = out if sub.is_default else out / sub.name
        for name in sub.channels:
            if name == "files":
                routes.append(Route(sub, FilesChannel(folder, tuple(formats or channels.files_formats)),
                                    out / FEEDS_FOLDER / f"{sub.name}.atom"))
            elif name == "email" and channels.email is not None:
                routes.append(Route(sub, EmailChannel(channels.email)))
            elif name == "apprise":
                routes += [Route(sub, AppriseChannel(url)) for url in channels.apprise_urls]
    return routes


# --- the outbox -----------------------------------------------------------------------------------


def _now(now: datetime | None) -> str:
    return (now or clock.now()).astimezone(timezone.utc).isoformat(timespec="seconds")


def pending(db: sqlite_utils.Database, channel: str, upto: int | None = None
            ) -> tuple[list[int], list[int]]:
    """Changes not yet sent on ``channel`` (ids up to ``upto``), and which of them an earlier
    run claimed without confirming (they may have reached the channel already)."""
    params: list = [channel]
    bound = ""
    if upto is not None:
        bound = "AND c.id <= ?"
        params.append(upto)
    rows = db.execute(
        f"""SELECT c.id, d.state FROM changes c
        LEFT JOIN deliveries d ON d.change_id = c.id AND d.channel = ?
        WHERE (d.state IS NULL OR d.state = 'sending') {bound} ORDER BY c.id""", params,
    ).fetchall()
    return [r[0] for r in rows], [r[0] for r in rows if r[1] == "sending"]


def last_delivery(db: sqlite_utils.Database, channel: str) -> str | None:
    """When ``channel`` last accepted a digest."""
    return db.execute("SELECT max(sent_at) FROM deliveries WHERE channel = ? AND state = 'sent'",
                      [channel]).fetchone()[0]


def _claim(db: sqlite_utils.Database, channel: str, ids: list[int], moment: str, msgid: str) -> None:
    with db.atomic():
        for change_id in ids:
            db.execute(
                """INSERT INTO deliveries (change_id, channel, state, attempted_at, message_id)
                VALUES (?, ?, 'sending', ?, ?)
                ON CONFLICT (channel, change_id) DO UPDATE SET attempts = attempts + 1,
                    attempted_at = excluded.attempted_at, message_id = excluded.message_id
                WHERE state = 'sending'""",
                [change_id, channel, moment, msgid],
            )


def _settle(db: sqlite_utils.Database, channel: str, ids: list[int], moment: str) -> None:
    """Mark ``ids`` done on ``channel`` without sending (a subscription's digest that holds
    nothing it tells), in one transaction; a claim an earlier run left is settled too."""
    with db.atomic():
        for change_id in ids:
            db.execute(
                """INSERT INTO deliveries (change_id, channel, state, attempted_at, sent_at)
                VALUES (?, ?, 'sent', ?, ?)
                ON CONFLICT (channel, change_id) DO UPDATE SET state = 'sent',
                    sent_at = excluded.sent_at WHERE state = 'sending'""",
                [change_id, channel, moment, moment],
            )


def _release(db: sqlite_utils.Database, channel: str, ids: list[int], earlier: list[int]) -> None:
    """Give back this run's claim on ``ids`` after a send that sent nothing: they are pending
    as never sent again. Changes an earlier run claimed (``earlier``) keep their claim: that
    earlier send may have reached the channel."""
    keep = set(earlier)
    with db.atomic():
        for change_id in ids:
            if change_id not in keep:
                db.execute("DELETE FROM deliveries WHERE channel = ? AND change_id = ? AND state = 'sending'",
                           [channel, change_id])


def _mark_sent(db: sqlite_utils.Database, channel: str, ids: list[int], moment: str,
               digest: Digest, files: list[str], record: bool = False) -> None:
    with db.atomic():
        for change_id in ids:
            db.execute(
                """UPDATE deliveries SET state = 'sent', sent_at = ?
                WHERE channel = ? AND change_id = ? AND state = 'sending'""",
                [moment, channel, change_id],
            )
        if record:  # a files channel: the digest's record
            db.execute(
                """INSERT INTO digests (created_at, since, until, last_change_id, changes, files)
                VALUES (?, ?, ?, ?, ?, ?)""",
                [moment, digest.since, digest.until, max(ids) if ids else None, len(ids),
                 json.dumps(files, ensure_ascii=False)],
            )


@dataclass
class DeliveryReport:
    """What one channel did with its outbox."""

    channel: str
    changes: int
    status: str  # sent / nothing / failed
    delivered: list[str] = field(default_factory=list)
    error: str | None = None
    resent: int = 0


def corpus_file(db: sqlite_utils.Database) -> Path | None:
    """The file of the corpus' main database (None in memory)."""
    for _, name, filename in db.execute("PRAGMA database_list").fetchall():
        if name == "main":
            return Path(filename) if filename else None
    return None


@contextmanager
def delivery_lock(db: sqlite_utils.Database, wait: float | None = None) -> Iterator[None]:
    """Hold the corpus' delivery lock (``<corpus>.deliver.lock``, an ``flock`` the kernel
    releases if the process dies), waiting up to ``wait`` seconds for another run to finish;
    ``DeliveryBusy`` when it does not. The second run then finds only what is still pending."""
    path = corpus_file(db)
    if path is None:
        yield
        return
    wait = LOCK_WAIT_SECONDS if wait is None else wait
    lock_path = path.with_name(path.name + ".deliver.lock")
    with open(lock_path, "a+b") as handle:
        deadline = time.monotonic() + wait
        told = False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise DeliveryBusy(f"another digest delivery of {path} is still running after "
                                       f"{wait:.0f} s of waiting; nothing was sent, try again later") from None
                if not told:
                    logger.warning("another digest delivery of %s is running: waiting for it", path)
                    told = True
                time.sleep(0.1)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def deliver(db: sqlite_utils.Database, targets: Sequence["Route | Channel"],
            now: datetime | None = None, lock_wait: float | None = None, *,
            feeds: FeedSettings | None = None, tz: str | None = None) -> list[DeliveryReport]:
    """Send every route (a subscription on a channel; a bare channel is the default
    subscription's) the changes it has not accepted yet (see the module's docstring), then
    rebuild the files routes' rolling feeds. Times read in ``tz`` (the schedule's zone).
    Raises ``DeliveryBusy`` when another run of the same corpus kept the lock ``lock_wait``
    seconds (default ``LOCK_WAIT_SECONDS``)."""
    with delivery_lock(db, lock_wait):
        return _deliver(db, [_as_route(t) for t in targets], now, feeds or FeedSettings(), zone(tz))


def _deliver(db: sqlite_utils.Database, routes: Sequence[Route], now: datetime | None,
             feeds: FeedSettings, tz) -> list[DeliveryReport]:
    upto = db.execute("SELECT max(id) FROM changes").fetchone()[0] or 0
    reports = []
    for route in routes:
        channel, outbox, sub = route.channel, route.outbox, route.subscription
        ids, resent = pending(db, outbox, upto)
        digest = build_digest(db, ids, since=last_delivery(db, outbox), channel=outbox,
                              resent=resent, now=now, subscription=sub, tz=tz,
                              feed_url=feeds.feed_url(sub.name))
        if (digest.empty or digest.quiet) and not channel.sends_empty:
            if ids:  # only changes this subscription does not cover: nothing to tell, settled
                _settle(db, outbox, ids, _now(now))
            reports.append(DeliveryReport(outbox, 0, "nothing"))
            continue
        moment = _now(now)
        _claim(db, outbox, ids, moment, message_id(outbox, ids))
        try:
            delivered = channel.send(digest)
        except DeliveryError as exc:
            if not exc.maybe_sent:
                _release(db, outbox, ids, resent)
            logger.warning("delivery failed, %d change(s) stay queued%s: %s", len(ids),
                           " (the digest may have reached it)" if exc.maybe_sent else "", exc)
            reports.append(DeliveryReport(outbox, len(ids), "failed", error=str(exc),
                                          resent=len(resent)))
            continue
        _mark_sent(db, outbox, ids, _now(now), digest, delivered, isinstance(channel, FilesChannel))
        if route.feed_path is not None:
            delivered = delivered + _rebuild_feed(db, route, feeds, now, tz)
        reports.append(DeliveryReport(outbox, len(ids), "sent", delivered, resent=len(resent)))
    return reports


def _rebuild_feed(db: sqlite_utils.Database, route: Route, feeds: FeedSettings,
                  now: datetime | None, tz) -> list[str]:
    """The route's rolling feed, rewritten; a failure is logged (the digest was delivered)."""
    try:
        text = rolling_feed(db, route.subscription, feeds, now=now, tz=tz)
        return [str(write_feed(route.feed_path, text))]
    except OSError as exc:
        logger.warning("%s: the feed %s could not be written: %s", route.outbox, route.feed_path, exc)
        return []
