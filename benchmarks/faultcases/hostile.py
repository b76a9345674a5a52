"""Hostile pages and unreachable portals: the ``hostile`` area of the fault suite.

Each pathological page goes through every parser that reads pages of its kind (block-page
detection, the detail parser, the CMS families' list readers, detect's recognition) at the
8 MB page cap; its case also times n, 2n and 4n of the same input, so the outcome line shows
the growth (linear: about 2x and 4x) and a quadratic parser fails the case. The other cases
fetch a 500 MB response and redirects with the maintainers' fetch helper, decode a UTF-8 page
with a few bad bytes, crawl a portal whose port is closed, and write a report whose titles
carry markup. The builders are shared with the tests (tests/test_hostile_*.py).
"""

from __future__ import annotations

import contextlib
import http.server
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable, Iterator

from . import FaultCase

ROOT = Path(__file__).resolve().parents[2]
PAGE_CAP = 8 * 1024 * 1024  # crawlers.engine.settings.DOWNLOAD_MAXSIZE, the largest page a crawl reads
HUGE = 500 * 1024 * 1024
# 4n/n of a linear parser is about 4; a quadratic one shows 16.
SUPERLINEAR = 10.0


# --- pathological pages -----------------------------------------------------------------------

def _fill(head: bytes, unit: bytes, size: int, tail: bytes = b"") -> bytes:
    return head + unit * max(1, (size - len(head) - len(tail)) // len(unit)) + tail


def unclosed_script(size: int) -> bytes:
    """A page of ``<script>`` openings that never close."""
    return _fill(b"<html><head><title>t</title></head><body>", b"<script>", size)


def unclosed_records(size: int) -> bytes:
    """A Hanweb datastore of ``<record>`` openings that never close (a closed datastore)."""
    return _fill(b"<html><body><div id=\"1\"><script type=\"text/xml\"><datastore><recordset>",
                 b"<record>", size, b"</recordset></datastore></script></div></body></html>")


def unclosed_cdata(size: int) -> bytes:
    """Records whose CDATA sections never close."""
    return _fill(b"<datastore><recordset>", b"<record><![CDATA[<li>", size, b"</datastore>")


def unclosed_comments(size: int) -> bytes:
    """``<!--`` openings without an end."""
    return _fill(b"<html><body><ul><li><a href=\"/a.html\">a</a></li></ul>", b"<!--", size)


def open_tags(size: int) -> bytes:
    """Tags that never reach their ``>``: ``<title``, ``<input``, ``<meta``."""
    return _fill(b"<html><body>", b"<title <input type <meta name ", size)


def huge_js_literal(size: int) -> bytes:
    """One script assigning an enormous array literal, and many assignments that never end."""
    half = size // 2
    literal = _fill(b"<script>var listData = [", b"{title:'\xe5\x85\xb3\xe4\xba\x8e',url:'/a.html'},", half,
                    b"];</script>")
    return literal + _fill(b"<script>", b"x=[/*", size - len(literal), b"</script>")


def nested_tables(size: int) -> bytes:
    """Tables nested inside each other without end."""
    return _fill(b"<html><body>", b"<table><tr><td>", size)


def many_links(size: int) -> bytes:
    """A list of a few hundred thousand links."""
    return _fill(b"<html><body><ul>", b"<li><a href=\"/art/1.html\">\xe6\x96\x87\xe4\xbb\xb6</a>"
                 b"<span>2024-01-02</span></li>", size, b"</ul></body></html>")


def numbered_links(size: int) -> bytes:
    """One box of links all numbered "1", each in its own <div> (pager-like, never a pager)."""
    return _fill(b"<html><body><main>", b"<div><a href=\"/p.html\">1</a></div>", size, b"</main></body></html>")


def many_lists(size: int) -> bytes:
    """Thousands of two-item dated lists, then a pager."""
    item = "<li><a href=\"/art/1.html\">关于元宇宙产业的通知</a><span>2024-01-02</span></li>".encode()
    return _fill(b"<html><body>", b"<ul>" + item * 2 + b"</ul>", size,
                 "<div class=\"page\"><a href=\"/2.html\">下一页</a><a href=\"/9.html\">尾页</a></div></body></html>".encode())


def widget_line(size: int) -> bytes:
    """A body line of nothing but "打印  " widgets, then one other character."""
    return _fill("<html><head><title>关于元宇宙的通知</title></head><body><h1>关于元宇宙的通知</h1><div id=\"zoom\"><p>".encode(),
                 "打印  ".encode(), size, "x</p><p>正文</p></div></body></html>".encode())


def single_line(size: int) -> bytes:
    """8 MB of Chinese text on one line, in one paragraph."""
    return _fill(b"<html><head><title>t</title></head><body><p>", "关于印发元宇宙".encode(), size,
                 b"</p></body></html>")


PAGES: dict[str, Callable[[int], bytes]] = {
    "unclosed-script": unclosed_script,
    "unclosed-records": unclosed_records,
    "unclosed-cdata": unclosed_cdata,
    "unclosed-comments": unclosed_comments,
    "open-tags": open_tags,
    "huge-js-literal": huge_js_literal,
    "nested-tables": nested_tables,
    "many-links": many_links,
    "numbered-links": numbered_links,
    "many-lists": many_lists,
    "single-line": single_line,
    "widget-line": widget_line,
}


def parse_everywhere(body: bytes) -> list[str]:
    """Feed ``body`` to every page reader: block detection, the detail parser, each family's
    list reader (the Hanweb feed as well), detect's recognition. Returns one word per reader
    (``ok`` or the ParseError reason); any other exception propagates."""
    from crawlers.tools.detect import recognise
    from crawlers.families import get_family
    from crawlers.items import PageRequest
    from crawlers.parsing.blocks import detect_block
    from crawlers.parsing.errors import ParseError
    from crawlers.sites.spec import Column, Site

    outcomes: list[str] = []

    def attempt(call: Callable[[], object]) -> None:
        try:
            call()
            outcomes.append("ok")
        except ParseError as exc:
            outcomes.append(exc.reason)

    attempt(lambda: detect_block(200, {}, body))
    for family in ("trs", "hanweb", "govcn", "ucap", "gkmlpt", "scripted", "generic"):
        url = "https://www.example.gov.cn/col/col555/index.html"
        column = Column(name="c", url=url, params={"unitid": "1", "webid": "2"} if family == "hanweb" else {})
        site = Site(key="x_hostile", name="测试", division_code="320000", level="province",
                    family=family, domains=("www.example.gov.cn",), columns=(column,))
        adapter = get_family(family)
        attempt(lambda: adapter.parse_list(site, column, PageRequest(url=url), body, {}))
        if family == "hanweb":
            feed = PageRequest(url=url + "?startrecord=1&endrecord=60&perpage=20", method="POST")
            attempt(lambda: adapter.parse_list(site, column, feed, body, {}))
        if family in ("generic", "trs"):
            attempt(lambda: adapter.parse_detail(site, "https://www.example.gov.cn/art/1.html", body, {}))
    attempt(lambda: recognise("https://www.example.gov.cn/col/col555/index.html", body, {}))
    return outcomes


def growth(build: Callable[[int], bytes], sizes: tuple[int, ...]) -> list[float]:
    """Seconds ``parse_everywhere`` takes on ``build(size)`` for each size."""
    times = []
    for size in sizes:
        body = build(size)
        start = time.perf_counter()
        parse_everywhere(body)
        times.append(time.perf_counter() - start)
    return times


def _page_case(name: str, build: Callable[[int], bytes]) -> FaultCase:
    def run(scratch: Path) -> str:
        logging.disable(logging.WARNING)  # the list readers' per-page warnings are not the point
        body = build(PAGE_CAP)
        (scratch / f"{name}.html").write_bytes(body)
        start = time.perf_counter()
        outcomes = parse_everywhere(body)
        at_cap = time.perf_counter() - start
        n = PAGE_CAP // 16
        t1, t2, t4 = growth(build, (n, 2 * n, 4 * n))
        ratio = t4 / max(t1, 1e-3)
        line = (f"8 MB through {len(outcomes)} readers in {at_cap:.1f} s "
                f"({', '.join(sorted(set(outcomes)))}); 0.5/1/2 MB: {t1:.2f}/{t2:.2f}/{t4:.2f} s (x{ratio:.1f})")
        if ratio > SUPERLINEAR and t4 > 1.0:
            raise AssertionError(f"superlinear: {line}")
        return line
    return FaultCase(f"page-{name}", f"8 MB page: {build.__doc__.strip().splitlines()[0]}", run)


# --- encoding ---------------------------------------------------------------------------------

BAD_UTF8_TITLE = "关于印发元宇宙产业创新发展行动计划的通知"


def bad_utf8_page() -> bytes:
    """A detail page declaring UTF-8, with three invalid bytes in its body."""
    body = ("<p>为贯彻落实国家关于数字经济发展的决策部署，加快推动元宇宙产业创新发展，现将行动计划印发给你们，"
            "请结合实际认真贯彻执行。</p>" * 12).encode()
    cut = len(body) // 2
    body = body[:cut] + b"\xff\xfe" + body[cut:cut + 40] + b"\x80" + body[cut + 40:]
    return (f"<html><head><meta charset=\"utf-8\"><title>{BAD_UTF8_TITLE}</title></head><body>"
            f"<h1>{BAD_UTF8_TITLE}</h1><div id=\"zoom\">").encode() + body + b"</div></body></html>"


def _bad_utf8(scratch: Path) -> str:
    from crawlers.pageparse import parse_saved_page

    page = bad_utf8_page()
    (scratch / "bad_utf8.html").write_bytes(page)
    item = parse_saved_page(page, "https://www.example.gov.cn/art/2024/1/2/art_1_1.html")
    if item.title != BAD_UTF8_TITLE or item.raw_encoding != "utf-8":
        raise AssertionError(f"decoded as {item.raw_encoding}: title {item.title!r}")
    return f"utf-8 with {item.body_text.count(chr(0xfffd))} replacement characters; title intact"


# --- a local server: huge answers and redirects ---------------------------------------------

class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"  # no Content-Length on /huge: the body ends when the server closes

    def do_GET(self) -> None:  # noqa: N802
        path = self.path.rstrip("/")
        if path.endswith("/huge"):
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            chunk = b"<p>" + b"x" * 65_533
            try:
                for _ in range(HUGE // len(chunk) + 1):  # generated as it is sent, never held
                    self.wfile.write(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass
            return
        targets = {"to-loopback": f"http://127.0.0.1:{self.server.server_port}/page",
                   "to-metadata": "http://169.254.169.254/latest/meta-data/",
                   "to-intranet": "http://intranet.corp.example/page",
                   "to-public": "http://www.example.gov.cn/page"}
        last = path.rsplit("/", 1)[-1]
        if last in targets:
            self.send_response(302)
            self.send_header("Location", targets[last])
            self.end_headers()
            return
        body = b"<html><head><title>page</title></head><body><p>a page</p></body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@contextlib.contextmanager
def local_server() -> Iterator[str]:
    """A server on 127.0.0.1: ``/huge`` streams 500 MB, ``/to-loopback``, ``/to-metadata``,
    ``/to-intranet`` and ``/to-public`` redirect, anything else is a small page."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


# What the mocked resolver knows; anything else fails to resolve (no real DNS in tests).
FAKE_DNS = {"www.example.gov.cn": ["202.96.128.86"], "intranet.corp.example": ["10.1.2.3"]}


def fake_resolve(host: str) -> list[str]:
    if host in FAKE_DNS:
        return FAKE_DNS[host]
    raise OSError(f"[fake resolver] {host}: name not known")


def peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _huge_response(scratch: Path) -> str:
    from crawlers.tools.probe import PoliteFetcher, ProbeError
    from crawlers.items import PageRequest

    with local_server() as base:
        fetcher = PoliteFetcher("policywatch-test", 0.0, resolve=fake_resolve)
        try:
            fetcher.fetch(PageRequest(url=f"{base}/huge"))
        except ProbeError as exc:
            message = str(exc)
        else:
            raise AssertionError("a 500 MB response was read whole")
    if "\n" in message or "DOWNLOAD_MAXSIZE" not in message:
        raise AssertionError(f"unclear refusal: {message!r}")
    return f"refused: {message} (peak memory {peak_rss_mb():.0f} MB)"


def _redirects(scratch: Path) -> str:
    from crawlers.items import PageRequest
    from crawlers.tools.probe import PoliteFetcher, ProbeError

    refused = []
    with local_server() as base:
        portal = PoliteFetcher("policywatch-test", 0.0, replay_url=base, resolve=fake_resolve)
        for path in ("to-loopback", "to-metadata", "to-intranet"):
            try:
                portal.fetch(PageRequest(url=f"http://www.example.gov.cn/{path}"))
            except ProbeError as exc:
                refused.append(path)
                if "refused the redirect" not in str(exc):
                    raise AssertionError(f"{path}: {exc}") from None
            else:
                raise AssertionError(f"followed the redirect {path} from a public host to an internal one")
        followed = portal.fetch(PageRequest(url="http://www.example.gov.cn/to-public")).status
        typed = PoliteFetcher("policywatch-test", 0.0, resolve=fake_resolve)
        own = typed.fetch(PageRequest(url=f"{base}/to-loopback")).status
    if (followed, own) != (200, 200):
        raise AssertionError(f"public->public gave {followed}, a typed 127.0.0.1 URL gave {own}")
    return f"refused {', '.join(refused)}; followed public->public and a typed loopback URL"


# --- an unreachable portal --------------------------------------------------------------------

def closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def crawl_unreachable(db: Path, sites: tuple[str, ...] = ("jx_gov", "sx_gov"),
                      timeout: float = 120) -> subprocess.CompletedProcess:
    """``policywatch crawl`` of ``sites`` with every request sent to a closed port."""
    return subprocess.run(
        [sys.executable, "-m", "scheduler", "crawl", *sites, "--db", str(db),
         "--replay", f"http://127.0.0.1:{closed_port()}"],
        cwd=ROOT, capture_output=True, text=True, timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


WATCHED_CLOSED_PORT = """[[watch]]
key = "closed_port"
issuer = "示例县人民政府"
name = "通知公告"
url = "http://127.0.0.1:{port}/tzgg/"
family = "generic"
division_code = "429005"
level = "county"
"""


def crawl_closed_watch(scratch: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    """``policywatch crawl`` of a config-declared column on a closed 127.0.0.1 port, with the
    production settings (no replay portal: its retries, delays and throttling as deployed)."""
    config = scratch / "pw.toml"
    config.write_text(WATCHED_CLOSED_PORT.format(port=closed_port()), encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "scheduler", "crawl", "closed_port", "--config", str(config),
         "--db", str(scratch / "watched.db")],
        cwd=ROOT, capture_output=True, text=True, timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def _unreachable(scratch: Path) -> str:
    start = time.perf_counter()
    done = crawl_unreachable(scratch / "corpus.db")
    seconds = time.perf_counter() - start
    if done.returncode == 0 or "Traceback" in done.stderr or "unreachable" not in done.stderr:
        raise AssertionError(f"exit {done.returncode}: {done.stderr[-500:]}")
    status = subprocess.run([sys.executable, "-m", "scheduler", "status", "--db", str(scratch / "corpus.db")],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    if status.stdout.count("unreachable") < 2:
        raise AssertionError(f"status does not say unreachable: {status.stdout[-500:]}")
    lines = [l for l in done.stderr.splitlines() if l.strip()]
    start = time.perf_counter()
    deployed = crawl_closed_watch(scratch)
    deployed_seconds = time.perf_counter() - start
    if deployed.returncode == 0 or "Traceback" in deployed.stderr or "unreachable" not in deployed.stderr:
        raise AssertionError(f"exit {deployed.returncode}: {deployed.stderr[-500:]}")
    return (f"replayed: exit {done.returncode} in {seconds:.1f} s, {len(lines)} log lines, status unreachable; "
            f"production settings: exit {deployed.returncode} in {deployed_seconds:.1f} s, "
            f"{len(deployed.stderr.strip().splitlines())} log lines")


# --- report ----------------------------------------------------------------------------------

HOSTILE_TITLE = "<script>alert(1)</script>关于元宇宙的通知 | [链接](javascript:x) **粗**"


def hostile_report(out_dir: Path) -> Path:
    """report.md of a one-document report whose title, issuer and URL carry markup."""
    from datetime import datetime, timezone

    from digest.report import AppendixRow, Breakdown, Bucket, Report, write_report
    from digest.selection import Document, Filters

    doc = Document(id=1, site="x_hostile", url="https://www.example.gov.cn/a b|<c>.html", title=HOSTILE_TITLE,
                   site_name="<b>某市</b>", values={"issuer": "<img src=x onerror=alert(1)>",
                                                   "published_date": "2024-01-02", "relevance": "dedicated"})
    report = Report(title="报告", generated_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    corpus="corpus.db", filters=Filters(), total=1, documents=1, unclassified=0,
                    breakdowns=[Breakdown("relevance", "相关性", [Bucket("dedicated", "<i>专门</i>", 1, 1.0, [1])])],
                    appendix=[AppendixRow(1, doc, ["<u>tag</u>"])])
    write_report(report, out_dir, charts=False)
    return out_dir / "report.md"


def unescaped_markup(markdown: str) -> list[str]:
    """The tags and link syntax from the hostile strings that ``markdown`` holds unescaped
    (a backslash before them makes them text)."""
    import re

    # "| [" starts a link in a cell; the report's own link cell is "[原文](<…>)".
    return [raw for raw in ("<script>", "<img", "<b>", "<i>", "<u>", "](javascript", "| [")
            if re.search(r"(?<!\\)" + re.escape(raw) + (r"(?!原文\]\(<)" if raw == "| [" else ""),
                         markdown)]


def _report(scratch: Path) -> str:
    text = hostile_report(scratch).read_text(encoding="utf-8")
    unescaped = unescaped_markup(text)
    if unescaped:
        raise AssertionError(f"report.md carries {unescaped!r} unescaped")
    return "report.md: titles, issuers, labels and links escaped"


CASES: list[FaultCase] = [_page_case(name, build) for name, build in PAGES.items()] + [
    FaultCase("utf8-bad-bytes", "a page declaring UTF-8 with three invalid bytes", _bad_utf8),
    FaultCase("fetch-500mb", "a 500 MB response to probe/detect/fixture save's fetch", _huge_response),
    FaultCase("fetch-redirects", "redirects from a public host to 127.0.0.1, 169.254.169.254, 10.x", _redirects),
    FaultCase("portal-unreachable", "a crawl of two portals whose port is closed", _unreachable),
    FaultCase("report-markup", "report titles holding <script>, | and Markdown links", _report),
]
