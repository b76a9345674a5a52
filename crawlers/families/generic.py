"""Portals of no known CMS family: find the list by its shape, not by its class names.

The list is the largest group of sibling elements each holding a link and a date (outside
navigation, footers and related-links boxes); the column continues at the "下一页" link or
the link numbered one past the current page (or a ``createPageHTML`` call, if any). Detail
pages are read with the common parser's defaults.
"""

from __future__ import annotations

from typing import Mapping

from ..items import ListPage, PageRequest
from ..parsing.detail import DetailRules
from ..sites.spec import Column, Site
from .base import Family
from .listparse import html_list_page


class GenericFamily(Family):
    """Shape-based list reading for undeclared portals."""

    name = "generic"
    detail_rules = DetailRules()

    def parse_list(
        self, site: Site, column: Column, request: PageRequest, body: bytes,
        headers: Mapping[str, str] | None = None,
    ) -> ListPage:
        """Entries of the page's main dated list (none on a script-rendered page) and the
        next page."""
        return html_list_page(site, column, request, body, headers, ())
