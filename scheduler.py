"""The front door: the ``policywatch`` command group.

The group resolves the config file, the home and the corpus once into an ``App``
(``crawlers.app``) that every command receives; it turns the corpus' and the config's expected
failures into one line and a non-zero exit. Thin on purpose: each command parses its options
and calls the package that owns the work (crawlers/ for portals and crawls, pipelines/ for the
corpus).
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import sys
from pathlib import Path

import click

from crawlers.app import App, active_app, config_option, db_option, pass_app
from crawlers.config import ConfigError
from crawlers.distributedcommands import redis_option
from crawlers.parsing import clock
from crawlers.paths import demo_db
from crawlers.probecommands import fixture_site_options, resolve_site

logger = logging.getLogger("policywatch")


def _setup_logging(verbose: int) -> None:
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Scrapy sets its own loggers to DEBUG when a crawl starts; the handler keeps our level.
    for handler in logging.root.handlers:
        handler.setLevel(level)


def _resolve_sites(app: App, keys: tuple[str, ...], all_enabled: bool = False, replay: bool = False):
    """The sites to crawl by key: the registry's, the config's [[watch]] sites, and (crawling
    the replay portal) the replay-only ones."""
    from crawlers.tools.watch import find_sites, known_sites

    config = app.config
    if all_enabled or not keys:
        return [s for s in known_sites(config) if s.enabled]
    try:
        return find_sites(keys, config, replay=replay)
    except KeyError as exc:
        raise click.BadParameter(str(exc.args[0]), param_hint="SITE") from None


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
    """The command group that says an expected failure in one line: a bad config or corpus
    raised below a command (a scheduled round, a crawl's helper) exits 1 without a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from None
        except RuntimeError as exc:
            from pipelines.schema import CorpusError  # not imported by commands without a corpus

            if not isinstance(exc, CorpusError):
                raise
            raise click.ClickException(str(exc)) from None
        except sqlite3.DatabaseError as exc:
            # Exactly DatabaseError: a file damaged past what opening it checks ("database disk
            # image is malformed"). Its subclasses (integrity, programming errors) are bugs.
            if type(exc) is not sqlite3.DatabaseError:
                raise
            app = active_app(ctx)
            where = app.db if app is not None else "the corpus"
            raise click.ClickException(f"{where}: cannot be read: {exc}") from None


@click.group(cls=FrontDoor, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
              help="The TOML config file (default: $POLICYWATCH_CONFIG, else "
                   "$POLICYWATCH_HOME/policywatch.toml if it exists; none needed).")
@click.option("--db", type=click.Path(dir_okay=False), default=None,
              help="The corpus file every command uses (default: the config's [paths] db, else "
                   "$POLICYWATCH_HOME/corpus.db).")
@click.version_option(package_name="policywatch", message="policywatch %(version)s")
@click.pass_context
def main(ctx: click.Context, verbose: int, config_path, db) -> None:
    """policywatch: watch Chinese government portals for new and revised policy documents."""
    _setup_logging(verbose)
    _start_clock(os.environ.get("POLICYWATCH_NOW"))
    ctx.obj = App.resolve(config_path, db)  # the config itself is read when a command needs it


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the registry as JSON instead of a table.")
@click.option("--markdown", is_flag=True, help="Print the README's table of supported portals (Markdown).")
@click.option("--readme", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
              help="Rewrite the supported-portals section of this README file in place.")
@config_option
@pass_app
def sites(app: App, as_json: bool, markdown: bool, readme: Path | None) -> None:
    """List the registered portals: key, name, division code, level, CMS family, columns,
    verification status (verified against a saved real page, or unverified) and evidence;
    then the config's [[watch]] sites, marked config-declared (the README lists the registry)."""
    from crawlers.tools.sitelist import ReadmeError, readme_section, replace_readme_section, site_rows, sites_table
    from crawlers.sites import all_sites

    registry = all_sites()
    declared = list(app.config.watch) if not (readme or markdown) else []
    if readme is not None:
        text = readme.read_text(encoding="utf-8")
        try:
            updated = replace_readme_section(text, registry)
        except ReadmeError as exc:
            raise click.ClickException(f"{readme}: {exc}") from None
        readme.write_text(updated, encoding="utf-8")
        click.echo(f"{readme}: supported portals {'updated' if updated != text else 'already current'}")
    elif markdown:
        click.echo(readme_section(registry))
    elif as_json:
        click.echo(json.dumps(site_rows(registry + declared), ensure_ascii=False, indent=2))
    else:
        click.echo(sites_table(registry + declared))


@main.command()
@click.argument("file", type=click.File("rb"))
@click.option("--url", required=True, help="The URL the page was fetched from (resolves links, picks the site).")
@click.option("--site", "site_key", default=None, help="Parse as this registered site (default: found from the URL's host).")
@click.option("--content-type", default=None, help="The response's Content-Type header, if known (e.g. 'text/html; charset=gbk').")
@click.option("--with-text/--without-text", default=True, show_default=True, help="Include body_text in the output.")
def parse(file, url: str, site_key: str | None, content_type: str | None, with_text: bool) -> None:
    """Parse a saved detail page (FILE, or - for stdin) and print the document as JSON."""
    from crawlers.pageparse import ParseError, parse_saved_page

    headers = {"Content-Type": content_type} if content_type else {}
    try:
        item = parse_saved_page(file.read(), url, headers=headers, site_key=site_key)
    except (ParseError, KeyError) as exc:
        raise click.ClickException(f"{file.name}: {exc}") from None
    data = item.to_json()
    if not with_text:
        data.pop("body_text")
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _crawl_options(fn):
    fn = config_option(fn)
    fn = db_option(fn)
    fn = click.option("--max-pages", type=click.IntRange(min=1), default=None,
                      help="Read at most this many list pages per column.")(fn)
    fn = click.option("--replay", "replay_url", default=None, metavar="URL",
                      help="Fetch every page from a local replay portal at URL (testing).")(fn)
    fn = click.option("--contact", default=None,
                      help="A URL or e-mail added to the User-Agent so webmasters can reach you.")(fn)
    return fn


def _crawl_of(sites) -> str:
    """What a crawl is called in its one line: its sites, or their number when they are many."""
    if len(sites) > 5:
        return f"crawl of {len(sites)} sites"
    return f"crawl of {', '.join(s.key for s in sites)}"


def _report_and_exit(reports, what: str, resumable: bool = False) -> None:
    """Print what the crawl did; exit with its status (``crawlers.engine.summary``), with one line on
    stderr saying why when it is not ok."""
    from crawlers.engine.summary import crawl_outcome, render_run_reports

    click.echo(render_run_reports(reports))
    code, line = crawl_outcome(reports, what, resumable=resumable)
    if line:
        click.echo(line, err=True)
    sys.exit(code)


@main.command()
@click.argument("site_keys", nargs=-1, required=True, metavar="SITE...")
@_crawl_options
@click.option("--incremental/--full", default=False, show_default=True,
              help="Incremental: only new documents plus due revisits (as the daily run does); "
                   "full: re-read every list page and document.")
@click.option("--sweep", is_flag=True,
              help="Incremental, but every list page of each column is read to its end, so that "
                   "what a column no longer lists is seen (withdrawals); the schedule sweeps every "
                   "[schedule] sweep_days.")
@click.option("--revisit-budget", type=click.IntRange(min=0), default=None,
              help="Incremental: known documents to re-check per site (default 30).")
@click.option("--distributed", is_flag=True,
              help="Be one of several crawler processes sharing a Redis frontier; documents go to "
                   "Redis for `policywatch ingest` to store (full, or --incremental skipping the "
                   "documents the writer published).")
@redis_option("With --distributed: the Redis holding the shared frontier.")
@click.option("--crawl-id", default="default", show_default=True,
              help="With --distributed: the name the processes of one crawl share.")
@click.option("--outcomes", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write how each site's crawl ended to this file, a JSON line per site "
                   "(the daily round reads it).")
@pass_app
def crawl(app: App, site_keys, max_pages, replay_url, contact, incremental, sweep, revisit_budget,
          distributed, redis_url, crawl_id, outcomes) -> None:
    """Crawl the named sites (registry or config-declared) now and store what they publish."""
    from crawlers.engine.runner import run_crawl

    chosen = _resolve_sites(app, site_keys, replay=bool(replay_url))
    if distributed:
        from crawlers.engine.distributed import DistributedError
        from crawlers.distributedcommands import crawl_distributed

        if sweep:
            raise click.BadParameter("a sweep runs where the corpus is, not distributed",
                                     param_hint="--sweep")
        try:
            reports = crawl_distributed(chosen, redis_url=redis_url, crawl_id=crawl_id,
                                        db_path=app.db, replay_url=replay_url,
                                        max_pages=max_pages, contact=contact,
                                        mode="incremental" if incremental else "full",
                                        settings=app.config.scrapy)
        except DistributedError as exc:
            raise click.ClickException(str(exc)) from None
        _report_and_exit(reports, _crawl_of(chosen))
        return
    reports = run_crawl(chosen, app.prepared_db(), replay_url=replay_url, max_pages=max_pages,
                        mode="sweep" if sweep else "incremental" if incremental else "full",
                        revisit_budget=revisit_budget, contact=contact, overrides=app.config.scrapy)
    if outcomes is not None:
        from crawlers.engine.summary import write_site_outcomes

        write_site_outcomes(reports, outcomes)
    _report_and_exit(reports, _crawl_of(chosen))


@main.command()
@config_option
@db_option
@click.option("--digest/--no-digest", default=True, show_default=True,
              help="End the round with the digest and its delivery, as the schedule does.")
@click.option("--replay", "replay_url", default=None, metavar="URL",
              help="Crawl a local replay portal at URL instead of the real portals (testing).")
@pass_app
def run(app: App, digest: bool, replay_url) -> None:
    """One round now, as the schedule runs it daily: every enabled site, then the digest.
    Exit 0 when a site's crawl worked, 1 when none did, 130 when interrupted."""
    from crawlers.engine.rounds import STOP
    from crawlers.engine.summary import EXIT_FAILED, EXIT_INTERRUPTED

    try:
        # A bad config or corpus is refused in one line before any crawl starts.
        # (A round before the corpus exists sweeps nothing: it is not created here.)
        outcomes = daily_round(app.config_path, replay_url, db=app.prepared_db(create=False),
                               digest=digest)
    except KeyboardInterrupt:
        # The crawls got the same Ctrl-C: each stored what it had fetched and recorded its run.
        click.echo("round interrupted; the next round crawls what this one did not", err=True)
        sys.exit(EXIT_INTERRUPTED)
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


def _parse_day(ctx, param, value):
    if value is None:
        return None
    from datetime import date

    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None


@main.command()
@click.argument("site_key", metavar="SITE")
@click.option("--since", callback=_parse_day, default=None, metavar="DATE",
              help="Only documents published on or after DATE (YYYY-MM-DD).")
@click.option("--until", callback=_parse_day, default=None, metavar="DATE",
              help="Only documents published on or before DATE (YYYY-MM-DD).")
@_crawl_options
@pass_app
def backfill(app: App, site_key, since, until, max_pages, replay_url, contact) -> None:
    """Walk a site's whole archive into the corpus; stop it any time and run it again to resume."""
    from crawlers.engine.runner import run_crawl

    if since and until and since > until:
        raise click.BadParameter(f"--since {since} is after --until {until}")
    sites = _resolve_sites(app, (site_key,), replay=bool(replay_url))
    reports = run_crawl(sites, app.prepared_db(), run_kind="backfill", replay_url=replay_url,
                        max_pages=max_pages, mode="backfill", since=since, until=until,
                        contact=contact, overrides=app.config.scrapy)
    _report_and_exit(reports, f"backfill of {site_key}", resumable=True)


@main.command()
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The demo corpus file (default: $POLICYWATCH_HOME/demo.db, recreated).")
@click.option("--keep", is_flag=True, help="Keep the existing demo corpus instead of starting afresh.")
@click.option("--browser/--no-browser", default=True, show_default=True,
              help="Include the replay site whose list only a browser renders (needs Chromium).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where each day's digest is written (default: $POLICYWATCH_HOME/demo-digests).")
@click.option("--repeat-day", "repeat_days", type=click.IntRange(min=1), multiple=True,
              help="Crawl day N twice (same check day) to show that a repeated run changes and sends nothing.")
@pass_app
def demo(app: App, db, keep: bool, browser: bool, out, repeat_days) -> None:
    """A week on the bundled replay portal (127.0.0.1): a backfill, a new policy, a revision, a
    withdrawal, an anti-bot day, a draft finalised, a repeal, a quiet day — each day's digest written."""
    from crawlers.replay.demo import run_demo

    run_demo(db or demo_db(app.home), out or app.home / "demo-digests", fresh=not keep, browser=browser,
             echo=click.echo, repeat_days=tuple(repeat_days))


SEARCH_FIELDS = ("url", "site", "title", "doc_number", "index_no", "issuer", "written_date",
                 "published_date", "relevance", "doc_type", "status")


@main.command()
@click.argument("query")
@db_option
@config_option
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True, help="Show at most this many documents.")
@click.option("--json", "as_json", is_flag=True, help="Print the documents as JSON for tools.")
@pass_app
def search(app: App, query: str, limit: int, as_json: bool) -> None:
    """Search titles and text (Chinese terms of any length), 文号 and 索引号: `A B` both, `A OR B`
    either, `"A B"` the phrase; a 文号 is found however its brackets are written."""
    from crawlers.tools.sitelist import table
    from digest.labels import RELEVANCE
    from pipelines.search import search as search_corpus

    try:
        hits = search_corpus(app.read_corpus(), query, limit=limit)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="QUERY") from None
    if as_json:
        click.echo(json.dumps([{k: doc.get(k) for k in SEARCH_FIELDS} for doc in hits],
                              ensure_ascii=False, indent=2))
        return
    if not hits:
        click.echo(f"nothing found for {query}")
        return
    rows = [[doc.get("published_date") or "-", doc.get("site") or "", doc.get("doc_number") or "-",
             doc["title"], RELEVANCE.get(doc.get("relevance") or "", "-"), doc["url"]] for doc in hits]
    click.echo(table(["发布日期", "站点", "文号", "标题", "相关度", "链接"], rows))


