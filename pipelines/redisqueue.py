"""RedisQueuePipeline: a distributed crawl worker's last stage — its documents and its run
record go into a Redis list that one writer (``policywatch ingest``, ``pipelines.ingest``) stores.

Messages are JSON (never pickle: the writer must not run what a queue holds), pushed to the left
of ``policywatch:items`` and taken from the right, so one worker's messages arrive in the order it
sent them: ``run-start`` (the site's declaration, the run kind), one ``document`` per parsed,
normalised and classified item, ``run-end`` (the crawl's counts and refusals).
"""

from __future__ import annotations

import json
import logging
from dataclasses import fields
from datetime import datetime, timezone
from typing import Any

from scrapy import signals
from scrapy.exceptions import DropItem

from crawlers.items import Attachment, PolicyItem
from crawlers.items.codec import MAX_MESSAGE_BYTES, CodecError, encode
from crawlers.items.sitecrawls import site_closed, stats_for
from crawlers.items.transport import ITEMS_KEY, connect
from pipelines.store import counts_from_stats, errors_from_stats

logger = logging.getLogger(__name__)

INGESTING_KEY = "policywatch:items:ingesting"


# --- the codec: crawlers.items.codec's tagged JSON ---------------------------------------------
# Derived in the crawler's workers, derived again by the writer: not sent.
TRANSIENT = ("body_forms",)


def encode_item(item: PolicyItem) -> dict[str, Any]:
    """A PolicyItem as JSON-able data (dates, times and bytes tagged); ``CodecError`` names a
    field JSON cannot hold."""
    data = {f.name: getattr(item, f.name) for f in fields(PolicyItem) if f.name not in TRANSIENT}
    data["attachments"] = [{f.name: getattr(a, f.name) for f in fields(Attachment) if f.name != "data"}
                           for a in item.attachments]
    return encode(data, where="item")


def decode_item(data: Any) -> PolicyItem:
    """The PolicyItem ``encode_item`` encoded (already ``decode``-d from its message);
    ``ValueError`` names what is wrong."""
    if not isinstance(data, dict):
        raise ValueError("a document message holds no item")
    known = {f.name for f in fields(PolicyItem)}
    unknown = set(map(str, data)) - known
    if unknown:
        raise ValueError(f"unknown item fields: {', '.join(sorted(unknown))[:200]}")
    attachments = data.get("attachments", [])
    if not isinstance(attachments, list) or not all(isinstance(a, dict) for a in attachments):
        raise ValueError("the item's attachments are not a list of objects")
    try:
        values = {**data, "attachments": [Attachment(**a) for a in attachments]}
        return PolicyItem(**values)
    except TypeError as exc:
        raise ValueError(f"not a document: {exc}") from None


def message_bytes(message: dict[str, Any]) -> bytes:
    """A message as it goes into the queue; ``CodecError`` when it is over the writer's limit
    (the writer would only dead-letter it)."""
    data = json.dumps(message, ensure_ascii=False).encode("utf-8")
    if len(data) > MAX_MESSAGE_BYTES:
        raise CodecError(f"message of {len(data)} bytes is over the {MAX_MESSAGE_BYTES}-byte limit")
    return data


# --- the pipeline ---------------------------------------------------------------------------
class RedisQueuePipeline:
    """Push ``run-start``, each document, then ``run-end`` to ``policywatch:items``.

    Settings: ``POLICYWATCH_REDIS_URL``, ``POLICYWATCH_CRAWL_ID`` (set by
    ``crawlers.engine.distributed.distributed_settings``)."""

    def __init__(self, crawler, redis_url: str, crawl_id: str):
        self.crawler = crawler
        self.redis_url = redis_url
        self.crawl_id = crawl_id
        self.redis = None
        self.run_key: str | None = None
        self._ended = False
        crawler.signals.connect(self.site_closed, signal=site_closed)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        url = crawler.settings.get("POLICYWATCH_REDIS_URL")
        if not url:
            raise ValueError("POLICYWATCH_REDIS_URL is not set: RedisQueuePipeline needs the Redis URL")
        return cls(crawler, url, crawler.settings.get("POLICYWATCH_CRAWL_ID") or "default")

    def _push(self, message: dict[str, Any]) -> None:
        self.redis.lpush(ITEMS_KEY, message_bytes(message))

    def open_spider(self) -> None:

        self.redis = connect(self.redis_url)
        spider = self.crawler.spider
        site = getattr(spider, "site", None)
        worker = getattr(spider, "worker", "worker")
        self.run_key = getattr(spider, "run_key", None) or f"{self.crawl_id}:{getattr(site, 'key', '')}:{worker}"
        declaration = None
        if site is not None:
            declaration = {"key": site.key, "name": site.name, "division_code": site.division_code,
                           "level": site.level, "family": site.family, "domains": list(site.domains),
                           "enabled": site.enabled}
        self._push({"type": "run-start", "run": self.run_key, "site": declaration,
                    "kind": self.crawler.settings.get("POLICYWATCH_RUN_KIND", "crawl"),
                    "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds")})

    def process_item(self, item):
        if isinstance(item, PolicyItem):
            try:
                self._push({"type": "document", "run": self.run_key, "item": encode_item(item)})
            except CodecError as exc:
                stats_for(self.crawler, item.site).inc_value("policywatch/dropped/unqueueable")
                raise DropItem(f"not queued for the writer: {exc}") from None
            stats_for(self.crawler, item.site).inc_value("policywatch/queued")
        return item

    def site_closed(self, crawl, reason: str) -> None:
        self._ended = True
        self._end_run(crawl.stats.get_stats(), crawl.failures, crawl.key, reason)

    def spider_closed(self, spider, reason: str) -> None:
        if not self._ended:  # a spider that says nothing of its site's end (not policywatch's)
            self._end_run(self.crawler.stats.get_stats(), getattr(spider, "failures", ()),
                          getattr(getattr(spider, "site", None), "key", None), reason)

    def _end_run(self, stats, failures, site: str | None, reason: str) -> None:
        if self.redis is None:
            return
        try:
            errors = encode(errors_from_stats(stats, failures))
        except CodecError as exc:  # the run must still end, or the writer waits for it
            logger.error("%s: the run's errors cannot be queued: %s", self.run_key, exc)
            errors = [{"reason": "unqueueable_errors", "message": str(exc)}]
        self._push({"type": "run-end", "run": self.run_key, "site": site, "reason": reason,
                    "counts": encode(counts_from_stats(stats)),
                    "errors": errors,
                    "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds")})
        logger.info("%s: %d document(s) queued for the writer", self.run_key,
                    stats.get("policywatch/queued", 0))
