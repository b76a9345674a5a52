"""Every site policywatch can crawl: the registry's (``crawlers/sites/``), the config's
``[[watch]]`` tables, and the replay portal's own; and how a ``[[watch]]`` table becomes a Site.

A config-declared site is a ``Site`` like the registry's, with ``origin="config"``: crawled,
classified, diffed and reported the same way. A key that a registry (or replay) site already
has is an error naming both. Editing the tables (``policywatch watch add/remove``) is the
maintainer's tool, ``crawlers.tools.watch``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol, Sequence
from urllib.parse import urlsplit

from crawlers.replay.portal import REPLAY_SITES
from crawlers.sites import all_sites, get_site
from crawlers.sites.spec import Column, Politeness, Site, SiteSpecError

REQUIRED = ("key", "issuer", "name", "url", "family", "division_code", "level")
_TYPES: dict[str, tuple[type, ...]] = {
    "key": (str,), "issuer": (str,), "name": (str,), "url": (str,), "family": (str,),
    "division_code": (str,), "level": (str,), "domains": (list,), "needs_browser": (bool,),
    "delay": (int, float), "max_pages": (int,), "params": (dict,), "enabled": (bool,),
    "interval_hours": (int, float), "evidence": (str,), "added": (str,),
}
FIELDS = tuple(_TYPES)
CONFIG_DECLARED = "config-declared"


class Declaring(Protocol):
    """What declares sites beside the registry: the config (``crawlers.config.Config``)."""

    watch: Sequence[Site]


class WatchTableError(ValueError):
    """A ``[[watch]]`` table that declares no valid site; the message names the file, the table
    and the key (the config reports it as its own error)."""


def _describe(types: tuple[type, ...]) -> str:
    names = {str: "a string", list: "a list of strings", bool: "true or false", int: "a number",
             float: "a number", dict: "a table"}
    return " or ".join(dict.fromkeys(names[t] for t in types))


def site_from_table(table: dict[str, Any], where: Path | str, index: int) -> Site:
    """One ``[[watch]]`` table as a Site; ``WatchTableError`` naming the file, the entry and the key."""
    label = f"[[watch]] {table['key']!r}" if isinstance(table.get("key"), str) else f"[[watch]] #{index + 1}"

    def fail(why: str) -> WatchTableError:
        return WatchTableError(f"{where}: {label}: {why}")

    if not isinstance(table, dict):
        raise fail("must be a table")
    unknown = sorted(set(table) - set(FIELDS))
    if unknown:
        raise fail(f"unknown key(s) {', '.join(unknown)}; known: {', '.join(FIELDS)}")
    missing = [k for k in REQUIRED if k not in table]
    if missing:
        raise fail(f"missing {', '.join(missing)}")
    for name, value in table.items():
        types = _TYPES[name]
        if isinstance(value, bool) and bool not in types or not isinstance(value, types):
            raise fail(f"{name} must be {_describe(types)}")
    domains = table.get("domains") or [urlsplit(table["url"]).hostname or ""]
    if not all(isinstance(d, str) and d for d in domains):
        raise fail("domains must be a list of host names")
    evidence = table.get("evidence", "")
    try:
        return Site(
            key=table["key"], name=table["issuer"], division_code=table["division_code"],
            level=table["level"], family=table["family"],
            domains=tuple(d.lower() for d in domains),
            columns=(Column(name=table["name"], url=table["url"], params=dict(table.get("params", {})),
                            max_pages=int(table.get("max_pages", 50))),),
            politeness=Politeness(delay=float(table.get("delay", 2.0))),
            needs_browser=bool(table.get("needs_browser", False)),
            enabled=bool(table.get("enabled", True)),
            interval_hours=float(table["interval_hours"]) if "interval_hours" in table else None,
            evidence=f"{CONFIG_DECLARED} ({Path(str(where)).name})" + (f": {evidence}" if evidence else ""),
            origin="config",
        )
    except SiteSpecError as exc:
        raise fail(str(exc)) from None


def _reserved_sites() -> dict[str, str]:
    """Keys no config site may take: the registry's and the replay portal's, with where each is."""
    reserved = {s.key: f"the registry's site {s.key!r} ({s.name}, crawlers/sites/{s.key}.py)"
                for s in all_sites()}
    reserved.update({s.key: f"the replay portal's site {s.key!r} ({s.name}, crawlers/replay/portal.py)"
                     for s in REPLAY_SITES})
    return reserved


def parse_watch(raw: Any, where: Path | str) -> tuple[Site, ...]:
    """The config's ``[[watch]]`` tables as Sites, every one validated; a key clash (with the
    registry, the replay portal or another table) names both sites."""
    if raw in (None, []):
        return ()
    if not isinstance(raw, list):
        raise WatchTableError(f"{where}: watch must be an array of tables ([[watch]])")
    sites: list[Site] = []
    reserved = _reserved_sites()
    seen: dict[str, int] = {}
    for index, table in enumerate(raw):
        if not isinstance(table, dict):
            raise WatchTableError(f"{where}: [[watch]] #{index + 1}: must be a table")
        site = site_from_table(table, where, index)
        if site.key in reserved:
            raise WatchTableError(f"{where}: [[watch]] {site.key!r} ({site.name}, {site.columns[0].url}) has "
                                  f"the key of {reserved[site.key]}: choose another key")
        if site.key in seen:
            raise WatchTableError(f"{where}: [[watch]] {site.key!r} is declared twice (tables "
                                  f"#{seen[site.key] + 1} and #{index + 1})")
        seen[site.key] = index
        sites.append(site)
    return tuple(sites)


def known_sites(config: Declaring | None = None, replay: bool = False) -> list[Site]:
    """Every site policywatch can crawl: the registry's, then the config's (and, for the replay
    portal, its own)."""
    sites = list(all_sites()) + list(config.watch if config is not None else ())
    if replay:
        sites += list(REPLAY_SITES)
    return sites


def find_sites(keys: tuple[str, ...] | list[str], config: Declaring | None = None,
               replay: bool = False) -> list[Site]:
    """The sites with these keys; a ``KeyError`` listing the known keys for an unknown one.
    Replay-only sites take precedence when crawling the replay portal."""
    declared = {s.key: s for s in (config.watch if config is not None else ())}
    replay_sites = {s.key: s for s in REPLAY_SITES} if replay else {}
    found = []
    for key in keys:
        if key in replay_sites:
            found.append(replay_sites[key])
        elif key in declared:
            found.append(declared[key])
        else:
            try:
                found.append(get_site(key))
            except KeyError as exc:
                message = str(exc.args[0])
                if declared:
                    message += f"; config-declared: {', '.join(sorted(declared))}"
                raise KeyError(message) from None
    return found


def is_config_declared(site: Site) -> bool:
    return site.origin == "config"


__all__ = ["CONFIG_DECLARED", "FIELDS", "WatchTableError", "find_sites", "is_config_declared",
           "known_sites", "parse_watch", "site_from_table"]
