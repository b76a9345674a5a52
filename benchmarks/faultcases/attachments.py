"""Hostile attachments and volatile files: the inputs, and a FaultCase for each.

The builders make the files the tests use too (tests/test_attachment_limits.py,
tests/test_volatile_attachments.py): a DOCX zip bomb, a PDF of 90,000 pages, a PDF whose page
tree lies about its size (reading it runs past any time limit), and the volatile twins of real
attachments — a DOCX regenerated with new ZIP times, a PDF re-rendered with a new producer
date and a "下载时间" watermark line.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from html import escape
from pathlib import Path

from benchmarks.faultcases import FaultCase

REPO = Path(__file__).resolve().parents[2]

# --- builders ----------------------------------------------------------------------------------

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.wordprocessingml.document.main+xml"/></Types>'
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="word/document.xml"/></Relationships>'
)


def docx_bomb(unpacked_mb: int = 300) -> bytes:
    """A DOCX of well under 1 MB whose word/document.xml unpacks to ``unpacked_mb`` MB."""
    paragraph = b"<w:p><w:r><w:t>" + "元宇宙".encode() * 40 + b"</w:t></w:r></w:p>"
    chunk = paragraph * (1024 * 1024 // len(paragraph))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _RELS)
        with archive.open("word/document.xml", "w", force_zip64=True) as member:
            member.write(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document '
                         b'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>')
            for _ in range(unpacked_mb):
                member.write(chunk)
            member.write(b"</w:body></w:document>")
    return out.getvalue()


def many_pages_pdf(pages: int = 90_000) -> bytes:
    """A PDF of ``pages`` pages (14 MB at 90,000), each with one short line."""
    from fixtures.pdfmaker import make_pdf

    return make_pdf(["第一条 本办法自印发之日起施行。"], pages=pages)


def lying_pdf(pages: int = 90_000) -> bytes:
    """A PDF whose root page node says it holds one page, in one kid, which holds ``pages``:
    the page-count checks see one page, and walking the tree takes longer than any job may."""
    from fixtures.pdfmaker import make_pdf

    honest = make_pdf(["第一条 本办法自印发之日起施行。"], pages=pages)
    # Re-point the catalog at a new root node (the last object) whose only kid is the honest
    # root (object 2) and whose /Count lies.
    head, _, _ = honest.partition(b"xref\n")
    root = len(_object_offsets(head)) + 1
    head = head.replace(b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Catalog /Pages %d 0 R >>" % root, 1)
    offsets = _object_offsets(head)
    offsets[root] = len(head)
    head += b"%d 0 obj\n<< /Type /Pages /Kids [2 0 R] /Count 1 >>\nendobj\n" % root
    xref = len(head)
    out = bytearray(head)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (root + 1)
    for number in range(1, root + 1):
        out += b"%010d 00000 n \n" % offsets[number]
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (root + 1, xref)
    return bytes(out)


def _object_offsets(head: bytes) -> dict[int, int]:
    offsets, at = {}, 0
    while True:
        at = head.find(b" 0 obj\n", at)
        if at < 0:
            return offsets
        start = head.rfind(b"\n", 0, at) + 1
        offsets[int(head[start:at])] = start
        at += 1


def docx_file(paragraphs: list[str], when: datetime | None = None) -> bytes:
    """A DOCX of ``paragraphs`` whose ZIP entries carry ``when`` (as a CMS that generates the
    file on each download stamps them with the current time)."""
    import docx

    document = docx.Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    saved = io.BytesIO()
    document.save(saved)
    if when is None:
        return saved.getvalue()
    stamp = when.timetuple()[:6]
    out = io.BytesIO()
    with zipfile.ZipFile(saved) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            copy = zipfile.ZipInfo(info.filename, date_time=stamp)
            copy.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(copy, source.read(info))
    return out.getvalue()


def watermarked_pdf(lines: list[str], day: date) -> bytes:
    """A PDF of ``lines`` rendered on ``day``: its producer date is that day and it ends with
    the watermark line "下载时间：<day>" that portals stamp on every download."""
    from fixtures.pdfmaker import make_pdf

    stamp = f"D:{day:%Y%m%d}093000+08'00'"
    return make_pdf(lines + [f"下载时间：{day:%Y-%m-%d}"],
                    info={"Producer": f"PortalCMS PDF {day:%Y%m%d}", "CreationDate": stamp,
                          "ModDate": stamp})


# --- a portal of such files: the replay portal's generic site, changed from day to day ----------

BASE = "http://www.example-gov.cn"
LIST_URL = f"{BASE}/zcwj/index.html"
CONTENT_TYPES = {"pdf": "application/pdf",
                 "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}


@dataclass
class Linked:
    """An attachment as a page links it: the link (path and query), its text, the file."""

    href: str
    name: str
    data: bytes

    @property
    def url(self) -> str:
        return BASE + self.href


@dataclass
class Doc:
    """A detail page of the portal: its number (its URL), title, paragraphs and attachments."""

    n: int
    title: str
    paragraphs: list[str]
    attachments: list[Linked] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"{BASE}/zcwj/202401/t20240110_{self.n}.html"


def detail_page(doc: Doc) -> str:
    body = "".join(f"<p>{escape(p)}</p>" for p in doc.paragraphs)
    links = "".join(f'<p><a href="{escape(a.href)}">{escape(a.name)}</a></p>' for a in doc.attachments)
    return (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{escape(doc.title)}_示例市人民政府</title></head><body>"
        f'<div class="article"><h1 class="art-title">{escape(doc.title)}</h1>'
        '<dl class="art-info"><dt>发文单位：</dt><dd>示例市人民政府</dd>'
        "<dt>发布日期：</dt><dd>2024-01-10</dd></dl>"
        f'<div class="art-body">{body}</div>'
        + (f'<div class="fj">附件：{links}</div>' if links else "")
        + "</div></body></html>"
    )


def list_page(docs: list[Doc]) -> str:
    rows = "".join(f'<div class="row"><a href="{d.url.removeprefix(BASE)}">{escape(d.title)}</a>'
                   f"<em>2024-01-10</em></div>" for d in docs)
    return ('<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>政策文件</title>'
            f'</head><body><div class="main-list"><h2>政策文件</h2>{rows}</div></body></html>')


def serve_day(portal, docs: list[Doc]) -> None:
    """Make the replay portal serve ``docs`` (and their files) from now on."""
    portal.put(f"{BASE}/robots.txt", "User-agent: *\nDisallow: /admin/\n", content_type="text/plain")
    portal.put(LIST_URL, list_page(docs))
    for doc in docs:
        portal.put(doc.url, detail_page(doc))
        for a in doc.attachments:
            ext = a.href.split("?", 1)[0].rsplit(".", 1)[-1]
            portal.put(a.url, a.data, content_type=CONTENT_TYPES.get(ext, "application/octet-stream"))


def crawl(base: str, db: Path, overrides: dict | None = None, day: str | None = None,
          timeout: float = 300) -> subprocess.CompletedProcess:
    """A real crawl of the portal's generic site into ``db``, in its own process (Twisted's
    reactor runs once per process), with these Scrapy settings on top of the project's."""
    settings = dict(overrides or {})
    if day:
        settings["POLICYWATCH_CHECK_DAY"] = day
    return subprocess.run(
        [sys.executable, "-m", "benchmarks.faultcases.attachments", "crawl", base, str(db),
         json.dumps(settings)],
        cwd=REPO, capture_output=True, text=True, timeout=timeout,
    )


