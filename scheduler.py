"""The front door: the ``policywatch`` command group, the application object, and time.

The group reads the environment and the config file and resolves the home and the corpus once,
into an ``App`` every command receives (``click.pass_obj``). The group's options (``--config``,
``--db``, ``-v``/``-q``, ``--log-file``) may stand anywhere on the command line. Each package
keeps its commands in its own ``cli.py``, imported here and nowhere else; this module adds the
commands of the whole application — ``run`` (one round: crawls, then the digest), ``schedule``
(APScheduler 3.x runs the rounds daily) and ``demo``. Expected failures (a bad config or corpus)
end in one line and a non-zero exit.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import signal
import sqlite3
import subprocess
import sys
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path

import click

import classifiers.cli
import crawlers.cli
import digest.cli
import pipelines.cli
from crawlers.config import Config, ConfigError, config_path, load_config
from crawlers.engine.rounds import REPO, STOP, run_round
from crawlers.engine.summary import EXIT_FAILED, EXIT_INTERRUPTED
from crawlers.pageparse import read_document
from crawlers.parsing import clock
from crawlers.paths import data_dir, demo_db
from crawlers.replay.demo import run_demo
from crawlers.sites import get_site
from crawlers.sites.declared import known_sites
from digest.build import KIND_LABELS
from digest.delivery import FilesChannel, deliver
from digest.settings import read_tables
from pipelines.revisits import sites_due_a_sweep
from pipelines.schema import CorpusError, open_corpus, read_corpus

logger = logging.getLogger("policywatch")


def load_app_config(path: str | Path | None = None) -> Config:
    """The whole config file: the crawl's tables (``crawlers.config``) and the digest's
    (``digest.settings``), each checked by the package that owns it."""
    return load_config(path, tables=read_tables)


# --- the application object ---------------------------------------------------------------------
@dataclass(frozen=True)
class App:
    config_path: Path | None  # the config file (None: there is none, defaults apply)
    home: Path  # $POLICYWATCH_HOME
    db_override: Path | None = None  # --db, over the config's [paths] db

    @classmethod
    def resolve(cls, config: str | Path | None = None, db: str | Path | None = None) -> "App":
        """``--config``, else $POLICYWATCH_CONFIG, else $POLICYWATCH_HOME/policywatch.toml if it
        exists; ``--db``, else the config's ``[paths] db``."""
        return cls(config_path(config), data_dir(), Path(db).expanduser() if db else None)

    @cached_property  # frozen: cached_property writes the instance __dict__, not an attribute
    def config(self) -> Config:
        """The validated config (defaults without a file); a one-line click error if it is bad."""
        try:
            return load_app_config(self.config_path)
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from None

    @property
    def db(self) -> Path:
        """The corpus every command reads or writes: ``--db``, else the config's ``[paths] db``,
        else ``$POLICYWATCH_HOME/corpus.db``."""
        return self.db_override or self.config.db

    def read_corpus(self):
        """The corpus, read-only (never created, migrated or written); a one-line click error
        for a missing, damaged or foreign file."""
        try:
            return read_corpus(self.db)
        except CorpusError as exc:
            raise click.ClickException(str(exc)) from None

    def write_corpus(self, create: bool = True):
        """The corpus, for writing: created (with ``create``) or migrated; a one-line click error
        for a damaged, foreign or newer file, never touching it."""
        try:
            return open_corpus(self.db, create=create)
        except CorpusError as exc:
            raise click.ClickException(str(exc)) from None

    def prepared_db(self, create: bool = True) -> Path:
        """The corpus path, created or migrated and checked now, for a writer that opens it
        itself (a Scrapy crawl, the ingest writer): a bad file is refused before any work.
        Without ``create`` a missing corpus is left for that writer to create."""
        if create or self.db.exists():
            self.write_corpus().close()
        return self.db

    # What the classifiers' commands need of the rest of the project, passed in (they import
    # nothing of it): a registered site by key, and the reader of saved pages.
    find_site = staticmethod(get_site)
    read_page = staticmethod(read_document)


# --- logging ------------------------------------------------------------------------------------
OWN_LOGGERS = ("policywatch", "scheduler", "crawlers", "pipelines", "classifiers", "digest")


class _Levels(logging.Filter):
    """policywatch's own messages from ``own`` up, everyone else's (Scrapy, Twisted...) from
    ``others`` up. A filter on the handlers, not logger levels: Scrapy resets its loggers' levels
    when a crawl starts."""

    def __init__(self, own: int, others: int):
        super().__init__()
        self.own, self.others = own, others

    def filter(self, record: logging.LogRecord) -> bool:
        ours = record.name.split(".", 1)[0] in OWN_LOGGERS or record.name == "__main__"
        return record.levelno >= (self.own if ours else self.others)


