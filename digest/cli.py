"""The digest's commands: ``digest`` and ``changes`` (what changed, delivered once per channel),
and the corpus for researchers: ``search``, ``report``, ``export`` and ``browse``. Options are
parsed here; the work is in the modules they name. Each receives the application object
(``click.pass_obj``) the front door (``scheduler.py``) resolved."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime, timezone
from pathlib import Path

import click

from crawlers.parsing import clock
from crawlers.parsing.display import table
from digest.browse import BrowseError, serve
from digest.browselabels import column_label
from digest.build import build_digest, changes_since, load_entries, zone_label
from digest.charts import ChartError
from digest.delivery import (
    DeliveryBusy,
    FilesChannel,
    last_delivery,
    pending,
    subscription_routes,
)
from digest.delivery import deliver as deliver_all
from digest.export import ExportError, export_documents, format_for
from digest.labels import DEFAULT_RELEVANCE, LEVELS, REGIONS, RELEVANCE
from digest.localtime import day_start_utc, shown, zone
from digest.render import render
from digest.report import DEFAULT_TITLE, build_report, write_report
from digest.selection import Filters, SelectionError, parse_date, site_keys
from digest.subscriptions import FeedSettings, configured_channel_names, effective_subscriptions, feed_config
from pipelines.search import search as search_corpus

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
    period = f"自 {shown(since, tz)} 起" if since else "自上次摘要以来"
    if not entries:
        click.echo(f"{period}没有变化（{zone_label(tz)}）")
        return
    click.echo(f"{period}共 {len(entries)} 项变化（时间为{zone_label(tz)}）")
    for e in entries:
        # The digest's own line (kind, what changed, title), not the detector's English log line.
        doc = e.document
        click.echo(f"{e.id:>6}  {shown(e.detected_at, tz)}  {doc.get('site') or '':<10}  "
                   f"{e.summary_zh}\n{'':8}{doc.get('url')}")


def _split(allowed: tuple[str, ...] | None):
    """A callback for a repeatable option that also takes comma-separated values."""

    def callback(ctx, param, values):
        out: list[str] = []
        for value in values:
            for part in value.replace("，", ",").split(","):
                part = part.strip()
                if not part:
                    continue
                if allowed and part not in allowed:
                    raise click.BadParameter(
                        f"{part!r} is not one of {', '.join(allowed)}", ctx=ctx, param=param)
                out.append(part)
        return tuple(dict.fromkeys(out))

    return callback


def _filter_options(default_relevance: str):
    def decorate(fn):
        options = [
            click.option("--from", "date_from", metavar="DATE", default=None,
                         help="Only documents dated on or after DATE (YYYY-MM-DD; published, "
                              "else written date)."),
            click.option("--to", "date_to", metavar="DATE", default=None,
                         help="Only documents dated on or before DATE (YYYY-MM-DD)."),
            click.option("--relevance", multiple=True, metavar="R",
                         callback=_split(tuple(RELEVANCE)),
                         help=f"Relevance to include: {', '.join(RELEVANCE)}; repeat or "
                              f"comma-separate (default: {default_relevance})."),
            click.option("--site", "sites", multiple=True, metavar="KEY", callback=_split(None),
                         help="Only these sites (keys; repeat or comma-separate)."),
            click.option("--level", "levels", multiple=True, metavar="LEVEL",
                         callback=_split(tuple(LEVELS)),
                         help=f"Only these issuer levels: {', '.join(LEVELS)}."),
            click.option("--region", "regions", multiple=True, metavar="REGION",
                         callback=_split(REGIONS),
                         help=f"Only these regions: {'、'.join(REGIONS)}."),
        ]
        for option in reversed(options):
            fn = option(fn)
        return fn

    return decorate


def _filters(db, date_from, date_to, relevance, sites, levels, regions):

    try:
        unknown = sorted(set(sites) - site_keys(db))
        if unknown:
            raise SelectionError(f"unknown site {', '.join(unknown)}: the corpus has "
                                 f"{', '.join(sorted(site_keys(db))) or 'no sites'}")
        return Filters(parse_date(date_from, "--from"), parse_date(date_to, "--to"),
                       tuple(relevance), tuple(sites), tuple(levels), tuple(regions))
    except SelectionError as exc:
        raise click.UsageError(str(exc)) from None


@click.command()
@_filter_options(", ".join(DEFAULT_RELEVANCE))
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("policywatch-report"), show_default=True,
              help="Folder to write report.md, report.html, report.json and charts/ into.")
@click.option("--title", default=None, help="The report's title (default: 元宇宙政策统计报告).")
@click.option("--charts/--no-charts", default=True, show_default=True,
              help="Draw the charts (PNG and SVG; needs a CJK font such as fonts-wqy-microhei).")
@click.pass_obj
def report(app, date_from, date_to, relevance, sites, levels, regions, out_dir, title, charts):
    """Statistics report for a period: counts by relevance, tag, level, region, city tier and
    month with shares and charts, and the documents behind every number (Markdown + HTML)."""

    corpus, path = app.read_corpus(), app.db
    filters = _filters(corpus, date_from, date_to, relevance or DEFAULT_RELEVANCE, sites,
                       levels, regions)
    try:
        built = build_report(corpus, filters, corpus=str(path), title=title or DEFAULT_TITLE)
        written = write_report(built, out_dir, charts=charts)
    except (ChartError, SelectionError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"统计政策 {built.total} 项（文件 {built.documents} 份）")
    for name in ("relevance", "level", "region"):
        parts = [f"{b.label} {b.count}" for b in built.breakdown(name).buckets if b.count]
        click.echo(f"  {column_label(name)}：{'，'.join(parts) or '-'}")
    if built.unclassified:
        click.echo(f"注意：{built.unclassified} 份文件尚未分类，未计入统计", err=True)
    click.echo(f"已写入 {len(written)} 个文件到 {out_dir}："
               f"{out_dir / 'report.md'}、{out_dir / 'report.html'}")


@click.command()
@_filter_options("all")
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl", "xlsx"]), default=None,
              help="Output format (default: from --out's suffix, else csv).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File to write (default: standard output; required for xlsx).")
@click.option("--per-policy", is_flag=True,
              help="One row per policy (its final), as reports count, instead of every document.")
@click.option("--with-text", is_flag=True, help="Add the body text as the last column.")
@click.pass_obj
def export(app, date_from, date_to, relevance, sites, levels, regions, fmt, out, per_policy,
           with_text):
    """Export documents with their tags as CSV (UTF-8 with BOM), JSON Lines or Excel."""

    corpus = app.read_corpus()
    filters = _filters(corpus, date_from, date_to, relevance, sites, levels, regions)
    try:
        count = export_documents(corpus, filters, format_for(out, fmt), out,
                                 per_policy=per_policy, with_text=with_text, stdout=sys.stdout,
                                 tz=zone(app.config.schedule.timezone))
    except (ExportError, SelectionError) as exc:
        raise click.ClickException(str(exc)) from None
    if out is not None:
        click.echo(f"已导出 {count} {'项政策' if per_policy else '份文件'}到 {out}", err=True)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Interface to listen on (the default keeps it to this machine).")
@click.option("--port", type=click.IntRange(0, 65535), default=8001, show_default=True,
              help="Port to listen on.")
@click.option("--live", is_flag=True,
              help="Follow crawls that write while it runs (read-only, not immutable).")
@click.pass_obj
def browse(app, host, port, live):
    """Browse and search the corpus in Datasette, read-only: facets, Chinese search,
    canned queries, document versions and diffs."""

    app.read_corpus().close()  # missing, damaged, foreign or another schema: one line, now
    feeds = feed_config(app.config)
    for sub in feeds.subscriptions:
        click.echo(f"feed {sub.name}: http://{host}:{port}/-/feeds/{sub.name}.atom")
    try:
        serve(app.db, host=host, port=port, live=live, echo=click.echo, feeds=feeds,
              timezone=app.config.schedule.timezone)
    except BrowseError as exc:
        raise click.ClickException(str(exc)) from None


SEARCH_FIELDS = ("url", "site", "title", "doc_number", "index_no", "issuer", "written_date",
                 "published_date", "relevance", "doc_type", "status")


@click.command()
@click.argument("query")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True, help="Show at most this many documents.")
@click.option("--json", "as_json", is_flag=True, help="Print the documents as JSON for tools.")
@click.pass_obj
def search(app, query: str, limit: int, as_json: bool) -> None:
    """Search titles and text (Chinese terms of any length), 文号 and 索引号: `A B` both, `A OR B`
    either, `"A B"` the phrase; a 文号 is found however its brackets are written."""

    try:
        hits = search_corpus(app.read_corpus(), query, limit=limit)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="QUERY") from None
    if as_json:
        click.echo(json.dumps([{k: doc.get(k) for k in SEARCH_FIELDS} for doc in hits],
                              ensure_ascii=False, indent=2))
        return
    if not hits:
        click.echo(f"没有找到与“{query}”匹配的文件")
        return
    rows = [[doc.get("published_date") or "-", doc.get("site") or "", doc.get("doc_number") or "-",
             doc["title"], RELEVANCE.get(doc.get("relevance") or "", "-"), doc["url"]] for doc in hits]
    click.echo(table(["发布日期", "站点", "文号", "标题", "相关度", "链接"], rows))


# The commands the front door (scheduler.py) adds to the `policywatch` group.
COMMANDS = (digest, changes, search, report, export, browse)