def _crawl_main(base: str, db: str, overrides: str) -> int:
    from crawlers.replay.portal import REPLAY_SITES
    from crawlers.engine.runner import run_crawl

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    reports = run_crawl([REPLAY_SITES[0]], Path(db), replay_url=base, overrides=json.loads(overrides))
    print(json.dumps([{"site": r.site, "new": r.new, "revised": r.revised, "unchanged": r.unchanged,
                       "failed": r.failed, "finish_reason": r.finish_reason} for r in reports]))
    return 0


# --- volatile files: the same content in new bytes, day after day ------------------------------

DAY1 = date(2026, 12, 1)
RULES = ["示例市元宇宙产业发展实施细则", "一、到2025年，建成2个元宇宙产业集聚区。",
         "二、支持企业开展关键技术攻关，对认定的重点项目给予资金支持。"]
PLAN = ["示例市虚拟现实产业行动方案", "一、培育虚拟现实终端企业10家。", "二、打造沉浸式文旅场景。"]
GUIDE = ["申报指南", "申报单位应在本市注册，具有独立法人资格。"]
FORM = ["申报表", "单位名称：", "联系人："]


def _moment(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 9, 30)


def volatile_day(day: int, real_changes: bool = False) -> list[Doc]:
    """The portal on ``day`` (1, 2, ...): three policy pages whose files are made afresh for
    every download — a DOCX with that day's ZIP times, a PDF rendered that day (producer date,
    "下载时间" watermark) behind a link whose ``?t=`` is that day's, and two files listed in an
    order that changes. With ``real_changes`` their content changes too: a figure inside the
    DOCX, a second file added to the PDF's page, one file removed from the pair."""
    from fixtures.pdfmaker import make_pdf

    today = date.fromordinal(DAY1.toordinal() + day - 1)
    stamp = int(_moment(today).timestamp())
    rules = [line.replace("2个", "3个") for line in RULES] if real_changes else RULES
    pair = [Linked("/zcwj/files/8003a.pdf", "附件1 申报指南.pdf", make_pdf(GUIDE)),
            Linked("/zcwj/files/8003b.docx", "附件2 申报表.docx", docx_file(FORM, _moment(today)))]
    if day % 2 == 0:
        pair.reverse()  # the CMS lists them in another order
    plan = [Linked(f"/zcwj/files/8002.pdf?t={stamp}", "行动方案.pdf", watermarked_pdf(PLAN, today))]
    if real_changes:
        plan.append(Linked("/zcwj/files/8002-2.docx", "任务分工.docx", docx_file(["任务分工表", "市经信局牵头。"])))
        pair = [a for a in pair if a.href.endswith(".pdf")]
    return [
        Doc(8001, "示例市人民政府关于印发元宇宙产业发展实施细则的通知",
            ["各区人民政府，市政府各部门：", "现将《示例市元宇宙产业发展实施细则》印发给你们，请认真贯彻执行。"],
            [Linked("/zcwj/files/8001.docx", "示例市元宇宙产业发展实施细则.docx", docx_file(rules, _moment(today)))]),
        Doc(8002, "示例市虚拟现实产业行动方案",
            ["各有关单位：", "《示例市虚拟现实产业行动方案》已经市政府同意，现印发给你们。"], plan),
        Doc(8003, "示例市关于组织申报元宇宙应用场景的通知",
            ["各有关单位：", "为加快元宇宙应用场景建设，现组织开展申报工作，有关事项见附件。"], pair),
    ]


