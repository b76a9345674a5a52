"""Hostile attachments and pool jobs: a DOCX zip bomb, a PDF of 90,000 pages, a PDF that takes
longer than any job may, a job that hangs, a job that wants too much memory. Each is refused with
its reason; the worker that held it is replaced; a crawl that meets them finishes and stores every
document, the hostile files as attachments without text. The inputs are built by
benchmarks/faultcases/attachments.py (the fault suite runs the same ones)."""

from __future__ import annotations

import json

import pytest

from benchmarks.faultcases import attachments as cases
from crawlers.engine.parsepool import JobLimits, JobRefused, limits_setting
from crawlers.parsing.filetext import FileLimitError, FileLimits, extract_file_text
from fixtures.pdfmaker import make_pdf

pytestmark = pytest.mark.faults


def test_a_docx_bomb_is_refused_before_it_is_unpacked():
    bomb = cases.docx_bomb()
    assert len(bomb) < 2 * 1024 * 1024
    with pytest.raises(FileLimitError, match=r"docx: unpacks to \d+ bytes > 67108864"):
        extract_file_text(bomb, "docx")
    # The same file under a limit it fits is read: the check is the limit, not the file.
    small = cases.docx_bomb(unpacked_mb=2)
    assert extract_file_text(small, "docx", FileLimits(unpacked_bytes=4 * 1024 * 1024)).startswith("元宇宙")
    with pytest.raises(FileLimitError, match="zip members > 2"):
        extract_file_text(small, "docx", FileLimits(members=2))


def test_a_pdf_of_many_pages_is_refused_before_its_pages_are_read():
    with pytest.raises(FileLimitError, match="pdf: 90000 pages > 2000"):
        extract_file_text(cases.many_pages_pdf(), "pdf")
    assert extract_file_text(make_pdf(["第一条"], pages=3), "pdf", FileLimits(pages=3)).count("第一条") == 3
    with pytest.raises(FileLimitError, match="pdf: 4 pages > 3"):
        extract_file_text(make_pdf(["第一条"], pages=4), "pdf", FileLimits(pages=3))


def test_text_over_the_character_limit_is_refused():
    with pytest.raises(FileLimitError, match="more than 10 characters"):
        extract_file_text(make_pdf(["第一条 本办法自印发之日起施行。"]), "pdf", FileLimits(chars=10))
    with pytest.raises(FileLimitError, match="txt: more than 10 characters"):
        extract_file_text("一二三四五六七八九十十一".encode(), "txt", FileLimits(chars=10))


def test_limits_are_checked():
    with pytest.raises(ValueError, match="pages must be positive"):
        FileLimits(pages=0)
    with pytest.raises(ValueError, match="POLICYWATCH_JOB_TIME_LIMIT must be a positive"):
        JobLimits(seconds=0)
    from scrapy.settings import Settings

    assert limits_setting(Settings({"POLICYWATCH_JOB_TIME_LIMIT": "2.5", "POLICYWATCH_WORKER_MEMORY_MB": 0})) \
        == JobLimits(2.5, 0)
    with pytest.raises(ValueError, match="must be numbers"):
        limits_setting(Settings({"POLICYWATCH_JOB_TIME_LIMIT": "soon"}))


def test_the_pool_refuses_hostile_files_with_their_reason():
    assert cases.extract_in_pool(cases.docx_bomb(), "docx")[:2] == ("refused", "over_limit")
    assert cases.extract_in_pool(cases.many_pages_pdf(), "pdf")[:2] == ("refused", "over_limit")
    kind, reason, message = cases.extract_in_pool(cases.lying_pdf(), "pdf", seconds=3)
    assert (kind, reason) == ("refused", "time_limit")
    assert message == "attachment_job took more than 3 s; its worker was stopped"
    assert cases.extract_in_pool(make_pdf(["第一条"]), "pdf") == ("text", "第一条", None)


def test_a_hanging_job_is_stopped_and_its_worker_replaced():
    outcome, after = cases.run_in_pool(cases.hang, 600, seconds=2)
    assert isinstance(outcome, JobRefused) and outcome.reason == "time_limit"
    assert after == 1024 * 1024  # the next job had a worker


def test_a_job_over_the_memory_limit_is_refused_and_its_worker_replaced():
    outcome, after = cases.run_in_pool(cases.allocate, 4096, memory_mb=1024)
    assert isinstance(outcome, JobRefused) and outcome.reason == "memory_limit"
    assert after == 1024 * 1024
    # Within the limit the same job is answered.
    assert cases.run_in_pool(cases.allocate, 64, memory_mb=1024)[0] == 64 * 1024 * 1024


@pytest.mark.e2e
def test_a_crawl_meeting_hostile_attachments_finishes_and_stores_every_document(tmp_path):
    result, db = cases.hostile_crawl(tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    stored = {r["url"] for r in db.query("select url from documents")}
    assert stored == {d.url for d in cases.hostile_docs()}
    rows = {r["url"].rsplit("/", 1)[-1]: r for r in db.query("select * from attachments")}
    assert rows["good.pdf"]["text"] == "第二条 本办法自印发之日起施行。" and rows["good.pdf"]["error"] is None
    for name, reason in (("bomb.docx", "over_limit: docx: unpacks to"),
                         ("pages.pdf", "over_limit: pdf: 90000 pages > 2000"),
                         ("lying.pdf", "time_limit: attachment_job took more than 4 s")):
        row = rows[name]
        # Stored as an attachment without text, with the reason; its bytes were fetched.
        assert row["text"] is None and row["error"].startswith(reason), row
        assert row["sha256"] and row["size"] > 0
    run = next(db.query("select * from runs"))
    counts = json.loads(run["counts"])
    assert run["status"] == "ok" and counts["new"] == 4
    assert counts["attachments"]["failed/over_limit"] == 2
    assert counts["attachments"]["failed/time_limit"] == 1


def test_every_kind_of_pool_job_turns_a_refusal_into_its_own_failure(monkeypatch):
    """List and detail parses raise ParseError with the pool's reason (the spider records the
    page as refused), classifying stores the document untagged, an attachment keeps no text."""
    import asyncio

    from classifiers.classify import Document
    from crawlers.engine.parsepool import OffloadedWork
    from crawlers.parsing.errors import ParseError
    from crawlers.replay.portal import REPLAY_SITES

    async def refuse(self, fn, *args):
        raise JobRefused("time_limit", f"{fn.__name__} took more than 1 s; its worker was stopped")

    monkeypatch.setattr(OffloadedWork, "_run", refuse)
    work, site = OffloadedWork(0), REPLAY_SITES[0]
    with pytest.raises(ParseError) as detail:
        asyncio.run(work.parse_detail(site, "http://www.example-gov.cn/a.html", b"<html></html>", {}, None))
    assert (detail.value.reason, detail.value.message) == ("time_limit", "parse_job took more than 1 s; its worker was stopped")
    with pytest.raises(ParseError, match="time_limit: list_job"):
        asyncio.run(work.parse_list(site, site.columns[0], None, b"<html></html>", {}))
    assert asyncio.run(work.classify(Document(title="t", text="x"))) == \
        ("failed", "time_limit: classify_job took more than 1 s; its worker was stopped", None, None)
    assert asyncio.run(work.attachment_text(b"%PDF-", "pdf", FileLimits())) == \
        ("refused", "time_limit", "attachment_job took more than 1 s; its worker was stopped")
