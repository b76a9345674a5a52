"""The crawlers' commands: sites, parse, crawl, backfill, serve-replay, fixture save, probe,
detect and watch. Each receives the application object (``click.pass_obj``) the front door
(``scheduler.py``) resolved: its config, home and corpus."""

from __future__ import annotations

import dataclasses
import json
import logging
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import click

from crawlers.engine.distributed import (
    DISTRIBUTED_MODES,
    DistributedPolicySpider,
    LeasedSiteFeeder,
    distributed_settings,
)
from crawlers.engine.runner import run_crawl
from crawlers.engine.settings import USER_AGENT
from crawlers.engine.summary import crawl_outcome, render_run_reports, write_site_outcomes
from crawlers.families import family_names
from crawlers.items.transport import (
    PUBLISHED_KEY,
    DistributedError,
    connect,
    redis_option,
)
from crawlers.pageparse import ParseError, parse_saved_page
from crawlers.replay.demo import CHROMIUM
from crawlers.replay.portal import ReplayPortal
from crawlers.sites import all_sites
from crawlers.sites.declared import find_sites, known_sites
from crawlers.sites.spec import Politeness, SiteSpecError
from crawlers.tools.detect import OK, Fetch, chromium_renderer, detect_column, jurisdiction, suggest_key
from crawlers.tools.detect import render as render_detection
from crawlers.tools.detect import to_json as detection_json
from crawlers.tools.fixtures import SITES_DIR
from crawlers.tools.fixturesave import FixtureSaveError, fixtures_root, save_fixture
from crawlers.tools.probe import PoliteFetcher, probe_site, render
from crawlers.tools.sitelist import (
    ReadmeError,
    readme_section,
    replace_readme_section,
    site_rows,
    sites_table,
    table,
)
from crawlers.tools.watch import (
    WatchError,
    add_site,
    remove_site,
    spec_table,
    writable_config,
)

logger = logging.getLogger(__name__)


def _resolve_sites(app, keys: tuple[str, ...], all_enabled: bool = False, replay: bool = False):
    """The sites to crawl by key: the registry's, the config's [[watch]] sites, and (crawling
    the replay portal) the replay-only ones."""

    config = app.config
    if all_enabled or not keys:
        return [s for s in known_sites(config) if s.enabled]
    try:
        return find_sites(keys, config, replay=replay)
    except KeyError as exc:
        raise click.BadParameter(str(exc.args[0]), param_hint="SITE") from None


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the registry as JSON instead of a table.")
@click.option("--markdown", is_flag=True, help="Print the README's table of supported portals (Markdown).")
@click.option("--readme", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
              help="Rewrite the supported-portals section of this README file in place.")
@click.pass_obj
def sites(app, as_json: bool, markdown: bool, readme: Path | None) -> None:
    """List the registered portals: key, name, division code, level, CMS family, columns,
    verification status (verified against a saved real page, or unverified) and evidence;
    then the config's [[watch]] sites, marked config-declared (the README lists the registry)."""

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


@click.command()
@click.argument("file", type=click.File("rb"))
@click.option("--url", required=True, help="The URL the page was fetched from (resolves links, picks the site).")
@click.option("--site", "site_key", default=None, help="Parse as this registered site (default: found from the URL's host).")
@click.option("--content-type", default=None, help="The response's Content-Type header, if known (e.g. 'text/html; charset=gbk').")
@click.option("--with-text/--without-text", default=True, show_default=True, help="Include body_text in the output.")
def parse(file, url: str, site_key: str | None, content_type: str | None, with_text: bool) -> None:
    """Parse a saved detail page (FILE, or - for stdin) and print the document as JSON."""

    headers = {"Content-Type": content_type} if content_type else {}
    try:
        item = parse_saved_page(file.read(), url, headers=headers, site_key=site_key)
    except (ParseError, KeyError) as exc:
        raise click.ClickException(f"{file.name}: {exc}") from None
    data = item.to_json()
    if not with_text:
        data.pop("body_text")
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _extension(content_type: str, body: bytes) -> str:
    kind = content_type.lower()
    if "json" in kind or body.lstrip()[:1] in (b"{", b"["):
        return "json"
    if "xml" in kind and "html" not in kind:
        return "xml"
    return "html"


