"""The maintainer's watch list: ``policywatch watch add/remove`` edit the config's ``[[watch]]`` tables.

Config-declared sites are portal columns watched from the config file instead of a site module
(how a table becomes a Site, and how the crawl finds them: ``crawlers.sites.declared``).

A researcher adds one with ``policywatch watch add URL`` (which runs ``policywatch detect``
and writes what it proposes); each is a ``[[watch]]`` table of the TOML config::

    [[watch]]
    key = "kjj_example_shi_zcwj"          # ASCII snake_case, unique among all sites
    issuer = "示例市科学技术局"             # who publishes the column (the site's name)
    name = "政策文件"                       # the column's name
    url = "http://kjj.example-shi.cn/zcwj/index.html"
    family = "generic"                      # a family of crawlers.families: trs, hanweb, govcn, ucap...
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

A maintainer promotes one to a module by copying its fields into ``crawlers/sites/<key>.py`` and
deleting the table.

Writing keeps the file as the user wrote it (comments, order, other tables: ``tomlkit``), checks
the whole result with the config's own validation before anything is written, and replaces the
file in one step, so a failure leaves the old file untouched.
"""

from __future__ import annotations

import os
import tempfile
import tomllib
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import tomlkit

from crawlers.config import Config, ConfigError, config_path, parse_config
from crawlers.paths import data_dir
from crawlers.sites.declared import is_config_declared
from crawlers.sites.spec import Site

if TYPE_CHECKING:
    from crawlers.tools.detect.result import Detection


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
    doc = tomlkit.document()
    aot = tomlkit.aot()
    for data in tables:
        aot.append(_toml_table(data))
    doc.append("watch", aot)
    return doc


def _toml_table(data: dict[str, Any], comment: str = ""):
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


def _validated(text: str, path: Path) -> Config:
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


__all__ = ["WatchError", "add_site", "remove_site", "spec_table", "table_toml", "writable_config"]
