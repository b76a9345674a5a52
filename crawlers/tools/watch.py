"""Config-declared sites: portal columns watched from the config file instead of a site module.

A researcher adds one with ``policywatch watch add URL`` (which runs ``policywatch detect``
and writes what it proposes); each is a ``[[watch]]`` table of the TOML config::

    [[watch]]
    key = "kjj_example_shi_zcwj"          # ASCII snake_case, unique among all sites
    issuer = "示例市科学技术局"             # who publishes the column (the site's name)
    name = "政策文件"                       # the column's name
    url = "http://kjj.example-shi.cn/zcwj/index.html"
    family = "generic"                      # trs, hanweb, govcn, ucap, gkmlpt, scripted, generic
    division_code = "429004"                # GB/T 2260 code of the issuer's jurisdiction
    level = "prefecture"                    # national, province, prefecture, county
    domains = ["kjj.example-shi.cn"]        # default: the URL's host
    needs_browser = false
    delay = 2.0                             # seconds between requests
    max_pages = 50                          # list pages read per walk of the column
    params = {}                             # what the family needs beyond the URL
    enabled = true
    evidence = "detected 2026-11-23: ..."   # what detect saw
    added = "2026-11-23"

Such sites are ``Site`` objects like the registry's: crawled, classified, diffed and reported
the same way, listed by ``policywatch sites`` as config-declared. A key that a registry (or
replay) site already has is an error naming both. A maintainer promotes one to a module by
copying its fields into ``crawlers/sites/<key>.py`` and deleting the table.

Writing keeps the file as the user wrote it (comments, order, other tables: ``tomlkit``), checks
the whole result with the config's own validation before anything is written, and replaces the
file in one step, so a failure leaves the old file untouched.
"""

from __future__ import annotations

import os
import tempfile
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from crawlers.config import ConfigError, config_path
from crawlers.paths import data_dir
from crawlers.sites.spec import Column, Politeness, Site, SiteSpecError

if TYPE_CHECKING:
    from crawlers.config import Config
    from crawlers.tools.detect import Detection

REQUIRED = ("key", "issuer", "name", "url", "family", "division_code", "level")
_TYPES: dict[str, tuple[type, ...]] = {
    "key": (str,), "issuer": (str,), "name": (str,), "url": (str,), "family": (str,),
    "division_code": (str,), "level": (str,), "domains": (list,), "needs_browser": (bool,),
    "delay": (int, float), "max_pages": (int,), "params": (dict,), "enabled": (bool,),
    "interval_hours": (int, float), "evidence": (str,), "added": (str,),
}
FIELDS = tuple(_TYPES)
CONFIG_DECLARED = "config-declared"


def _describe(types: tuple[type, ...]) -> str:
    names = {str: "a string", list: "a list of strings", bool: "true or false", int: "a number",
             float: "a number", dict: "a table"}
    return " or ".join(dict.fromkeys(names[t] for t in types))


def site_from_table(table: dict[str, Any], where: Path | str, index: int) -> Site:
    """One ``[[watch]]`` table as a Site; ``ConfigError`` naming the file, the entry and the key."""
    label = f"[[watch]] {table['key']!r}" if isinstance(table.get("key"), str) else f"[[watch]] #{index + 1}"

    def fail(why: str) -> ConfigError:
        return ConfigError(f"{where}: {label}: {why}")

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
    from crawlers.replay.portal import REPLAY_SITES
    from crawlers.sites import all_sites

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
        raise ConfigError(f"{where}: watch must be an array of tables ([[watch]])")
    sites: list[Site] = []
    reserved = _reserved_sites()
    seen: dict[str, int] = {}
    for index, table in enumerate(raw):
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: [[watch]] #{index + 1}: must be a table")
        site = site_from_table(table, where, index)
        if site.key in reserved:
            raise ConfigError(f"{where}: [[watch]] {site.key!r} ({site.name}, {site.columns[0].url}) has "
                              f"the key of {reserved[site.key]}: choose another key")
        if site.key in seen:
            raise ConfigError(f"{where}: [[watch]] {site.key!r} is declared twice (tables "
                              f"#{seen[site.key] + 1} and #{index + 1})")
        seen[site.key] = index
        sites.append(site)
    return tuple(sites)


# --- resolving sites: the registry, the config's, the replay portal's --------------------------
def known_sites(config: "Config | None" = None, replay: bool = False) -> list[Site]:
    """Every site policywatch can crawl: the registry's, then the config's (and, for the replay
    portal, its own)."""
    from crawlers.sites import all_sites

    sites = list(all_sites()) + list(config.watch if config is not None else ())
    if replay:
        from crawlers.replay.portal import REPLAY_SITES

        sites += list(REPLAY_SITES)
    return sites


def find_sites(keys: tuple[str, ...] | list[str], config: "Config | None" = None,
               replay: bool = False) -> list[Site]:
    """The sites with these keys; a ``KeyError`` listing the known keys for an unknown one.
    Replay-only sites take precedence when crawling the replay portal."""
    from crawlers.sites import get_site

    declared = {s.key: s for s in (config.watch if config is not None else ())}
    replay_sites = {}
    if replay:
        from crawlers.replay.portal import REPLAY_SITES

        replay_sites = {s.key: s for s in REPLAY_SITES}
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