def fetched(linked: Linked) -> "Attachment":
    """The attachment as the attachments stage leaves it after downloading ``linked``: hash,
    size and text read from its bytes (format sniffed as the stage does)."""
    import hashlib

    from crawlers.items import Attachment
    from crawlers.parsing.filetext import extract_file_text
    from pipelines.attachments import sniff_format
    from crawlers.parsing.textnorm import clean_text

    fmt = sniff_format(linked.data)
    text = clean_text(extract_file_text(linked.data, fmt)) if fmt else None
    return Attachment(url=linked.url, name=linked.name, sha256=hashlib.sha256(linked.data).hexdigest(),
                      size=len(linked.data), content_type=CONTENT_TYPES.get(fmt or ""), text=text or None)


def item_of(doc: Doc, day: int) -> "PolicyItem":
    """The document as the crawl hands it to the store on ``day``."""
    from datetime import timezone

    from crawlers.items import PolicyItem

    today = date.fromordinal(DAY1.toordinal() + day - 1)
    return PolicyItem(url=doc.url, site="replay_generic", title=doc.title, issuer="示例市人民政府",
                      published_date=date(2024, 1, 10), body_text="\n".join(doc.paragraphs),
                      attachments=[fetched(a) for a in doc.attachments], raw_body=detail_page(doc).encode(),
                      fetched_at=datetime(today.year, today.month, today.day, 8, tzinfo=timezone.utc))


def store_days(db, n: int, days: list[tuple[int, bool]]):
    """Store document ``n`` as the portal shows it on each ``(day, real_changes)``: the
    ``StoreResult`` of each day."""
    from pipelines.storing import store_document

    out = []
    for day, real in days:
        doc = next(d for d in volatile_day(day, real) if d.n == n)
        out.append(store_document(db, item_of(doc, day)))
    return out


def _volatile_case(n: int, expected: str):
    def run(scratch: Path) -> str:
        from pipelines.schema import open_corpus

        db = open_corpus(scratch / "corpus.db")
        first, second = store_days(db, n, [(1, False), (2, False)])
        changes = [k for (k,) in db.execute("select kind from changes")]
        differs = [json.loads(d) for (d,) in db.execute("select differs from sightings")]
        if second.kind != "unchanged" or second.sighting_id is None or changes != ["new"] \
                or expected not in differs[0]:
            raise AssertionError(f"{second}, changes {changes}, sightings {differs}")
        return f"sighting ({', '.join(differs[0])}), no alert"
    return run


