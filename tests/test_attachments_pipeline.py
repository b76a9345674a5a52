"""AttachmentsPipeline: unit checks, and a real Scrapy crawl of a page with attachments served
on 127.0.0.1, through Normalise → Attachments → Store into a real SQLite file.

The crawl runs in a subprocess (this module is also its script: Twisted's reactor cannot be
restarted inside the pytest process).
"""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import threading
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from crawlers.items import Attachment, PolicyItem
from crawlers.sites.spec import Column, Site
from fixtures.pdfmaker import make_pdf
from pipelines.attachments import (
    AttachmentsPipeline,
    _take_text_from_attachments,
    declared_format,
    sniff_format,
)

REPO = Path(__file__).resolve().parents[1]
USER_AGENT = "policywatch-attachments-test"
MAX_BYTES = 100_000
PDF_TEXT = "Measures to support the virtual reality industry"
DOCX_TEXT = "第一条 为推动虚拟现实与元宇宙产业集聚发展，制定本细则。"

PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>关于印发虚拟现实产业扶持办法的通知</title></head>
<body>
<div class="article">
  <h1 class="title">关于印发虚拟现实产业扶持办法的通知</h1>
  <div class="content"><p>各有关单位：现将《虚拟现实产业扶持办法》印发给你们，请认真贯彻执行。</p></div>
  <div class="fj">附件：
    <a href="/files/policy.pdf">1. 虚拟现实产业扶持办法.pdf</a>
    <a href="/files/rules.docx">2. 实施细则.docx</a>
    <a href="/files/download.jsp?id=7">3. 申报表（点击下载）</a>
    <a href="/files/form.wps">4. 申报表.wps</a>
    <a href="/private/internal.pdf">5. 内部材料.pdf</a>
    <a href="/files/big.pdf">6. 图册.pdf</a>
    <a href="/files/missing.pdf">7. 已删除.pdf</a>
    <a href="/files/waf.pdf">8. 被拦截.pdf</a>
    <a href="http://files.elsewhere.example/x.pdf">9. 外站文件.pdf</a>
  </div>
