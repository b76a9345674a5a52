"""Datasette hooks for ``policywatch browse`` (registered by ``digest.browse``, nowhere else).

- Search of ``documents`` for Chinese terms of any length: the trigram index answers terms of
  three or more characters, and cannot answer shorter ones (规划, 文旅, VR), which are matched
  with LIKE over the same search form (pipelines/search.py does the same for the CLI).
- A ``month`` facet (``_facet_month=published_date``), selecting with ``__startswith``.
- Document pages list their versions and changes, and a diff page shows what a version changed.
"""

from __future__ import annotations

import json

from datasette import hookimpl
from datasette.facets import Facet
from datasette.filters import FilterArguments
from datasette.utils import escape_sqlite, path_with_added_args, path_with_removed_args
from datasette.utils.asgi import NotFound, Response

from pipelines.search import TRIGRAM
from pipelines.textnorm import search_form

DATABASE = "corpus"


def _like(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def search_clauses(query: str) -> tuple[list[str], dict[str, str]]:
    """WHERE clauses (on ``documents``) and parameters for a search box query: every
    whitespace-separated term must occur in the title or the text."""
    terms = [t for t in (search_form(t) for t in query.split()) if t]
    clauses: list[str] = []
    params: dict[str, str] = {}
    long_terms = [t for t in terms if len(t) >= TRIGRAM]
    if long_terms:
        params["pw_fts"] = " AND ".join('"' + t.replace('"', '""') + '"' for t in long_terms)
        clauses.append("rowid in (select rowid from documents_fts where documents_fts match :pw_fts)")
    for i, term in enumerate(t for t in terms if len(t) < TRIGRAM):
        params[f"pw_like_{i}"] = _like(term)
        clauses.append(
            "rowid in (select rowid from documents_fts where title like :pw_like_{0} escape '\\'"
            " or body_text like :pw_like_{0} escape '\\')".format(i)
        )
    return clauses, params


# trylast: called after Datasette's own search filter, so this extra_context (the search box
# is shown) is the one kept; Datasette's finds no FTS table of its own for documents.
@hookimpl(trylast=True)
def filters_from_request(request, database, table, datasette):
    if database != DATABASE or table != "documents":
        return None
    query = (request.args.get("_search") or "").strip()
    context = {"supports_search": True, "search": query}
    if not query:
        return FilterArguments([], extra_context=context)
    clauses, params = search_clauses(query)
    return FilterArguments(clauses, params, [f'search matches "{query}"'], context)


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


@hookimpl
def register_facet_classes():
    return [MonthFacet]


@hookimpl
def extra_template_vars(template, database, table, view_name, request, datasette):
    if database != DATABASE or table != "documents" or view_name != "row":
        return None

    async def history():
        try:
            document_id = int(request.url_vars["pks"])
        except (KeyError, ValueError):
            return {}
        db = datasette.get_database(DATABASE)
        versions = (await db.execute(
            "select id, fetched_at, text_source, http_status, length(body_text) as chars "
            "from versions where document_id = ? order by id", [document_id])).rows
        changes = (await db.execute(
            "select id, kind, detected_at, summary, version_id from changes "
            "where document_id = ? order by id", [document_id])).rows
        return {"pw_versions": [dict(r) for r in versions],
                "pw_changes": [dict(r) for r in changes]}

    return history


async def diff_page(datasette, request):
    """A version against the one before it, as pipelines.diff reads a revision."""
    from pipelines.diff import attachment_changes, field_changes, text_diff

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
        return [dict(r) for r in (await db.execute(
            "select url, name, sha256 from attachments where version_id = ?", [version["id"]])).rows]

    new_fields = json.loads(new["fields"] or "{}")
    context = {"document": document, "version": new, "previous": old, "database": DATABASE,
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


@hookimpl
def register_routes():
    return [(r"^/-/policywatch/diff/(?P<version_id>\d+)$", diff_page)]
