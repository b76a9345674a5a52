"""The corpus' commands: status, migrate, retag, and ingest (the one writer of
distributed crawls). Each receives the application object (``click.pass_obj``) the front door
(``scheduler.py``) resolved: its config, home and corpus."""

from __future__ import annotations

import json
import logging
import signal
import threading

import click
import redis

from crawlers.items.transport import DistributedError, connect, redact, redis_option
from crawlers.parsing.display import table
from crawlers.sites.declared import known_sites
from pipelines.health import site_health
from pipelines.ingest import DEAD_KEY, IngestStopped, Writer, dead_letter_line
from pipelines.retag import retag
from pipelines.runs import dead_runs
from pipelines.schema import SCHEMA_VERSION, migrate_corpus

logger = logging.getLogger(__name__)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON for tools instead of a table.")
@click.pass_obj
def status(app, as_json: bool) -> None:
    """Every site's health: last success, documents, new this week, failures, blocked or broken
    (config-declared sites marked so)."""

    config = app.config
    declared = {s.key for s in config.watch}
    db = app.read_corpus()
    # A run whose process died is shown killed, not running (the next crawl records it so).
    health = site_health(db, known_sites(config), dead=dead_runs(db))
    if as_json:
        click.echo(json.dumps([{**h.to_json(), "config_declared": h.site in declared} for h in health],
                              ensure_ascii=False, indent=2))
        return
    rows = [[h.site + (" (config)" if h.site in declared else ""), h.state, h.last_status or "-",
             (h.last_success or "-")[:16], (h.last_sweep or "-")[:10], str(h.documents),
             str(h.new_this_week),
             ", ".join(f"{k} {v}" for k, v in sorted(h.failures.items())) or "-",
             "; ".join(([h.last_run_why] if h.last_run_why else []) + h.why) or "-"] for h in health]
    click.echo(table(["site", "state", "last run", "last success", "last sweep", "documents",
                      "new 7d", "last run refused", "why"], rows))
    if (dead := dead_letter_line(db)):  # distributed crawls' messages the writer could not store
        click.echo(dead)


@click.command()
@click.pass_obj
def migrate(app) -> None:
    """Bring the corpus to this version's schema, in one transaction (crawls do it too; read
    commands never change the corpus, so they ask for this after an upgrade)."""

    found = migrate_corpus(app.db)  # a bad file: CorpusError, one line (FrontDoor)
    if found == SCHEMA_VERSION:
        click.echo(f"{app.db}: corpus already at schema version {SCHEMA_VERSION}")
    else:
        click.echo(f"{app.db}: corpus migrated from schema version {found} to {SCHEMA_VERSION}")

@click.command("retag")
@click.option("--all", "everything", is_flag=True,
              help="Re-tag every document, not only those tagged by another classifier version.")
@click.option("--batch", type=click.IntRange(min=1), default=200, show_default=True,
              help="Documents per transaction.")
@click.pass_obj
def retag_command(app, everything: bool, batch: int) -> None:
    """Re-tag the stored corpus with the current classifier (after a lexicon or model change)
    and record the classifier version on every document."""

    result = retag(app.write_corpus(create=False), everything=everything, batch=batch)
    relinked = f"; {result.relinked} 政策解读 linked anew" if result.relinked else ""
    click.echo(f"classifier {result.version}: {result.updated} document(s) re-tagged, "
               f"{result.failed} could not be classified, of {result.examined} examined{relinked}")

@click.command()
@redis_option("The Redis the crawler processes push their documents to.")
@click.option("--until-idle", type=click.FloatRange(min=0), default=None, metavar="SECONDS",
              help="Stop once no document came for SECONDS and no crawler run is open "
                   "(default: keep running until Ctrl-C or SIGTERM).")
@click.pass_obj
def ingest(app, redis_url: str, until_idle) -> None:
    """The one writer of distributed crawls: store the documents and run records that
    `policywatch crawl --distributed` processes queue in Redis into the corpus."""
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


# The commands the front door (scheduler.py) adds to the `policywatch` group.
COMMANDS = (status, migrate, retag_command, ingest)
