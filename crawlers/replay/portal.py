"""The local replay portal: saved portal pages served over real HTTP on 127.0.0.1.

It serves every site's fixtures at their own URLs (mapped as ``/<scheme>/<host>/<path>``, see
``crawlers.engine.downloader``), plus the pages under ``fixtures/replay/`` that belong to no site module:
the replay-only test sites below, anti-bot and error pages. Pages can be added, changed and
removed while it runs, so a test can move the portal from one "day" to the next.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit

from crawlers.sites.spec import Column, Politeness, Site
from crawlers.tools.fixtures import FIXTURES_DIR, SITES_DIR, all_fixture_sites, load_site_fixtures

logger = logging.getLogger(__name__)

REPLAY_DIR = FIXTURES_DIR / "replay"

# Sites that exist only on the replay portal: an unknown CMS (the generic adapter, with every
# kind of bad page behind its links) and a list that only a browser can render.
REPLAY_SITES = (
    Site(
        key="replay_generic",
        name="示例市人民政府（回放门户）",
        division_code="429004",
        level="county",
        family="generic",
        domains=("www.example-gov.cn",),
        columns=(Column(name="政策文件", url="http://www.example-gov.cn/zcwj/index.html"),),
        politeness=Politeness(delay=0.5),
        evidence="replay portal only",
        origin="replay",
    ),
    Site(
        key="replay_browser",
        name="示例区人民政府（回放门户，脚本渲染列表）",
        division_code="429005",
        level="county",
        family="generic",
        domains=("www.example-js.cn",),
        columns=(Column(name="通知公告", url="http://www.example-js.cn/tzgg/index.html"),),
        politeness=Politeness(delay=0.5),
        needs_browser=True,
        evidence="replay portal only",
        origin="replay",
    ),
)


@dataclass
class ServedPage:
    """A response the portal gives for one URL."""

    body: bytes
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (a slow or hanging portal)


def _key(url: str) -> str:
    parts = urlsplit(url)
    key = f"{parts.scheme}/{parts.netloc.lower()}{parts.path or '/'}"
    return f"{key}?{parts.query}" if parts.query else key


def _content_type(path: Path) -> str:
    return {
        ".html": "text/html; charset=utf-8",
        ".htm": "text/html; charset=utf-8",
        ".shtml": "text/html; charset=utf-8",
        ".xml": "text/xml; charset=utf-8",
        ".json": "application/json; charset=utf-8",
        ".pdf": "application/pdf",
        ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ".txt": "text/plain; charset=utf-8",
        ".js": "application/javascript; charset=utf-8",
    }.get(path.suffix.lower(), "application/octet-stream")


class ReplayPortal:
    """A set of URL → response mappings and an HTTP server that serves them."""

    def __init__(self, validators: bool = True) -> None:
        # ``validators``: send an ETag and answer If-None-Match with 304, as a real server
        # does; many government portals do neither (every revisit is a 200).
        self.validators = validators
        self._pages: dict[str, ServedPage] = {}
        self._lock = threading.Lock()
        self.requests: list[tuple[str, str]] = []  # (method, original URL), for tests to inspect
        self.user_agents: set[str] = set()

    # --- content ------------------------------------------------------------------------
    def put(self, url: str, body: bytes | str, status: int = 200,
            headers: dict[str, str] | None = None, content_type: str | None = None,
            delay: float = 0.0) -> None:
        """Serve ``body`` at ``url`` (replacing what was there)."""
        if isinstance(body, str):
            body = body.encode("utf-8")
        hdrs = dict(headers or {})
        if content_type:
            hdrs["Content-Type"] = content_type
        hdrs.setdefault("Content-Type", "text/html; charset=utf-8")
        with self._lock:
            self._pages[_key(url)] = ServedPage(body, status, hdrs, delay)

    def remove(self, url: str) -> None:
        """Stop serving ``url`` (it answers 404 from now on)."""
        with self._lock:
            self._pages.pop(_key(url), None)

    def get(self, url: str) -> ServedPage | None:
        with self._lock:
            return self._pages.get(_key(url))

    def urls(self) -> list[str]:
        with self._lock:
            return sorted(self._pages)

    def load_site(self, key: str, root: Path = SITES_DIR) -> int:
        """Serve one site's fixtures; returns how many pages were added."""
        pages = load_site_fixtures(key, root)
        for page in pages:
            headers = dict(page.headers)
            headers.setdefault("Content-Type", _content_type(page.path))
            self.put(page.url, page.body, status=page.status, headers=headers)
        return len(pages)

    def load_extra(self, folder: Path = REPLAY_DIR) -> int:
        """Serve the pages listed in ``fixtures/replay/portal.json``."""
        manifest = folder / "portal.json"
        if not manifest.exists():
            return 0
        entries = json.loads(manifest.read_text(encoding="utf-8"))["pages"]
        for entry in entries:
            path = folder / entry["file"] if entry.get("file") else None
            body = path.read_bytes() if path else entry.get("body", "").encode("utf-8")
            headers = dict(entry.get("headers", {}))
            if "content_type" in entry:
                headers["Content-Type"] = entry["content_type"]
            elif path is not None:
                headers.setdefault("Content-Type", _content_type(path))
            self.put(entry["url"], body, status=int(entry.get("status", 200)), headers=headers,
                     delay=float(entry.get("delay", 0)))
        return len(entries)

    @classmethod
    def from_fixtures(cls, sites: list[str] | None = None) -> "ReplayPortal":
        """The whole fixture portal: every site's saved pages and the replay-only pages."""
        portal = cls()
        for key in sites if sites is not None else all_fixture_sites():
            portal.load_site(key)
        portal.load_extra()
        return portal

    # --- serving ------------------------------------------------------------------------
    @contextmanager
    def serve(self, port: int = 0) -> Iterator[str]:
        """Serve on 127.0.0.1 in a background thread; yields the base URL."""
        server = _Server(("127.0.0.1", port), _handler_for(self))
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, name="replay-portal", daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            server.server_close()


