"""The whole detection of a column: fetch its page, recognise the family, read its first list
page (through the family's own first request, the generic adapter, or the browser), read one
document, and propose a spec.

It fetches as politely as ``policywatch probe`` (robots.txt, User-Agent, the delay): the column
page, the first list page the family asks for when that is another URL (gkmlpt's API), the
browser's rendering when needed, and one document. When the recognised family's adapter finds
no entries and the generic adapter does, generic is used instead (and the report says so).
"""

from __future__ import annotations

import re
from typing import Mapping
from urllib.parse import urlsplit

from crawlers.families import FALLBACK, family_names, get_family
from crawlers.families.listparse import ParseError
from crawlers.items import ListEntry, ListPage, PageRequest
from crawlers.sites.spec import Site
from crawlers.tools.detect.fetching import DetectFetcher, Renderer, refused
from crawlers.tools.detect.naming import provisional_site
from crawlers.tools.detect.proposal import propose
from crawlers.tools.detect.recognition import Clue, recognise
from crawlers.tools.detect.result import BLOCKED, BROKEN, OK, REQUIRED_FIELDS, USUAL_FIELDS, Detection, Fetch
from crawlers.tools.probe import PoliteFetcher

# The gkmlpt catalogue page may refuse a tool while its API, which is what gets crawled, answers.
_GKMLPT = re.compile(r"/gkmlpt/")
FORCED = 100  # the weight of the user's --family


def detect_column(url: str, fetcher: PoliteFetcher | None = None, *, body: bytes | None = None,
                  headers: Mapping[str, str] | None = None, detail: Fetch | None = None,
                  browser: bool | None = None, renderer: Renderer | None = None,
                  family: str | None = None) -> Detection:
    """Recognise the column at ``url``, read its first list page and one document, and propose
    a spec. ``fetcher`` is a ``probe.PoliteFetcher`` (None: offline, ``body`` is the saved
    column page and ``detail`` an optional saved document). ``browser``: render a list that
    only script fills (None: when ``renderer`` is given). ``family`` forces the family."""
    detection = Detection(url=url)
    net = DetectFetcher(detection, fetcher)
    if body is not None:
        column_page = Fetch(url, 200, dict(headers or {}), body, source="file")
    else:
        column_page = net.get(PageRequest(url=url), "column page")
        if column_page is None:
            if fetcher is None:
                detection.note(BROKEN, "nothing to read: no page given and no fetcher")
            return detection
    detection.list_page = column_page
    gkmlpt_url = bool(_GKMLPT.search(urlsplit(url).path))
    if refused(detection, column_page, "column page") and not gkmlpt_url:
        return detection
    recognition = recognise(url, column_page.body, column_page.headers)
    if family:
        if family not in family_names():
            raise ValueError(f"unknown family {family!r}; known: {', '.join(family_names())}")
        recognition.clues.append(Clue(family, FORCED, "chosen by the user (--family)"))
        recognition.family = family
    detection.recognition = recognition
    if detection.verdict != OK and not (gkmlpt_url and recognition.family == "gkmlpt"):
        return detection
    if detection.verdict != OK:
        # The catalogue page itself may be unreachable; its API is what gets crawled.
        detection.notes.clear()
        detection.verdict = OK

    listing = _read_list(detection, net, column_page, browser, renderer)
    if listing is None:
        return detection
    entries = listing.entries
    if not entries:
        detection.note(BROKEN, f"0 entries on the first list page (the {recognition.family} adapter "
                               "finds no dated links there)")
    else:
        detection.note(OK, f"{len(entries)} entries on the first list page")
        _read_document(detection, net, entries[0], detail)
    propose(detection)
    return detection


