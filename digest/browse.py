"""``policywatch browse``: the corpus in Datasette, read-only, made fit for policy research.

The metadata gives ``documents`` facets on relevance, level, region, the tag lists (each tag
of the JSON arrays), site and month, and the saved queries, titled in Chinese;
``digest.browseplugin`` adds ``policywatch search``'s search with snippets, Chinese labels, the
month and tag facets, the document page with its policy's timeline, and opens on the documents.
Columns a corpus does not have (an older schema) are left out of the facets and queries instead
of breaking the pages.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import Any

from pipelines.schema import CorpusError, read_corpus

logger = logging.getLogger(__name__)

DATABASE = "corpus"  # the name the corpus has in the UI's URLs, whatever its file is called
TEMPLATES = Path(__file__).with_name("browse_templates")
SETTINGS = {
    "truncate_cells_html": 160,  # body text would fill the table page
    "default_page_size": 50,
    "facet_time_limit_ms": 2000,  # tag facets read the JSON lists of every matching row
    "sql_time_limit_ms": 5000,  # 1–2 character searches scan the text (instr)
    "default_facet_size": 24,
    "suggest_facets": False,
}
SHADOW_TABLES = ("documents_fts", "documents_fts_data", "documents_fts_idx",
                 "documents_fts_content", "documents_fts_docsize", "documents_fts_config")


class BrowseError(RuntimeError):
    """The corpus cannot be served (missing, unreadable)."""


def corpus_columns(path: Path) -> tuple[set[str], set[str]]:
    """(columns of ``documents``, table names) of the corpus at ``path``, read-only."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(documents)")}
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        conn.close()
    if not columns:
        raise BrowseError(f"{path} has no documents table: is it a policywatch corpus?")
    return columns, tables


def _policy(columns: set[str], alias: str = "") -> str:
    prefix = f"{alias}." if alias else ""
    return f"coalesce({prefix}policy_id, {prefix}id)" if "policy_id" in columns else f"{prefix}id"


def _is_draft(columns: set[str], alias: str) -> str:
    # As digest.selection decides: the status when the classifier set one, else the title.
    title = f"({alias}.title like '%征求意见%' or {alias}.title like '%草案%')"
    if "status" in columns:
        return f"(case when {alias}.status is not null and {alias}.status != '' then {alias}.status = 'draft' else {title} end)"
    return title


def _listing(columns: set[str], alias: str = "d") -> str:
    wanted = ["id", "title", "issuer", "doc_number", "published_date", "relevance", "level",
              "region", "site", "url", "first_seen"]
    return ", ".join(f"{alias}.{c}" for c in wanted if c in columns)


def _not_interpretation(columns: set[str], tables: set[str], alias: str) -> str:
    """A condition leaving out 政策解读 (pipelines.interpretations): typed so by the classifier
    (an unclassified document has no relevance to be counted by), or linked as one."""
    conditions = []
    if "doc_type" in columns:
        conditions.append(f"coalesce({alias}.doc_type, '') != 'interpretation'")
    if "interpretations" in tables:
        conditions.append(f"{alias}.id not in (select document_id from interpretations)")
    return " and ".join(conditions) or "1"


def canned_queries(columns: set[str], tables: set[str] = frozenset()) -> dict[str, dict[str, Any]]:
    """The canned queries this corpus's columns and tables allow."""
    queries: dict[str, dict[str, Any]] = {
        "new_this_week": {
            "title": "本周新增",
            "description": "过去 7 天首次发现的文件，最新的在前。",
            "sql": f"""select {_listing(columns)}
from documents d
where d.first_seen >= strftime('%Y-%m-%dT%H:%M:%S', 'now', '-7 days')
order by d.first_seen desc, d.id desc""",
        },
    }
    if {"relevance", "region"} <= columns:
        withdrawn = "d.withdrawn_at is not null, " if "withdrawn_at" in columns else ""
        queries["dedicated_by_region"] = {
            "title": "各地区专项政策",
            "description": "专项政策按地区计数，同一政策（征求意见稿与正式稿、转载）只计一次，按正式稿；"
                           "政策解读不计。",
            # Each policy's representative as digest.selection picks it (the final, a live
            # page, the earliest), then the dedicated ones counted by region; a 解读 explains
            # a policy and is none (as the report counts).
            "sql": f"""with ranked as (
  select d.id, d.title, d.region, d.relevance, row_number() over (
    partition by {_policy(columns, 'd')}
    order by {_is_draft(columns, 'd')}, {withdrawn}coalesce(d.published_date, d.written_date, substr(d.first_seen, 1, 10)), d.id
  ) as rank
  from documents d
  where {_not_interpretation(columns, tables, 'd')}
)
select coalesce(region, '（无地区：国家级或未标注）') as region,
  count(*) as policies,
  group_concat(title, '；') as titles
from ranked
where rank = 1 and relevance = 'dedicated'
group by 1
order by policies desc, region""",
        }
    final = f"not {_is_draft(columns, 'f')}"
    lineage = (f"""
  and not exists (
    select 1 from documents f
    where f.policy_id = d.policy_id and f.id != d.id and {final}
  )""" if "policy_id" in columns else "")
    queries["drafts_without_final"] = {
        "title": "尚无正式稿的征求意见稿",
        "description": "征求意见稿，且同一政策尚无正式印发的文件。",
        "sql": f"""select {_listing(columns)}
from documents d
where {_is_draft(columns, 'd')}{lineage}
order by d.published_date desc, d.id desc""",
    }
    return queries