# --- the proposed spec ------------------------------------------------------------------------
def spec_table(site: Site, detection: "Detection | None" = None, *, added: str | None = None) -> dict[str, Any]:
    """A site as the ``[[watch]]`` table that declares it (keys in the documented order)."""
    column = site.columns[0]
    table: dict[str, Any] = {
        "key": site.key, "issuer": site.name, "name": column.name, "url": column.url,
        "family": site.family, "division_code": site.division_code, "level": site.level,
        "domains": list(site.domains),
    }
    if site.needs_browser:
        table["needs_browser"] = True
    if site.politeness.delay != 2.0:
        table["delay"] = site.politeness.delay
    if column.max_pages != 50:
        table["max_pages"] = column.max_pages
    if column.params:
        table["params"] = dict(column.params)
    if not site.enabled:
        table["enabled"] = False
    if site.interval_hours is not None:
        table["interval_hours"] = site.interval_hours
    if detection is not None and detection.recognition is not None:
        reasons = detection.recognition.reasons()
        table["evidence"] = (f"detected {added or date.today().isoformat()}: {site.family}"
                             + (f" ({'; '.join(reasons[:2])})" if reasons else " (no known CMS family)"))
    elif site.evidence and not is_config_declared(site):
        table["evidence"] = site.evidence
    if added:
        table["added"] = added
    return table


def _toml_document(tables: list[dict[str, Any]]):
    import tomlkit

    doc = tomlkit.document()
    aot = tomlkit.aot()
    for data in tables:
        aot.append(_toml_table(data))
    doc.append("watch", aot)
    return doc


def _toml_table(data: dict[str, Any], comment: str = ""):
    import tomlkit

    table = tomlkit.table()
    if comment:
        table.add(tomlkit.comment(comment))
    for key, value in data.items():
        if isinstance(value, dict):
            inline = tomlkit.inline_table()
            inline.update(value)
            table.add(key, inline)
        else:
            table.add(key, value)
    return table


def table_toml(table: dict[str, Any]) -> str:
    """A ``[[watch]]`` table as TOML text."""
    import tomlkit

    return tomlkit.dumps(_toml_document([table])).strip() + "\n"


# --- writing the config -----------------------------------------------------------------------
class WatchError(ValueError):
    """A watch-list change that cannot be made; nothing was written."""


def writable_config(explicit: str | Path | None = None) -> Path:
    """The config file ``watch add``/``remove`` change: ``--config``, $POLICYWATCH_CONFIG, else
    $POLICYWATCH_HOME/policywatch.toml (created on the first ``watch add``)."""
    return config_path(explicit) or data_dir() / "policywatch.toml"


def _read(path: Path) -> str:
    if not path.exists():
        return ""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise WatchError(f"{path}: not UTF-8 text ({exc})") from None


def _validated(text: str, path: Path) -> "Config":
    import tomllib

    from crawlers.config import parse_config

    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise WatchError(f"{path}: not valid TOML: {exc}") from None
    try:
        return parse_config(raw, path)
    except ConfigError as exc:
        raise WatchError(str(exc)) from None


def _replace(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` in one step: a temporary file beside it, then a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def add_site(path: Path, table: dict[str, Any], comment: str = "") -> Site:
    """Append a ``[[watch]]`` table to the config at ``path`` (created if missing); the file's
    comments and other tables are kept. Returns the new site; ``WatchError`` and nothing written
    when the current file or the result is invalid or the key is taken."""
    import tomlkit

    text = _read(path)
    config = _validated(text, path)
    key = table.get("key")
    for site in config.watch:
        if site.key == key:
            raise WatchError(f"{path}: [[watch]] {key!r} exists already ({site.name}, "
                             f"{site.columns[0].url}): remove it first or choose another --key")
    doc = tomlkit.parse(text)
    entry = _toml_table(table, comment)
    entry.add(tomlkit.nl())  # a blank line between two [[watch]] tables
    if "watch" in doc:
        aot = doc["watch"]
        if not isinstance(aot, tomlkit.items.AoT):
            raise WatchError(f"{path}: watch must be an array of tables ([[watch]])")
        aot.append(entry)
    else:
        aot = tomlkit.aot()
        aot.append(entry)
        doc.append("watch", aot)
    new_text = tomlkit.dumps(doc)
    new_config = _validated(new_text, path)
    _replace(path, new_text)
    return next(s for s in new_config.watch if s.key == key)


def remove_site(path: Path, key: str) -> Site:
    """Remove the ``[[watch]]`` table with ``key`` from the config at ``path``; the rest of the
    file is kept as it is. Returns the removed site."""
    import tomlkit

    if not path.exists():
        raise WatchError(f"{path}: no such config file")
    text = _read(path)
    config = _validated(text, path)
    sites = {s.key: s for s in config.watch}
    if key not in sites:
        known = ", ".join(sorted(sites)) or "(none)"
        raise WatchError(f"{path}: no [[watch]] {key!r}; config-declared sites: {known}")
    doc = tomlkit.parse(text)
    aot = doc["watch"]
    index = next(i for i, t in enumerate(aot) if t.get("key") == key)
    del aot[index]
    if len(aot) == 0:
        del doc["watch"]
    new_text = tomlkit.dumps(doc)
    _validated(new_text, path)
    _replace(path, new_text)
    return sites[key]


__all__ = ["CONFIG_DECLARED", "WatchError", "add_site", "find_sites", "is_config_declared",
           "known_sites", "parse_watch", "remove_site", "site_from_table", "spec_table",
           "table_toml", "writable_config"]
