"""The corpus' known URLs, per site, in Redis: what incremental distributed crawls skip.

Crawler machines have no corpus. The one writer (``policywatch ingest``) publishes the canonical
URL of every stored document into ``policywatch:known:<site>`` when it starts, and adds each
document it stores; ``policywatch:known:published`` says when it last published all of them. A
``crawl --distributed --incremental`` worker reads its sites' sets when it opens
(``crawlers.items.transport.load_known``).
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone

import sqlite_utils

from crawlers.items.transport import PUBLISHED_KEY, known_key

logger = logging.getLogger(__name__)

BATCH = 1000


def publish_known(redis_client, db: sqlite_utils.Database) -> int:
    """Put every stored document's URL into its site's set; returns how many were sent."""
    sent = 0
    batch: list[tuple[str, str]] = []

    def flush() -> None:
        pipe = redis_client.pipeline(transaction=False)
        for site, url in batch:
            pipe.sadd(known_key(site), url)
        pipe.execute()
        batch.clear()

    for site, url in db.execute("SELECT site, url FROM documents ORDER BY id"):
        batch.append((site, url))
        sent += 1
        if len(batch) >= BATCH:
            flush()
    if batch:
        flush()
    redis_client.set(PUBLISHED_KEY, datetime.now(timezone.utc).isoformat(timespec="seconds"))
    logger.info("published %d known URL(s) for incremental distributed crawls", sent)
    return sent


def add_known(redis_client, site: str, url: str) -> None:
    """One more stored document (``url`` canonical, as the corpus keys it)."""
    redis_client.sadd(known_key(site), url)