def _read_list(detection: Detection, net: DetectFetcher, column_page: Fetch, browser: bool | None,
               renderer: Renderer | None) -> ListPage | None:
    recognition = detection.recognition
    site = provisional_site(detection.url, recognition.family, params=recognition.params,
                            needs_browser=recognition.needs_browser)
    adapter = get_family(site.family)
    try:
        first = adapter.first_page(site, site.columns[0])
    except ValueError as exc:
        detection.note(BROKEN, str(exc))
        return None
    page = column_page
    if first.url != detection.url or first.method != "GET":
        page = net.get(first, "list page")
        if page is None:
            if net.fetcher is None:
                detection.note(BROKEN, f"offline: the first list page is {first.url}, not the saved page")
            return None
        if refused(detection, page, "list page"):
            return None
        detection.list_page = page
    listing = _parse_list(detection, site, first, page)
    if listing is None:
        return None
    if not listing.entries and recognition.family != FALLBACK:
        generic = provisional_site(detection.url, FALLBACK, needs_browser=recognition.needs_browser)
        fallback = _parse_list(detection, generic, PageRequest(url=page.url), page, quiet=True)
        if fallback is not None and fallback.entries:
            recognition.clues.append(Clue(FALLBACK, 0, f"the {recognition.family} adapter found no entries; "
                                                       f"the generic adapter found {len(fallback.entries)}"))
            recognition.family, recognition.params = FALLBACK, {}
            listing = fallback
    use_browser = browser if browser is not None else renderer is not None
    if not listing.entries and recognition.needs_browser:
        if use_browser and renderer is not None:
            rendered = net.render(renderer)
            if rendered is not None:
                detection.list_page = rendered
                generic = provisional_site(detection.url, FALLBACK, needs_browser=True)
                listing = _parse_list(detection, generic, PageRequest(url=detection.url, browser=True),
                                      rendered) or listing
                recognition.family, recognition.params = FALLBACK, {}
                if listing.entries:
                    recognition.clues.append(Clue(FALLBACK, 0, f"rendered in Chromium, the page lists "
                                                               f"{len(listing.entries)} entries"))
        else:
            detection.note("missing", "the list is filled by script: run detect with --browser to "
                                      "render it (the proposed spec crawls it with the browser)")
    detection.listing = listing
    return listing


def _parse_list(detection: Detection, site: Site, request: PageRequest, page: Fetch,
                quiet: bool = False) -> ListPage | None:
    try:
        return get_family(site.family).parse_list(site, site.columns[0], request, page.body, page.headers)
    except (ParseError, ValueError) as exc:
        if not quiet:
            detection.note(BROKEN, f"the list page does not parse as {site.family}: "
                                   f"{getattr(exc, 'message', exc)}")
        return None


def _read_document(detection: Detection, net: DetectFetcher, entry: ListEntry, detail: Fetch | None) -> None:
    if detail is not None and detail.source == "file":
        # A saved document stands for the list's first entry (its links resolve against it).
        detail = Fetch(entry.url, detail.status, detail.headers, detail.body, source="file")
    page = detail if detail is not None else net.get(PageRequest(url=entry.url), "document")
    if page is None:
        if net.fetcher is None:
            detection.note("missing", "offline: no document page given (--detail-file)")
        return
    detection.detail_page = page
    if refused(detection, page, "document"):
        return
    recognition = detection.recognition
    forced = any(c.weight >= FORCED for c in recognition.clues)
    if not forced and not get_family(recognition.family).settled_by_column \
            and not recognition.needs_browser and page.source != "browser":
        # The document's own markup may settle a close call (TRS_Editor, ucapcontent...).
        before = recognition.family
        again = recognise(detection.url, detection.list_page.body, detection.list_page.headers,
                          detail=(page.url, page.body, page.headers))
        if again.family != before and not get_family(again.family).settled_by_column:
            site = provisional_site(detection.url, again.family, params=again.params)
            request = PageRequest(url=detection.list_page.url)
            relisted = _parse_list(detection, site, request, detection.list_page, quiet=True)
            if relisted is not None and len(relisted.entries) >= len(detection.listing.entries):
                detection.recognition, detection.listing = again, relisted
        else:
            detection.recognition.clues = again.clues
    site = provisional_site(detection.url, detection.recognition.family)
    try:
        detection.item = get_family(site.family).parse_detail(site, page.url, page.body, page.headers)
    except ParseError as exc:
        severity = BLOCKED if exc.reason == "blocked" else BROKEN
        detection.note(severity, f"the document {page.url} does not parse ({exc.reason}): {exc.message}")
        return
    missing = detection.missing()
    for name in REQUIRED_FIELDS:
        if name in missing:
            detection.note(BROKEN, f"the document has no {name}")
    usual = [n for n in USUAL_FIELDS if n in missing]
    if usual:
        detection.note("missing", "not found on the document: " + ", ".join(usual))


__all__ = ["detect_column"]