class _TerminalFormat(logging.Formatter):
    """Ordinary messages as they are; warnings and errors with their level and source."""

    def format(self, record: logging.LogRecord) -> str:
        if record.levelno <= logging.INFO:
            return record.getMessage()
        return f"{record.levelname} {record.name}: {super().format(record)}"


def setup_logging(verbose: int = 0, quiet: int = 0, log_file: Path | None = None) -> None:
    """Ordinary messages (INFO) shown by default; ``-v`` adds the libraries' INFO, ``-vv``
    everything; ``-q`` only warnings, ``-qq`` only errors. ``log_file`` gets the same lines."""
    level = verbose - quiet
    own = {-2: logging.ERROR, -1: logging.WARNING, 0: logging.INFO, 1: logging.INFO}.get(
        level, logging.ERROR if level < -2 else logging.DEBUG)
    others = logging.WARNING if level <= 0 else logging.INFO if level == 1 else logging.DEBUG
    handlers: list[logging.Handler] = [logging.StreamHandler()]
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    # A person at a terminal reads messages; a log (a pipe, a file) gets times, levels, sources.
    full = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    handlers[0].setFormatter(_TerminalFormat() if sys.stderr.isatty() else full)
    if log_file is not None:
        handlers[1].setFormatter(full)
    for handler in handlers:
        handler.addFilter(_Levels(own, others))
        root.addHandler(handler)
    root.setLevel(min(own, others))


# --- the group ----------------------------------------------------------------------------------
# The group's options, accepted anywhere on the command line: name -> takes a value.
GLOBAL_OPTIONS = {"--config": True, "--db": True, "--log-file": True,
                  "-v": False, "--verbose": False, "-q": False, "--quiet": False}


def hoist_global_options(args: list[str]) -> list[str]:
    """``args`` with the group's options moved before the subcommand (after ``--``, nothing
    moves), so ``policywatch crawl SITE --config f -v`` means ``policywatch --config f -v crawl SITE``."""
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest += args[i:]
            break
        name = arg.split("=", 1)[0]
        if name in GLOBAL_OPTIONS:
            takes_value = GLOBAL_OPTIONS[name]
            if takes_value and "=" not in arg and i + 1 < len(args):
                front += args[i:i + 2]
                i += 2
                continue
            front.append(arg)
        elif arg[:1] == "-" and arg[1:2] in ("v", "q") and len(arg) > 2 and set(arg[1:]) <= {"v", "q"}:
            front.append(arg)  # -vv, -qq
        else:
            rest.append(arg)
        i += 1
    return front + rest


def _start_clock(moment: str | None) -> None:
    """``POLICYWATCH_NOW``: crawls, revisits, run records and the digest take "now" to be that
    moment (``crawlers.parsing.clock``), e.g. to run tomorrow's round today."""
    if not moment:
        return
    try:
        clock.start_at(clock.parse_moment(moment))
    except clock.ClockError as exc:
        raise click.ClickException(f"POLICYWATCH_NOW: {exc}") from None


