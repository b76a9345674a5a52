"""Every site of the registry parses its saved pages to the expected results."""

from __future__ import annotations

import pytest

from crawlers.families import get_family
from crawlers.sites import all_sites
from crawlers.tools.fixtures import load_site_fixtures

SITES = all_sites()


def _pages(kind: str):
    for site in SITES:
        for page in load_site_fixtures(site.key):
            if page.kind == kind and page.expected_path is not None:
                yield pytest.param(site, page, id=f"{site.key}:{page.path.name}")


def _squash(text: str) -> str:
    return " ".join((text or "").split())


@pytest.mark.parametrize("site", SITES, ids=[s.key for s in SITES])
def test_every_site_has_fixtures(site):
    pages = load_site_fixtures(site.key)
    kinds = {p.kind for p in pages if p.expected_path}
    assert {"list", "detail"} <= kinds, f"{site.key}: needs an expected list and detail page"
    for page in pages:
        assert site.allows_url(page.url), f"{page.url} is off the site's domains"
        if page.kind == "list":
            assert page.column in {c.name for c in site.columns}, f"unknown column {page.column!r}"


@pytest.mark.parametrize(("site", "page"), list(_pages("list")))
def test_list_page(site, page):
    column = next(c for c in site.columns if c.name == page.column)
    parsed = get_family(site.family).parse_list(site, column, page.request(), page.body, page.headers)
    expected = page.expected()
    got_entries = [
        {"url": e.url, "title": e.title,
         "published_date": e.published_date.isoformat() if e.published_date else None}
        for e in parsed.entries
    ]
    assert got_entries == expected["entries"]
    got_next = [
        {"url": r.url, "method": r.method, "formdata": dict(r.formdata), "page": r.page}
        for r in parsed.next_pages
    ]
    assert got_next == expected["next_pages"]


@pytest.mark.parametrize(("site", "page"), list(_pages("detail")))
def test_detail_page(site, page):
    item = get_family(site.family).parse_detail(site, page.url, page.body, page.headers)
    got = item.to_json()
    expected = dict(page.expected())
    without = expected.pop("_without", [])
    assert _squash(got.pop("body_text")) == _squash(expected.pop("body_text"))
    assert got == expected
    for furniture in without:
        assert furniture not in item.body_text, f"page furniture {furniture!r} leaked into the body"