</div>
</body></html>
"""


def minimal_docx(*paragraphs: str) -> bytes:
    import docx

    document = docx.Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


# --- unit checks -------------------------------------------------------------------------------


def test_sniff_format():
    assert sniff_format(make_pdf(["x"])) == "pdf"
    assert sniff_format(minimal_docx("正文")) == "docx"
    assert sniff_format(b"<html><body>403</body></html>") is None
    assert sniff_format(b"PK\x03\x04" + b"\0" * 100) is None  # a zip that is not a Word file


def test_declared_format():
    assert declared_format(Attachment(url="http://a.gov.cn/f/x.PDF", name="附件")) == "pdf"
    assert declared_format(Attachment(url="http://a.gov.cn/down.jsp?id=3", name="办法.docx")) == "docx"
    assert declared_format(Attachment(url="http://a.gov.cn/down.jsp?id=3", name="申报表")) == ""
    assert declared_format(Attachment(url="http://a.gov.cn/f/x.wps", name="表")) == "wps"


def test_cover_note_takes_the_first_readable_attachment():
    item = PolicyItem(url="http://a.gov.cn/1.html", site="s", title="t", body_text="印发给你们。",
                      text_source="attachment_pending",
                      attachments=[Attachment(url="http://a.gov.cn/a.pdf", name="a", error="http_404: x"),
                                   Attachment(url="http://a.gov.cn/b.pdf", name="b", text="全文"),
                                   Attachment(url="http://a.gov.cn/c.pdf", name="c", text="别的")])
    _take_text_from_attachments(item)
    assert (item.body_text, item.text_source) == ("全文", "attachment")

    unreadable = PolicyItem(url="http://a.gov.cn/1.html", site="s", title="t", body_text="印发。",
                            text_source="attachment_pending",
                            attachments=[Attachment(url="http://a.gov.cn/a.pdf", name="a")])
    _take_text_from_attachments(unreadable)
    assert (unreadable.body_text, unreadable.text_source) == ("印发。", "page")


# --- the crawl -------------------------------------------------------------------------------


class _Handler(SimpleHTTPRequestHandler):
    requests: list[tuple[str, str]]  # (path, User-Agent), set per server

    def do_GET(self):
        self.requests.append((self.path, self.headers.get("User-Agent", "")))
        if self.path == "/files/waf.pdf":  # an anti-bot page served as 200 in place of the file
            body = "<html><body>访问过于频繁，请稍后再试</body></html>".encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if self.path.startswith("/files/download.jsp"):
            self.path = "/files/form.docx"
        super().do_GET()

    def log_message(self, *args):  # keep the test output quiet
        pass


@contextmanager
def serve(root: Path):
    handler = type("Handler", (_Handler,), {"requests": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), lambda *a: handler(*a, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler.requests
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def portal(tmp_path):
    root = tmp_path / "www"
    (root / "files").mkdir(parents=True)
    (root / "private").mkdir()
    (root / "robots.txt").write_text("User-agent: *\nDisallow: /private/\n")
    (root / "notice.html").write_text(PAGE, encoding="utf-8")
    files = {
        "files/policy.pdf": make_pdf([PDF_TEXT]),
        "files/rules.docx": minimal_docx(DOCX_TEXT, "第二条 本细则自发布之日起施行。"),
        "files/form.docx": minimal_docx("申报单位名称：＿＿＿＿"),
        "files/form.wps": b"\xd0\xcf\x11\xe0 not really a WPS file",
        "private/internal.pdf": make_pdf(["internal"]),
        "files/big.pdf": make_pdf(["big"], padding=MAX_BYTES * 2),
    }
    for name, data in files.items():
        (root / name).write_bytes(data)
    with serve(root) as (base, requests):
        yield base, requests, files


def test_crawl_fetches_attachments_through_the_engine(portal, tmp_path):
    base, requests, files = portal
    db_path = tmp_path / "corpus.db"
    result = subprocess.run(
        [sys.executable, "-m", "tests.test_attachments_pipeline", f"{base}/notice.html", str(db_path)],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr

    from pipelines.schema import open_corpus

    db = open_corpus(db_path)
    doc = next(db.query("SELECT * FROM documents"))
    # The page is a cover note: its text is the first readable attachment's.
    assert PDF_TEXT in doc["body_text"]
    version = next(db.query("SELECT * FROM versions"))
    assert version["text_source"] == "attachment"
    rows = {r["url"].removeprefix(base): r for r in db.query("SELECT * FROM attachments")}

    pdf = rows["/files/policy.pdf"]
    assert pdf["sha256"] == hashlib.sha256(files["files/policy.pdf"]).hexdigest()
    assert pdf["size"] == len(files["files/policy.pdf"]) and pdf["error"] is None
    assert PDF_TEXT in pdf["text"]
    docx = rows["/files/rules.docx"]
    assert DOCX_TEXT in docx["text"] and docx["sha256"]
    jsp = rows["/files/download.jsp?id=7"]  # no extension: recognised by its first bytes
    assert "申报单位名称" in jsp["text"]

    assert rows["/files/form.wps"]["error"].startswith("unfetched:")
    assert rows["/private/internal.pdf"]["error"] == "ignored: Forbidden by robots.txt"
    assert rows["/files/big.pdf"]["error"].startswith("download:")
    assert rows["/files/big.pdf"]["sha256"] is None
    assert rows["/files/missing.pdf"]["error"] == "http_404: HTTP 404"
    assert rows["/files/waf.pdf"]["error"].startswith("not_a_file:")
    assert rows["http://files.elsewhere.example/x.pdf"]["error"].startswith("offsite:")

    # The files went through Scrapy's downloader: its User-Agent, robots.txt consulted first,
    # the disallowed file never requested.
    paths = [path for path, _ in requests]
    assert paths[0] == "/robots.txt"
    assert {"/files/policy.pdf", "/files/rules.docx", "/files/download.jsp?id=7"} <= set(paths)
    assert all(agent == USER_AGENT for _, agent in requests)
    assert "/private/internal.pdf" not in paths and "/files/form.wps" not in paths

    site = next(db.query("SELECT * FROM sites"))
    assert (site["key"], site["name"]) == ("local_test", "本地测试站")
    run = next(db.query("SELECT * FROM runs"))
    assert (run["site"], run["status"]) == ("local_test", "ok")
    counts = json.loads(run["counts"])
    assert counts["new"] == 1
    assert counts["attachments"]["fetched"] == 3
    assert counts["attachments"]["failed/ignored"] == 1
    db.close()


# --- the crawl process (python -m tests.test_attachments_pipeline URL DB) ----------------------


def _crawl(page_url: str, db_path: str) -> None:
    from urllib.parse import urljoin

    import scrapy
    from scrapy.crawler import CrawlerProcess

    from pipelines.normalise import NormalisePipeline
    from pipelines.store import StorePipeline

    local = Site(key="local_test", name="本地测试站", division_code="110000", level="prefecture",
                family="generic", domains=("127.0.0.1",),
                columns=(Column(name="通知公告", url=page_url),))

    class NoticeSpider(scrapy.Spider):
        name = "notice"
        site = local  # not in the registry: the pipelines take the spider's own declaration

        async def start(self):
            yield scrapy.Request(page_url)

        def parse(self, response):
            links = response.css("div.fj a")
            yield PolicyItem(
                url=response.url, site=local.key,
                title=response.css("h1.title::text").get(""),
                body_text=" ".join(response.css("div.content ::text").getall()),
                attachments=[Attachment(url=urljoin(response.url, a.attrib["href"]),
                                        name=a.css("::text").get("")) for a in links],
                raw_body=response.body, http_status=response.status,
                text_source="attachment_pending",
            )

    process = CrawlerProcess({
        "USER_AGENT": USER_AGENT,
        "ROBOTSTXT_OBEY": True,
        "DOWNLOAD_DELAY": 0,
        "RETRY_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": "WARNING",
        "POLICYWATCH_DB": db_path,
        "POLICYWATCH_ATTACHMENT_MAX_BYTES": MAX_BYTES,
        "ITEM_PIPELINES": {NormalisePipeline: 100, AttachmentsPipeline: 200, StorePipeline: 900},
        # The parse pool the attachments pipeline reads files in (crawler.policywatch_offload).
        "EXTENSIONS": {"crawlers.engine.parsepool.ParsePool": 0},
    }, install_root_handler=False)
    process.crawl(NoticeSpider)
    process.start()


if __name__ == "__main__":
    _crawl(sys.argv[1], sys.argv[2])
