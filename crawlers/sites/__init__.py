"""The site registry: every module in this package declaring ``SITE = Site(...)``.

Adding a portal is adding one module here (plus its fixtures under ``fixtures/sites/<key>/``).
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache

from crawlers.sites.spec import Column, Politeness, Search, Selectors, Site, SiteSpecError

__all__ = ["Column", "Politeness", "Search", "Selectors", "Site", "SiteSpecError", "all_sites",
           "get_site"]

_NOT_SITES = {"spec", "declared"}  # the spec, and the resolution of every known site


@lru_cache(maxsize=1)
def _registry() -> dict[str, Site]:
    sites: dict[str, Site] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name in _NOT_SITES or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        site = getattr(module, "SITE", None)
        if not isinstance(site, Site):
            raise SiteSpecError(f"crawlers/sites/{info.name}.py must define SITE = Site(...)")
        if site.key != info.name:
            raise SiteSpecError(
                f"crawlers/sites/{info.name}.py declares key {site.key!r}; "
                "the key must equal the module name"
            )
        sites[site.key] = site
    return sites


def all_sites() -> list[Site]:
    """Every registered site, sorted by key."""
    return list(_registry().values())


def get_site(key: str) -> Site:
    """The site with this key, or a ``KeyError`` that lists the known keys."""
    try:
        return _registry()[key]
    except KeyError:
        known = ", ".join(sorted(_registry())) or "(none)"
        raise KeyError(f"unknown site {key!r}; known sites: {known}") from None
