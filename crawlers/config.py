"""The operator's configuration: one TOML file, with defaults that work without one.

Where it is read from: ``--config PATH``, else ``$POLICYWATCH_CONFIG``, else
``$POLICYWATCH_HOME/policywatch.toml`` (see ``crawlers.paths``) if that exists. Secrets are never
written in the file: a channel names the environment variable that holds its password.

```toml
[paths]
db = "~/policywatch/corpus.db"        # the corpus
digests = "~/policywatch/digests"     # where file-channel digests are written

[schedule]
time = "07:00"                         # daily crawl, then the digest
timezone = "Asia/Shanghai"
max_parallel = 2                       # crawl processes at once (at most one per core; each crawls many sites)
stagger_seconds = 5                    # between two crawl processes' starts
sweep_days = 7                         # read each site's columns to their end this often (0: never)

[sites]
enabled = []                           # empty: every enabled site of the registry
disabled = ["cn_gov"]
contact = "you@example.org"            # added to the User-Agent

[channels.files]
formats = ["md", "html", "atom", "json"]

[channels.email]
host = "smtp.example.org"
port = 587
starttls = true
username = "alerts@example.org"
password_env = "POLICYWATCH_SMTP_PASSWORD"
sender = "alerts@example.org"
recipients = ["team@example.org"]

[channels.apprise]
urls_env = "POLICYWATCH_APPRISE_URLS"  # space-separated apprise URLs, kept out of the file

[scrapy]                               # Scrapy settings for crawl, backfill and run
DOWNLOAD_DELAY = 3.0                   # (a site's own delay and -s on the command line win)
AUTOTHROTTLE_MAX_DELAY = 120

[[watch]]                              # a config-declared site (`policywatch watch add URL`);
key = "kjj_example_shi_zcwj"           # see crawlers/sites/declared.py for every key
issuer = "示例市科学技术局"
name = "政策文件"
url = "http://kjj.example-shi.cn/zcwj/index.html"
family = "generic"
division_code = "429004"
level = "prefecture"
```
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crawlers.engine import settings as policywatch_settings
from crawlers.paths import data_dir, default_db
from crawlers.replay.portal import REPLAY_SITES
from crawlers.sites import all_sites
from crawlers.sites.declared import WatchTableError, parse_watch


class ConfigError(ValueError):
    """The configuration file is invalid; the message names the file and the key."""


@dataclass(frozen=True)
class ScheduleConfig:
    time: str = "07:00"
    timezone: str = "Asia/Shanghai"
    max_parallel: int = 2
    stagger_seconds: float = 5.0  # between the starts of two crawl processes
    # Every this many days a site's daily crawl is a sweep (its columns read to their end, so
    # that withdrawals deep in an archive are seen); 0 never sweeps.
    sweep_days: int = 7

    @property
    def hour_minute(self) -> tuple[int, int]:
        hour, minute = self.time.split(":")
        return int(hour), int(minute)


@dataclass(frozen=True)
class Config:
    db: Path = field(default_factory=default_db)
    digests: Path = field(default_factory=lambda: data_dir() / "digests")
    schedule: ScheduleConfig = ScheduleConfig()
    enabled_sites: tuple[str, ...] = ()
    disabled_sites: tuple[str, ...] = ()
    contact: str = ""
    # The digest's tables ([channels], [[subscription]], [feeds]), read by the digest package
    # (digest.settings) through the ``tables`` hook of ``load_config``; None before that.
    channels: Any = None
    source: Path | None = None  # the file it was read from, if any
    # Config-declared sites ([[watch]] tables, see crawlers/sites/declared.py), as validated Sites.
    watch: tuple = ()
    # Scrapy settings for every crawl ([scrapy]): name -> value, checked by ``scrapy_settings``.
    scrapy: dict[str, Any] = field(default_factory=dict)
    subscriptions: tuple = ()
    feeds: Any = None


def config_path(explicit: str | Path | None = None) -> Path | None:
    """The config file to read, or None when there is none (defaults apply)."""
    if explicit:
        return Path(explicit).expanduser()
    if os.environ.get("POLICYWATCH_CONFIG"):
        return Path(os.environ["POLICYWATCH_CONFIG"]).expanduser()
    candidate = data_dir() / "policywatch.toml"
    return candidate if candidate.exists() else None


# Reads tables the config does not own (the digest's): (the whole document, the file, the
# config read so far) -> the Config fields they set. The front door passes digest.settings'.
TablesReader = Callable[[dict[str, Any], "Path | None", "Config"], dict[str, Any]]


def load_config(explicit: str | Path | None = None, tables: TablesReader | None = None) -> Config:
    """Read and validate the configuration (defaults when there is no file); ``tables`` reads
    the tables other packages own (without it their contents are left unread)."""
    path = config_path(explicit)
    if path is None:
        config = Config()
        return dataclasses.replace(config, **tables({}, None, config)) if tables else config
    if not path.exists():
        raise ConfigError(f"{path}: no such config file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8-sig")  # a BOM (Windows editors) is harmless
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset "
                          f"{exc.start}); save it as UTF-8") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return parse_config(raw, path, tables)


# --- validation: every table and key known, every value's type and range checked -------------
class Invalid(ValueError):
    """A value is wrong; the message says what was expected (the caller adds where)."""


def shown(value: Any) -> str:
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, list)):
        text = json.dumps(value, ensure_ascii=False, default=str)
        return text if len(text) <= 60 else text[:57] + "…"
    return str(value)


def expected(what: str, value: Any) -> Invalid:
    return Invalid(f"expected {what}, got {shown(value)}")


def check_text(nonempty: bool = False):
    def check(value):
        if not isinstance(value, str) or (nonempty and not value.strip()):
            raise expected("a non-empty string" if nonempty else "a string", value)
        return value
    return check


def check_path(value):
    if not isinstance(value, str) or not value.strip():
        raise expected("a file path (a non-empty string)", value)
    return Path(value).expanduser()


def check_integer(low: int, high: int | None = None):
    def check(value):
        if isinstance(value, bool) or not isinstance(value, int) or value < low or \
                (high is not None and value > high):
            span = f"from {low} to {high}" if high is not None else f"{low} or more"
            raise expected(f"a whole number {span}", value)
        return value
    return check


def check_number(low: float):
    def check(value):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or \
                not math.isfinite(value) or value < low:
            raise expected(f"a number, {low:g} or more", value)
        return float(value)
    return check


def check_boolean(value):
    if not isinstance(value, bool):
        raise expected("true or false", value)
    return value


def check_strings(allowed: tuple[str, ...] | None = None, nonempty: bool = False):
    def check(value):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise expected("a list of strings", value)
        if nonempty and not value:
            raise Invalid("expected at least one")
        bad = [v for v in value if allowed is not None and v not in allowed]
        if bad:
            raise Invalid(f"unknown {shown(bad[0])}{suggest(bad[0], allowed)}; "
                           f"known: {', '.join(allowed)}")
        return tuple(value)
    return check


def check_time(value):
    if not isinstance(value, str) or not re.fullmatch(r"([01]?\d|2[0-3]):[0-5]\d", value):
        raise expected("a time HH:MM (00:00 to 23:59)", value)
    return value


def check_timezone(value):
    if not isinstance(value, str):
        raise expected("an IANA time zone name such as \"Asia/Shanghai\"", value)
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise Invalid(f"{shown(value)} is not a known time zone (e.g. \"Asia/Shanghai\")") from None
    return value


def suggest(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


# The tables of the file; the digest's own are read by the digest package (digest.settings).
DIGEST_TABLES = ("channels", "subscription", "feeds")
TABLES = ("paths", "schedule", "sites", "scrapy", "watch", *DIGEST_TABLES)
# Settings a run sets itself: the config cannot point a crawl elsewhere or change its kind.
RESERVED_SCRAPY = ("POLICYWATCH_DB", "POLICYWATCH_RUN_KIND", "POLICYWATCH_RUN_ID",
                   "POLICYWATCH_REPLAY_URL", "POLICYWATCH_CONFIG", "POLICYWATCH_CRAWL_ID",
                   "POLICYWATCH_REDIS_URL", "POLICYWATCH_CHECK_DAY")
KEYS: dict[str, dict[str, Any]] = {
    "paths": {"db": check_path, "digests": check_path},
    "schedule": {"time": check_time, "timezone": check_timezone, "max_parallel": check_integer(1),
                 "stagger_seconds": check_number(0), "sweep_days": check_integer(0)},
    "sites": {"enabled": check_strings(), "disabled": check_strings(), "contact": check_text()},
}


def table_of(parent: dict[str, Any], key: str, name: str, where: Path) -> dict[str, Any] | None:
    value = parent.get(key)
    if value is not None and not isinstance(value, dict):
        raise ConfigError(f"{where}: [{name}]: expected a table, got {shown(value)}")
    return value


def checked_table(section: dict[str, Any] | None, name: str, where: Path,
                  spec: dict[str, Any] | None = None, required: tuple[str, ...] = ()) -> dict[str, Any]:
    """The table's values, each checked and converted by ``spec`` (key -> checker; default the
    config's own ``KEYS[name]``); unknown and missing keys are errors."""
    if section is None:
        return {}
    spec = KEYS[name] if spec is None else spec
    for key in section:
        if key not in spec:
            raise ConfigError(f"{where}: [{name}] {key}: unknown key{suggest(key, spec)}; "
                              f"known: {', '.join(spec)}")
    for key in required:
        if key not in section:
            raise ConfigError(f"{where}: [{name}] {key}: missing (needs {', '.join(required)})")
    out = {}
    for key, value in section.items():
        try:
            out[key] = spec[key](value)
        except Invalid as exc:
            raise ConfigError(f"{where}: [{name}] {key}: {exc}") from None
    return out