@main.command("serve-replay")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True, help="Port on 127.0.0.1.")
def serve_replay(port: int) -> None:
    """Serve the fixture portal on 127.0.0.1 until Ctrl-C (crawl it with --replay URL)."""
    import time

    from crawlers.replay.portal import ReplayPortal

    portal = ReplayPortal.from_fixtures()
    with portal.serve(port) as base:
        click.echo(f"replay portal with {len(portal.urls())} pages at {base} — Ctrl-C to stop")
        click.echo(f"crawl it with: policywatch crawl SITE --replay {base}")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


@main.group()
def fixture() -> None:
    """Record and check the saved pages a site is tested on."""


@fixture.command("save")
@click.argument("site_key", metavar="SITE")
@click.argument("source", metavar="FILE_OR_URL")
@click.option("--url", default=None, help="The page's URL on the portal (required when SOURCE is a file).")
@click.option("--kind", type=click.Choice(["detail", "list"]), default="detail", show_default=True, help="What the page is.")
@click.option("--column", default=None, help="For a list page: the column's name in the site spec (default: the first).")
@click.option("--name", default=None, help="File name in the fixture folder (default: <kind>_<n>.html).")
@click.option("--replay", "replay_url", default=None, metavar="URL", help="Fetch SOURCE through a local replay portal.")
@fixture_site_options
@pass_app
def fixture_save(app: App, site_key, source, url, kind, column, name, replay_url, fixtures_dir) -> None:
    """Save a page (a file, or fetched from a URL) as a fixture with its parse for review.
    SITE is a registry key or a config-declared ([[watch]]) one."""
    from crawlers.tools.fixturesave import FixtureSaveError, fixtures_root, save_fixture

    site = resolve_site(site_key, app.config)
    try:
        root = fixtures_root(site, fixtures_dir)
    except FixtureSaveError as exc:
        raise click.UsageError(str(exc)) from None
    try:
        result = save_fixture(site, source, url=url, kind=kind, column=column, name=name,
                              replay_url=replay_url, root=root)
    except (FixtureSaveError, KeyError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"saved {result.page_path}")
    click.echo(f"expected parse in {result.expected_path} — review it before committing")