def fixture_site_options(fn):
    """``--fixtures-dir``: the option of the commands that save a site's fixtures, for registry
    and config-declared sites alike."""
    return click.option("--fixtures-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
                        help="Where the site's fixture folder goes (default: the project's "
                             "fixtures/sites; required for a config-declared site).")(fn)


def resolve_site(site_key: str, config):
    """The registry's or the config's site ``site_key``, or a click error naming what is wrong."""

    try:
        site, = find_sites((site_key,), config)
    except KeyError as exc:
        raise click.BadParameter(str(exc.args[0]), param_hint="SITE") from None
    return site


def save_pages(report, root: Path | None = None) -> list[Path]:
    """Save the probe's list page and document as new fixtures of the site (their parses as the
    expected results, for a person to review); returns the files written."""

    site = report.site
    stamp = date.today().strftime("%Y%m%d")
    written = []
    pages = [("list", report.list_page), ("detail", report.detail_page)]
    with tempfile.TemporaryDirectory() as tmp:
        for kind, fetched in pages:
            source = Path(tmp) / f"{kind}.bin"
            source.write_bytes(fetched.body)
            name = f"probe_{stamp}_{kind}.{_extension(fetched.content_type, fetched.body)}"
            saved = save_fixture(site, str(source), url=fetched.url, kind=kind,
                                 column=site.columns[0].name if kind == "list" else None,
                                 name=name, root=root or SITES_DIR)
            written += [saved.page_path, saved.expected_path]
    return written


def _crawl_options(fn):
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

    click.echo(render_run_reports(reports))
    code, line = crawl_outcome(reports, what, resumable=resumable)
    if line:
        click.echo(line, err=True)
    sys.exit(code)


@click.command()
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
              help="Be one of several workers sharing these sites over Redis, each site crawled by "
                   "one worker at a time; documents go to Redis for `policywatch ingest` to store "
                   "(full, or --incremental skipping the documents the writer published).")
@redis_option("With --distributed: the Redis the workers and the writer share.")
@click.option("--crawl-id", default="default", show_default=True,
              help="With --distributed: the name the processes of one crawl share.")
@click.option("--outcomes", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write how each site's crawl ended to this file, a JSON line per site "
                   "(the daily round reads it).")
@click.pass_obj
def crawl(app, site_keys, max_pages, replay_url, contact, incremental, sweep, revisit_budget,
          distributed, redis_url, crawl_id, outcomes) -> None:
    """Crawl the named sites (registry or config-declared) now and store what they publish."""

    chosen = _resolve_sites(app, site_keys, replay=bool(replay_url))
    if distributed:

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
        write_site_outcomes(reports, outcomes)
    _report_and_exit(reports, _crawl_of(chosen))


def _parse_day(ctx, param, value):
    if value is None:
        return None

    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None


@click.command()
@click.argument("site_key", metavar="SITE")
@click.option("--since", callback=_parse_day, default=None, metavar="DATE",
              help="Only documents published on or after DATE (YYYY-MM-DD).")
@click.option("--until", callback=_parse_day, default=None, metavar="DATE",
              help="Only documents published on or before DATE (YYYY-MM-DD).")
@_crawl_options
@click.pass_obj
def backfill(app, site_key, since, until, max_pages, replay_url, contact) -> None:
    """Walk a site's whole archive into the corpus; stop it any time and run it again to resume."""

    if since and until and since > until:
        raise click.BadParameter(f"--since {since} is after --until {until}")
    sites = _resolve_sites(app, (site_key,), replay=bool(replay_url))
    reports = run_crawl(sites, app.prepared_db(), run_kind="backfill", replay_url=replay_url,
                        max_pages=max_pages, mode="backfill", since=since, until=until,
                        contact=contact, overrides=app.config.scrapy)
    _report_and_exit(reports, f"backfill of {site_key}", resumable=True)


