"""Datasette hooks for ``policywatch browse`` (registered by ``digest.browse``, nowhere else).

- Search of ``documents`` with ``policywatch search``'s query language (pipelines.search):
  Chinese terms of any length, OR, phrases, 文号 and 索引号; results show a snippet.
- Chinese column names and facet values (digest.browselabels); the codes stay in the data.
- A ``month`` facet (``_facet_month=published_date``), selecting with ``__startswith``, and a
  ``tags`` facet for the JSON tag lists that stays fast over long texts.
- A document's page reads as a document (digest.documentpage): metadata, text, attachments,
  versions, the policy's timeline and its 政策解读 (or, for a 解读, the policy it explains),
  the internal fields last and collapsed, times in the schedule's time zone (``attach``); a
  diff page shows what a version changed. ``/`` opens on the documents.
- Every table's stored UTC times (first_seen, detected_at, started_at...) are shown in that
  zone too, and a change's kind and summary in the digest's Chinese (``render_cell``); dates
  stay dates, and the JSON and CSV exports keep the stored values.
"""

from __future__ import annotations

import json
import re
import sqlite3

import sqlite_utils
from datasette import hookimpl
from datasette.facets import Facet
from datasette.filters import FilterArguments
from datasette.utils import escape_sqlite, path_with_added_args, path_with_removed_args
from datasette.utils.asgi import BadRequest, NotFound, Response

from digest.browselabels import FACET_TYPE_LABELS, column_label, value_label
from digest.build import load_entries
from digest.documentpage import document_page, local_time, web_link
from digest.localtime import zone
from digest.snippets import snippet
from pipelines.changes import attachment_view
from pipelines.diff import attachment_changes, field_changes, text_diff
from pipelines.interpretations import explained_by, interpretations_of
from pipelines.search import matching_ids_sql

DATABASE = "corpus"
_TIMEZONE = "policywatch_timezone"
# A time the corpus writes: UTC ISO 8601, with or without its offset. Anchored and without
# nested repetition, so a hostile cell costs one linear look.
_STORED_TIME = re.compile(
    r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d(?:\.\d{1,6})?)?(?:Z|[+-]\d\d:\d\d)?")


def attach(datasette, timezone: str | None) -> None:
    """Give a Datasette instance the time zone its pages show times in (``[schedule]
    timezone``; the default one when None)."""
    setattr(datasette, _TIMEZONE, zone(timezone))


# trylast: called after Datasette's own search filter, so this extra_context (the search box
# is shown) is the one kept; Datasette's finds no FTS table of its own for documents.
@hookimpl(trylast=True)
def filters_from_request(request, database, table, datasette):
    """Browse's search is ``policywatch search``'s (pipelines.search): terms of any length,
    ``A OR B``, ``"A B"``, a 文号 however its brackets are written, an 索引号."""
    if database != DATABASE or table != "documents":
        return None
    query = (request.args.get("_search") or "").strip()
    context = {"supports_search": True, "search": query}
    if not query:
        return FilterArguments([], extra_context=context)
    try:
        sql, params = matching_ids_sql(query)
    except ValueError as exc:  # nothing to search ("" alone), or too many terms
        raise BadRequest(f"搜索无效：{exc}（{query[:80]}）") from None

    async def matching():
        # The search runs once per page: the rows, the count and every facet then filter by
        # the ids found instead of scanning the texts again each.
        rows = await datasette.get_database(DATABASE).execute(
            sql, params, custom_time_limit=datasette.setting("sql_time_limit_ms"))
        ids = ",".join(str(int(r[0])) for r in rows.rows) or "NULL"
        return FilterArguments([f"id in ({ids})"], {}, [f'搜索“{query}”'], context)

    return matching


