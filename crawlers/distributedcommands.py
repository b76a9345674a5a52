"""The commands of distributed crawling: ``policywatch crawl --distributed`` calls
``crawl_distributed``; ``policywatch ingest`` is the one writer. See ``crawlers.distributed``."""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path

import click

from .app import App, config_option, db_option, pass_app

logger = logging.getLogger(__name__)

DEFAULT_REDIS = "redis://127.0.0.1:6379/0"


def crawl_distributed(sites, *, redis_url: str, crawl_id: str, db_path: Path,
                      replay_url: str | None = None, max_pages: int | None = None,
                      contact: str | None = None, mode: str = "full"):
    """Crawl ``sites`` as one worker of the distributed crawl ``crawl_id`` (blocks until the
    crawl is done everywhere); returns the run reports of this worker. ``mode``: full or
    incremental (which needs the known URLs ``policywatch ingest`` publishes)."""
    from pipelines.knownurls import PUBLISHED_KEY

    from .distributed import DISTRIBUTED_MODES, DistributedError, DistributedPolicySpider, connect, \
        distributed_settings
    from .runner import run_crawl

    if mode not in DISTRIBUTED_MODES:
        raise DistributedError(f"a distributed crawl is a full or an incremental one, not {mode}")
    client = connect(redis_url)  # a clear error now rather than a crawl that cannot schedule
    if mode == "incremental" and not client.exists(PUBLISHED_KEY):
        raise DistributedError("no known URLs in Redis: start `policywatch ingest` (it publishes the "
                               "corpus' documents when it starts) before an incremental distributed crawl")
    overrides = distributed_settings(redis_url, crawl_id)
    # Take from the shared queue only what this process can fetch now (its sites' download
    # slots); Scrapy's default of 16 would hoard pages the other processes could be fetching.
    overrides["CONCURRENT_REQUESTS"] = sum(4 if replay_url else max(1, s.politeness.concurrency)
                                           for s in sites)
    return run_crawl(sites, db_path, replay_url=replay_url, max_pages=max_pages, mode=mode,
                     contact=contact, overrides=overrides, spider_class=DistributedPolicySpider)


@click.command()
@click.option("--redis", "redis_url", default=DEFAULT_REDIS, show_default=True, metavar="URL",
              help="The Redis the crawler processes push their documents to.")
@db_option
@config_option
@click.option("--until-idle", type=click.FloatRange(min=0), default=None, metavar="SECONDS",
              help="Stop once no document came for SECONDS and no crawler run is open "
                   "(default: keep running until Ctrl-C or SIGTERM).")
@pass_app
def ingest(app: App, redis_url: str, until_idle) -> None:
    """The one writer of distributed crawls: store the documents and run records that
    `policywatch crawl --distributed` processes queue in Redis into the corpus."""
    from pipelines.ingest import Writer

    from .distributed import DistributedError, connect

    path = app.prepared_db()  # a bad corpus is refused before anything is taken from Redis
    try:
        client = connect(redis_url)
    except DistributedError as exc:
        raise click.ClickException(str(exc)) from None
    stop = threading.Event()

    def on_signal(signum, frame) -> None:
        logger.warning("%s: stopping after the message being stored", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    writer = Writer(client, path)
    click.echo(f"ingesting from {redis_url} into {path}" + ("" if until_idle is not None else
                                                             " — Ctrl-C stops"))
    try:
        report = writer.run(until_idle=until_idle, stop=stop)
    finally:
        writer.close()
    kinds = ", ".join(f"{v} {k}" for k, v in sorted(report.documents.items())) or "no documents"
    click.echo(f"stored {kinds}; {report.runs_finished} run(s) finished; "
               f"{report.bad} message(s) not storable")
