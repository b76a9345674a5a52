"""`policywatch digest` and `policywatch changes`: the daily digest and the change log."""

from __future__ import annotations

import json
from pathlib import Path

import click

from crawlers.app import App, config_option, db_option, pass_app
from crawlers.parsing import clock

FORMAT_CHOICES = ("md", "html", "atom", "json")


def _since_value(value: str | None) -> str | None:
    if value is None:
        return None
    from datetime import date, datetime

    try:
        if len(value) == 10:
            return date.fromisoformat(value).isoformat()
        return datetime.fromisoformat(value).isoformat()
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD) or an ISO time",
                                 param_hint="--since") from None


def _formats(values: tuple[str, ...]) -> tuple[str, ...]:
    out: list[str] = []
    for value in values:
        for part in value.split(","):
            part = part.strip()
            if part and part not in FORMAT_CHOICES:
                raise click.BadParameter(f"{part!r} is not one of {', '.join(FORMAT_CHOICES)}",
                                         param_hint="--format")
            if part and part not in out:
                out.append(part)
    return tuple(out)


@click.command("digest")
@click.option("--since", default=None, metavar="DATE",
              help="A look-back: every change detected on or after DATE (YYYY-MM-DD or ISO time), "
                   "delivered or not; nothing is sent or marked. Default: the changes since the last digest.")
@click.option("--format", "format_values", multiple=True, metavar="FORMATS",
              help="Formats to write, comma-separated or repeated: md, html, atom, json "
                   "(default: the config's files formats, all four).")
@click.option("--out", type=click.Path(file_okay=False, allow_dash=True, path_type=Path), default=None,
              help="Folder for the digest files (default: the config's digests folder); "
                   "'-' prints one format to standard output instead.")
@click.option("--deliver/--no-deliver", default=None,
              help="Send the digest to every configured channel (files, e-mail, apprise) and mark "
                   "what each accepted (the default without --since); --no-deliver writes a preview "
                   "of what is queued and marks nothing.")
@db_option
@config_option
@pass_app
def digest(app: App, since, format_values, out, deliver) -> None:
    """Write the digest of what changed since the last one, and deliver it."""
    from digest.build import build_digest, changes_since
    from digest.delivery import FilesChannel, configured_channels, deliver as deliver_all, pending
    from digest.render import render

    config = app.config
    since = _since_value(since)
    formats = _formats(format_values) or tuple(config.channels.files_formats)
    if since and deliver:
        raise click.UsageError("a look-back digest (--since) is never delivered; drop --deliver")
    deliver = since is None if deliver is None else deliver
    to_stdout = out is not None and str(out) == "-"
    if to_stdout and len(formats) != 1:
        raise click.UsageError("--out - prints one format: choose it with --format")
    if to_stdout and deliver:
        raise click.UsageError("--out - previews the digest; add --no-deliver (or --since)")
    # Delivery marks what each channel accepted: a writer. A preview or look-back only reads.
    corpus = app.write_corpus(create=False) if deliver else app.read_corpus()
    folder = Path(out) if out is not None and not to_stdout else config.digests

    if deliver:
        from digest.delivery import DeliveryBusy

        try:
            reports = deliver_all(corpus, configured_channels(config.channels, folder, formats))
        except DeliveryBusy as exc:
            raise click.ClickException(str(exc)) from None
        failed = False
        for report in reports:
            if report.status == "sent":
                note = f" (re-sent {report.resent} that may have reached it before)" if report.resent else ""
                click.echo(f"{report.channel}: {report.changes} change(s) delivered{note}")
                for item in report.delivered if report.channel == "files" else ():
                    click.echo(f"  {item}")
            elif report.status == "nothing":
                click.echo(f"{report.channel}: nothing new to send")
            else:
                failed = True
                click.echo(f"{report.channel}: FAILED, {report.changes} change(s) stay queued: {report.error}")
        if failed:
            raise SystemExit(1)
        return

    if since:
        ids, resent, period_start = changes_since(corpus, since), [], since
    else:
        from digest.delivery import last_delivery

        ids, resent = pending(corpus, "files")
        period_start = last_delivery(corpus, "files")
    built = build_digest(corpus, ids, since=period_start, resent=resent,
                         now=clock.now())
    if to_stdout:
        click.echo(render(built, formats[0]), nl=False)
        return
    stem = "lookback" if since else "preview"
    written = FilesChannel(folder, formats, basename=f"{stem}-{built.until.replace(':', '')[:17]}",
                           latest_feed=False).send(built)
    click.echo(f"{built.headline()} (nothing marked)")
    for path in written:
        click.echo(f"  {path}")


@click.command("changes")
@click.option("--since", default=None, metavar="DATE",
              help="Changes detected on or after DATE (YYYY-MM-DD or ISO time); "
                   "default: those not yet in a digest.")
@click.option("--kind", "kinds", multiple=True,
              type=click.Choice(["new", "finalised", "revised", "repealed", "withdrawn"]),
              help="Only changes of this kind (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print the changes as JSON (with documents and diffs).")
@db_option
@config_option
@pass_app
def changes(app: App, since, kinds, as_json) -> None:
    """List recorded changes: new, finalised, revised, repealed and withdrawn documents."""
    from digest.build import changes_since, load_entries
    from digest.delivery import pending

    since = _since_value(since)
    corpus = app.read_corpus()
    ids = changes_since(corpus, since) if since else pending(corpus, "files")[0]
    entries = [e for e in load_entries(corpus, ids) if not kinds or e.kind in kinds]
    entries.sort(key=lambda e: e.id)
    if as_json:
        click.echo(json.dumps([e.to_json() for e in entries], ensure_ascii=False, indent=2))
        return
    if not entries:
        click.echo("no changes" + (f" since {since}" if since else " since the last digest"))
        return
    for e in entries:
        doc = e.document
        click.echo(f"{e.id:>6}  {e.detected_at[:16]}  {e.kind:<9}  {doc.get('site') or '':<10}  "
                   f"{doc.get('title')}\n{'':8}{doc.get('url')}")
