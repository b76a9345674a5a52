"""Distributed crawling: many crawler processes, on many machines, share a round's sites.

``policywatch crawl SITE... --distributed --redis redis://HOST:6379/0`` makes this process one
worker of the crawl: every worker is given the same sites and crawls, many at once as a local
crawl does (``POLICYWATCH_ACTIVE_SITES``), the sites whose lease it takes. A site is crawled by
one worker at a time, so its politeness (one download slot, its delay, robots.txt) holds across
machines. Each worker's documents go — parsed, normalised, classified — into a Redis list that
one writer (``policywatch ingest``) stores into the corpus; the workers need no corpus file.

Keys, for crawl id C and site S (``policywatch:C:`` prefix): ``policy:S:lease`` (the worker
crawling S; it expires ``POLICYWATCH_LEASE_TTL`` seconds after its last refresh, every third of
that), ``policy:S:done`` (S crawled to its end in this crawl), ``policy:S:seeded`` (the run of the
worker that started S), ``policy:S:requests`` and ``policy:S:dupefilter`` (S's frontier and
fingerprints: scrapy-redis's, so a frontier of thousands of pages is in Redis, not in the
worker), ``member:<worker>`` (the workers still taking part). Items and run records go to
``policywatch:items`` (see ``pipelines.redisqueue``).

A worker that dies loses its leases after the TTL; another worker, still waiting for the round's
sites to be done, takes each over and crawls it from its first page (the pages the dead worker
had taken from the frontier are gone with it; the writer stores again only what changed), and
closes the dead worker's run for the writer (``lease_expired``). A worker that stalls past the
TTL loses its lease the same way and stops that site. A worker ends when every site is done by
some worker; the last one out clears the crawl's keys, so the same crawl id can run again
tomorrow (a worker started after that crawls the sites again).

Whoever can write to Redis can put anything in these keys. Requests are queued as JSON
(``crawlers.items.codec``, scrapy-redis's ``SCHEDULER_SERIALIZER``), never pickled; a worker drops
what is not a request of its spider, counted. The duplicate filter holds fingerprints (SADD),
the other keys plain strings: nothing is unpickled. Redis needs a password: the ``--redis URL``
of the commands takes it from ``$POLICYWATCH_REDIS_PASSWORD`` and logs URLs ``redact``-ed.

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

import json
import logging
import os
import socket
import uuid
from typing import Any

from redis.exceptions import WatchError
from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy.utils.reactor import install_reactor, is_reactor_installed
from twisted.internet import task

from crawlers.engine import settings as defaults
from crawlers.engine.runner import SiteFeeder, SiteRunReport
from crawlers.engine.spiders.policy import PolicySpider
from crawlers.engine.spiders.sitecrawl import SiteCrawl
from crawlers.items.codec import CodecError
from crawlers.items.state import CrawlState
from crawlers.items.transport import ITEMS_KEY, DistributedError, connect, load_known

logger = logging.getLogger(__name__)

PREFIX = "policywatch"
DISTRIBUTED_MODES = ("full", "incremental")
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


# --- sites held by one worker at a time -------------------------------------------------------
def site_key_of(crawl_id: str, site_key: str, what: str) -> str:
    """A key of one site's distributed crawl (``policy:S`` is the site's spider name)."""
    return f"{key_prefix(crawl_id)}policy:{site_key}:{what}"


class SiteLeases:
    """Which worker crawls which site of the distributed crawl ``crawl_id``.

    ``policy:S:lease`` names the worker crawling site S; it expires ``ttl`` seconds after its
    last refresh, so a worker that dies loses its sites and another worker takes them over.
    ``policy:S:done`` marks a site crawled to its end. ``member:<worker>`` marks each worker
    still taking part (refreshed with its leases); the last one out clears the crawl's keys."""

    def __init__(self, client, crawl_id: str, worker: str, ttl: int) -> None:
        self.redis = client
        self.crawl_id = crawl_id
        self.worker = worker
        self.ttl = max(1, int(ttl))
        self.held: set[str] = set()

    def _if_mine(self, site: str, act) -> bool:
        """Run ``act(pipeline)`` on ``site``'s lease in one transaction, only while the lease is
        this worker's (after a stall past the TTL another worker may hold it). WATCH/MULTI, not
        a Lua script: the ACL of the README grants no scripting."""
        key = self._key(site, "lease")
        with self.redis.pipeline() as pipe:
            try:
                pipe.watch(key)
                if pipe.get(key) != self.worker.encode():
                    pipe.unwatch()
                    return False
                pipe.multi()
                act(pipe, key)
                pipe.execute()
            except WatchError:  # changed under us: no longer ours
                return False
        return True

    def _key(self, site: str, what: str) -> str:
        return site_key_of(self.crawl_id, site, what)

    def join(self) -> None:
        self.redis.set(f"{key_prefix(self.crawl_id)}member:{self.worker}", "1", ex=self.ttl)

    def take(self, site: str) -> bool:
        """Take ``site``'s lease when no worker holds it and it is not done yet."""
        if self.redis.exists(self._key(site, "done")):
            return False
        if not self.redis.set(self._key(site, "lease"), self.worker, nx=True, ex=self.ttl):
            return False
        if self.redis.exists(self._key(site, "done")):  # finished between the two looks
            self._if_mine(site, lambda pipe, key: pipe.delete(key))
            return False
        self.held.add(site)
        return True

    def done(self, site: str) -> bool:
        return bool(self.redis.exists(self._key(site, "done")))

    def refresh(self) -> list[str]:
        """Extend this worker's leases and membership; the sites whose lease it lost."""
        self.join()
        lost = [s for s in sorted(self.held)
                if not self._if_mine(s, lambda pipe, key: pipe.expire(key, self.ttl))]
        self.held.difference_update(lost)
        return lost

    def release(self, site: str, *, finished: bool) -> None:
        """Let ``site`` go: done when its crawl ``finished`` (no worker crawls it again in this
        crawl), else free for another worker."""
        if site not in self.held:
            return
        done = self._key(site, "done")

        def let_go(pipe, key):
            if finished:
                pipe.set(done, self.worker)
            pipe.delete(key)

        self._if_mine(site, let_go)
        self.held.discard(site)

    def leave(self) -> bool:
        """Leave the crawl; the last worker out clears its keys (the crawl id may run again).
        True when this one was the last."""
        prefix = key_prefix(self.crawl_id)
        self.redis.delete(f"{prefix}member:{self.worker}")
        if any(True for _ in self.redis.scan_iter(match=f"{prefix}member:*", count=1000)):
            return False
        keys = list(self.redis.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            self.redis.delete(*keys)
        return True


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class LeasedSiteFeeder(SiteFeeder):
    """The SiteFeeder of a distributed worker: it starts a site only with its lease, so each
    site is crawled by one worker at a time (its politeness holds across machines), and goes on
    until every site is done by some worker. A site another worker holds is tried again every
    ``ttl / 3`` seconds, when this worker also refreshes its own leases; a site whose lease was
    lost (this worker stalled past the TTL) is stopped here, and another worker crawls it."""

    stop_after_crawl = False

    def __init__(self, process, sites, spider_class, arguments, active) -> None:
        super().__init__(process, sites, spider_class, arguments, active)
        settings = process.settings
        self.worker = _worker_name()
        self.arguments = {**self.arguments, "worker": self.worker}  # its runs carry its name
        self.client = connect(settings.get("POLICYWATCH_REDIS_URL"))
        self.crawl_id = settings.get("POLICYWATCH_CRAWL_ID") or "default"
        self.leases = SiteLeases(self.client, self.crawl_id, self.worker,
                                 settings.getint("POLICYWATCH_LEASE_TTL"))
        self.elsewhere: list[str] = []  # sites another worker crawled to their end
        self.lost: set[str] = set()  # sites stopped here: their lease went to another worker
        self._watch: task.LoopingCall | None = None

    def run(self):
        self.leases.join()
        # The watch needs the reactor the crawlers will run on, installed before any crawler
        # is (this worker may start with every site held elsewhere).
        if not is_reactor_installed():
            install_reactor(self.process.settings["TWISTED_REACTOR"])
        self._watch = task.LoopingCall(self._tick)
        self._watch.start(max(0.2, self.leases.ttl / 3), now=False)
        try:
            reports = super().run()
        finally:
            if self._watch.running:
                self._watch.stop()
            for site in list(self.leases.held):  # the reactor stopped under them
                self.leases.release(site, finished=False)
            if not self.waiting and self.leases.leave():
                logger.info("last worker of the distributed crawl %s; its keys are cleared", self.crawl_id)
        if self.elsewhere:
            logger.info("%d site(s) crawled by other workers: %s", len(self.elsewhere),
                        ", ".join(self.elsewhere[:20]))
        ended_elsewhere = set(self.elsewhere)
        return [r for r in reports if r.site not in ended_elsewhere]

    def _start_next(self) -> None:
        if self.stopping or self.running >= self.active:
            self._maybe_stop()
            return
        for position in range(len(self.waiting) - 1, -1, -1):
            n, site = self.waiting[position]
            if self.leases.done(site.key):
                del self.waiting[position]
                self.elsewhere.append(site.key)
                self.reports[n] = SiteRunReport(site=site.key, finish_reason="finished")
                continue
            if not self.leases.take(site.key):
                continue  # another worker crawls it: tried again at the next tick
            self._prepare(site)
            # The feeder pops the site it starts from the end of its list.
            self.waiting.append(self.waiting.pop(position))
            super()._start_next()
            return
        self._maybe_stop()

    def _prepare(self, site) -> None:
        """A site whose worker died while crawling it (its run never ended) starts again from
        its first page: the pages that worker had taken from the frontier died with it, and
        the writer stores again only what changed. Its run is closed for the writer."""
        seeded = site_key_of(self.crawl_id, site.key, "seeded")
        previous = self.client.get(seeded)
        if previous is None:
            return
        run_key = previous.decode("utf-8", "replace")
        logger.warning("%s: taking over from %s, which stopped answering; crawling it from the start",
                       site.key, run_key)
        self.client.delete(seeded, site_key_of(self.crawl_id, site.key, "requests"),
                           site_key_of(self.crawl_id, site.key, "dupefilter"))
        close_abandoned_run(self.client, run_key, site.key)

    def _ended(self, result, n, site, crawler) -> None:
        if site.key in self.lost:  # stopped here because another worker crawls it now
            self.lost.discard(site.key)
            del self.started[n]
            self.running -= 1
            self.elsewhere.append(site.key)
            self.reports[n] = SiteRunReport(site=site.key, finish_reason="finished")
            self._start_next()
            return
        report = self._report(site, crawler)
        self.leases.release(site.key, finished=report.finish_reason == "finished")
        super()._ended(result, n, site, crawler)

    def _tick(self) -> None:
        for site in self.leases.refresh():
            logger.error("%s: lost its lease (this worker stalled past %d s); another worker "
                         "crawls it", site, self.leases.ttl)
            for n, (running, crawler) in list(self.started.items()):
                if running.key == site and crawler.crawling:
                    self.lost.add(site)
                    crawler.stop()
        if self.running < self.active:
            self._start_next()

    def _maybe_stop(self) -> None:
        if self.running or (self.waiting and not self.stopping):
            return
        from twisted.internet import reactor  # the one CrawlerProcess installed

        reactor.callLater(0, self.process._stop_reactor)


def close_abandoned_run(client, run_key: str, site_key: str) -> None:
    """Tell the writer that the run ``run_key`` of a dead worker ended without finishing (its
    documents already queued are stored as usual)."""
    message = {"type": "run-end", "run": run_key, "site": site_key, "reason": "lease_expired",
               "counts": {"failed": {}, "blocked": 0}, "errors": [
                   {"reason": "lease_expired", "message": "its worker stopped answering; another "
                                                          "worker crawled the site again"}]}
    client.lpush(ITEMS_KEY, json.dumps(message).encode("utf-8"))


class DistributedSiteCrawl(SiteCrawl):
    """A site's crawl in a distributed worker: the corpus is not here; the known URLs came from
    Redis when the spider opened."""

    def _crawl_state(self):
        return CrawlState(known=self.spider.known)


class DistributedPolicySpider(PolicySpider):
    """PolicySpider as one worker of a distributed crawl, crawling one site. Its feeder holds
    the site's lease, so this is the only worker crawling the site: it seeds the site's columns
    into the site's queue in Redis and crawls until its engine is idle and the queue empty."""

    crawl_class = DistributedSiteCrawl
    ends_sites_when_settled = False  # the site's frontier is in Redis: it ends with the spider

    def __init__(self, *args, worker: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if self.site is None:
            raise DistributedError("a distributed worker's spider crawls one site")
        if self.mode not in DISTRIBUTED_MODES:
            raise DistributedError(f"a distributed crawl is a full or an incremental one, not {self.mode}")
        self.worker = worker or _worker_name()  # the lease holder's name, from its feeder
        self.redis = None
        self.known: frozenset[str] = frozenset()

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider._opened, signal=signals.spider_opened)
        crawler.signals.connect(spider._idle, signal=signals.spider_idle)
        crawler.signals.connect(spider._leave, signal=signals.spider_closed)
        return spider

    def _key(self, what: str) -> str:
        return f"{key_prefix(self.settings.get('POLICYWATCH_CRAWL_ID'))}{self.name}:{what}"

    @property
    def queue_key(self) -> str:
        return self._key("requests")

    @property
    def run_key(self) -> str:
        """The writer's name for this worker's run of the site."""
        return f"{self.settings.get('POLICYWATCH_CRAWL_ID') or 'default'}:{self.site.key}:{self.worker}"

    def _opened(self, spider) -> None:
        if spider is not self:
            return
        self.redis = connect(self.settings.get("POLICYWATCH_REDIS_URL"))
        if self.mode == "incremental":
            known = load_known(self.redis, self.site.key)
            if known is None:  # checked before the crawl started: the keys went since
                logger.warning("%s: no known URLs in Redis any more; every listed document is "
                               "fetched (the writer stores only what changed)", self.site.key)
            self.known = known or frozenset()
            logger.info("%s: %d known document(s) skipped", self.site.key, len(self.known))

    async def start(self):
        # Who seeded names the run a worker taking the site over must close for the writer.
        self.redis.set(self._key("seeded"), self.run_key)
        logger.info("%s: crawling it for the distributed crawl", self.site.key)
        async for request in super().start():
            yield request

    def _idle(self, spider) -> None:
        if spider is self and self.redis.zcard(self.queue_key):
            raise DontCloseSpider  # pages left in the site's queue

    def _leave(self, spider, reason: str) -> None:
        if spider is not self or self.redis is None:
            return
        # Finished, the frontier is spent; stopped (Ctrl-C), the pages in flight are lost with
        # the engine, so the next worker starts the site afresh. Unless another worker took
        # the site over meanwhile (this one stalled past the lease): its keys are not ours.
        if self.redis.get(self._key("seeded")) == self.run_key.encode():
            self.redis.delete(self._key("seeded"), self._key("requests"), self._key("dupefilter"))