@main.command()
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON for tools instead of a table.")
@config_option
@pass_app
def status(app: App, as_json: bool) -> None:
    """Every site's health: last success, documents, new this week, failures, blocked or broken
    (config-declared sites marked so)."""
    from crawlers.tools.sitelist import table
    from crawlers.tools.watch import known_sites
    from pipelines.corpus import dead_runs
    from pipelines.health import site_health
    from pipelines.ingest import dead_letter_line

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


@main.command()
@db_option
@config_option
@pass_app
def migrate(app: App) -> None:
    """Bring the corpus to this version's schema, in one transaction (crawls do it too; read
    commands never change the corpus, so they ask for this after an upgrade)."""
    from pipelines.schema import SCHEMA_VERSION, migrate_corpus

    found = migrate_corpus(app.db)  # a bad file: CorpusError, one line (FrontDoor)
    if found == SCHEMA_VERSION:
        click.echo(f"{app.db}: corpus already at schema version {SCHEMA_VERSION}")
    else:
        click.echo(f"{app.db}: corpus migrated from schema version {found} to {SCHEMA_VERSION}")


# --- the schedule: APScheduler 3.x owns time ---------------------------------------------------
DAILY_JOB = "daily"


def scheduled_sites(config, interval: bool | None = None, replay: bool = False) -> list:
    """The sites a schedule crawls: the registry's and the config's [[watch]] enabled sites (and
    the replay-only ones when crawling the replay portal), narrowed by the config;
    ``interval`` True/False keeps only sites with/without an interval of their own."""
    from crawlers.tools.watch import known_sites

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


