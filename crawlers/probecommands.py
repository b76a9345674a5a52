"""The `policywatch probe` command: a live check of one site, and saving what it fetched."""

from __future__ import annotations

import sys
import tempfile
from datetime import date
from pathlib import Path

import click

from crawlers.app import App, config_option, pass_app


def _extension(content_type: str, body: bytes) -> str:
    kind = content_type.lower()
    if "json" in kind or body.lstrip()[:1] in (b"{", b"["):
        return "json"
    if "xml" in kind and "html" not in kind:
        return "xml"
    return "html"


def fixture_site_options(fn):
    """``--fixtures-dir`` and ``--config``: the options of the commands that save a site's
    fixtures, for registry and config-declared sites alike."""
    fn = config_option(fn)
    return click.option("--fixtures-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
                        help="Where the site's fixture folder goes (default: the project's "
                             "fixtures/sites; required for a config-declared site).")(fn)


def resolve_site(site_key: str, config):
    """The registry's or the config's site ``site_key``, or a click error naming what is wrong."""
    from crawlers.sites.declared import find_sites

    try:
        site, = find_sites((site_key,), config)
    except KeyError as exc:
        raise click.BadParameter(str(exc.args[0]), param_hint="SITE") from None
    return site


def save_pages(report, root: Path | None = None) -> list[Path]:
    """Save the probe's list page and document as new fixtures of the site (their parses as the
    expected results, for a person to review); returns the files written."""
    from crawlers.tools.fixtures import SITES_DIR
    from crawlers.tools.fixturesave import save_fixture

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


@click.command()
@click.argument("site_key", metavar="SITE")
@click.option("--replay", "replay_url", default=None, metavar="URL",
              help="Fetch from a local replay portal at URL instead of the live site (testing).")
@click.option("--save/--no-save", default=None,
              help="Save both pages as new fixtures of the site (default: ask, when run in a terminal).")
@click.option("--contact", default=None,
              help="A URL or e-mail added to the User-Agent so webmasters can reach you.")
@fixture_site_options
@pass_app
def probe(app: App, site_key: str, replay_url: str | None, save: bool | None, contact: str | None,
          fixtures_dir: Path | None) -> None:
    """Fetch SITE's first list page and one document politely, parse them, and report.

    SITE is a registry key or a config-declared ([[watch]]) one. Prints the fields found, what
    is missing, blocked or suspicious. Exits 0 when the site works, 1 when it is broken (no
    entries, a page that does not parse, no title or date), 2 when it is blocked (robots.txt,
    a WAF or challenge page, or listed as not crawled).
    """
    from crawlers.tools.fixturesave import FixtureSaveError, fixtures_root
    from crawlers.tools.probe import PoliteFetcher, probe_site, render
    from crawlers.engine.settings import USER_AGENT

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
