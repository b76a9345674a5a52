"""The spider's arguments as ``scrapy crawl policy -a NAME=VALUE`` gives them: strings, turned
into what PolicySpider takes (a Site, ints, dates, a mode), with an error naming the argument.

``-a site=KEY`` is a registry key, a config-declared ([[watch]]) one (the config is
``-s POLICYWATCH_CONFIG=PATH``, else ``$POLICYWATCH_CONFIG``, else the home's), or, crawling the
replay portal, a replay-only one; ``-a column=NAME`` keeps one of its columns;
``-a incremental=1`` (or ``-a mode=incremental|sweep|backfill|full``) picks the crawl mode.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

from scrapy.settings import BaseSettings

from crawlers.config import ConfigError, load_config
from crawlers.sites.declared import find_sites
from crawlers.sites.spec import Site

MODES = ("full", "incremental", "sweep", "backfill")
TRUE = ("1", "true", "yes", "on")


class SpiderArgumentError(ValueError):
    """An ``-a`` argument the spider cannot use; the message names it."""


def spider_arguments(settings: BaseSettings, kwargs: dict[str, Any]) -> dict[str, Any]:
    """``kwargs`` with string values made typed; a Site passed by policywatch is kept as is.
    Fills POLICYWATCH_DB from the config when nothing set it (``scrapy crawl`` alone)."""
    args = dict(kwargs)
    site = args.get("site")
    if site is None:
        raise SpiderArgumentError("the policy spider needs a site: -a site=KEY (see `policywatch sites`)")
    if isinstance(site, str):
        config = _config(settings)
        try:
            site = find_sites([site], config, replay=bool(settings.get("POLICYWATCH_REPLAY_URL")))[0]
        except KeyError as exc:
            raise SpiderArgumentError(f"-a site: {exc.args[0]}") from None
        if not settings.get("POLICYWATCH_DB"):
            settings.set("POLICYWATCH_DB", str(config.db), priority="spider")
    column = args.pop("column", None)
    if column is not None:
        site = _one_column(site, column)
    args["site"] = site
    incremental = args.pop("incremental", None)
    if incremental is not None and str(incremental).lower() in TRUE:
        args.setdefault("mode", "incremental")
    if args.get("mode", "full") not in MODES:
        raise SpiderArgumentError(f"-a mode: {args['mode']!r} is not one of {', '.join(MODES)}")
    for name in ("max_pages", "revisit_budget"):
        if isinstance(args.get(name), str):
            args[name] = _count(name, args[name])
    for name in ("since", "until"):
        if isinstance(args.get(name), str):
            args[name] = _day(name, args[name])
    return args


def _config(settings: BaseSettings):
    try:
        return load_config(settings.get("POLICYWATCH_CONFIG") or None)
    except ConfigError as exc:
        raise SpiderArgumentError(str(exc)) from None


def _one_column(site: Site, name: str) -> Site:
    chosen = tuple(c for c in site.columns if c.name == name)
    if not chosen:
        names = ", ".join(c.name for c in site.columns)
        raise SpiderArgumentError(f"-a column: {site.key} has no column {name!r} (its columns: {names})")
    return dataclasses.replace(site, columns=chosen)


def _count(name: str, value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = -1
    if number < 0:
        raise SpiderArgumentError(f"-a {name}: {value!r} is not a whole number ≥ 0")
    return number


def _day(name: str, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise SpiderArgumentError(f"-a {name}: {value!r} is not a date (YYYY-MM-DD)") from None
