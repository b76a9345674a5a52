"""Rolling Atom feeds, one per subscription, rebuilt from the corpus's changes.

A feed holds what its subscription matched over the last ``days`` days (at most ``entries``
entries, newest first), whatever digests were sent meanwhile: a reader that polls after a quiet
day still sees the day before. Entry ids are tag URIs under the corpus's own id
(``corpus_meta``), so they are the same in every rebuild and differ between corpora. The digest
delivery writes each feed to ``<digests>/feeds/<name>.atom``; ``policywatch browse`` serves it
at ``/-/feeds/<name>.atom`` (digest.feedplugin).
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlite_utils

from crawlers.parsing import clock
from digest.build import build_digest
from digest.render import render_atom, tag_uri
from digest.subscriptions import FeedSettings, Subscription

# The newest changes of the window a feed looks at: bounds a rebuild however busy the window.
MAX_SCANNED = 20_000


def window_change_ids(db: sqlite_utils.Database, start: str, limit: int = MAX_SCANNED) -> list[int]:
    """The ids of the newest ``limit`` changes detected on or after ``start``, oldest first."""
    rows = db.execute("SELECT id FROM changes WHERE detected_at >= ? ORDER BY id DESC LIMIT ?",
                      [start, limit]).fetchall()
    return sorted(r[0] for r in rows)


def rolling_feed(db: sqlite_utils.Database, subscription: Subscription, settings: FeedSettings,
                 *, now: datetime | None = None, tz: ZoneInfo | None = None) -> str:
    """The subscription's feed as Atom XML, as of ``now``."""
    now = (now or clock.now()).astimezone(timezone.utc)
    start = (now - timedelta(days=settings.days)).isoformat(timespec="seconds")
    url = settings.feed_url(subscription.name)
    digest = build_digest(db, window_change_ids(db, start), since=start, now=now,
                          subscription=subscription, tz=tz, feed_url=url)
    digest.entries = sorted(digest.entries, key=lambda e: e.id, reverse=True)[:settings.entries]
    digest.backfill = digest.backfill[:max(0, settings.entries - len(digest.entries))]
    return render_atom(digest, feed_id=tag_uri(digest.corpus_id, "feed", subscription.name),
                       title=f"{subscription.label}（policywatch）", link=url)


def write_feed(path: Path, text: str) -> Path:
    """Write a feed whole, then rename it into place (a reader never sees half of one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    with open(partial, "w", encoding="utf-8") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    os.replace(partial, path)
    return path