@click.command("serve-replay")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True, help="Port on 127.0.0.1.")
def serve_replay(port: int) -> None:
    """Serve the fixture portal on 127.0.0.1 until Ctrl-C (crawl it with --replay URL)."""

    portal = ReplayPortal.from_fixtures()
    with portal.serve(port) as base:
        click.echo(f"replay portal with {len(portal.urls())} pages at {base} — Ctrl-C to stop")
        click.echo(f"crawl it with: policywatch crawl SITE --replay {base}")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


@click.group()
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
@click.pass_obj
def fixture_save(app, site_key, source, url, kind, column, name, replay_url, fixtures_dir) -> None:
    """Save a page (a file, or fetched from a URL) as a fixture with its parse for review.
    SITE is a registry key or a config-declared ([[watch]]) one."""

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


@click.command()
@click.argument("site_key", metavar="SITE")
@click.option("--replay", "replay_url", default=None, metavar="URL",
              help="Fetch from a local replay portal at URL instead of the live site (testing).")
@click.option("--save/--no-save", default=None,
              help="Save both pages as new fixtures of the site (default: ask, when run in a terminal).")
@click.option("--contact", default=None,
              help="A URL or e-mail added to the User-Agent so webmasters can reach you.")
@fixture_site_options
@click.pass_obj
def probe(app, site_key: str, replay_url: str | None, save: bool | None, contact: str | None,
          fixtures_dir: Path | None) -> None:
    """Fetch SITE's first list page and one document politely, parse them, and report.

    SITE is a registry key or a config-declared ([[watch]]) one. Prints the fields found, what
    is missing, blocked or suspicious. Exits 0 when the site works, 1 when it is broken (no
    entries, a page that does not parse, no title or date), 2 when it is blocked (robots.txt,
    a WAF or challenge page, or listed as not crawled).
    """

    site = resolve_site(site_key, app.config)
    try:
        root = fixtures_root(site, fixtures_dir)
    except FixtureSaveError as exc:
        if save:
            raise click.UsageError(str(exc)) from None
        root = None  # nowhere to save: do not offer it
    agent = f"{USER_AGENT} contact: {contact}" if contact else USER_AGENT
    fetcher = PoliteFetcher(agent, site.politeness.delay, replay_url=replay_url)
    report = probe_site(site, fetcher)
    click.echo(render(report))
    if report.can_save and root is not None:
        if save is None and sys.stdin.isatty() and sys.stdout.isatty():
            save = click.confirm(f"save both pages as new fixtures of {site.key}?", default=False)
        if save:
            try:
                for path in save_pages(report, root):
                    click.echo(f"saved {path}")
            except FixtureSaveError as exc:
                raise click.ClickException(str(exc)) from None
            click.echo("review the expected JSON, then update the site's evidence and verified_on")
    elif save:
        click.echo("nothing saved: the pages did not both parse", err=True)
    sys.exit(report.exit_code)


def _fetcher(replay_url: str | None, contact: str | None, delay: float = 2.0):

    agent = f"{USER_AGENT} contact: {contact}" if contact else USER_AGENT
    return PoliteFetcher(agent, delay, replay_url=replay_url)


def _renderer(browser: bool | None, replay_url: str | None, contact: str | None):

    if browser is False or not CHROMIUM.exists():
        return None
    agent = f"{USER_AGENT} contact: {contact}" if contact else USER_AGENT
    return chromium_renderer(replay_url, agent)


def run_detection(url: str, *, file=None, detail_file=None, replay_url=None, contact=None,
                  browser: bool | None = None, family: str | None = None):
    """Detect the column at ``url``: fetched politely, or read from saved pages (``file``)."""

    if not url.startswith(("http://", "https://")):
        raise click.BadParameter(f"{url!r} is not an http(s) URL", param_hint="URL")
    if file is not None:
        body = Path(file).read_bytes()
        detail = None
        if detail_file is not None:
            detail = Fetch(url, 200, {}, Path(detail_file).read_bytes(), source="file")
        # Offline: nothing is fetched; the saved document stands for the list's first entry.
        return detect_column(url, None, body=body, detail=detail, family=family)
    if detail_file is not None:
        raise click.BadParameter("--detail-file goes with --file (offline detection)")
    renderer = _renderer(browser, replay_url, contact)
    return detect_column(url, _fetcher(replay_url, contact), browser=browser, renderer=renderer,
                         family=family)


