"""Distributed crawling: many crawler processes, on many machines, share one frontier in Redis.

``policywatch crawl SITE... --distributed --redis redis://HOST:6379/0`` runs the usual crawl
of each site with scrapy-redis's scheduler and duplicate filter: every request goes into a Redis
queue shared by every process crawling the same sites under the same crawl id, so each page is
fetched once by whichever process is free, and each process's documents go — parsed,
normalised, classified — into a Redis list that one writer (``policywatch ingest``) stores into
the corpus. The crawler processes need no corpus file.

Keys, for crawl id C and site S (``policywatch:C:`` prefix): ``policy:S:requests`` (the shared
frontier, a priority queue: detail pages before the next list page), ``policy:S:dupefilter``
(fingerprints of every request made), ``policy:S:seeded`` (which process put the site's first
requests in), ``policy:S:alive:<worker>`` and ``policy:S:busy:<worker>`` (who is crawling, who
has work in hand; both expire unless refreshed, so a crashed process drops out). Items and run
records go to ``policywatch:items`` (see ``pipelines.redisqueue``).

Whoever can write to Redis can put anything in these keys. Requests are queued as JSON
(``crawlers.items.codec``, scrapy-redis's ``SCHEDULER_SERIALIZER``), never pickled; a worker drops
what is not a request of its spider, counted. The duplicate filter holds fingerprints (SADD),
the other keys plain strings: nothing is unpickled. Redis needs a password: the ``--redis URL``
of the commands takes it from ``$POLICYWATCH_REDIS_PASSWORD`` and logs URLs ``redact``-ed.

A process ends its crawl of a site when its own engine is idle, the shared queue is empty and no
other process has work in hand (a busy mark expires after ``BUSY_TTL`` seconds, so a crashed
process does not hold the others); the last one to leave clears the crawl's keys, so the same
crawl id can run again tomorrow. A process that leaves early loses nothing: whatever it queued
is in Redis for the others. If every process of a crawl dies, its frontier stays in Redis, and
the same command (same crawl id) resumes it.

Full and incremental crawls are distributed. A full crawl reads every list page and document
(the writer's store skips what is unchanged). An incremental one — the daily run at scale —
skips the documents the corpus holds, which the writer publishes into Redis
(``pipelines.knownurls``: ``policywatch ingest`` publishes them when it starts), and reads a
column's list pages only until a page holds nothing new; it re-checks no known documents (the
revisit schedule lives in the corpus). Backfills and sweeps keep a checkpoint or need whole
columns seen by one process: they run on the machine with the corpus. Withdrawal detection
(``crawlers.engine.observations``) needs one process to see a whole column, so distributed runs do not
record absences.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from typing import Any

from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from twisted.internet import task

from crawlers.engine import settings as defaults
from crawlers.engine.spiders.policy import PolicySpider
from crawlers.items.codec import CodecError
from crawlers.items.state import CrawlState
from crawlers.items.transport import DistributedError, connect, load_known

logger = logging.getLogger(__name__)

PREFIX = "policywatch"
BUSY_TTL = 15  # seconds a busy mark lives unless refreshed
DISTRIBUTED_MODES = ("full", "incremental")
WATCH_INTERVAL = 0.5
REFUSALS_LOGGED = 20  # then only counted: a flood of junk must not flood the log


def key_prefix(crawl_id: str) -> str:
    return f"{PREFIX}:{crawl_id}:"


def requests_key(crawl_id: str, site_key: str) -> str:
    """The shared request queue of one site's crawl (``SCHEDULER_QUEUE_KEY`` for its spider)."""
    return f"{key_prefix(crawl_id)}policy:{site_key}:requests"


