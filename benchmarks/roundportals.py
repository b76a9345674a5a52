"""Many small portals on loopback hosts, for the daily round's tests and benchmark (issue #16).

Portal ``i`` (0-based) listens on its own address ``127.0.x.y`` (``host(i)``; the whole 127/8 is
loopback on Linux), all on one port, so a crawl gives each its own download slot. Each serves
``robots.txt``, one column ``/col/index.html`` listing ``docs`` dated documents (a generic
政府信息公开 list) and the documents ``/art/<n>.html``. One asyncio server process answers them
all; it counts the requests each portal got.

A portal may be made faulty (``kinds``): ``down`` (nothing listens: connection refused),
``waf`` (every page is a WAF block page), ``hang`` (robots.txt answers, nothing else ever does),
``error`` (its list page answers HTTP 500).

``config_toml`` writes the ``[[watch]]`` tables that declare the portals as sites.
"""

from __future__ import annotations

import asyncio
import errno
import json
import random
import sys
import threading
import time
from collections import Counter
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

FIRST_DAY = date(2026, 3, 2)
KINDS = ("ok", "down", "waf", "hang", "error")
WAF_PAGE = ("<html><head><title>访问被拦截</title></head><body><h1>您的访问被拦截</h1>"
            "<p>网站防火墙：您的请求带有不合法参数，已被网站管理员设置拦截！</p>"
            "<p>可能原因：您提交的内容包含危险的攻击请求</p></body></html>")


def host(i: int) -> str:
    """Portal ``i``'s loopback address: 127.0.0.2 onwards, skipping .0 and .255 octets."""
    third, fourth = divmod(i + 1, 253)
    return f"127.0.{third}.{fourth + 1}"


def site_key(i: int) -> str:
    return f"round_{i:04d}"


def doc_date(n: int) -> date:
    return FIRST_DAY - timedelta(days=3 * n + 1)


def list_page(i: int, docs: int) -> str:
    rows = "".join(
        f'<tr><td><a href="/art/{n}.html">示例{i}县关于推进第{n}批数字经济重点项目建设的通知</a></td>'
        f"<td>{doc_date(n).isoformat()}</td></tr>" for n in range(docs))
    return ("<html><head><meta charset=\"utf-8\"><title>通知公告</title></head><body>"
            "<div class=\"nav\"><a href=\"/\">首页</a> <a href=\"/col/index.html\">通知公告</a></div>"
            f"<div class=\"list\"><table><tbody>{rows}</tbody></table></div>"
            "<div class=\"footer\">版权所有 示例县人民政府</div></body></html>")


def detail_page(i: int, n: int) -> str:
    day = doc_date(n)
    paragraphs = "".join(
        f"<p>第{k}条 为加快推进示例{i}县数字经济和元宇宙相关产业发展，优化营商环境，结合本县实际，"
        f"各乡镇人民政府、县政府各部门要切实加强组织领导，明确责任分工，确保第{n}批任务落地见效。</p>"
        for k in range(1, 6))
    return ("<html><head><meta charset=\"utf-8\">"
            f"<title>示例{i}县关于推进第{n}批数字经济重点项目建设的通知</title></head><body>"
            "<div class=\"nav\"><a href=\"/\">首页</a></div><div class=\"article\">"
            f"<h1>示例{i}县关于推进第{n}批数字经济重点项目建设的通知</h1>"
            f"<div class=\"info\">发布日期：{day.isoformat()} 发文机关：示例{i}县人民政府 "
            f"文号：示{i}政发〔{day.year}〕{n + 1}号</div>"
            f"<div class=\"content\">{paragraphs}</div></div>"
            "<div class=\"footer\">版权所有 示例县人民政府</div></body></html>")