_detect_options = [
    click.option("--replay", "replay_url", default=None, metavar="URL",
                 help="Fetch from a local replay portal at URL instead of the live site (testing)."),
    click.option("--contact", default=None,
                 help="A URL or e-mail added to the User-Agent so webmasters can reach you."),
    click.option("--browser/--no-browser", default=None,
                 help="Render a list that only script fills in Chromium (default: when Chromium is installed)."),
    click.option("--family", type=click.Choice(family_names()),
                 default=None, help="Read the column as this CMS family instead of the detected one."),
]


def _with(options):
    def apply(fn):
        for option in reversed(options):
            fn = option(fn)
        return fn
    return apply


@click.command()
@click.argument("url")
@click.option("--file", "file", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
              help="Read the column page from this saved file instead of fetching URL (offline).")
@click.option("--detail-file", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
              help="With --file: a saved document of the column, parsed as its first entry.")
@click.option("--json", "as_json", is_flag=True, help="Print the detection as JSON for tools.")
@_with(_detect_options)
def detect(url, file, detail_file, as_json, replay_url, contact, browser, family) -> None:
    """Recognise the CMS family of a portal column (URL) and propose a site spec.

    Fetches the column politely (robots.txt, the User-Agent, one request at a time), names the
    family and why, counts the entries of the first page, finds the pagination, parses one
    document, says what is missing, and prints the [[watch]] table `policywatch watch add`
    would write. Exits 0 when the column can be watched, 1 when not (no entries, a document
    that does not parse), 2 when the portal blocks us (robots.txt, a WAF page).
    """
    detection = run_detection(url, file=file, detail_file=detail_file, replay_url=replay_url,
                              contact=contact, browser=browser, family=family)

    if as_json:
        click.echo(json.dumps(detection_json(detection), ensure_ascii=False, indent=2))
    else:
        click.echo(render_detection(detection))
    sys.exit(detection.exit_code)


@click.group()
def watch() -> None:
    """Config-declared sites: watch a portal column by its URL, without a site module."""


@watch.command("add")
@click.argument("url")
@click.option("--name", default=None, help="The column's name, e.g. 政策文件 (default: what the page says).")
@click.option("--issuer", default=None,
              help="Who publishes the column, e.g. 南昌市人民政府 (default: the page's site name).")
@click.option("--division", "division", default=None, metavar="CODE",
              help="GB/T 2260 code of the issuer's jurisdiction, e.g. 360100 (default: from the issuer's name).")
@click.option("--level", type=click.Choice(["national", "province", "prefecture", "county"]), default=None,
              help="The issuer's level (default: from the issuer's name).")
@click.option("--key", default=None, help="The site's key, ASCII snake_case (default: made from the URL).")
@click.option("--delay", type=click.FloatRange(min=0.5), default=2.0, show_default=True,
              help="Seconds between two requests to the portal.")
@_with(_detect_options)
@click.pass_obj
def watch_add(app, url, name, issuer, division, level, key, delay, replay_url, contact,
              browser, family) -> None:
    """Detect the column at URL and add it to the config's watch list ([[watch]])."""

    path = writable_config(app.config_path)
    config = app.config if path.exists() else None  # a broken file is refused, never rewritten
    detection = run_detection(url, replay_url=replay_url, contact=contact, browser=browser, family=family)
    if detection.verdict != OK or detection.site is None:
        problems = "; ".join(m for s, m in detection.notes if s in ("broken", "blocked")) or "nothing found"
        raise click.ClickException(f"{url}: not added, the column cannot be watched as it is: {problems} "
                                   f"(see `policywatch detect {url}`)")
    issuer = issuer or detection.issuer
    name = name or detection.column_name
    if not issuer:
        raise click.UsageError("the page does not say who publishes the column: give --issuer")
    if not name:
        raise click.UsageError("the page does not name the column: give --name")
    guessed_division, guessed_level = jurisdiction(issuer)
    division, level = division or guessed_division, level or guessed_level
    if not division or not level:
        raise click.UsageError(f"cannot place {issuer!r} in the gazetteer: give --division CODE and --level")

    taken = {s.key for s in known_sites(config, replay=True)}
    key = key or suggest_key(url, taken)

    column = dataclasses.replace(detection.site.columns[0], name=name)
    try:
        site = dataclasses.replace(detection.site, key=key, name=issuer, division_code=division,
                                   level=level, columns=(column,), politeness=Politeness(delay=delay))
    except SiteSpecError as exc:
        raise click.ClickException(f"not added: {exc}") from None
    today = date.today().isoformat()
    table = spec_table(site, detection, added=today)
    try:
        added = add_site(path, table, comment=f"added by policywatch watch add on {today}")
    except WatchError as exc:
        raise click.ClickException(f"not added: {exc}") from None
    click.echo(f"added [[watch]] {added.key} to {path}: {added.name} · {name} "
               f"({added.family}{', browser' if added.needs_browser else ''}; "
               f"{len(detection.listing.entries)} entries on the first page)")
    replay = f" --replay {replay_url}" if replay_url else ""
    click.echo(f"crawl it now with: policywatch crawl {added.key} --config {path}{replay}")


