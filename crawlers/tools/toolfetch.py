"""One bounded HTTP request for the maintainers' tools (probe, detect, fixture save).

What a server sends is hostile: the body is read in chunks and refused past the crawl's own
``DOWNLOAD_MAXSIZE`` (a 500 MB answer must not cost 3 GB of memory), and redirects are followed
here, hop by hop, so that none leads from a public address to a private, loopback, link-local
or reserved one (a portal redirecting to 127.0.0.1 or 169.254.169.254 would make the tool
fetch the maintainer's own network). The URL the user typed may be private: they asked for it.
"""

from __future__ import annotations

import http.client
import ipaddress
import logging
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Callable
from urllib.parse import urljoin, urlsplit

from crawlers.engine.settings import DOWNLOAD_MAXSIZE

log = logging.getLogger(__name__)

MAX_REDIRECTS = 10
_CHUNK = 64 * 1024
_REDIRECTS = (301, 302, 303, 307, 308)

Resolver = Callable[[str], list[str]]


class FetchError(RuntimeError):
    """The request failed or was refused; the message is one line naming the URL and why."""


@dataclass
class Response:
    url: str  # the URL that answered, after redirects
    status: int
    headers: dict[str, str]
    body: bytes


def resolve_host(host: str) -> list[str]:
    """The addresses ``host`` resolves to (the system resolver)."""
    return sorted({info[4][0] for info in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)})


def is_internal(address: str) -> bool:
    """Is ``address`` private, loopback, link-local, reserved or otherwise not on the internet?"""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def _addresses(host: str, resolve: Resolver) -> list[str]:
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    try:
        return list(resolve(host))
    except (OSError, UnicodeError) as exc:
        raise FetchError(f"could not resolve {host}: {exc}") from None


def check_redirect(source: str, target: str, resolve: Resolver = resolve_host) -> None:
    """Raise ``FetchError`` when a redirect from ``source`` (a public address) leads to
    ``target`` on an internal one."""
    target_host = urlsplit(target).hostname or ""
    internal = [a for a in _addresses(target_host, resolve) if is_internal(a)]
    if not internal:
        return
    try:
        source_internal = all(is_internal(a) for a in _addresses(urlsplit(source).hostname or "", resolve))
    except FetchError:
        source_internal = False  # a host we cannot place is treated as public
    if not source_internal:
        raise FetchError(f"refused the redirect from {source} to {target}: it leads from a public "
                         f"address to the internal address {internal[0]}")


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: D102
        return None  # every hop is judged by fetch() before it is followed


_OPENER = urllib.request.build_opener(_NoRedirects)


def fetch(url: str, *, data: bytes | None = None, headers: dict[str, str] | None = None,
          timeout: float = 30.0, max_bytes: int = DOWNLOAD_MAXSIZE,
          resolve: Resolver = resolve_host, target: Callable[[str], str] | None = None) -> Response:
    """GET (or POST ``data`` to) ``url``; an HTTP error status is a response, not an error.
    ``target`` maps a URL to where it is really fetched (the replay portal); redirects are
    judged on the URLs themselves. Raises ``FetchError``."""
    current = url
    for _ in range(MAX_REDIRECTS + 1):
        request = urllib.request.Request((target or str)(current), data=data, headers=dict(headers or {}))
        try:
            response = _OPENER.open(request, timeout=timeout)
        except urllib.error.HTTPError as exc:  # an answer all the same: 3xx, 403 WAF pages, 404s
            response = exc
        except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as exc:
            raise FetchError(f"could not fetch {current}: {getattr(exc, 'reason', exc)}") from None
        with response:
            status = response.status if hasattr(response, "status") else response.code
            answer_headers = dict(response.headers.items()) if response.headers else {}
            location = response.headers.get("Location") if response.headers else None
            if status in _REDIRECTS and location:
                following = urljoin(current, location.strip())
                if urlsplit(following).scheme not in ("http", "https"):
                    raise FetchError(f"refused the redirect from {current} to {following}: not http(s)")
                check_redirect(current, following, resolve)
                log.debug("redirect %s -> %s", current, following)
                if status in (301, 302, 303):
                    data = None
                current = following
                continue
            body = _read_capped(response, current, max_bytes)
        return Response(current, status, answer_headers, body)
    raise FetchError(f"could not fetch {url}: more than {MAX_REDIRECTS} redirects")


def _read_capped(response, url: str, max_bytes: int) -> bytes:
    declared = response.headers.get("Content-Length") if response.headers else None
    declared = (declared or "").strip()
    if declared.isdigit() and (len(declared) > 12 or int(declared) > max_bytes):
        raise FetchError(f"refused {url}: it announces {declared} bytes, more than the "
                         f"{max_bytes:,} a page may have (DOWNLOAD_MAXSIZE)")
    chunks: list[bytes] = []
    size = 0
    try:
        while chunk := response.read(_CHUNK):
            size += len(chunk)
            if size > max_bytes:
                raise FetchError(f"refused {url}: the response passed the {max_bytes:,} bytes a page "
                                 "may have (DOWNLOAD_MAXSIZE)")
            chunks.append(chunk)
    except (OSError, ValueError, http.client.HTTPException) as exc:  # reset or timeout mid-body
        raise FetchError(f"could not fetch {url}: {exc}") from None
    return b"".join(chunks)
