"""The canonical form of a document's URL, the key the corpus stores documents by."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}


def canonical_url(url: str) -> str:
    """The URL documents are keyed by: scheme and host lower-cased, default port and
    ``#fragment`` dropped. Path and query are kept as served (portals are case-sensitive and
    their query strings often identify the document); http and https are not merged."""
    url = (url or "").strip()
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise ValueError(f"not an absolute http(s) URL: {url!r}")
    host = parts.hostname.lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    port = parts.port
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    if parts.username or parts.password:
        raise ValueError(f"URL with credentials is not a document URL: {url!r}")
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))
