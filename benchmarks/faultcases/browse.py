"""Fault cases of ``policywatch browse``: what portals wrote (titles, issuers, 文号, text, tags,
attachment names holding markup and template syntax) stays text on every page; a document of
megabytes of text renders a bounded page; a hostile search is searched as text or refused in
one line, and never changes the corpus.

Each case stores its documents through the corpus's own writer (``pipelines.storing``) and asks
the pages of the real Datasette app that ``policywatch browse`` serves (``digest.browse``); a
policy and its 政策解读 with hostile titles are shown on each other's pages as text.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
from datetime import date, datetime, timezone
from pathlib import Path

from crawlers.items import Attachment, PolicyItem
from digest.browse import make_datasette
from pipelines.runs import start_run
from pipelines.schema import open_corpus
from pipelines.storing import store_document

from . import FaultCase

SITE = "demo_gov"
BASE = "http://www.example-gov.cn/hostile/"
FETCHED = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)
# Markup, a script, an event handler, a javascript: link and Jinja syntax (a template that
# rendered what it was given would print 49).
TEMPLATE_TEXT = "{{ 7*7 }}{% if 1 %}IF{% endif %}"
MARKUP = '<script>alert(1)</script>"><img src=x onerror=alert(2)><a href="javascript:alert(3)">x</a>' + TEMPLATE_TEXT
HOSTILE_TITLE = f"关于元宇宙的通知{MARKUP}"
HOSTILE_NUMBER = "赣府厅发〔2026〕38号<b>x</b>"
# What must never appear in a page: the markup as markup.
UNESCAPED = ("<script>alert", "<img src=x", 'href="javascript:', "<b>x</b>")
# Searches that are text to search, not syntax: FTS5 operators, SQL, markup, LIKE wildcards.
HOSTILE_QUERIES = (
    "NEAR(元宇宙 产业)", "元宇宙*", '"未闭合的引号', "' OR 1=1 --", "); DROP TABLE documents; --",
    "<script>alert(1)</script>", "%_%", "\\", "元宇宙 AND NOT 产业", "title:元宇宙",
    "元" * 5000, "{{ 7*7 }}",
)
# Searches with no term to search: refused in one line, as `policywatch search` refuses them.
EMPTY_QUERIES = ('""""', "OR", "“”")
# More terms than pipelines.search.MAX_TERMS: refused in one line, not turned into SQL.
TOO_MANY_TERMS = " ".join(f"词{i}" for i in range(40))
HUGE_CHARS = 6_000_000


def hostile_corpus(path: Path) -> Path:
    """A corpus of one plain document and one whose every field a portal writes holds markup."""
    db = open_corpus(path)
    run = start_run(db, SITE, "crawl", when=FETCHED)
    store_document(db, PolicyItem(
        url=BASE + "plain.html", site=SITE, title="示例市元宇宙产业发展行动计划",
        doc_number="示政发〔2026〕1号", issuer="示例市人民政府", published_date=date(2026, 11, 1),
        body_text="推动元宇宙产业发展。", fetched_at=FETCHED,
        classification={"relevance": "dedicated", "techs": json.dumps(["xr"])}), run_id=run)
    store_document(db, PolicyItem(
        url=BASE + "hostile.html", site=SITE, title=HOSTILE_TITLE, doc_number=HOSTILE_NUMBER,
        issuer=f"示例市{MARKUP}", index_no=f"014500815/2026-0001{MARKUP}",
        published_date=date(2026, 11, 2), body_text=f"第一段，元宇宙。\n{MARKUP}\n第三段元宇宙。",
        attachments=[Attachment(url=BASE + "a.pdf", name=f"附件{MARKUP}.pdf", error=MARKUP),
                     Attachment(url="javascript:alert(4)", name="附件二.pdf", error="not fetched")],
        fetched_at=FETCHED,
        classification={"relevance": "dedicated", "techs": json.dumps([MARKUP, "xr"]),
                        "region": MARKUP, "evidence": json.dumps({"relevance": MARKUP})}),
        run_id=run)
    db.close()
    return path


