"""`policywatch retag` re-links 政策解读 when a re-tag changes a document's type: a page an older
classifier did not read as a 解读 is linked to its policy; a page typed a 解读 by mistake loses
its link; the re-linking is in the batch's transaction. The pages are stored through the crawl's
parse → classify → store path into a real corpus file; the older classifier's verdict is
written as it would have stored it."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

import pipelines.retag
from benchmarks.faultcases.interp import (
    INTERPRETATION_URL,
    POLICY_URL,
    detail_page,
    interpretation_page,
    links_of,
    policy_page,
    store_page,
)
from pipelines.retag import retag
from pipelines.schema import open_corpus

REPO = Path(__file__).resolve().parents[1]
NOTICE_URL = "http://www.example-gov.cn/zcwj/202611/t20261122_2003.html"


def corpus(path: Path) -> dict[str, int]:
    """The policy and its 解读 stored (and linked), then the 解读 as an older classifier typed
    it: a notice, never linked. Returns the documents' ids by URL."""
    db = open_corpus(path)
    store_page(db, POLICY_URL, policy_page())
    store_page(db, INTERPRETATION_URL, interpretation_page())
    ids = {url: db.execute("SELECT id FROM documents WHERE url = ?", [url]).fetchone()[0]
           for url in (POLICY_URL, INTERPRETATION_URL)}
    assert links_of(db) == {ids[INTERPRETATION_URL]: (ids[POLICY_URL], "title")}
    with db.conn:
        db.execute("DELETE FROM interpretations")
        db.execute("UPDATE documents SET doc_type = 'notice', classifier_version = 'old' WHERE id = ?",
                   [ids[INTERPRETATION_URL]])
    db.close()
    return ids


def test_retag_links_a_page_it_now_reads_as_an_interpretation(tmp_path):
    path = tmp_path / "corpus.db"
    ids = corpus(path)
    result = subprocess.run([sys.executable, "-m", "scheduler", "retag", "--db", str(path)],
                            cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 政策解读 linked anew" in result.stdout
    db = open_corpus(path)
    assert db.execute("SELECT doc_type FROM documents WHERE id = ?",
                      [ids[INTERPRETATION_URL]]).fetchone()[0] == "interpretation"
    assert links_of(db) == {ids[INTERPRETATION_URL]: (ids[POLICY_URL], "title")}
    # A second retag has nothing to do and changes no link.
    again = retag(db, everything=True)
    assert again.relinked == 0 and links_of(db) == {ids[INTERPRETATION_URL]: (ids[POLICY_URL], "title")}


def test_retag_drops_the_link_of_a_page_that_is_no_interpretation(tmp_path):
    path = tmp_path / "corpus.db"
    db = open_corpus(path)
    store_page(db, POLICY_URL, policy_page())
    store_page(db, NOTICE_URL, detail_page("示例市人民政府关于举办元宇宙产业大会的通知",
                                           ["定于2026年12月举办元宇宙产业大会。"]))
    policy, notice = (db.execute("SELECT id FROM documents WHERE url = ?", [u]).fetchone()[0]
                      for u in (POLICY_URL, NOTICE_URL))
    with db.conn:  # an older classifier's mistake, and the link it led to
        db.execute("UPDATE documents SET doc_type = 'interpretation', classifier_version = 'old' "
                   "WHERE id = ?", [notice])
        db.execute("INSERT INTO interpretations (document_id, explains_id, by, evidence, linked_at) "
                   "VALUES (?, ?, 'title_in_text', '《…》', '2026-11-22T00:00:00+00:00')", [notice, policy])
    result = retag(db)
    assert result.updated == 1 and result.relinked == 0
    assert db.execute("SELECT doc_type FROM documents WHERE id = ?", [notice]).fetchone()[0] != "interpretation"
    assert links_of(db) == {}
    # Its title is a policy's name again: a 解读 naming it would find it.
    assert db.execute("SELECT core FROM title_cores WHERE document_id = ?", [notice]).fetchone()


def test_retag_and_its_relinking_are_one_transaction(tmp_path, monkeypatch):
    path = tmp_path / "corpus.db"
    ids = corpus(path)
    db = open_corpus(path)

    def failing(*args, **kwargs):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(pipelines.retag, "relink_documents", failing)
    with pytest.raises(sqlite3.OperationalError):
        retag(db)
    # The batch's new tags were not kept without their links: the 解读 is still as it was.
    assert db.execute("SELECT doc_type, classifier_version FROM documents WHERE id = ?",
                      [ids[INTERPRETATION_URL]]).fetchone() == ("notice", "old")
    assert links_of(db) == {}
