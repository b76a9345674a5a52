"""The rolling feeds in ``policywatch browse``: ``/-/feeds/<subscription>.atom``, rebuilt from
the corpus on each request (digest.feeds), so a feed reader can subscribe to the corpus at a
URL that never changes. Registered by ``digest.browse`` beside ``digest.browseplugin``; the
subscriptions, feed settings and time zone come from the config, attached to the Datasette
instance by ``attach``.
"""

from __future__ import annotations

import logging

import sqlite_utils
from datasette import hookimpl
from datasette.utils.asgi import NotFound, Response

from digest.feeds import rolling_feed
from digest.localtime import zone
from digest.subscriptions import FeedConfig

logger = logging.getLogger(__name__)

DATABASE = "corpus"
_ATTRIBUTE = "policywatch_feeds"
ATOM_TYPE = "application/atom+xml; charset=utf-8"


def attach(datasette, config: FeedConfig | None) -> None:
    """Give a Datasette instance the feeds it serves."""
    setattr(datasette, _ATTRIBUTE, config or FeedConfig())


async def feed_page(datasette, request):
    config: FeedConfig = getattr(datasette, _ATTRIBUTE, None) or FeedConfig()
    name = request.url_vars["name"]
    subscription = next((s for s in config.subscriptions if s.name == name), None)
    if subscription is None:
        known = ", ".join(f"/-/feeds/{s.name}.atom" for s in config.subscriptions)
        raise NotFound(f"no subscription {name!r}; feeds: {known}")

    def build(conn) -> str:
        return rolling_feed(sqlite_utils.Database(conn, recursive_triggers=False), subscription,
                            config.settings, tz=zone(config.timezone))

    text = await datasette.get_database(DATABASE).execute_fn(build)
    return Response(text, content_type=ATOM_TYPE)


@hookimpl
def register_routes():
    return [(r"^/-/feeds/(?P<name>[a-z0-9][a-z0-9_-]{0,39})\.atom$", feed_page)]
