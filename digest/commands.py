"""`policywatch digest` and `policywatch changes`: the daily digest and the change log."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from pathlib import Path

import click

from crawlers.parsing import clock
from digest.build import build_digest, changes_since, load_entries
from digest.delivery import (
    DeliveryBusy,
    FilesChannel,
    last_delivery,
    pending,
    subscription_routes,
)
from digest.delivery import deliver as deliver_all
from digest.localtime import day_start_utc, shown, zone
from digest.render import render
from digest.subscriptions import FeedSettings, configured_channel_names, effective_subscriptions

FORMAT_CHOICES = ("md", "html", "atom", "json")


def _since_value(value: str | None, tz_name: str | None = None) -> str | None:
    """``--since`` as the UTC ISO time the corpus compares with: a date is the start of that
    day in the schedule's time zone; a time without an offset is a local time."""
    if value is None:
        return None
    tz = zone(tz_name)
    try:
        if len(value) == 10:
            return day_start_utc(date.fromisoformat(value), tz)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD) or an ISO time",
                                 param_hint="--since") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds")


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
              help="A look-back: every change detected on or after DATE (YYYY-MM-DD, a local day of "
                   "the schedule's time zone, or an ISO time), delivered or not; nothing is sent or "
                   "marked. Default: the changes since the last digest.")
@click.option("--subscription", "subscription_name", default=None, metavar="NAME",
              help="Preview or look back as this subscription ([[subscription]] name; default: "
                   "the first, or the default subscription when none is declared). A delivery "
                   "always serves every subscription.")
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
@click.pass_obj
def digest(app, since, subscription_name, format_values, out, deliver) -> None:
    """Write each subscription's digest of what changed since the last one, and deliver it."""
    config = app.config
    tz_name = config.schedule.timezone
    feeds = config.feeds or FeedSettings()
    since = _since_value(since, tz_name)
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

    subscriptions = effective_subscriptions(config.subscriptions, configured_channel_names(
        config.channels.email is not None, bool(config.channels.apprise_urls_env)))
    if deliver:

        try:
            routes = subscription_routes(config.subscriptions, config.channels, folder, formats)
            reports = deliver_all(corpus, routes, feeds=feeds, tz=tz_name)
        except DeliveryBusy as exc:
            raise click.ClickException(str(exc)) from None
        failed = False
        for report in reports:
            if report.status == "sent":
                note = f" (re-sent {report.resent} that may have reached it before)" if report.resent else ""
                click.echo(f"{report.channel}: {report.changes} change(s) delivered{note}")
                for item in report.delivered if report.channel.endswith("files") else ():
                    click.echo(f"  {item}")
            elif report.status == "nothing":
                click.echo(f"{report.channel}: nothing new to send")
            else:
                failed = True
                click.echo(f"{report.channel}: FAILED, {report.changes} change(s) stay queued: {report.error}")
        if failed:
            raise SystemExit(1)
        return

    chosen = [s for s in subscriptions if subscription_name in (None, s.name)][:1]
    if not chosen:
        raise click.BadParameter(f"no subscription {subscription_name!r}; the config declares "
                                 f"{', '.join(s.name for s in subscriptions)}",
                                 param_hint="--subscription")
    sub = chosen[0]
    if since:
        ids, resent, period_start = changes_since(corpus, since), [], since
    else:
        # What its first channel has queued (files, for the default subscription).
        outbox = sub.outbox(sub.channels[0])
        ids, resent = pending(corpus, outbox)
        period_start = last_delivery(corpus, outbox)
    built = build_digest(corpus, ids, since=period_start, resent=resent,
                         now=clock.now(), subscription=sub, tz=zone(tz_name),
                         feed_url=feeds.feed_url(sub.name))
    if to_stdout:
        click.echo(render(built, formats[0]), nl=False)
        return
    stem = "lookback" if since else "preview"
    written = FilesChannel(folder, formats, basename=f"{stem}-{sub.name}-{built.date}",
                           latest_feed=False).send(built)
    click.echo(f"{built.headline()}（预览，未标记为已发送）")
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
@click.pass_obj
def changes(app, since, kinds, as_json) -> None:
    """List recorded changes: new, finalised, revised, repealed and withdrawn documents."""
    tz = zone(app.config.schedule.timezone)
    since = _since_value(since, tz.key)
    corpus = app.read_corpus()
    ids = changes_since(corpus, since) if since else pending(corpus, "files")[0]
    entries = [e for e in load_entries(corpus, ids) if not kinds or e.kind in kinds]
    entries.sort(key=lambda e: e.id)
    if as_json:
        click.echo(json.dumps([e.to_json(tz) for e in entries], ensure_ascii=False, indent=2))
        return
    if not entries:
        click.echo("no changes" + (f" since {since}" if since else " since the last digest"))
        return
    for e in entries:
        doc = e.document
        click.echo(f"{e.id:>6}  {shown(e.detected_at, tz)}  {e.kind:<9}  {doc.get('site') or '':<10}  "
                   f"{doc.get('title')}\n{'':8}{doc.get('url')}")


# The commands the front door (scheduler.py) adds to the `policywatch` group.
COMMANDS = (digest, changes)