class FrontDoor(click.Group):
    """The command group: its options anywhere on the line, and an expected failure in one line
    (a bad config or corpus raised below a command exits 1 without a traceback)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, hoist_global_options(list(args)))

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (ConfigError, CorpusError) as exc:
            raise click.ClickException(str(exc)) from None
        except sqlite3.DatabaseError as exc:
            # Exactly DatabaseError: a file damaged past what opening it checks ("database disk
            # image is malformed"). Its subclasses (integrity, programming errors) are bugs.
            if type(exc) is not sqlite3.DatabaseError:
                raise
            app = ctx.find_object(App)
            where = app.db if app is not None else "the corpus"
            raise click.ClickException(f"{where}: cannot be read: {exc}") from None


@click.group(cls=FrontDoor, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More log output: -v the libraries' too, -vv debug.")
@click.option("-q", "--quiet", count=True, help="Less: -q warnings and errors only, -qq errors only.")
@click.option("--log-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the log to this file.")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), default=None,
              help="The TOML config file (default: $POLICYWATCH_CONFIG, else "
                   "$POLICYWATCH_HOME/policywatch.toml if it exists; none needed).")
@click.option("--db", type=click.Path(dir_okay=False), default=None,
              help="The corpus file every command uses (default: the config's [paths] db, else "
                   "$POLICYWATCH_HOME/corpus.db; for `demo`, its own $POLICYWATCH_HOME/demo.db).")
@click.version_option(package_name="policywatch", message="policywatch %(version)s")
@click.pass_context
def main(ctx: click.Context, verbose: int, quiet: int, log_file, config_file, db) -> None:
    """policywatch: watch Chinese government portals for new and revised policy documents.

    Its options may also follow the command: `policywatch crawl SITE --db F -v`."""
    setup_logging(verbose, quiet, log_file)
    _start_clock(os.environ.get("POLICYWATCH_NOW"))
    ctx.obj = App.resolve(config_file, db)  # the config itself is read when a command needs it


# --- the application's own commands: a round, the schedule, the demo ----------------------------
@main.command()
@click.option("--digest/--no-digest", default=True, show_default=True,
              help="End the round with the digest and its delivery, as the schedule does.")
@click.option("--replay", "replay_url", default=None, metavar="URL",
              help="Crawl a local replay portal at URL instead of the real portals (testing).")
@click.pass_obj
def run(app: App, digest: bool, replay_url) -> None:
    """One round now, as the schedule runs it daily: every enabled site, then the digest.
    Exit 0 when a site's crawl worked and the digest went out, 1 when no crawl worked or the
    digest failed, 130 when interrupted."""
    try:
        # A bad config or corpus is refused in one line before any crawl starts.
        # (A round before the corpus exists sweeps nothing: it is not created here.)
        result = daily_round(app.config_path, replay_url, db=app.prepared_db(create=False),
                             digest=digest)
    except KeyboardInterrupt:
        # The crawls got the same Ctrl-C: each stored what it had fetched and recorded its run.
        click.echo("round interrupted; the next round crawls what this one did not", err=True)
        sys.exit(EXIT_INTERRUPTED)
    outcomes = result.outcomes
    for outcome in outcomes:
        state = ("ok" if outcome.ok else "not started" if outcome.returncode is None
                 else f"failed (exit {outcome.returncode})")
        click.echo(f"{outcome.site:16} {state:18} {outcome.seconds:6.1f} s")
    if STOP.is_set() or any(o.returncode == EXIT_INTERRUPTED for o in outcomes):
        click.echo("round interrupted; the next round crawls what this one did not", err=True)
        sys.exit(EXIT_INTERRUPTED)
    if outcomes and not any(o.ok for o in outcomes):
        failed = ", ".join(o.site for o in outcomes if not o.ok)
        click.echo(f"round failed: no site's crawl worked ({failed}); `policywatch status` says why",
                   err=True)
        sys.exit(EXIT_FAILED)
    if result.digest_failed:
        click.echo(f"round's digest failed: {result.digest_failed}", err=True)
        sys.exit(EXIT_FAILED)


@main.command()
@click.option("--keep", is_flag=True, help="Keep the existing demo corpus instead of starting afresh.")
@click.option("--browser/--no-browser", default=True, show_default=True,
              help="Include the replay site whose list only a browser renders (needs Chromium).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where each day's digest is written (default: $POLICYWATCH_HOME/demo-digests).")
@click.option("--repeat-day", "repeat_days", type=click.IntRange(min=1), multiple=True,
              help="Crawl day N twice (same check day) to show that a repeated run changes and sends nothing.")
@click.pass_obj
def demo(app: App, keep: bool, browser: bool, out, repeat_days) -> None:
    """A week on the bundled replay portal (127.0.0.1): a backfill, a new policy, a revision, a
    withdrawal, an anti-bot day, a draft finalised, a repeal, a quiet day — each day's digest written.
    Its corpus is its own: --db, else $POLICYWATCH_HOME/demo.db (recreated unless --keep)."""

    run_demo(DemoDesk(), app.db_override or demo_db(app.home), out or app.home / "demo-digests", fresh=not keep, browser=browser,
             echo=click.echo, repeat_days=tuple(repeat_days))


class DemoDesk:
    """The demo's corpus and digest (``crawlers.replay.demo.Desk``): the replay days know
    neither, the front door joins them."""

    def mark(self, db_path: Path) -> int:
        with closing(open_corpus(db_path)) as db:
            return db.execute("SELECT coalesce(max(id), 0) FROM changes").fetchone()[0]

    def changes_after(self, db_path: Path, mark: int) -> list[dict]:
        with closing(open_corpus(db_path)) as db:
            return [dict(r) for r in db.query(
                """SELECT c.id, c.kind, d.url, d.site, d.title FROM changes c
                JOIN documents d ON d.id = c.document_id WHERE c.id > ? ORDER BY c.id""", [mark])]

    def deliver(self, db_path: Path, folder: Path, basename: str, now: datetime,
                feed: bool = True) -> tuple[list[str], int]:
        """The default subscription's digest into ``folder`` (its rolling feed in ``folder/feeds``
        unless ``feed`` is false)."""
        with closing(open_corpus(db_path)) as db:
            report = deliver(db, [FilesChannel(folder, basename=basename, latest_feed=feed)], now=now)[0]
        return report.delivered, report.changes

    def kind_label(self, kind: str) -> str:
        return KIND_LABELS[kind]


# --- the schedule: APScheduler 3.x owns time -----------------------------------------------------
DAILY_JOB = "daily"


def scheduled_sites(config, interval: bool | None = None, replay: bool = False) -> list:
    """The sites a schedule crawls: the registry's and the config's [[watch]] enabled sites (and
    the replay-only ones when crawling the replay portal), narrowed by the config;
    ``interval`` True/False keeps only sites with/without an interval of their own."""

    candidates = known_sites(config, replay=replay)
    chosen = [s for s in candidates if s.enabled and not getattr(s, "blocked_reason", "")]
    if config.enabled_sites:
        chosen = [s for s in chosen if s.key in config.enabled_sites]
    chosen = [s for s in chosen if s.key not in config.disabled_sites]
    if interval is not None:
        chosen = [s for s in chosen if bool(getattr(s, "interval_hours", None)) == interval]
    return chosen


def _digest_command(config) -> list[str]:
    cmd = [sys.executable, "-m", "scheduler", "digest", "--db", str(config.db), "--deliver"]
    return cmd + (["--config", str(config.source)] if config.source else [])


@dataclass
class RoundResult:
    """What a round did: each site's crawl, and why its digest failed (None when it did not)."""

    outcomes: list
    digest_failed: str | None = None


