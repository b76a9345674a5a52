"""The digest's part of the config file: ``[channels]`` (where digests go), ``[[subscription]]``
and ``[feeds]`` (``digest.subscriptions``). The front door hands ``read_tables`` to
``crawlers.config.load_config``, which reads the rest; the checks are the config's own
(one-line errors naming the file, the table and the key)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crawlers.config import (
    Config,
    ConfigError,
    check_boolean,
    check_integer,
    check_strings,
    check_text,
    checked_table,
    known_site_keys,
    suggest,
    table_of,
)
from digest import subscriptions

FORMATS = ("md", "html", "atom", "json")
CHANNEL_KEYS: dict[str, dict[str, Any]] = {
    "files": {"formats": check_strings(FORMATS)},
    "email": {"host": check_text(True), "port": check_integer(1, 65535), "starttls": check_boolean,
              "ssl": check_boolean, "username": check_text(), "password_env": check_text(),
              "sender": check_text(True), "recipients": check_strings(nonempty=True)},
    "apprise": {"urls_env": check_text()},
}
REQUIRED = {"email": ("host", "sender", "recipients")}


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


def parse_channels(raw: Any, where: Path | None) -> ChannelsConfig:
    """The ``[channels]`` table, checked (defaults without one)."""
    channels = table_of({"channels": raw}, "channels", "channels", where) or {}
    for key in channels:
        if key not in CHANNEL_KEYS:
            raise ConfigError(f"{where}: [channels.{key}]: unknown channel{suggest(key, CHANNEL_KEYS)}; "
                              f"known: {', '.join(CHANNEL_KEYS)}")

    def read(name: str) -> dict[str, Any] | None:
        table = table_of(channels, name, f"channels.{name}", where)
        if name == "email" and table is not None and "password" in table:
            raise ConfigError(f"{where}: [channels.email] password: put the password in an "
                              "environment variable and name it with password_env")
        if table is None:
            return None
        return checked_table(table, f"channels.{name}", where, CHANNEL_KEYS[name], REQUIRED.get(name, ()))

    files, email, apprise = read("files") or {}, read("email"), read("apprise") or {}
    return ChannelsConfig(files_formats=files.get("formats", FORMATS),
                          email=EmailChannel(**email) if email is not None else None,
                          apprise_urls_env=apprise.get("urls_env", ""))


def read_tables(raw: dict[str, Any], where: Path | None, config: Config) -> dict[str, Any]:
    """The digest's tables of a config document, as the Config fields they set (the hook of
    ``crawlers.config.load_config``)."""
    channels = parse_channels(raw.get("channels"), where)
    known = None
    tables = raw.get("subscription")
    if isinstance(tables, list) and any(isinstance(t, dict) and t.get("sites") for t in tables):
        known = known_site_keys(config.watch)
    names = subscriptions.configured_channel_names(channels.email is not None,
                                                   bool(channels.apprise_urls_env))
    return {"channels": channels,
            "subscriptions": subscriptions.parse_subscriptions(tables, where, names, known),
            "feeds": subscriptions.parse_feeds(raw.get("feeds"), where)}