def known_site_keys(config_sites: tuple = ()) -> list[str]:
    """Every site key a config may name: the registry's, the replay portal's and its own."""
    return [s.key for s in all_sites()] + [s.key for s in REPLAY_SITES] + [s.key for s in config_sites]


def _site_keys(config_sites: tuple, keys: dict[str, tuple[str, ...]], where: Path) -> None:
    """[sites] enabled/disabled name sites that exist: the registry's, the replay portal's or
    the config's [[watch]] ones (a typo would silently crawl every site, or none)."""
    if not any(keys.values()):
        return
    known = known_site_keys(config_sites)
    for name, values in keys.items():
        for key in values:
            if key not in known:
                raise ConfigError(f"{where}: [sites] {name}: unknown site {shown(key)}"
                                  f"{suggest(key, known)}; `policywatch sites` lists them")


def known_scrapy_settings() -> set[str]:
    """Every setting name a crawl reads: Scrapy's defaults and policywatch's own."""
    from scrapy.settings import default_settings

    names = {n for n in dir(default_settings) if n.isupper()}
    return names | {n for n in dir(policywatch_settings) if n.isupper()}


def scrapy_settings(section: Any, where: Path) -> dict[str, Any]:
    """The [scrapy] table: Scrapy setting names (a typo is an error, with a suggestion) with TOML
    values, less those a run sets itself."""
    if section is None:
        return {}
    if not isinstance(section, dict):
        raise ConfigError(f"{where}: [scrapy]: expected a table, got {shown(section)}")
    known = known_scrapy_settings()
    for name in section:
        if name in RESERVED_SCRAPY:
            raise ConfigError(f"{where}: [scrapy] {name}: set by policywatch for each run "
                              "(the corpus is [paths] db)")
        if name not in known:
            raise ConfigError(f"{where}: [scrapy] {name}: not a Scrapy or policywatch setting"
                              f"{suggest(name, known)}")
    return dict(section)