def documents_facets(columns: set[str]) -> list[Any]:
    facets: list[Any] = []
    for column in ("relevance", "level", "region"):
        if column in columns:
            facets.append(column)
    for column in ("scenarios", "measures", "techs"):
        if column in columns:
            facets.append({"tags": column})
    facets.append("site")
    facets.append({"month": "published_date"})
    for column in ("city_tier", "status", "doc_type"):
        if column in columns:
            facets.append(column)
    return facets


def metadata(columns: set[str], tables: set[str]) -> dict[str, Any]:
    """Datasette metadata for a corpus with these ``documents`` columns and tables."""
    hidden = {name: {"hidden": True} for name in SHADOW_TABLES if name in tables}
    documents = {
        "label_column": "title",
        "sort_desc": "published_date",
        "facets": documents_facets(columns),
        "title": "政策文件",
        "description": "搜索：任意长度的中文词（两字词如“文旅”也可），空格分隔的词须同时出现；"
                       "A OR B（或 A | B、A 或 B）任一出现；\"A B\" 按短语；"
                       "输入文号（括号写法不限，如 赣府厅发[2026]38号）或索引号可直接找到该文件。"
                       "点击分面（相关性、层级、地区、标签、网站、月份）筛选。",
    }
    return {
        "title": "policywatch 政策文件库",
        "description": "policywatch 抓取并保存的政府政策文件：每个版本、附件、变化与抓取记录（只读）。",
        "databases": {
            DATABASE: {
                "tables": {
                    "documents": documents,
                    "sites": {"label_column": "name", "title": "网站"},
                    "versions": {"sort_desc": "id", "title": "版本",
                                 "description": "每个文件的每个内容版本；从不覆盖。"},
                    "changes": {"sort_desc": "detected_at", "facets": ["kind"], "title": "变化",
                                "description": "变化记录：新发布、征求意见稿已正式印发、已修订、已撤下、已废止。"},
                    "runs": {"sort_desc": "id", "title": "抓取记录"},
                    **hidden,
                },
                "queries": canned_queries(columns, tables),
            }
        },
    }


def prepare_corpus(path: Path) -> None:
    """Check the corpus (read-only: never created or migrated) and fold its WAL into the main
    file.

    Immutable mode reads the main file only: rows still in ``-wal`` would be invisible. A
    checkpoint copies committed pages into the file; it changes none of its content.
    """

    try:
        read_corpus(path).close()
    except CorpusError as exc:
        raise BrowseError(str(exc)) from None
    wal = path.with_name(path.name + "-wal")
    if not (wal.exists() and wal.stat().st_size):
        return
    conn = sqlite3.connect(path)
    try:
        busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    except sqlite3.DatabaseError as exc:
        raise BrowseError(f"{path} cannot be read as a corpus: {exc}") from None
    finally:
        conn.close()
    if busy:
        logger.warning("%s is being written to (a crawl is running?): the browser shows the "
                       "corpus as it was; use --live to follow it", path)


def make_datasette(path: Path, live: bool = False, feeds: Any = None,
                   timezone: str | None = None):
    """A Datasette instance serving the corpus as ``/corpus``, read-only (immutable unless
    ``live``: then it is opened ``mode=ro`` and shows what crawls add while it runs), and the
    rolling feeds (``feeds``: a ``digest.subscriptions.FeedConfig``, the default one if None);
    its pages show times in ``timezone`` (``[schedule] timezone``; Asia/Shanghai if None)."""
    from datasette.app import Datasette
    from datasette.database import Database
    from datasette.plugins import pm

    from digest import browseplugin

    path = Path(path).resolve()
    columns, tables = corpus_columns(path)
    if not pm.is_registered(browseplugin):
        pm.register(browseplugin, name="policywatch")
    feeds_plugin = _register_feeds()
    ds = Datasette(
        immutables=[] if live else [str(path)], files=[str(path)] if live else [],
        metadata=metadata(columns, tables), template_dir=str(TEMPLATES), settings=SETTINGS,
    )
    # Serve it under a fixed name, so that URLs and templates do not depend on the file's.
    for name in [n for n in ds.databases if not n.startswith("_")]:
        ds.remove_database(name)
    ds.add_database(Database(ds, str(path), is_mutable=live), name=DATABASE)
    feeds_plugin.attach(ds, feeds)
    browseplugin.attach(ds, timezone)
    return ds


def _register_feeds():
    """The feeds' route (digest.feedplugin), a plugin of its own beside browseplugin; returns
    the plugin module."""
    from datasette.plugins import pm

    from digest import feedplugin

    if not pm.is_registered(feedplugin):
        pm.register(feedplugin, name="policywatch-feeds")
    return feedplugin


def serve(path: Path, host: str = "127.0.0.1", port: int = 8001, live: bool = False,
          echo=print, feeds: Any = None, timezone: str | None = None) -> None:
    """Serve the corpus until interrupted; times shown in ``timezone``."""
    import asyncio

    import uvicorn

    path = Path(path)
    if not live:
        prepare_corpus(path)
    elif not path.exists():
        raise BrowseError(f"no corpus at {path}: crawl something first (or pass --db)")
    ds = make_datasette(path, live=live, feeds=feeds, timezone=timezone)
    asyncio.run(ds.invoke_startup())
    echo(f"policywatch browse: {path} ({'live, read-only' if live else 'immutable'}) at "
         f"http://{host}:{port}/{DATABASE}/documents — Ctrl-C to stop")
    uvicorn.run(ds.app(), host=host, port=port, log_level="warning", lifespan="on")
