"""Subscriptions: who wants which changes, on which channels (the config's ``[[subscription]]``
tables and ``[feeds]``), and whether a change matches one.

```toml
[[subscription]]
name = "metaverse-east"             # ASCII: its feed is /-/feeds/metaverse-east.atom
title = "华东元宇宙政策"              # shown in its digest and feed (default: the name)
min_relevance = "mentions"          # dedicated > mentions > related > none (default: none)
tags = ["xr", "tourism_culture"]    # any of these content tags (scenarios, measures, techs)
levels = ["province", "prefecture"]
regions = ["华东"]
provinces = ["江苏省", "浙江省"]
sites = ["js_gxt"]
keywords = ["元宇宙", "数字孪生"]     # any of them, in the title or the text
kinds = ["new", "finalised", "revised"]
channels = ["files", "email"]       # configured channels (default: files)
others = "summary"                  # the rest: "summary" (per site, titles only) or "none"

[feeds]
days = 30                           # a feed holds the last 30 days of its changes ...
entries = 200                       # ... and at most 200 entries
url = "http://127.0.0.1:8001"       # where `policywatch browse` serves them
```

Every filter left out matches everything; the filters of one subscription must all hold. A
document not yet classified has no relevance: it passes ``min_relevance`` (it may matter and
nobody can say yet) but no ``tags``, ``levels`` or ``regions`` filter. Without any
``[[subscription]]`` there is one, ``default``: related and above in full, the rest summarised,
on every configured channel.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from crawlers.config import (
    ConfigError,
    Invalid,
    check_integer,
    check_strings,
    check_text,
    checked_table,
    shown,
    suggest,
    table_of,
)
from digest.labels import CHANGE_KINDS, LEVELS, MEASURES, REGIONS, RELEVANCE, SCENARIOS, TECHS

KINDS = tuple(CHANGE_KINDS)
CHANNEL_NAMES = ("files", "email", "apprise")
# From the most relevant down: a minimum admits itself and everything before it.
RELEVANCE_RANKS = tuple(RELEVANCE)
TAGS = {**SCENARIOS, **MEASURES, **TECHS}
OTHERS = ("summary", "none")
NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
DEFAULT_NAME = "default"
MAX_KEYWORDS = 50


@dataclass(frozen=True)
class Subscription:
    """One subscription: its filters (empty: any) and the channels its digest goes to."""

    name: str
    title: str = ""
    min_relevance: str | None = None
    tags: tuple[str, ...] = ()
    levels: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    provinces: tuple[str, ...] = ()
    sites: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    channels: tuple[str, ...] = ("files",)
    others: str = "summary"

    @property
    def label(self) -> str:
        return self.title or self.name

    @property
    def is_default(self) -> bool:
        return self.name == DEFAULT_NAME

    def outbox(self, channel: str) -> str:
        """The ``deliveries.channel`` of this subscription on ``channel``: the default keeps the
        channel's own name (the outbox of corpora from before subscriptions)."""
        return channel if self.is_default else f"{self.name}/{channel}"

    def matches(self, kind: str, document: dict[str, Any], text: str = "") -> bool:
        """Whether a change of ``kind`` to ``document`` (a digest entry's document: tag columns
        as lists) is one this subscription wants; ``text`` is the document's body, needed only
        for ``keywords``."""
        if self.kinds and kind not in self.kinds:
            return False
        relevance = document.get("relevance")
        if self.min_relevance and isinstance(relevance, str) and relevance in RELEVANCE_RANKS:
            if RELEVANCE_RANKS.index(relevance) > RELEVANCE_RANKS.index(self.min_relevance):
                return False
        if self.sites and document.get("site") not in self.sites:
            return False
        if self.levels and document.get("level") not in self.levels:
            return False
        if self.regions and document.get("region") not in self.regions:
            return False
        if self.provinces and document.get("province") not in self.provinces:
            return False
        if self.tags:
            tags = {t for c in ("scenarios", "measures", "techs")
                    for t in (document.get(c) if isinstance(document.get(c), list) else ())}
            if not tags.intersection(self.tags):
                return False
        if self.keywords:
            title = str(document.get("title") or "").lower()
            body = text.lower()
            if not any(k in title or k in body for k in self.keywords):
                return False
        return True

    def describe(self) -> str:
        """What it selects, in Chinese, on one line."""
        parts = []
        if self.min_relevance:
            parts.append(f"相关度不低于“{RELEVANCE[self.min_relevance]}”")
        if self.tags:
            parts.append("标签：" + "、".join(TAGS[t] for t in self.tags))
        if self.levels:
            parts.append("层级：" + "、".join(LEVELS[v] for v in self.levels))
        for values, name in ((self.regions, "地区"), (self.provinces, "省份"), (self.sites, "网站"),
                             (self.keywords, "关键词")):
            if values:
                parts.append(f"{name}：" + "、".join(values))
        if self.kinds:
            parts.append("变化：" + "、".join(CHANGE_KINDS[k] for k in self.kinds))
        return "；".join(parts) or "全部变化"


def default_subscription(channels: Iterable[str] = ("files",)) -> Subscription:
    """What a metaverse researcher wants when nothing is declared: related and above in full."""
    return Subscription(name=DEFAULT_NAME, title="元宇宙政策动态", min_relevance="related",
                        channels=tuple(channels))


@dataclass(frozen=True)
class FeedSettings:
    """The rolling feeds: the last ``days`` days, at most ``entries`` entries each, served by
    ``policywatch browse`` under ``url``."""

    days: int = 30
    entries: int = 200
    url: str = "http://127.0.0.1:8001"

    def feed_url(self, name: str) -> str:
        return f"{self.url.rstrip('/')}/-/feeds/{name}.atom"