def distributed_settings(redis_url: str, crawl_id: str) -> dict[str, Any]:
    """Setting overrides that turn a crawl into one worker of a distributed crawl."""
    prefix = key_prefix(crawl_id)

    pipelines = {k: v for k, v in defaults.ITEM_PIPELINES.items()
                 if not k.startswith(("pipelines.store.", "pipelines.revisits."))}
    pipelines["pipelines.redisqueue.RedisQueuePipeline"] = 900
    return {
        "SCHEDULER": "crawlers.engine.distributed.SharedScheduler",
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        "SCHEDULER_QUEUE_CLASS": "scrapy_redis.queue.PriorityQueue",
        "SCHEDULER_QUEUE_KEY": prefix + "%(spider)s:requests",
        "SCHEDULER_DUPEFILTER_KEY": prefix + "%(spider)s:dupefilter",
        # Other processes are still using the queue and the fingerprints when one leaves.
        "SCHEDULER_PERSIST": True,
        # JSON, never pickle: whoever can write to Redis must not run code in the crawlers.
        "SCHEDULER_SERIALIZER": "crawlers.items.codec",
        "REDIS_URL": redis_url,
        "ITEM_PIPELINES": pipelines,
        "POLICYWATCH_REDIS_URL": redis_url,
        "POLICYWATCH_CRAWL_ID": crawl_id,
    }


def _scheduler_class():
    from scrapy_redis.scheduler import Scheduler

    class SharedScheduler(Scheduler):
        """scrapy-redis's scheduler, counted under Scrapy 2.19's stats API (no spider
        argument), never blocking the reactor on an empty queue, and refusing what in the
        shared queue is not a request this spider made (``crawlers.items.codec``)."""

        refused = 0

        def enqueue_request(self, request):
            if not request.dont_filter and self.df.request_seen(request):
                self.df.log(request, self.spider)
                return False
            try:
                self.queue.push(request)
            except CodecError as exc:  # the spider's own bug: say so, lose only this page
                logger.error("%s: not queued: %s", request.url, exc)
                self.stats.inc_value("policywatch/failed/unqueueable")
                return False
            if self.stats:
                self.stats.inc_value("scheduler/enqueued/redis")
            return True

        def next_request(self):
            while True:
                try:
                    request = self.queue.pop(0)
                except (CodecError, ValueError, TypeError) as exc:
                    # Popped already: a refused message is gone from the queue, never retried.
                    self._refuse(exc)
                    continue
                if request is not None and self.stats:
                    self.stats.inc_value("scheduler/dequeued/redis")
                return request

        def _refuse(self, exc: Exception) -> None:
            self.refused += 1
            if self.stats:
                self.stats.inc_value("policywatch/dropped/refused_request")
            if self.refused <= REFUSALS_LOGGED:
                logger.error("refused a message in the shared request queue: %s", str(exc)[:300])
            elif self.refused == REFUSALS_LOGGED + 1:
                logger.error("refusing more messages in the shared request queue; they are "
                             "counted (policywatch/dropped/refused_request), not logged")

    return SharedScheduler


def __getattr__(name: str):
    # scrapy_redis is imported only when a distributed crawl loads its scheduler.
    if name == "SharedScheduler":
        return _scheduler_class()
    raise AttributeError(name)


