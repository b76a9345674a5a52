"""A site's saved pages and their expected parses, as stored under ``fixtures/sites/<key>/``.

The same files serve three uses: the registry-wide fixture test, the local replay portal,
and ``policywatch fixture save``, which records new ones. See fixtures/README.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crawlers.items import PageRequest

FIXTURES_DIR = Path(__file__).resolve().parents[2] / "fixtures"
SITES_DIR = FIXTURES_DIR / "sites"
PAGE_KINDS = ("list", "detail", "file", "robots", "search")


class FixtureError(ValueError):
    """A fixture folder or its meta.json is malformed."""


@dataclass(frozen=True)
class SavedPage:
    """One saved response and what it is."""

    site: str
    path: Path
    kind: str  # list / detail / file / robots
    url: str
    method: str = "GET"
    formdata: tuple[tuple[str, str], ...] = ()
    column: str | None = None  # list pages: the column's name in the site spec
    page: int = 1
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    expected_path: Path | None = None

    @property
    def body(self) -> bytes:
        return self.path.read_bytes()

    def expected(self) -> dict[str, Any] | None:
        if self.expected_path is None:
            return None
        return json.loads(self.expected_path.read_text(encoding="utf-8"))

    def request(self) -> PageRequest:
        return PageRequest(url=self.url, method=self.method, formdata=self.formdata, page=self.page)


def load_site_fixtures(site_key: str, root: Path = SITES_DIR) -> list[SavedPage]:
    """The saved pages of one site (empty when it has no fixture folder)."""
    folder = root / site_key
    meta_path = folder / "meta.json"
    if not meta_path.exists():
        return []
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise FixtureError(f"{meta_path}: not valid JSON: {exc}") from exc
    pages = []
    for i, entry in enumerate(meta.get("pages", [])):
        where = f"{meta_path} pages[{i}]"
        for required in ("file", "kind", "url"):
            if required not in entry:
                raise FixtureError(f"{where}: missing {required!r}")
        if entry["kind"] not in PAGE_KINDS:
            raise FixtureError(f"{where}: kind {entry['kind']!r} is not one of {PAGE_KINDS}")
        path = folder / entry["file"]
        if not path.exists():
            raise FixtureError(f"{where}: file {entry['file']!r} does not exist")
        expected = entry.get("expected")
        headers = dict(entry.get("headers", {}))
        if "content_type" in entry:
            headers["Content-Type"] = entry["content_type"]
        pages.append(
            SavedPage(
                site=site_key,
                path=path,
                kind=entry["kind"],
                url=entry["url"],
                method=entry.get("method", "GET").upper(),
                formdata=tuple(sorted((str(k), str(v)) for k, v in entry.get("formdata", {}).items())),
                column=entry.get("column"),
                page=int(entry.get("page", 1)),
                status=int(entry.get("status", 200)),
                headers=headers,
                expected_path=(folder / expected) if expected else None,
            )
        )
    return pages


def all_fixture_sites(root: Path = SITES_DIR) -> list[str]:
    """Keys of every site that has a fixture folder."""
    if not root.exists():
        return []
    return sorted(p.name for p in root.iterdir() if (p / "meta.json").exists())