@watch.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the watch list as JSON.")
@click.pass_obj
def watch_list(app, as_json: bool) -> None:
    """The config-declared sites: key, issuer, column, family, jurisdiction, URL."""

    path = writable_config(app.config_path)
    config = app.config if path.exists() else None
    sites = list(config.watch) if config is not None else []
    if as_json:
        click.echo(json.dumps([spec_table(s) for s in sites], ensure_ascii=False, indent=2))
        return
    if not sites:
        click.echo(f"no config-declared sites in {path} (add one with: policywatch watch add URL)")
        return
    rows = [[s.key, s.name, s.columns[0].name, s.family + (" (browser)" if s.needs_browser else ""),
             s.division_code, s.level, "" if s.enabled else "disabled", s.columns[0].url] for s in sites]
    click.echo(table(["key", "issuer", "column", "family", "division", "level", "", "url"], rows))
    click.echo(f"{len(sites)} config-declared site(s) in {path}")


@watch.command("remove")
@click.argument("key")
@click.pass_obj
def watch_remove(app, key: str) -> None:
    """Remove the config-declared site KEY from the watch list (its stored documents stay)."""

    path = writable_config(app.config_path)
    try:
        site = remove_site(path, key)
    except WatchError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"removed [[watch]] {site.key} ({site.name} · {site.columns[0].name}) from {path}; "
               "its documents stay in the corpus")


logger = logging.getLogger(__name__)



def crawl_distributed(sites, *, redis_url: str, crawl_id: str, db_path: Path,
                      replay_url: str | None = None, max_pages: int | None = None,
                      contact: str | None = None, mode: str = "full",
                      settings: dict | None = None):
    """Crawl ``sites`` as one worker of the distributed crawl ``crawl_id``: each site this
    worker takes the lease of (``crawlers.engine.distributed.LeasedSiteFeeder``); blocks until
    every site is done by some worker; returns the run reports of the sites crawled here. ``mode``: full or
    incremental (which needs the known URLs ``policywatch ingest`` publishes); ``settings``: the
    config's [scrapy] table (the distributed crawl's own settings win)."""

    if mode not in DISTRIBUTED_MODES:
        raise DistributedError(f"a distributed crawl is a full or an incremental one, not {mode}")
    client = connect(redis_url)  # a clear error now rather than a crawl that cannot schedule
    if mode == "incremental" and not client.exists(PUBLISHED_KEY):
        raise DistributedError("no known URLs in Redis: start `policywatch ingest` (it publishes the "
                               "corpus' documents when it starts) before an incremental distributed crawl")
    overrides = {**(settings or {}), **distributed_settings(redis_url, crawl_id)}
    return run_crawl(sites, db_path, replay_url=replay_url, max_pages=max_pages, mode=mode,
                     contact=contact, overrides=overrides, spider_class=DistributedPolicySpider,
                     feeder_class=LeasedSiteFeeder)


# The commands the front door (scheduler.py) adds to the `policywatch` group.
COMMANDS = (sites, parse, crawl, backfill, serve_replay, fixture, probe, detect, watch)