def parse_config(raw: dict[str, Any], where: Path, tables: TablesReader | None = None) -> Config:
    """Validate a parsed TOML document into a Config; ``ConfigError`` names the file and key.
    ``tables`` reads the tables other packages own (``load_config``)."""
    for key in raw:
        if key not in TABLES:
            raise ConfigError(f"{where}: [{key}]: unknown table{suggest(key, TABLES)}; "
                              f"known: {', '.join(TABLES)}")
    paths = checked_table(table_of(raw, "paths", "paths", where), "paths", where)
    schedule = ScheduleConfig(**checked_table(table_of(raw, "schedule", "schedule", where), "schedule", where))
    sites = checked_table(table_of(raw, "sites", "sites", where), "sites", where)
    watch = _watch_sites(raw.get("watch"), where)
    enabled, disabled = sites.get("enabled", ()), sites.get("disabled", ())
    _site_keys(watch, {"enabled": enabled, "disabled": disabled}, where)

    config = Config(
        db=paths.get("db") or default_db(),
        digests=paths.get("digests") or data_dir() / "digests",
        schedule=schedule,
        enabled_sites=enabled,
        disabled_sites=disabled,
        contact=sites.get("contact", ""),
        source=where,
        watch=watch,
        scrapy=scrapy_settings(raw.get("scrapy"), where),
    )
    return dataclasses.replace(config, **tables(raw, where, config)) if tables else config


def _watch_sites(raw: Any, where: Path) -> tuple:

    try:
        return parse_watch(raw, where)
    except WatchTableError as exc:
        raise ConfigError(str(exc)) from None
    return parse_watch(raw, where)