def _real_change_case(n: int, expected: str):
    def run(scratch: Path) -> str:
        from pipelines.schema import open_corpus

        db = open_corpus(scratch / "corpus.db")
        store_days(db, n, [(1, False), (2, False), (3, True)])
        kinds = [k for (k,) in db.execute("select kind from changes")]
        diff = json.loads(db.execute("select diff from changes order by id desc limit 1").fetchone()[0])
        change = (diff.get("attachments") or [{}])[0]
        shown = change.get("text", {}).get("entries", [])
        if kinds != ["new", "revised"] or change.get("change") != expected or \
                (expected == "replaced" and not shown):
            raise AssertionError(f"changes {kinds}, attachment change {change}")
        if shown:
            return f"revised (attachments): {shown[0]['old']} → {shown[0]['new']}"
        return f"revised (attachments): {expected} {change['name']}"
    return run


HOSTILE_TIME_LIMIT = 4.0  # the crawl's job limit in the hostile crawl: the lying PDF runs past it


def hostile_docs() -> list[Doc]:
    """A column whose pages link one hostile attachment each, beside a page with a good one."""
    from fixtures.pdfmaker import make_pdf

    files = [("/zcwj/files/bomb.docx", "附件1.docx", docx_bomb()),
             ("/zcwj/files/pages.pdf", "附件2.pdf", many_pages_pdf()),
             ("/zcwj/files/lying.pdf", "附件3.pdf", lying_pdf())]
    docs = [Doc(9000, "示例市虚拟现实产业扶持办法", ["第一条 为推动虚拟现实产业发展，制定本办法。"],
                [Linked("/zcwj/files/good.pdf", "扶持办法全文.pdf", make_pdf(["第二条 本办法自印发之日起施行。"]))])]
    for n, (href, name, data) in enumerate(files, start=9001):
        docs.append(Doc(n, f"示例市关于征集数字人应用场景的通知（第{n - 9000}批）",
                        [f"各有关单位：现将第{n - 9000}批应用场景征集事项通知如下，详见附件。"],
                        [Linked(href, name, data)]))
    return docs


def hostile_crawl(scratch: Path):
    """Crawl the hostile column into ``scratch``/corpus.db: the process, the corpus."""
    from crawlers.replay.portal import ReplayPortal
    from pipelines.schema import open_corpus

    portal = ReplayPortal()
    serve_day(portal, hostile_docs())
    db = scratch / "corpus.db"
    with portal.serve() as base:
        result = crawl(base, db, {"POLICYWATCH_JOB_TIME_LIMIT": HOSTILE_TIME_LIMIT,
                                  "POLICYWATCH_PARSE_WORKERS": 1})
    return result, open_corpus(db)


def _hostile_crawl_case(scratch: Path) -> str:
    result, db = hostile_crawl(scratch)
    if result.returncode != 0 or "Traceback" in result.stderr:
        raise AssertionError(f"the crawl failed: {result.stderr[-500:]}")
    documents = db.execute("select count(*) from documents").fetchone()[0]
    errors = sorted(e.split(":", 1)[0] for (e,) in db.execute(
        "select error from attachments where error is not null"))
    if documents != 4 or errors != ["over_limit", "over_limit", "time_limit"]:
        raise AssertionError(f"{documents} documents stored, attachment errors {errors}")
    return f"crawl ok: 4 documents stored, attachments refused: {', '.join(errors)}"


# --- running the real code path -------------------------------------------------------------


def extract_in_pool(data: bytes, fmt: str, seconds: float = 60.0, memory_mb: int = 2048):
    """``attachment_text`` of one file in a one-worker pool with these job limits."""
    from crawlers.engine.parsepool import JobLimits, OffloadedWork
    from crawlers.parsing.filetext import FileLimits

    work = OffloadedWork(1, limits=JobLimits(seconds=seconds, memory_mb=memory_mb))
    try:
        return asyncio.run(work.attachment_text(data, fmt, FileLimits()))
    finally:
        work.close()


def hang(seconds: float) -> str:
    """A pool job that does not answer for ``seconds`` (a parser stuck on a hostile input)."""
    import time

    time.sleep(seconds)
    return "answered"


def allocate(megabytes: int) -> int:
    """A pool job that wants ``megabytes`` of memory at once."""
    return len(bytearray(megabytes * 1024 * 1024))