class _Portal(asyncio.Protocol):
    """The server side: one protocol object per connection."""

    def __init__(self, farm: "Farm", index: int) -> None:
        self.farm, self.index = farm, index
        self.buffer = b""

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if len(self.buffer) > 65536:
            self.transport.close()
            return
        while b"\r\n\r\n" in self.buffer:
            head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
            lines = head.decode("latin-1").split("\r\n")
            line = lines[0].split()
            path = line[1] if len(line) > 1 else "/"
            if self.farm.log is not None:
                agent = next((h.partition(":")[2].strip() for h in lines[1:]
                              if h.lower().startswith("user-agent:")), "")
                self.farm.log.append((self.index, time.monotonic(), agent, path))
            self.respond(path)

    def respond(self, path: str) -> None:
        farm, i = self.farm, self.index
        farm.requests[i] += 1
        kind = farm.kinds.get(i, "ok")
        status, body = 200, ""
        if path == "/robots.txt":
            body = "User-agent: *\nAllow: /\n"
        elif kind == "hang":
            return  # never answers: the crawler's timeout ends it
        elif kind == "waf":
            status, body = 403, WAF_PAGE
        elif path.startswith("/col/index.html"):
            if kind == "error":
                status, body = 500, "<html><body>Internal Server Error</body></html>"
            else:
                body = list_page(i, farm.docs)
        elif path.startswith("/art/") and path.endswith(".html"):
            try:
                n = int(path[5:-5])
            except ValueError:
                n = -1
            if 0 <= n < farm.docs:
                body = detail_page(i, n)
            else:
                status, body = 404, "<html><body>404 页面不存在</body></html>"
        else:
            status, body = 404, "<html><body>404 页面不存在</body></html>"
        data = body.encode("utf-8")
        reason = {200: "OK", 403: "Forbidden", 404: "Not Found", 500: "Internal Server Error"}[status]
        content_type = "text/plain" if path == "/robots.txt" else "text/html; charset=utf-8"
        self.transport.write(
            f"HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(data)}\r\n\r\n".encode("latin-1") + data)


class Farm:
    """``count`` portals of ``docs`` documents each on ``host(i)``:``port``."""

    def __init__(self, count: int, docs: int = 3, kinds: dict[int, str] | None = None,
                 log: bool = False) -> None:
        self.count, self.docs = count, docs
        self.kinds = dict(kinds or {})
        self.requests: Counter[int] = Counter()
        # With ``log=True``: (portal, monotonic time, User-Agent, path) of every request, for
        # tests that ask who fetched a portal and when.
        self.log: list[tuple[int, float, str, str]] | None = [] if log else None
        self.port = 0

    async def _listen(self) -> list:
        loop = asyncio.get_running_loop()
        for _ in range(20):
            port = random.randrange(20000, 60000)
            servers = []
            try:
                for i in range(self.count):
                    if self.kinds.get(i) == "down":
                        continue
                    servers.append(await loop.create_server(
                        lambda i=i: _Portal(self, i), host(i), port, backlog=64, reuse_address=True))
            except OSError as exc:
                for server in servers:
                    server.close()
                if exc.errno != errno.EADDRINUSE:
                    raise
                continue
            self.port = port
            return servers
        raise RuntimeError("no port free on every portal address")

    def url(self, i: int, path: str = "/col/index.html") -> str:
        return f"http://{host(i)}:{self.port}{path}"

    @contextmanager
    def serving(self):
        """Serve in a thread of this process (tests); yields the farm, its port set."""
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        failed: list[BaseException] = []

        def main() -> None:
            asyncio.set_event_loop(loop)
            try:
                self._servers = loop.run_until_complete(self._listen())
            except BaseException as exc:  # told to the caller below
                failed.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            for server in self._servers:
                server.close()
            loop.close()

        thread = threading.Thread(target=main, name="portal-farm", daemon=True)
        thread.start()
        ready.wait(120)
        if failed:
            raise failed[0]
        try:
            yield self
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(30)


def config_toml(farm: Farm, delay: float = 2.0, extra: str = "") -> str:
    """The [[watch]] tables declaring every portal of ``farm`` (county level, generic family)."""
    tables = [extra] if extra else []
    for i in range(farm.count):
        tables.append(
            f'[[watch]]\nkey = "{site_key(i)}"\nissuer = "示例{i}县人民政府"\nname = "通知公告"\n'
            f'url = "{farm.url(i)}"\nfamily = "generic"\ndivision_code = "{429000 + i % 999 + 1}"\n'
            f'level = "county"\ndelay = {delay}\n')
    return "\n".join(tables)


def serve_forever(count: int, docs: int, kinds: dict[int, str], port_file: Path, stats_file: Path) -> None:
    """A server process (the benchmark's): write the port, serve until SIGTERM, then the counts."""
    import signal

    farm = Farm(count, docs, kinds)
    loop = asyncio.new_event_loop()
    servers = loop.run_until_complete(farm._listen())
    port_file.write_text(str(farm.port))
    loop.add_signal_handler(signal.SIGTERM, loop.stop)
    loop.add_signal_handler(signal.SIGUSR1, lambda: stats_file.write_text(
        json.dumps({str(k): v for k, v in farm.requests.items()})))
    loop.run_forever()
    for server in servers:
        server.close()
    stats_file.write_text(json.dumps({str(k): v for k, v in farm.requests.items()}))


if __name__ == "__main__":  # python benchmarks/roundportals.py COUNT DOCS KINDS_JSON PORT_FILE STATS_FILE
    serve_forever(int(sys.argv[1]), int(sys.argv[2]), {int(k): v for k, v in json.loads(sys.argv[3]).items()},
                  Path(sys.argv[4]), Path(sys.argv[5]))