class MonthFacet(Facet):
    """Counts by the YYYY-MM of a date column; a value selects ``column__startswith=YYYY-MM``."""

    type = "month"

    async def suggest(self):
        return []

    async def facet_results(self):
        from datasette.database import QueryInterrupted

        results, timed_out = [], []
        pairs = self.get_querystring_pairs()
        size = self.get_facet_size()
        for source_and_config in self.get_configs():
            config = source_and_config["config"]
            column = config.get("column") or config["simple"]
            col = escape_sqlite(column)
            sql = f"""select substr({col}, 1, 7) as value, count(*) as count from ({self.sql})
                where {col} glob '[0-9][0-9][0-9][0-9]-[0-9][0-9]*'
                group by value order by value desc limit {size + 1}"""
            try:
                rows = await self.ds.execute(
                    self.database, sql, self.params, truncate=False,
                    custom_time_limit=self.ds.setting("facet_time_limit_ms"))
            except QueryInterrupted:
                timed_out.append(column)
                continue
            arg = f"{column}__startswith"
            values = []
            for row in rows.rows[:size]:
                selected = (arg, row["value"]) in pairs
                path = (path_with_removed_args(self.request, {arg: row["value"]}) if selected
                        else path_with_added_args(self.request, {arg: row["value"]}))
                values.append({"value": row["value"], "label": row["value"], "count": row["count"],
                               "toggle_url": self.ds.absolute_url(self.request, path),
                               "selected": selected})
            results.append({
                "name": column, "type": self.type, "results": values,
                "hideable": source_and_config["source"] != "metadata",
                "toggle_url": self.ds.urls.path(
                    path_with_removed_args(self.request, {"_facet_month": column})),
                "truncated": len(rows) > size,
            })
        return results, timed_out


class TagsFacet(Facet):
    """Counts the tags of a JSON-list column; a value selects ``column__arraycontains=tag``.

    Datasette's own array facet de-duplicates whole rows (``distinct value, inner.*``), which
    drags every document's full text through the query; this one reads only the tag column.
    """

    type = "tags"

    async def suggest(self):
        return []

    async def facet_results(self):
        from datasette.database import QueryInterrupted

        results, timed_out = [], []
        pairs = self.get_querystring_pairs()
        size = self.get_facet_size()
        for source_and_config in self.get_configs():
            config = source_and_config["config"]
            column = config.get("column") or config["simple"]
            col = escape_sqlite(column)
            sql = f"""select j.value as value, count(distinct t.id) as count
                from (select id, {col} from ({self.sql})) t, json_each(t.{col}) j
                where json_valid(t.{col}) and json_type(t.{col}) = 'array'
                group by j.value order by count desc, value limit {size + 1}"""
            try:
                rows = await self.ds.execute(
                    self.database, sql, self.params, truncate=False,
                    custom_time_limit=self.ds.setting("facet_time_limit_ms"))
            except QueryInterrupted:
                timed_out.append(column)
                continue
            arg = f"{column}__arraycontains"
            values = []
            for row in rows.rows[:size]:
                value = str(row["value"])
                selected = (arg, value) in pairs
                path = (path_with_removed_args(self.request, {arg: value}) if selected
                        else path_with_added_args(self.request, {arg: value}))
                values.append({"value": value, "label": value, "count": row["count"],
                               "toggle_url": self.ds.absolute_url(self.request, path),
                               "selected": selected})
            results.append({
                "name": column, "type": self.type, "results": values,
                "hideable": source_and_config["source"] != "metadata",
                "toggle_url": self.ds.urls.path(
                    path_with_removed_args(self.request, {"_facet_tags": column})),
                "truncated": len(rows) > size,
            })
        return results, timed_out


@hookimpl
def render_cell(row, value, column, table, database, datasette):
    """A stored time, in every table of the corpus, as the schedule's zone reads it (as the
    document page shows it); a change's kind and summary as the digest words them; anything
    else (dates, text) is left to Datasette."""
    if database != DATABASE:
        return None
    if table == "changes" and column == "kind":
        return value_label("kind", value)
    if table == "changes" and column == "summary":
        return _change_summary(datasette, row)
    if not isinstance(value, str) or not _STORED_TIME.fullmatch(value):
        return None
    shown = local_time(value, getattr(datasette, _TIMEZONE, None) or zone())
    return None if shown == value else shown  # not a real time (25:00): as stored


def _change_summary(datasette, row):
    """The digest's Chinese line of a change (``已修订（正文）：标题``), not the detector's
    English log line the row stores."""
    try:
        change_id = int(row["id"])
    except (KeyError, IndexError, TypeError, ValueError):  # the id column not selected
        return None

    async def summary():
        entries = await datasette.get_database(DATABASE).execute_fn(
            lambda conn: load_entries(sqlite_utils.Database(conn), [change_id]))
        return entries[0].summary_zh if entries else None

    return summary


@hookimpl
def register_facet_classes():
    return [MonthFacet, TagsFacet]


async def _site_names(datasette) -> dict[str, str]:
    db = datasette.get_database(DATABASE)
    try:
        rows = (await db.execute("select key, name from sites")).rows
    except sqlite3.DatabaseError:  # no sites table: keys are shown
        return {}
    return {r["key"]: r["name"] for r in rows if r["name"]}


