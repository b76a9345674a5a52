"""The registry of CMS-family adapters: the one place a family is named.

A family is its adapter class (``crawlers/families/<name>.py``, a ``Family`` subclass carrying
its ``name``, its detection ``priority`` and its clues), listed once in ``ADAPTERS`` below.
Site validation (``Site.family``), the crawl's adapter lookup (``get_family``) and
``policywatch detect`` all read this registry.
"""

from __future__ import annotations

import re

from crawlers.families.base import Family
from crawlers.families.generic import GenericFamily
from crawlers.families.gkmlpt import GkmlptFamily
from crawlers.families.govcn import GovCnFamily
from crawlers.families.hanweb import HanwebFamily
from crawlers.families.scripted import ScriptedFamily
from crawlers.families.trs import TRSFamily
from crawlers.families.ucap import UcapFamily

# Adding a family: its adapter module, and its class here.
ADAPTERS: tuple[type[Family], ...] = (
    TRSFamily, HanwebFamily, GovCnFamily, UcapFamily, GkmlptFamily, ScriptedFamily, GenericFamily,
)
# The adapter detection falls back to when no family's clues are strong enough.
FALLBACK = GenericFamily.name

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_REGISTRY: dict[str, Family] = {}


def register(adapter: type[Family]) -> type[Family]:
    """Register an adapter class under its ``name``; a missing, malformed or taken name is a
    ``ValueError``."""
    name = getattr(adapter, "name", "")
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"{adapter.__name__}: a CMS family's name must be ASCII snake_case, got {name!r}")
    if name in _REGISTRY:
        raise ValueError(f"CMS family {name!r} is registered twice "
                         f"({type(_REGISTRY[name]).__name__} and {adapter.__name__})")
    _REGISTRY[name] = adapter()
    return adapter


def unregister(name: str) -> None:
    """Forget the family ``name`` (a test's throwaway adapter)."""
    _REGISTRY.pop(name, None)


for _adapter in ADAPTERS:
    register(_adapter)


def family_names() -> tuple[str, ...]:
    """Every registered family's name, in the order registered."""
    return tuple(_REGISTRY)


def families() -> list[Family]:
    """Every registered adapter, the most specific evidence first (detection's tie order)."""
    return sorted(_REGISTRY.values(), key=lambda f: (f.priority, f.name))


def get_family(name: str) -> Family:
    """The adapter for a CMS family name."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown CMS family {name!r}; known: {', '.join(sorted(_REGISTRY))}") from None


__all__ = ["ADAPTERS", "FALLBACK", "Family", "families", "family_names", "get_family", "register",
           "unregister"]
