"""``policywatch search``, ``report``, ``browse`` and ``export``: the corpus for
researchers. Thin: options are parsed here; the work is in digest.report, .browse and .export."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from crawlers.parsing.display import table
from digest.browse import BrowseError, serve
from digest.charts import ChartError
from digest.export import ExportError, export_documents, format_for
from digest.labels import DEFAULT_RELEVANCE, LEVELS, REGIONS, RELEVANCE
from digest.localtime import zone
from digest.report import DEFAULT_TITLE, build_report, write_report
from digest.selection import Filters, SelectionError, parse_date, site_keys
from digest.subscriptions import feed_config
from pipelines.search import search as search_corpus


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
    click.echo(f"{built.total} policies ({built.documents} documents) counted")
    for name in ("relevance", "level", "region"):
        parts = [f"{b.label} {b.count}" for b in built.breakdown(name).buckets if b.count]
        click.echo(f"  {name}: {', '.join(parts) or '-'}")
    if built.unclassified:
        click.echo(f"note: {built.unclassified} documents are not classified yet and were not "
                   "counted", err=True)
    click.echo(f"wrote {len(written)} files to {out_dir}: "
               f"{out_dir / 'report.md'}, {out_dir / 'report.html'}")


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
        click.echo(f"wrote {count} {'policies' if per_policy else 'documents'} to {out}", err=True)


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
        click.echo(f"nothing found for {query}")
        return
    rows = [[doc.get("published_date") or "-", doc.get("site") or "", doc.get("doc_number") or "-",
             doc["title"], RELEVANCE.get(doc.get("relevance") or "", "-"), doc["url"]] for doc in hits]
    click.echo(table(["发布日期", "站点", "文号", "标题", "相关度", "链接"], rows))



# The commands the front door (scheduler.py) adds to the `policywatch` group.
COMMANDS = (search, report, export, browse)
