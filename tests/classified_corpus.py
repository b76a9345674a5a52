"""A classified corpus for the report, browse and export tests: a real Scrapy crawl of the replay
portal into a real SQLite file (once per test run), copied per test module.

The labels are the real classifier's (the crawl's classify stage; ``policywatch retag`` for any
document it left unlabelled). The tests check that reports, exports and the browser count and
show what the corpus holds, whatever the classifier decides. One link is the tests' own: a
draft is declared a draft of another document's policy, so that "a draft and its final count
once" is exercised whatever lineage detection finds in the fixtures.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from crawlers.replay.portal import ReplayPortal
from tests.shared_build import built_once

REPO = Path(__file__).resolve().parents[1]

# The synthetic lineage the tests use: a draft (征求意见稿) and the final it is declared to have.
DRAFT_TITLE = "关于公开征求《江苏省虚拟现实与元宇宙应用场景培育若干措施（征求意见稿）》意见的通知"
FINAL_TITLE = "省工业和信息化厅关于印发《江苏省元宇宙产业创新发展行动计划（2026—2028年）》的通知"

# The sites the corpus is crawled from: the project's first fixture sites and the replay-only
# generic site (bad pages, a GBK page, a DOCX document). A fixed list keeps the tests' corpus
# the same when more sites are registered.
CORPUS_SITES = ("cn_gov", "sx_gov", "jx_gov", "jx_sthjt", "js_gxt", "zj_fgw", "gs_fzgg",
                "gs_jyt", "replay_generic")


def _scheduler(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "scheduler", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=600)


def crawled_corpus(tmp_path_factory) -> Path:
    """The corpus after one crawl of CORPUS_SITES, every document classified (built once per
    test run; never change it: take ``classified_copy``)."""

    def build(folder: Path) -> None:
        db = folder / "crawled.db"
        with ReplayPortal.from_fixtures().serve() as base:
            result = _scheduler("crawl", *CORPUS_SITES, "--db", str(db), "--replay", base)
        assert result.returncode == 0, result.stdout + result.stderr
        conn = sqlite3.connect(db)
        titles = {row[0] for row in conn.execute("SELECT title FROM documents")}
        unlabelled = conn.execute(
            "SELECT count(*) FROM documents WHERE classifier_version IS NULL").fetchone()[0]
        conn.close()
        missing = {DRAFT_TITLE, FINAL_TITLE} - titles
        assert not missing, f"the crawl did not store {missing}:\n{result.stdout}{result.stderr}"
        if unlabelled:
            result = _scheduler("retag", "--db", str(db))
            assert result.returncode == 0, result.stdout + result.stderr

    return built_once(tmp_path_factory, "research", build) / "crawled.db"


def classified_copy(tmp_path_factory, name: str = "corpus") -> Path:
    """A copy of the crawled corpus with the draft linked to its final; ``name``.db in a new
    folder."""
    source = crawled_corpus(tmp_path_factory)
    target = tmp_path_factory.mktemp(name) / f"{name}.db"
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    with dst:
        src.backup(dst)
    src.close()
    with dst:
        link_draft(dst)
    dst.close()
    return target


def link_draft(conn: sqlite3.Connection) -> None:
    """Make DRAFT_TITLE a draft of FINAL_TITLE's policy (whatever lineage found)."""
    final_id = conn.execute("SELECT id FROM documents WHERE title = ?", [FINAL_TITLE]).fetchone()[0]
    conn.execute("UPDATE documents SET policy_id = ? WHERE id = ?", [final_id, final_id])
    changed = conn.execute("UPDATE documents SET policy_id = ?, status = 'draft' WHERE title = ?",
                           [final_id, DRAFT_TITLE]).rowcount
    assert changed == 1, "the draft the tests link to its final is not in the crawled corpus"