def daily_round(config_path: str | None = None, replay_url: str | None = None, *,
                db: Path | None = None, digest: bool = True) -> list:
    """The daily job: an incremental crawl of every scheduled site, then the digest and its
    delivery (each in its own process, so no failure of one stops the rest). Each process is
    given the config file read here and the corpus explicitly."""
    import dataclasses
    import subprocess

    from crawlers.config import load_config
    from crawlers.engine.rounds import REPO, STOP, run_round

    config = load_config(config_path)
    if db is not None:
        config = dataclasses.replace(config, db=Path(db))
    keys = [s.key for s in scheduled_sites(config, interval=False, replay=bool(replay_url))]
    sweep = _due_a_sweep(config, keys)
    logger.warning("daily round: crawling %d site(s)%s", len(keys),
                   f", sweeping {len(sweep)} to the end of their columns" if sweep else "")
    outcomes = run_round(keys, config.db, max_parallel=config.schedule.max_parallel,
                         stagger=config.schedule.stagger_seconds, replay_url=replay_url,
                         contact=config.contact, stop=STOP, config_path=config.source, sweep=sweep)
    failed = [o.site for o in outcomes if o.returncode not in (0, None)]
    if failed:
        logger.warning("daily round: %d site(s) failed: %s", len(failed), ", ".join(failed))
    if not digest:
        return outcomes
    if STOP.is_set():
        logger.warning("daily round stopped before the digest; it is sent with the next round")
        return outcomes
    if not Path(config.db).exists():
        logger.warning("no corpus at %s yet: no digest", config.db)
        return outcomes
    sent = subprocess.run(_digest_command(config), cwd=REPO, capture_output=True,
                          text=True, timeout=3600)
    if sent.returncode != 0:
        logger.error("digest failed (exit %d):\n%s", sent.returncode, sent.stderr[-2000:])
    return outcomes


