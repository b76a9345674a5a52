"""The `policywatch detect` and `policywatch watch add|list|remove` commands."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

import click

from crawlers.app import App, config_option, pass_app
from crawlers.families import family_names


def _fetcher(replay_url: str | None, contact: str | None, delay: float = 2.0):
    from crawlers.tools.probe import PoliteFetcher
    from crawlers.engine.settings import USER_AGENT

    agent = f"{USER_AGENT} contact: {contact}" if contact else USER_AGENT
    return PoliteFetcher(agent, delay, replay_url=replay_url)


def _renderer(browser: bool | None, replay_url: str | None, contact: str | None):
    from crawlers.replay.demo import CHROMIUM
    from crawlers.tools.detect import chromium_renderer
    from crawlers.engine.settings import USER_AGENT

    if browser is False or not CHROMIUM.exists():
        return None
    agent = f"{USER_AGENT} contact: {contact}" if contact else USER_AGENT
    return chromium_renderer(replay_url, agent)


def run_detection(url: str, *, file=None, detail_file=None, replay_url=None, contact=None,
                  browser: bool | None = None, family: str | None = None):
    """Detect the column at ``url``: fetched politely, or read from saved pages (``file``)."""
    from crawlers.tools.detect import Fetch, detect_column

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
    from crawlers.tools.detect import render, to_json

    if as_json:
        click.echo(json.dumps(to_json(detection), ensure_ascii=False, indent=2))
    else:
        click.echo(render(detection))
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
@config_option
@_with(_detect_options)
@pass_app
def watch_add(app: App, url, name, issuer, division, level, key, delay, replay_url, contact,
              browser, family) -> None:
    """Detect the column at URL and add it to the config's watch list ([[watch]])."""
    from crawlers.tools.detect import OK, jurisdiction, suggest_key
    from crawlers.tools.watch import WatchError, add_site, spec_table, writable_config

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
    from crawlers.sites.declared import known_sites

    taken = {s.key for s in known_sites(config, replay=True)}
    key = key or suggest_key(url, taken)
    import dataclasses

    from crawlers.sites.spec import Politeness, SiteSpecError

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
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print the watch list as JSON.")
@pass_app
def watch_list(app: App, as_json: bool) -> None:
    """The config-declared sites: key, issuer, column, family, jurisdiction, URL."""
    from crawlers.tools.sitelist import table
    from crawlers.tools.watch import spec_table, writable_config

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
@config_option
@pass_app
def watch_remove(app: App, key: str) -> None:
    """Remove the config-declared site KEY from the watch list (its stored documents stay)."""
    from crawlers.tools.watch import WatchError, remove_site, writable_config

    path = writable_config(app.config_path)
    try:
        site = remove_site(path, key)
    except WatchError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"removed [[watch]] {site.key} ({site.name} · {site.columns[0].name}) from {path}; "
               "its documents stay in the corpus")