class DistributedPolicySpider(PolicySpider):
    """PolicySpider as one worker of a distributed crawl: the first worker seeds the site's
    columns; every worker takes requests from the shared queue until the crawl is done."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.mode not in DISTRIBUTED_MODES:
            raise DistributedError(f"a distributed crawl is a full or an incremental one, not {self.mode}")
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.redis = None
        self._watch: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider._opened, signal=signals.spider_opened)
        crawler.signals.connect(spider._idle, signal=signals.spider_idle)
        crawler.signals.connect(spider._leave, signal=signals.spider_closed)
        return spider

    # --- keys --------------------------------------------------------------------------
    def _key(self, what: str) -> str:
        return f"{key_prefix(self.settings.get('POLICYWATCH_CRAWL_ID'))}{self.name}:{what}"

    @property
    def queue_key(self) -> str:
        return self._key("requests")

    # --- joining, seeding, leaving ------------------------------------------------------
    def _opened(self, spider) -> None:
        if spider is not self:
            return
        self.redis = connect(self.settings.get("POLICYWATCH_REDIS_URL"))
        if self.mode == "incremental":
            # Every worker, not only the seeder: any of them may parse a list page.

            known = load_known(self.redis, self.site.key)
            if known is None:  # checked before the crawl started: the keys went since
                logger.warning("%s: no known URLs in Redis any more; every listed document is "
                               "fetched (the writer stores only what changed)", self.site.key)
            self.plan.known = known or frozenset()
            logger.info("%s: %d known document(s) skipped", self.site.key, len(known))
        self._mark_alive()
        self._mark_busy()
        self._watch = task.LoopingCall(self._heartbeat)
        self._watch.start(WATCH_INTERVAL, now=False)

    async def start(self):
        # One worker seeds the site's first pages; the others find them in the queue.
        seeded = self._key("seeded")
        if not self.redis.set(seeded, f"seeding:{self.worker}", nx=True):
            logger.info("%s: joining the distributed crawl (%s)", self.site.key, self.redis.get(seeded))
            return
        logger.info("%s: seeding the distributed crawl", self.site.key)
        async for request in super().start():
            yield request
        self.redis.set(seeded, f"seeded:{self.worker}")

    def _crawl_state(self):
        # The corpus is not here: the known URLs came from Redis when the spider opened.
        return CrawlState(known=self.plan.known)

    def _mark_busy(self) -> None:
        self.redis.set(self._key(f"busy:{self.worker}"), "1", ex=BUSY_TTL)

    def _mark_alive(self) -> None:
        self.redis.set(self._key(f"alive:{self.worker}"), "1", ex=BUSY_TTL)

    def _others(self, what: str) -> list[str]:
        """The other workers with a live ``alive`` or ``busy`` mark."""
        prefix = self._key(f"{what}:")
        return [k.decode()[len(prefix):] for k in self.redis.scan_iter(match=prefix + "*")
                if k.decode() != prefix + self.worker]

    def _heartbeat(self) -> None:
        engine = self.crawler.engine
        self._mark_alive()
        try:
            idle = engine.spider_is_idle()
        except RuntimeError:  # the engine is closing
            return
        if idle:
            self.redis.delete(self._key(f"busy:{self.worker}"))
        else:
            self._mark_busy()
        if self.redis.zcard(self.queue_key):
            # Pages wait in the shared queue (another worker may have queued them): take what
            # this process has room for now, not at the engine's next heartbeat (5 s).
            slot = getattr(engine, "_slot", None)
            if slot is not None:
                slot.nextcall.schedule()

    def _idle(self, spider) -> None:
        if spider is not self:
            return
        if self.redis.zcard(self.queue_key):
            raise DontCloseSpider  # more pages in the shared queue
        seeded = (self.redis.get(self._key("seeded")) or b"").decode()
        seeder = seeded.partition(":")[2]
        if seeded.startswith("seeding:") and seeder in self._others("alive"):
            raise DontCloseSpider  # the seeding worker has not queued the first pages yet
        if self._others("busy"):
            raise DontCloseSpider  # their pages may queue more requests
        logger.info("%s: the distributed crawl is done here", self.site.key)

    def _leave(self, spider, reason: str) -> None:
        if spider is not self or self.redis is None:
            return
        if self._watch is not None and self._watch.running:
            self._watch.stop()
        self.redis.delete(self._key(f"busy:{self.worker}"), self._key(f"alive:{self.worker}"))
        if reason == "finished" and not self._others("alive") and not self.redis.zcard(self.queue_key):
            # The last worker out: the crawl is over; the same crawl id may run again.
            keys = list(self.redis.scan_iter(match=self._key("*")))
            if keys:
                self.redis.delete(*keys)
            logger.info("%s: last worker of the distributed crawl; its keys are cleared", self.site.key)
