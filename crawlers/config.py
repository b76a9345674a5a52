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
max_parallel = 2                       # sites crawled at once
stagger_seconds = 5                    # between two sites' crawl starts
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

[[watch]]                              # a config-declared site (`policywatch watch add URL`);
key = "kjj_example_shi_zcwj"           # see crawlers/watch.py for every key
issuer = "示例市科学技术局"
name = "政策文件"
url = "http://kjj.example-shi.cn/zcwj/index.html"
family = "generic"
division_code = "429004"
level = "prefecture"
```
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .paths import data_dir, default_db


class ConfigError(ValueError):
    """The configuration file is invalid; the message names the file and the key."""


@dataclass(frozen=True)
class ScheduleConfig:
    time: str = "07:00"
    timezone: str = "Asia/Shanghai"
    max_parallel: int = 2
    stagger_seconds: float = 5.0  # between the starts of two sites' crawls
    # Every this many days a site's daily crawl is a sweep (its columns read to their end, so
    # that withdrawals deep in an archive are seen); 0 never sweeps.
    sweep_days: int = 7

    @property
    def hour_minute(self) -> tuple[int, int]:
        hour, minute = self.time.split(":")
        return int(hour), int(minute)


@dataclass(frozen=True)
class EmailChannel:
    host: str
    sender: str
    recipients: tuple[str, ...]
    port: int = 587
    starttls: bool = True
    ssl: bool = False
    username: str = ""
    password_env: str = ""

    @property
    def password(self) -> str:
        """The password, read from the environment when needed (never stored or logged)."""
        return os.environ.get(self.password_env, "") if self.password_env else ""


@dataclass(frozen=True)
class ChannelsConfig:
    files_formats: tuple[str, ...] = ("md", "html", "atom", "json")
    email: EmailChannel | None = None
    apprise_urls_env: str = ""

    @property
    def apprise_urls(self) -> tuple[str, ...]:
        raw = os.environ.get(self.apprise_urls_env, "") if self.apprise_urls_env else ""
        return tuple(raw.split())


@dataclass(frozen=True)
class Config:
    db: Path = field(default_factory=default_db)
    digests: Path = field(default_factory=lambda: data_dir() / "digests")
    schedule: ScheduleConfig = ScheduleConfig()
    enabled_sites: tuple[str, ...] = ()
    disabled_sites: tuple[str, ...] = ()
    contact: str = ""
    channels: ChannelsConfig = ChannelsConfig()
    source: Path | None = None  # the file it was read from, if any
    # Config-declared sites ([[watch]] tables, see crawlers/watch.py), as validated Sites.
    watch: tuple = ()


def config_path(explicit: str | Path | None = None) -> Path | None:
    """The config file to read, or None when there is none (defaults apply)."""
    if explicit:
        return Path(explicit).expanduser()
    if os.environ.get("POLICYWATCH_CONFIG"):
        return Path(os.environ["POLICYWATCH_CONFIG"]).expanduser()
    candidate = data_dir() / "policywatch.toml"
    return candidate if candidate.exists() else None


def load_config(explicit: str | Path | None = None) -> Config:
    """Read and validate the configuration (defaults when there is no file)."""
    path = config_path(explicit)
    if path is None:
        return Config()
    if not path.exists():
        raise ConfigError(f"{path}: no such config file")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return parse_config(raw, path)


def _section(raw: dict[str, Any], name: str, where: Path) -> dict[str, Any]:
    value = raw.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: [{name}] must be a table")
    return value


def _known(section: dict[str, Any], allowed: set[str], name: str, where: Path) -> None:
    unknown = sorted(set(section) - allowed)
    if unknown:
        raise ConfigError(f"{where}: [{name}] has unknown key(s) {', '.join(unknown)}; "
                          f"known: {', '.join(sorted(allowed))}")


def _strings(value: Any, key: str, where: Path) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: {key} must be a list of strings")
    return tuple(value)


def parse_config(raw: dict[str, Any], where: Path) -> Config:
    """Validate a parsed TOML document into a Config."""
    _known(raw, {"paths", "schedule", "sites", "channels", "watch"}, "top level", where)
    paths = _section(raw, "paths", where)
    _known(paths, {"db", "digests"}, "paths", where)
    schedule_raw = _section(raw, "schedule", where)
    _known(schedule_raw, {f.name for f in fields(ScheduleConfig)}, "schedule", where)
    sites = _section(raw, "sites", where)
    _known(sites, {"enabled", "disabled", "contact"}, "sites", where)
    channels = _section(raw, "channels", where)
    _known(channels, {"files", "email", "apprise"}, "channels", where)

    schedule = ScheduleConfig(**schedule_raw)
    if not re.fullmatch(r"([01]?\d|2[0-3]):[0-5]\d", str(schedule.time)):
        raise ConfigError(f"{where}: schedule.time {schedule.time!r} is not HH:MM")
    try:
        ZoneInfo(schedule.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{where}: schedule.timezone {schedule.timezone!r} is not a known time zone") from None
    if not isinstance(schedule.max_parallel, int) or schedule.max_parallel < 1:
        raise ConfigError(f"{where}: schedule.max_parallel must be a positive integer")
    if isinstance(schedule.sweep_days, bool) or not isinstance(schedule.sweep_days, int) \
            or schedule.sweep_days < 0:
        raise ConfigError(f"{where}: schedule.sweep_days must be a whole number of days, 0 or more "
                          f"(0: never sweep), not {schedule.sweep_days!r}")

    files = channels.get("files", {})
    _known(files, {"formats"}, "channels.files", where)
    formats = _strings(files.get("formats", ["md", "html", "atom", "json"]), "channels.files.formats", where)
    bad = sorted(set(formats) - {"md", "html", "atom", "json"})
    if bad:
        raise ConfigError(f"{where}: channels.files.formats has unknown format(s) {', '.join(bad)}")
    email = None
    if "email" in channels:
        e = channels["email"]
        _known(e, {f.name for f in fields(EmailChannel)}, "channels.email", where)
        for required in ("host", "sender", "recipients"):
            if required not in e:
                raise ConfigError(f"{where}: channels.email needs {required!r}")
        if "password" in e:
            raise ConfigError(f"{where}: channels.email: put the password in an environment "
                              "variable and name it with password_env")
        email = EmailChannel(**{**e, "recipients": _strings(e["recipients"], "channels.email.recipients", where)})
    apprise = channels.get("apprise", {})
    _known(apprise, {"urls_env"}, "channels.apprise", where)

    return Config(
        db=Path(paths["db"]).expanduser() if "db" in paths else default_db(),
        digests=Path(paths["digests"]).expanduser() if "digests" in paths else data_dir() / "digests",
        schedule=schedule,
        enabled_sites=_strings(sites.get("enabled", []), "sites.enabled", where),
        disabled_sites=_strings(sites.get("disabled", []), "sites.disabled", where),
        contact=str(sites.get("contact", "")),
        channels=ChannelsConfig(files_formats=formats, email=email,
                                apprise_urls_env=str(apprise.get("urls_env", ""))),
        source=where,
        watch=_watch_sites(raw.get("watch"), where),
    )


def _watch_sites(raw: Any, where: Path) -> tuple:
    from .watch import parse_watch  # imports the registry: only when a file is read

    return parse_watch(raw, where)