def _choice(allowed: tuple[str, ...]):
    def check(value):
        if not isinstance(value, str) or value not in allowed:
            hint = suggest(value, allowed) if isinstance(value, str) else ""
            raise Invalid(f"expected one of {', '.join(allowed)}, got {shown(value)}{hint}")
        return value
    return check


def _name(value):
    if not isinstance(value, str) or not NAME.fullmatch(value):
        raise Invalid("expected a short ASCII name (lower-case letters, digits, - and _; it "
                       f"names the feed's URL), got {shown(value)}")
    return value


def _keywords(value):
    words = check_strings()(value)
    if len(words) > MAX_KEYWORDS:
        raise Invalid(f"expected at most {MAX_KEYWORDS} keywords, got {len(words)}")
    if any(not w.strip() for w in words):
        raise Invalid("expected non-empty keywords, got an empty one")
    return tuple(w.strip().lower() for w in words)


def _url(value):
    if not isinstance(value, str) or not re.fullmatch(r"https?://[^\s/]+(/\S*)?", value):
        raise Invalid(f"expected an http(s) URL such as \"http://127.0.0.1:8001\", got {shown(value)}")
    return value


SUBSCRIPTION_KEYS: dict[str, Any] = {
    "name": _name, "title": check_text(), "min_relevance": _choice(RELEVANCE_RANKS),
    "tags": check_strings(tuple(TAGS)), "levels": check_strings(tuple(LEVELS)),
    "regions": check_strings(REGIONS), "provinces": check_strings(), "sites": check_strings(),
    "keywords": _keywords, "kinds": check_strings(KINDS), "channels": check_strings(CHANNEL_NAMES, nonempty=True),
    "others": _choice(OTHERS),
}
FEED_KEYS: dict[str, Any] = {"days": check_integer(1, 3650), "entries": check_integer(1, 10000), "url": _url}


def parse_feeds(raw: Any, where: Path) -> FeedSettings:
    """The ``[feeds]`` table (defaults without one)."""
    table = table_of({"feeds": raw}, "feeds", "feeds", where)
    return FeedSettings(**checked_table(table, "feeds", where, FEED_KEYS))


def parse_subscriptions(raw: Any, where: Path, configured: Iterable[str],
                        known_sites: Iterable[str] | None = None) -> tuple[Subscription, ...]:
    """The ``[[subscription]]`` tables, checked: each value's type and range, unknown keys
    (with a suggestion), unique names, channels that are configured (``configured``) and sites
    that exist (``known_sites``, when given). ``ConfigError`` names the file, the subscription
    and the key."""
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(t, dict) for t in raw):
        raise ConfigError(f"{where}: [[subscription]]: expected tables ([[subscription]] "
                          f"with name = ...), got {shown(raw)}")
    configured = tuple(configured)
    known_sites = tuple(known_sites) if known_sites is not None else None
    found: list[Subscription] = []
    for n, table in enumerate(raw, 1):
        label = f"[[subscription]] {table['name']}" if isinstance(table.get("name"), str) else \
            f"[[subscription]] #{n}"
        if "name" not in table:
            raise ConfigError(f"{where}: {label} name: missing (every subscription needs a name)")
        values = {}
        for key, value in table.items():
            if key not in SUBSCRIPTION_KEYS:
                raise ConfigError(f"{where}: {label} {key}: unknown key"
                                  f"{suggest(key, SUBSCRIPTION_KEYS)}; known: {', '.join(SUBSCRIPTION_KEYS)}")
            try:
                values[key] = SUBSCRIPTION_KEYS[key](value)
            except Invalid as exc:
                raise ConfigError(f"{where}: {label} {key}: {exc}") from None
        for channel in values.get("channels", ()):
            if channel not in configured:
                raise ConfigError(f"{where}: {label} channels: {channel!r} is not configured "
                                  f"(add [channels.{channel}]); configured: {', '.join(configured)}")
        for site in values.get("sites", ()):
            if known_sites is not None and site not in known_sites:
                raise ConfigError(f"{where}: {label} sites: unknown site {shown(site)}"
                                  f"{suggest(site, known_sites)}; `policywatch sites` lists them")
        if any(s.name == values["name"] for s in found):
            raise ConfigError(f"{where}: {label} name: two subscriptions are named {values['name']!r}")
        found.append(Subscription(**values))
    return tuple(found)


def configured_channel_names(email: bool, apprise: bool) -> tuple[str, ...]:
    """The channel names a subscription may use, given what ``[channels]`` configures."""
    return ("files",) + (("email",) if email else ()) + (("apprise",) if apprise else ())


def effective_subscriptions(declared: Iterable[Subscription],
                            channels: Iterable[str]) -> tuple[Subscription, ...]:
    """The declared subscriptions, or the default one on every configured channel."""
    declared = tuple(declared)
    return declared or (default_subscription(channels),)


@dataclass(frozen=True)
class FeedConfig:
    """What ``policywatch browse`` serves as feeds: the subscriptions (the default one when none
    is declared), the feed settings and the time zone its times are read in."""

    subscriptions: tuple[Subscription, ...] = (default_subscription(),)
    settings: FeedSettings = FeedSettings()
    timezone: str | None = None


def feed_config(config: Any) -> FeedConfig:
    """The feeds of a validated ``crawlers.config.Config``."""
    channels = configured_channel_names(config.channels.email is not None,
                                        bool(config.channels.apprise_urls_env))
    return FeedConfig(effective_subscriptions(config.subscriptions, channels),
                      config.feeds or FeedSettings(), config.schedule.timezone)


__all__ = ["FeedConfig", "feed_config", "FeedSettings", "Subscription", "default_subscription", "effective_subscriptions",
           "parse_feeds", "parse_subscriptions"]