def huge_corpus(path: Path, chars: int = HUGE_CHARS) -> Path:
    """A corpus holding one document of ``chars`` characters of text (a runaway extraction),
    元宇宙 near its end."""
    rng = random.Random(15)
    words = ["推进", "数字", "产业", "发展", "应用", "场景", "创新", "平台", "建设", "服务", "，", "。\n"]
    text = "".join(rng.choice(words) for _ in range(chars // 2))[: chars - 20] + "最后一段：元宇宙试点。"
    db = open_corpus(path)
    run = start_run(db, SITE, "crawl", when=FETCHED)
    store_document(db, PolicyItem(url=BASE + "huge.html", site=SITE, title="超长正文的文件",
                                  issuer="示例市人民政府", published_date=date(2026, 11, 3),
                                  body_text=text, fetched_at=FETCHED), run_id=run)
    db.close()
    return path


def pages(corpus: Path, paths: list[str]) -> list[tuple[str, int, str]]:
    """(path, status, body) of each page, asked of the app ``policywatch browse`` serves."""
    ds = make_datasette(corpus)

    async def fetch() -> list[tuple[str, int, str]]:
        await ds.invoke_startup()
        out = []
        for path in paths:
            response = await ds.client.get(path)
            out.append((path, response.status_code, response.text))
        return out

    return asyncio.run(fetch())


def unescaped(body: str) -> list[str]:
    return [raw for raw in UNESCAPED if raw in body]


def _hostile_text(scratch: Path) -> str:
    corpus = hostile_corpus(scratch / "corpus.db")
    db = open_corpus(corpus)
    hostile = next(db.query("SELECT id FROM documents WHERE url = ?", [BASE + "hostile.html"]))["id"]
    db.close()
    paths = ["/corpus/documents", "/corpus/documents?_search=元宇宙",
             "/corpus/documents?_search=关于元宇宙的通知",
             f"/corpus/documents/{hostile}", "/corpus/documents?_facet=region&_facet=issuer"]
    for path, status, body in pages(corpus, paths):
        if status != 200:
            raise AssertionError(f"{path}: HTTP {status}")
        found = unescaped(body)
        if found:
            raise AssertionError(f"{path} carries {found!r} unescaped")
        if TEMPLATE_TEXT not in body:  # there, as text: neither evaluated nor dropped
            raise AssertionError(f"{path} lost or evaluated the hostile text")
    return f"{len(paths)} pages (list, searches, document, facets): markup shown as text"


def _huge_document(scratch: Path) -> str:
    from digest.documentpage import MAX_TEXT_SHOWN

    corpus = huge_corpus(scratch / "corpus.db")
    [(_, status, page), (_, listed, results)] = pages(
        corpus, ["/corpus/documents/1", "/corpus/documents?_search=元宇宙试点"])
    if status != 200 or listed != 200:
        raise AssertionError(f"HTTP {status} / {listed}")
    if "正文过长" not in page or len(page) > MAX_TEXT_SHOWN * 3:
        raise AssertionError(f"the page holds {len(page):,} characters: the text was not cut")
    if "<mark>元宇宙试点</mark>" not in results:
        raise AssertionError("the search found no snippet at the end of the text")
    return (f"{HUGE_CHARS:,} characters: page of {len(page):,} characters (cut at "
            f"{MAX_TEXT_SHOWN:,}), search snippet from its end")


def hostile_interpretation_corpus(path: Path) -> tuple[Path, int, int]:
    """A policy and its 解读, both titles holding markup, stored by the crawl's parse → classify
    → store path and linked by the 文号 the 解读 names; (corpus, policy id, 解读 id)."""
    from .interp import (
        INTERPRETATION_URL,
        POLICY_NAME,
        POLICY_NUMBER,
        POLICY_URL,
        detail_page,
        interpretation_page,
        store_page,
    )

    db = open_corpus(path)
    store_page(db, POLICY_URL, detail_page(f"示例市元宇宙产业行动方案{MARKUP}",
                                           ["推动元宇宙产业发展。"], doc_number=POLICY_NUMBER))
    store_page(db, INTERPRETATION_URL,
               interpretation_page(title=f"《{POLICY_NAME}》政策解读{MARKUP}"))
    policy, explainer = (db.execute("SELECT id FROM documents WHERE url = ?", [u]).fetchone()[0]
                         for u in (POLICY_URL, INTERPRETATION_URL))
    linked = db.execute("SELECT explains_id FROM interpretations WHERE document_id = ?",
                        [explainer]).fetchone()
    db.close()
    if linked != (policy,):
        raise AssertionError(f"the 解读 was not linked to its policy: {linked}")
    return path, policy, explainer


def _hostile_interpretation(scratch: Path) -> str:
    corpus, policy, explainer = hostile_interpretation_corpus(scratch / "corpus.db")
    answers = pages(corpus, [f"/corpus/documents/{policy}", f"/corpus/documents/{explainer}"])
    for (path, status, body), section in zip(answers, ('id="interpretations"', 'id="explains"')):
        if status != 200:
            raise AssertionError(f"{path}: HTTP {status}")
        if section not in body:
            raise AssertionError(f"{path} does not show the link ({section})")
        if unescaped(body):
            raise AssertionError(f"{path} carries {unescaped(body)!r} unescaped")
        if TEMPLATE_TEXT not in body:
            raise AssertionError(f"{path} lost or evaluated the hostile title")
    return "a policy and its 解读 with markup in their titles: linked both ways, shown as text"


def _hostile_queries(scratch: Path) -> str:
    corpus = hostile_corpus(scratch / "corpus.db")
    before = hashlib.sha256(corpus.read_bytes()).hexdigest()
    from urllib.parse import quote

    refused = {q: "empty search query" for q in EMPTY_QUERIES}
    refused[TOO_MANY_TERMS] = "too many search terms"
    queries = [*HOSTILE_QUERIES, *refused]
    answers = pages(corpus, [f"/corpus/documents?_search={quote(q)}" for q in queries])
    for (path, status, body), query in zip(answers, queries):
        if query in refused:
            if status != 400 or refused[query] not in body:
                raise AssertionError(f"{query[:40]!r}: HTTP {status}, not refused in one line")
        elif status != 200:
            raise AssertionError(f"{query[:40]!r}: HTTP {status}")
        if unescaped(body):
            raise AssertionError(f"{query[:40]!r}: {unescaped(body)!r} unescaped")
    if hashlib.sha256(corpus.read_bytes()).hexdigest() != before:
        raise AssertionError("a search changed the corpus")
    return (f"{len(HOSTILE_QUERIES)} hostile searches answered as text; {len(refused)} with no "
            "term or 40 terms refused (400, one line)")


CASES: list[FaultCase] = [
    FaultCase("browse-hostile-text", "markup, javascript: links and {{ }} in a document's title, "
              "文号, issuer, text, tags, attachment", _hostile_text),
    FaultCase("browse-huge-document", f"a document of {HUGE_CHARS:,} characters of text",
              _huge_document),
    FaultCase("browse-hostile-interpretation", "markup, javascript: links and {{ }} in the "
              "titles of a policy and its 解读, shown on each other's pages", _hostile_interpretation),
    FaultCase("browse-hostile-query", "FTS/SQL syntax, markup, 5,000 characters and 40 terms "
              "typed into browse's search", _hostile_queries),
]