class _Server(ThreadingHTTPServer):
    # socketserver's listen backlog of 5 overflows when a crawl opens several connections at
    # once; the dropped SYN is retried a second later, and the crawl stalls for that second.
    request_queue_size = 128


def _handler_for(portal: ReplayPortal) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in separate writes; with Nagle's algorithm and delayed ACKs
        # every response would stall ~40 ms on a kept-alive connection.
        disable_nagle_algorithm = True

        def _answer(self, send_body: bool = True) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)  # a POST list feed's form; routing is by URL
            scheme, _, rest = self.path.lstrip("/").partition("/")
            if scheme in ("http", "https"):
                original = f"{scheme}://{rest}"
            else:
                # A browser sent here by a host-resolver rule asks for the portal's own path.
                original = f"http://{self.headers.get('Host', '')}{self.path}"
            portal.requests.append((self.command, original))
            portal.user_agents.add(self.headers.get("User-Agent", ""))
            page = portal.get(original)
            if page is None:
                body = "<html><body><h1>404 Not Found</h1></body></html>".encode()
                page = ServedPage(body, 404, {"Content-Type": "text/html; charset=utf-8"})
            if page.delay:
                time.sleep(page.delay)
            # Validators as a real server sends them, so conditional revisits can get a 304.
            etag = '"%s"' % hashlib.sha1(page.body).hexdigest()[:16]
            if portal.validators and page.status == 200 and self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(page.status)
            for name, value in page.headers.items():
                self.send_header(name, value)
            if page.status == 200 and portal.validators:
                self.send_header("ETag", etag)
            self.send_header("Content-Length", str(len(page.body)))
            self.end_headers()
            if send_body:
                self.wfile.write(page.body)

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            self._answer()

        def do_POST(self) -> None:  # noqa: N802
            self._answer()

        def do_HEAD(self) -> None:  # noqa: N802
            self._answer(send_body=False)

        def log_message(self, format: str, *args) -> None:  # noqa: A002
            logger.debug("replay: " + format, *args)

    return Handler
