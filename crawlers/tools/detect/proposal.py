"""The site spec detect proposes: names from the page, the jurisdiction from the issuer's name,
a key from the URL, the family's params; placeholders (待定, division 100000) and a note where
nothing is known. Rendered as the ``[[watch]]`` table that ``policywatch watch add`` writes."""

from __future__ import annotations

from typing import Any

from crawlers.families.clues import json_of
from crawlers.families.listparse import decode
from crawlers.sites.declared import known_sites
from crawlers.tools.detect.naming import (
    PLACEHOLDER_DIVISION,
    jurisdiction,
    page_names,
    provisional_site,
    site_domains,
    suggest_key,
)
from crawlers.tools.detect.result import BROKEN, Detection
from crawlers.tools.watch import spec_table


def propose(detection: Detection) -> None:
    """Set ``detection.site`` (and the names found) from what the detection read."""
    recognition = detection.recognition
    page = detection.list_page
    html = decode(page.body, page.headers) if page is not None and json_of(page.body) is None else ""
    column, issuer = page_names(html)
    data = json_of(page.body) if page is not None and not html else None
    if not column and isinstance(data, dict) and isinstance(data.get("classify"), dict):
        column = str(data["classify"].get("name") or "").strip()  # the gkmlpt catalogue node
    if not issuer and detection.item is not None and detection.item.issuer:
        issuer = detection.item.issuer
    detection.column_name, detection.issuer = column, issuer
    division, level = jurisdiction(issuer)
    detection.division_known = bool(division)
    unknown = [what for what, value in (("the column's name (--name)", column),
                                        ("the issuer (--issuer)", issuer),
                                        ("the division code and level (--division, --level)", division))
               if not value]
    if unknown:
        detection.note("missing", "watch add needs " + ", ".join(unknown) + ": the pages do not say")
    entries = detection.listing.entries if detection.listing else []
    try:
        detection.site = provisional_site(
            detection.url, recognition.family, params=recognition.params,
            needs_browser=recognition.needs_browser, name=issuer or "待定", column=column or "待定",
            key=suggest_key(detection.url, {s.key for s in known_sites(replay=True)}),
            division_code=division or PLACEHOLDER_DIVISION, level=level or "province",
            domains=site_domains(detection.url, entries))
    except ValueError as exc:  # SiteSpecError: an URL no spec can hold
        detection.note(BROKEN, f"no spec can be proposed: {exc}")


def proposed_table(detection: Detection, unknown: Any = "?") -> dict[str, Any]:
    """The proposed ``[[watch]]`` table, with ``unknown`` where the pages did not say (the
    column's name, the issuer, the jurisdiction): ``watch add`` needs them as options."""
    table = spec_table(detection.site, detection)
    if not detection.column_name:
        table["name"] = unknown
    if not detection.issuer:
        table["issuer"] = unknown
    if not detection.division_known:
        table["division_code"] = table["level"] = unknown
    return table


__all__ = ["propose", "proposed_table"]