@hookimpl
def extra_template_vars(template, database, table, view_name, request, datasette):
    """Labels for every corpus page; snippets for the documents list; a document's page."""
    if database != DATABASE:
        return None

    async def context():
        sites = await _site_names(datasette)
        extra = {"pw_column": column_label, "pw_facet_type": FACET_TYPE_LABELS,
                 "pw_label": lambda column, value, label=None: value_label(column, value, sites,
                                                                            label)}
        if table != "documents":
            return extra
        if view_name == "table":
            query = (request.args.get("_search") or "").strip()

            async def snippets(ids) -> dict[str, str]:
                ids = [int(i) for i in ids if str(i).isdigit()]
                if not query or not ids:
                    return {}
                rows = (await datasette.get_database(DATABASE).execute(
                    f"select id, body_text from documents where id in ({','.join('?' * len(ids))})",
                    ids)).rows
                return {str(r["id"]): s for r in rows if (s := snippet(r["body_text"], query))}

            extra["pw_snippets"] = snippets
        elif view_name == "row":
            try:
                document_id = int(request.url_vars["pks"])
            except (KeyError, ValueError):
                return extra
            db = datasette.get_database(DATABASE)
            tz = getattr(datasette, _TIMEZONE, None) or zone()
            extra["pw_page"] = await db.execute_fn(
                lambda conn: document_page(conn, document_id, sites, tz))
            extra.update(await interpretation_context(db, document_id))
        return extra

    return context


async def interpretation_context(db, document_id: int) -> dict:
    """A document page's 政策解读, for its template: ``pw_interpretations`` (the 解读s of the
    document's policy: id, title, url, published_date, doc_type, by) and ``pw_explains`` (for a
    解读, the policy it explains: id, title, url, doc_number, by, evidence; else None). ``db``
    is the Datasette database; the document page's context takes this beside its history."""
    def read(conn) -> dict:
        corpus = sqlite_utils.Database(conn)
        return {"pw_interpretations": interpretations_of(corpus, [document_id]).get(document_id, []),
                "pw_explains": explained_by(corpus, [document_id]).get(document_id)}

    return await db.execute_fn(read)


async def diff_page(datasette, request):
    """A version against the one before it, as pipelines.diff reads a revision."""
    version_id = int(request.url_vars["version_id"])
    db = datasette.get_database(DATABASE)
    rows = (await db.execute("select * from versions where id = ?", [version_id])).rows
    if not rows:
        raise NotFound(f"no version {version_id}")
    new = dict(rows[0])
    rows = (await db.execute(
        "select * from versions where document_id = ? and id < ? order by id desc limit 1",
        [new["document_id"], version_id])).rows
    old = dict(rows[0]) if rows else None
    document = dict((await db.execute(
        "select id, title, url from documents where id = ?", [new["document_id"]])).rows[0])

    async def attachments(version: dict) -> list[dict]:
        # Seen as change detection sees them: the same text in new bytes is the same file.
        return [attachment_view(r["url"], r["name"], r["sha256"], r["error"], r["text"])
                for r in (await db.execute(
                    "select url, name, sha256, error, text from attachments where version_id = ? "
                    "order by id", [version["id"]])).rows]

    new_fields = json.loads(new["fields"] or "{}")
    tz = getattr(datasette, _TIMEZONE, None) or zone()
    context = {"document": document, "version": new, "previous": old, "database": DATABASE,
               "web_link": web_link, "version_time": local_time(new["fetched_at"], tz),
               "previous_time": local_time(old["fetched_at"], tz) if old else "",
               "title": new_fields.get("title") or document["title"],
               "paragraphs": [p for p in (new["body_text"] or "").split("\n") if p.strip()]}
    if old is not None:
        context.update(
            diff=text_diff(old["body_text"], new["body_text"], max_entries=1000),
            fields=field_changes(json.loads(old["fields"] or "{}"), new_fields),
            attachments=attachment_changes(await attachments(old), await attachments(new)),
        )
    return Response.html(await datasette.render_template(
        "policywatch_diff.html", context, request=request))


async def home(datasette, request):
    """Browse opens on the documents, not on a list of tables."""
    return Response.redirect(datasette.urls.table(DATABASE, "documents"))


@hookimpl
def register_routes():
    return [(r"^/-/policywatch/diff/(?P<version_id>\d+)$", diff_page), (r"^/$", home)]
