"""Portals of no known CMS family: find the list by its shape, not by its class names.

The list is the largest group of sibling elements each holding a link and a date (outside
navigation, footers and related-links boxes); the column continues at the "下一页" link or
the link numbered one past the current page (or a ``createPageHTML`` call, if any). Detail
pages are read with the common parser's defaults.
"""

from __future__ import annotations

from ..parsing.detail import DetailRules
from .base import Family


class GenericFamily(Family):
    """Shape-based list reading for undeclared portals."""

    name = "generic"
    detail_rules = DetailRules()