def run_in_pool(fn, *args, seconds: float = 60.0, memory_mb: int = 2048):
    """``fn(*args)`` as a pool job: its result, or the ``JobRefused`` the pool raised; then
    a plain job in the same pool, to show the worker was replaced."""
    from crawlers.engine.parsepool import JobLimits, JobRefused, OffloadedWork

    work = OffloadedWork(1, limits=JobLimits(seconds=seconds, memory_mb=memory_mb))
    try:
        try:
            outcome = asyncio.run(work._run(fn, *args))
        except JobRefused as refused:
            outcome = refused
        after = asyncio.run(work._run(allocate, 1))
        return outcome, after
    finally:
        work.close()


def _expect_refusal(outcome, reason: str) -> str:
    kind, got, message = outcome
    if kind != "refused" or got != reason:
        raise AssertionError(f"expected a {reason} refusal, got {outcome!r:.200}")
    return f"refused: {got}: {message}"


def _docx_bomb_case(scratch: Path) -> str:
    path = scratch / "bomb.docx"
    path.write_bytes(docx_bomb())
    return _expect_refusal(extract_in_pool(path.read_bytes(), "docx"), "over_limit") + \
        f" ({path.stat().st_size} bytes on disk)"


def _many_pages_case(scratch: Path) -> str:
    path = scratch / "pages.pdf"
    path.write_bytes(many_pages_pdf())
    return _expect_refusal(extract_in_pool(path.read_bytes(), "pdf"), "over_limit")


def _lying_pdf_case(scratch: Path) -> str:
    path = scratch / "lying.pdf"
    path.write_bytes(lying_pdf())
    return _expect_refusal(extract_in_pool(path.read_bytes(), "pdf", seconds=5), "time_limit")


def _hang_case(scratch: Path) -> str:
    from crawlers.engine.parsepool import JobRefused

    outcome, after = run_in_pool(hang, 600, seconds=3)
    if not isinstance(outcome, JobRefused) or outcome.reason != "time_limit" or after != 1024 * 1024:
        raise AssertionError(f"a hanging job was not refused cleanly: {outcome!r}, then {after!r}")
    return f"refused: {outcome}; the next job answered"


def _memory_case(scratch: Path) -> str:
    from crawlers.engine.parsepool import JobRefused

    outcome, after = run_in_pool(allocate, 4096, memory_mb=1024)
    if not isinstance(outcome, JobRefused) or outcome.reason != "memory_limit" or after != 1024 * 1024:
        raise AssertionError(f"a job over the memory limit was not refused cleanly: {outcome!r}, then {after!r}")
    return f"refused: {outcome}; the next job answered"


CASES: list[FaultCase] = [
    FaultCase("docx-xml-bomb", "a 1.2 MB DOCX whose document.xml unpacks to 300 MB", _docx_bomb_case),
    FaultCase("pdf-90000-pages", "a 14 MB PDF of 90,000 pages", _many_pages_case),
    FaultCase("pdf-lying-page-tree", "a PDF whose page tree says 1 page and holds 90,000 (reading it hangs)",
              _lying_pdf_case),
    FaultCase("pool-job-hangs", "a pool job that never answers (3 s limit)", _hang_case),
    FaultCase("pool-job-out-of-memory", "a pool job asking for 4 GB in a 1 GB worker", _memory_case),
    FaultCase("crawl-hostile-attachments", "a real crawl of a column linking the three hostile files",
              _hostile_crawl_case),
    FaultCase("docx-regenerated", "the same DOCX made again with new ZIP times", _volatile_case(8001, "attachment_bytes")),
    FaultCase("pdf-rerendered-watermark", "a PDF re-rendered with a new producer date and a 下载时间 line, "
              "behind a link whose ?t= changed", _volatile_case(8002, "attachment_links")),
    FaultCase("attachments-reordered", "the same attachments listed in another order",
              _volatile_case(8003, "attachment_order")),
    FaultCase("attachment-figure-changed", "a figure changed inside a regenerated DOCX (a real change)",
              _real_change_case(8001, "replaced")),
    FaultCase("attachment-added", "a second file linked beside a re-rendered PDF (a real change)",
              _real_change_case(8002, "added")),
    FaultCase("attachment-removed", "one of two files no longer linked (a real change)",
              _real_change_case(8003, "removed")),
]


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "crawl":
        sys.exit(_crawl_main(*sys.argv[2:]))
    sys.exit("usage: python -m benchmarks.faultcases.attachments crawl BASE_URL DB SETTINGS_JSON")
