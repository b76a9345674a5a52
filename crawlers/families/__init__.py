"""CMS-family adapters, by the name a site declares in ``Site.family``."""

from __future__ import annotations

import importlib
from functools import lru_cache

from crawlers.families.base import Family

# name -> "module:Class"; imported on first use so one broken adapter cannot hide the others.
_ADAPTERS = {
    "trs": "crawlers.families.trs:TRSFamily",
    "hanweb": "crawlers.families.hanweb:HanwebFamily",
    "govcn": "crawlers.families.govcn:GovCnFamily",
    "ucap": "crawlers.families.ucap:UcapFamily",
    "gkmlpt": "crawlers.families.gkmlpt:GkmlptFamily",
    "scripted": "crawlers.families.scripted:ScriptedFamily",
    "generic": "crawlers.families.generic:GenericFamily",
}


@lru_cache(maxsize=None)
def get_family(name: str) -> Family:
    """The adapter for a CMS family name (see ``crawlers.sites.spec.FAMILIES``)."""
    try:
        target = _ADAPTERS[name]
    except KeyError:
        raise KeyError(f"unknown CMS family {name!r}; known: {', '.join(sorted(_ADAPTERS))}") from None
    module_name, _, class_name = target.partition(":")
    return getattr(importlib.import_module(module_name), class_name)()


__all__ = ["Family", "get_family"]