def _due_a_sweep(config, keys: list[str]) -> set[str]:
    """The sites whose daily crawl is a sweep today (``[schedule] sweep_days``); none before the
    corpus exists (a first crawl of a site reads only what is new anyway)."""

    from pipelines.revisits import sites_due_a_sweep
    from pipelines.schema import open_corpus

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
    import dataclasses

    from crawlers.config import load_config
    from crawlers.engine.rounds import STOP, run_round

    config = load_config(config_path)
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
@config_option
@click.option("--run-now", is_flag=True, help="Also run one round right away, then keep the schedule.")
@click.option("--replay", "replay_url", default=None, metavar="URL",
              help="Crawl a local replay portal at URL instead of the real portals (testing).")
@pass_app
def schedule(app: App, run_now: bool, replay_url) -> None:
    """Run in the foreground: the daily crawl of every enabled site, then the digest and its delivery."""
    import signal
    from datetime import datetime

    from crawlers.engine.rounds import STOP

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


# --- commands of other packages (one import + one add_command line each) ---------------------
from digest.reportcommands import browse as _browse, export as _export, report as _report  # noqa: E402
main.add_command(_report)
main.add_command(_browse)
main.add_command(_export)
from digest.commands import changes as _changes, digest as _digest  # noqa: E402
main.add_command(_digest)
main.add_command(_changes)
from classifiers.commands import classify_command as _classify, eval_command as _eval  # noqa: E402
from classifiers.commands import retag_command as _retag, train_command as _train  # noqa: E402
main.add_command(_classify)
main.add_command(_retag)
main.add_command(_eval)
main.add_command(_train)
from crawlers.probecommands import probe as _probe  # noqa: E402
main.add_command(_probe)
from crawlers.watchcommands import detect as _detect, watch as _watch  # noqa: E402
main.add_command(_detect)
main.add_command(_watch)
from crawlers.distributedcommands import ingest as _ingest  # noqa: E402
main.add_command(_ingest)


if __name__ == "__main__":
    main()
