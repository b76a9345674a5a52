"""`policywatch fixture save`: record a page and its parse as a new fixture of a site."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from crawlers.engine.downloader import replay_url as mapped
from crawlers.engine.settings import USER_AGENT
from crawlers.pageparse import ParseError, parse_saved_list, parse_saved_page
from crawlers.sites import get_site
from crawlers.sites.declared import is_config_declared
from crawlers.sites.spec import Site
from crawlers.tools.fixtures import SITES_DIR
from crawlers.tools.toolfetch import FetchError, Resolver, fetch, resolve_host


class FixtureSaveError(ValueError):
    """The page could not be saved as a fixture (a message says why)."""


@dataclass
class SavedFixture:
    page_path: Path
    expected_path: Path


def _fetch(url: str, replay_url: str | None, resolve: Resolver = resolve_host) -> tuple[bytes, dict[str, str]]:
    """One polite GET (a maintainer's single request, not a crawl), bounded (crawlers.tools.toolfetch)."""

    target = (lambda u: mapped(replay_url, u)) if replay_url else None
    try:
        got = fetch(url, headers={"User-Agent": USER_AGENT}, resolve=resolve, target=target)
    except FetchError as exc:
        raise FixtureSaveError(str(exc)) from None
    if got.status >= 400:
        raise FixtureSaveError(f"could not fetch {url}: HTTP {got.status}")
    return got.body, got.headers


def fixtures_root(site: Site, fixtures_dir: Path | None = None) -> Path:
    """Where a site's fixture folder goes: ``fixtures_dir``, else the project's — for registry
    sites only, since the project's fixtures are checked against the registry."""
    if fixtures_dir is not None:
        return fixtures_dir
    if is_config_declared(site):
        raise FixtureSaveError(f"{site.key} is declared in the config, not the registry: "
                               "pass --fixtures-dir to say where its fixtures go")
    return SITES_DIR


def save_fixture(site_key: str | Site, source: str, *, url: str | None, kind: str = "detail",
                 column: str | None = None, name: str | None = None,
                 replay_url: str | None = None, root: Path = SITES_DIR) -> SavedFixture:
    """Save the page and write its parse as the expected result; refuses pages that don't parse.
    ``site_key``: a registry key, or the ``Site`` itself (one declared in a config)."""
    site = site_key if isinstance(site_key, Site) else get_site(site_key)
    if re.match(r"^https?://", source):
        url = url or source
        body, headers = _fetch(source, replay_url)
    else:
        path = Path(source)
        if not path.is_file():
            raise FixtureSaveError(f"{source}: no such file")
        if not url:
            raise FixtureSaveError("--url is required when saving a file: the page's URL on the portal")
        body, headers = path.read_bytes(), {}
    if not site.allows_url(url):
        raise FixtureSaveError(f"{url} is not on {site.key}'s domains {site.domains}")

    try:
        if kind == "list":
            listing = parse_saved_list(body, url, site, column, headers)
            expected = {
                "entries": [{"url": e.url, "title": e.title,
                             "published_date": e.published_date.isoformat() if e.published_date else None}
                            for e in listing.entries],
                "next_pages": [{"url": r.url, "method": r.method, "formdata": dict(r.formdata), "page": r.page}
                               for r in listing.next_pages],
            }
        else:
            expected = parse_saved_page(body, url, headers, site=site).to_json()
            expected["_without"] = []
    except ParseError as exc:
        raise FixtureSaveError(f"the page does not parse as a {kind} page of {site.key}: {exc}") from exc

    folder = root / site.key
    folder.mkdir(parents=True, exist_ok=True)
    meta_path = folder / "meta.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else {
        "site": site.key, "pages": []}
    if any(p["url"] == url and p["kind"] == kind for p in meta["pages"]):
        raise FixtureSaveError(f"{site.key} already has a {kind} fixture for {url}")
    n = 1 + sum(1 for p in meta["pages"] if p["kind"] == kind)
    file_name = name or f"{kind}_{n}.html"
    if (folder / file_name).exists():
        raise FixtureSaveError(f"{folder / file_name} exists; choose another --name")
    expected_name = Path(file_name).stem + ".json"

    page_path = folder / file_name
    expected_path = folder / expected_name
    page_path.write_bytes(body)
    expected_path.write_text(json.dumps(expected, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    entry = {"file": file_name, "kind": kind, "url": url, "expected": expected_name}
    if kind == "list":
        entry["column"] = column or site.columns[0].name
    if headers.get("Content-Type"):
        entry["content_type"] = headers["Content-Type"]
    meta["pages"].append(entry)
    meta_path.write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return SavedFixture(page_path, expected_path)
