"""`policywatch detect URL`: which CMS family runs a portal column, and a site spec to watch it.

- ``recognition``: a page's bytes in, the family and the clues that chose it out (pure); the
  clues themselves are the families' own (``crawlers.families``: ``Family.page_clues``,
  ``column_clues``), so a new family is recognised the moment it is registered;
- ``naming``: the column's and the issuer's names, the jurisdiction (division code, level)
  through the gazetteer, the site key and domains;
- ``fetching``: the polite fetcher of ``policywatch probe``, refusals, the browser;
- ``column``: the whole detection (``detect_column``): fetch, recognise, read the first list
  page and one document, propose;
- ``proposal``: the site spec it proposes, as the ``[[watch]]`` table ``watch add`` writes;
- ``output``: what the command prints (``render``, ``to_json``);
- ``result``: the ``Detection`` and its verdicts.
"""

from __future__ import annotations

from crawlers.tools.detect.column import detect_column
from crawlers.tools.detect.fetching import RenderError, chromium_renderer
from crawlers.tools.detect.naming import (
    jurisdiction,
    page_names,
    provisional_site,
    registrable,
    site_domains,
    suggest_key,
)
from crawlers.tools.detect.output import pagination, render, to_json
from crawlers.tools.detect.proposal import proposed_table
from crawlers.tools.detect.recognition import Clue, Recognition, choose, page_clues, recognise
from crawlers.tools.detect.result import BLOCKED, BROKEN, OK, Detection, Fetch

__all__ = ["BLOCKED", "BROKEN", "OK", "Clue", "Detection", "Fetch", "Recognition", "RenderError",
           "choose", "chromium_renderer", "detect_column", "jurisdiction", "page_clues", "page_names",
           "pagination", "proposed_table", "provisional_site", "recognise", "registrable", "render",
           "site_domains", "suggest_key", "to_json"]