def daily_round(config_path: str | None = None, replay_url: str | None = None, *,
                db: Path | None = None, digest: bool = True) -> RoundResult:
    """The daily job: an incremental crawl of every scheduled site, then the digest and its
    delivery (each in its own process, so no failure of one stops the rest). Each process is
    given the config file read here and the corpus explicitly."""

    config = load_app_config(config_path)
    if db is not None:
        config = dataclasses.replace(config, db=Path(db))
    keys = [s.key for s in scheduled_sites(config, interval=False, replay=bool(replay_url))]
    sweep = _due_a_sweep(config, keys)
    logger.info("daily round: crawling %d site(s)%s", len(keys),
                   f", sweeping {len(sweep)} to the end of their columns" if sweep else "")
    outcomes = run_round(keys, config.db, max_parallel=config.schedule.max_parallel,
                         stagger=config.schedule.stagger_seconds, replay_url=replay_url,
                         contact=config.contact, stop=STOP, config_path=config.source, sweep=sweep,
                         **({"progress_interval": float(config.scrapy["POLICYWATCH_PROGRESS_INTERVAL"])}
                            if "POLICYWATCH_PROGRESS_INTERVAL" in config.scrapy else {}))
    failed = [o.site for o in outcomes if o.returncode not in (0, None)]
    if failed:
        logger.warning("daily round: %d site(s) failed: %s", len(failed), ", ".join(failed))
    if not digest:
        return RoundResult(outcomes)
    if STOP.is_set():
        logger.warning("daily round stopped before the digest; it is sent with the next round")
        return RoundResult(outcomes)
    if not Path(config.db).exists():
        logger.info("no corpus at %s yet: no digest", config.db)
        return RoundResult(outcomes)
    sent = subprocess.run(_digest_command(config), cwd=REPO, capture_output=True,
                          text=True, timeout=3600)
    if sent.returncode == 0:
        return RoundResult(outcomes)
    logger.error("digest failed (exit %d):\n%s", sent.returncode, sent.stderr[-2000:])
    lines = [line for line in sent.stderr.splitlines() if line.strip()]
    return RoundResult(outcomes, lines[-1] if lines else f"exit {sent.returncode}")


def _due_a_sweep(config, keys: list[str]) -> set[str]:
    """The sites whose daily crawl is a sweep today (``[schedule] sweep_days``); none before the
    corpus exists (a first crawl of a site reads only what is new anyway)."""

    if not config.schedule.sweep_days or not Path(config.db).exists():
        return set()
    db = open_corpus(config.db)
    try:
        return sites_due_a_sweep(db, keys, config.schedule.sweep_days, clock.now())
    finally:
        db.close()


