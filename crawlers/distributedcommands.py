"""The commands of distributed crawling: ``policywatch crawl --distributed`` calls
``crawl_distributed``; ``policywatch ingest`` is the one writer. See ``crawlers.engine.distributed``."""

from __future__ import annotations

import logging
import os
import signal
import threading
from pathlib import Path

import click

from crawlers.app import App, config_option, db_option, pass_app

logger = logging.getLogger(__name__)

DEFAULT_REDIS = "redis://127.0.0.1:6379/0"


class RedisURL(click.ParamType):
    """A Redis URL (redis://, rediss:// or unix://); its password, if it holds none, from
    ``$POLICYWATCH_REDIS_PASSWORD`` — so it is in no command line and no shell history."""

    name = "URL"

    def convert(self, value, param, ctx):
        from crawlers.engine.distributed import PASSWORD_ENV, with_password

        scheme = str(value).partition("://")[0]
        if scheme not in ("redis", "rediss", "unix"):
            self.fail(f"{value!r} is not a Redis URL (redis://[USER@]HOST:PORT/DB)", param, ctx)
        return with_password(str(value), os.environ.get(PASSWORD_ENV))


REDIS_URL = RedisURL()


def redis_option(help_text: str):
    """The ``--redis URL`` option of every command that talks to a distributed crawl's Redis."""
    return click.option("--redis", "redis_url", type=REDIS_URL, default=DEFAULT_REDIS, show_default=True,
                        help=help_text + " The password comes from $POLICYWATCH_REDIS_PASSWORD.")


def crawl_distributed(sites, *, redis_url: str, crawl_id: str, db_path: Path,
                      replay_url: str | None = None, max_pages: int | None = None,
                      contact: str | None = None, mode: str = "full",
                      settings: dict | None = None):
    """Crawl ``sites`` as one worker of the distributed crawl ``crawl_id`` (blocks until the
    crawl is done everywhere); returns the run reports of this worker. ``mode``: full or
    incremental (which needs the known URLs ``policywatch ingest`` publishes); ``settings``: the
    config's [scrapy] table (the distributed crawl's own settings win)."""
    from pipelines.knownurls import PUBLISHED_KEY

    from crawlers.engine.distributed import DISTRIBUTED_MODES, DistributedError, DistributedPolicySpider, connect, \
        distributed_settings
    from crawlers.engine.runner import run_crawl

    if mode not in DISTRIBUTED_MODES:
        raise DistributedError(f"a distributed crawl is a full or an incremental one, not {mode}")
    client = connect(redis_url)  # a clear error now rather than a crawl that cannot schedule
    if mode == "incremental" and not client.exists(PUBLISHED_KEY):
        raise DistributedError("no known URLs in Redis: start `policywatch ingest` (it publishes the "
                               "corpus' documents when it starts) before an incremental distributed crawl")
    overrides = {**(settings or {}), **distributed_settings(redis_url, crawl_id)}
    # Take from the shared queue only what this process can fetch now (its sites' download
    # slots); Scrapy's default of 16 would hoard pages the other processes could be fetching.
    overrides["CONCURRENT_REQUESTS"] = sum(4 if replay_url else max(1, s.politeness.concurrency)
                                           for s in sites)
    return run_crawl(sites, db_path, replay_url=replay_url, max_pages=max_pages, mode=mode,
                     contact=contact, overrides=overrides, spider_class=DistributedPolicySpider)


@click.command()
@redis_option("The Redis the crawler processes push their documents to.")
@db_option
@config_option
@click.option("--until-idle", type=click.FloatRange(min=0), default=None, metavar="SECONDS",
              help="Stop once no document came for SECONDS and no crawler run is open "
                   "(default: keep running until Ctrl-C or SIGTERM).")
@pass_app
def ingest(app: App, redis_url: str, until_idle) -> None:
    """The one writer of distributed crawls: store the documents and run records that
    `policywatch crawl --distributed` processes queue in Redis into the corpus."""
    import redis

    from pipelines.ingest import DEAD_KEY, IngestStopped, Writer

    from crawlers.engine.distributed import DistributedError, connect, redact

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
    try:
        writer = Writer(client, path)
    except redis.RedisError as exc:
        raise click.ClickException(f"Redis at {redact(redis_url)}: {exc}") from None
    click.echo(f"ingesting from {redact(redis_url)} into {path}" + ("" if until_idle is not None else
                                                                     " — Ctrl-C stops"))
    try:
        report = writer.run(until_idle=until_idle, stop=stop)
    except IngestStopped as exc:
        raise click.ClickException(str(exc)) from None
    except redis.RedisError as exc:
        raise click.ClickException(f"stopped: Redis at {redact(redis_url)}: {exc}") from None
    finally:
        writer.close()
    kinds = ", ".join(f"{v} {k}" for k, v in sorted(report.documents.items())) or "no documents"
    dead = f" (dead letters, kept in {DEAD_KEY})" if report.bad else ""
    click.echo(f"stored {kinds}; {report.runs_finished} run(s) finished; "
               f"{report.bad} message(s) not storable{dead}")