def site_round(site_key: str, config_path: str | None = None, replay_url: str | None = None, *,
               db: str | None = None) -> None:
    """A site's own job (sites with ``interval_hours``): crawl it (a sweep when one is due); its
    changes wait for the digest."""

    config = load_app_config(config_path)
    if db is not None:
        config = dataclasses.replace(config, db=Path(db))
    run_round([site_key], config.db, max_parallel=1, stagger=0, replay_url=replay_url,
              contact=config.contact, stop=STOP, config_path=config.source,
              sweep=_due_a_sweep(config, [site_key]))


def build_scheduler(config, *, config_path: str | None, replay_url: str | None, jobstore: Path,
                    scheduler_class=None, executors=None, db: str | None = None):
    """An APScheduler with a persistent job store holding the daily job and the per-site jobs
    (``db``: a corpus other than the config's, from ``--db``).

    Existing jobs keep their next run time, so a run missed while the machine was off is due
    at start: with ``coalesce`` it runs once, however many days were missed.
    """
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    jobstore.parent.mkdir(parents=True, exist_ok=True)
    scheduler = (scheduler_class or BackgroundScheduler)(
        timezone=config.schedule.timezone,
        jobstores={"default": SQLAlchemyJobStore(url=f"sqlite:///{jobstore}")},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        **({"executors": executors} if executors else {}),
    )
    hour, minute = config.schedule.hour_minute
    wanted = {DAILY_JOB: ("scheduler:daily_round",
                          CronTrigger(hour=hour, minute=minute, timezone=config.schedule.timezone))}
    for site in scheduled_sites(config, interval=True, replay=bool(replay_url)):
        wanted[f"site:{site.key}"] = ("scheduler:site_round", IntervalTrigger(hours=site.interval_hours))
    scheduler.start(paused=True)
    for job in scheduler.get_jobs():
        if job.id not in wanted:
            scheduler.remove_job(job.id)
    for job_id, (func, trigger) in wanted.items():
        args = [config_path, replay_url] if func.endswith("daily_round") else [job_id[5:], config_path, replay_url]
        kwargs = {"db": db} if db else {}
        existing = scheduler.get_job(job_id)
        if existing is None:
            scheduler.add_job(func, trigger, id=job_id, args=args, kwargs=kwargs, name=job_id)
        elif str(existing.trigger) != str(trigger) or list(existing.args) != args or \
                dict(existing.kwargs) != kwargs:
            # A changed schedule takes effect from now; an unchanged one keeps its missed run.
            scheduler.remove_job(job_id)
            scheduler.add_job(func, trigger, id=job_id, args=args, kwargs=kwargs, name=job_id)
    return scheduler


@main.command()
@click.option("--run-now", is_flag=True, help="Also run one round right away, then keep the schedule.")
@click.option("--replay", "replay_url", default=None, metavar="URL",
              help="Crawl a local replay portal at URL instead of the real portals (testing).")
@click.pass_obj
def schedule(app: App, run_now: bool, replay_url) -> None:
    """Run in the foreground: the daily crawl of every enabled site, then the digest and its delivery."""

    config = app.config
    # The jobs name the config file found now, so a later change of environment does not move them.
    config_path = str(app.config_path) if app.config_path else None
    db = str(app.db_override) if app.db_override else None
    scheduler = build_scheduler(config, config_path=config_path, replay_url=replay_url,
                                jobstore=app.home / "schedule.db", db=db)
    if run_now:
        scheduler.add_job("scheduler:daily_round", "date", run_date=datetime.now(scheduler.timezone),
                          args=[config_path, replay_url], kwargs={"db": db} if db else {},
                          id="run-now", replace_existing=True)

    def stop(signum, frame) -> None:
        logger.warning("%s: stopping after the running crawl(s)", signal.Signals(signum).name)
        STOP.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for job in scheduler.get_jobs():
        click.echo(f"{job.id}: next run {job.next_run_time}")
    click.echo(f"schedule running (timezone {config.schedule.timezone}); Ctrl-C or SIGTERM stops it")
    scheduler.resume()
    while not STOP.wait(1.0):
        pass
    # Running crawls finish (they store what they fetched); nothing new starts.
    scheduler.shutdown(wait=True)
    click.echo("schedule stopped")



# --- every package's commands, from its cli.py --------------------------------------------------
for _module in (crawlers.cli, pipelines.cli, digest.cli, classifiers.cli):
    for _command in _module.COMMANDS:
        main.add_command(_command)


if __name__ == "__main__":
    main()
