"""Where items travel between machines: the Redis of a distributed crawl. Its connection
(authenticated, the password never shown), the ``--redis`` option of the commands that use it,
and the keys the crawler processes and the one writer share (``policywatch:known:<site>``: the
corpus' known URLs, which incremental workers skip)."""

from __future__ import annotations

import os
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import click
import redis
from redis.exceptions import AuthenticationError, AuthorizationError

# The environment variable holding the Redis password (read by the commands' --redis option).
PASSWORD_ENV = "POLICYWATCH_REDIS_PASSWORD"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
ITEMS_KEY = "policywatch:items"  # the workers' messages for the one writer (pipelines.redisqueue)
PUBLISHED_KEY = "policywatch:known:published"  # when the writer last published every known URL


class DistributedError(RuntimeError):
    """The distributed crawl cannot run (no Redis there, a mode it does not support)."""


def redact(redis_url: str) -> str:
    """``redis_url`` fit for a log or a message: its password replaced by ``***``."""
    parts = urlsplit(redis_url)
    if parts.password is None:
        return redis_url
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def with_password(redis_url: str, password: str | None) -> str:
    """``redis_url`` carrying ``password`` (URL-quoted) unless it holds one already."""
    parts = urlsplit(redis_url)
    if not password or parts.password is not None or parts.scheme not in ("redis", "rediss"):
        return redis_url
    user = quote(unquote(parts.username or ""), safe="")
    return urlunsplit(parts._replace(netloc=f"{user}:{quote(password, safe='')}@{parts.netloc.rpartition('@')[2]}"))


def connect(redis_url: str):
    """A Redis client for ``redis_url``, checked with a PING; a clear error when none answers
    or it refuses our credentials (the message never shows the password)."""
    try:
        client = redis.Redis.from_url(redis_url, socket_connect_timeout=10, socket_timeout=30)
        client.ping()
    except (AuthenticationError, AuthorizationError, redis.ResponseError) as exc:
        # NOAUTH, WRONGPASS, or an ACL user without the right to PING.
        raise DistributedError(f"Redis at {redact(redis_url)} refused us: {exc} (its password goes in "
                               f"${PASSWORD_ENV})") from None
    except (redis.RedisError, ValueError) as exc:
        raise DistributedError(f"no Redis at {redact(redis_url)}: {exc}") from None
    return client


class RedisURL(click.ParamType):
    """A Redis URL (redis://, rediss:// or unix://); its password, if it holds none, from
    ``$POLICYWATCH_REDIS_PASSWORD`` — so it is in no command line and no shell history."""

    name = "URL"

    def convert(self, value, param, ctx):

        scheme = str(value).partition("://")[0]
        if scheme not in ("redis", "rediss", "unix"):
            self.fail(f"{value!r} is not a Redis URL (redis://[USER@]HOST:PORT/DB)", param, ctx)
        return with_password(str(value), os.environ.get(PASSWORD_ENV))


REDIS_URL = RedisURL()


def redis_option(help_text: str):
    """The ``--redis URL`` option of every command that talks to a distributed crawl's Redis."""
    return click.option("--redis", "redis_url", type=REDIS_URL, default=DEFAULT_REDIS, show_default=True,
                        help=help_text + " The password comes from $POLICYWATCH_REDIS_PASSWORD.")


def known_key(site: str) -> str:
    """The set of a site's known (stored) canonical URLs."""
    return f"policywatch:known:{site}"


def load_known(redis_client, site: str) -> frozenset[str] | None:
    """A site's known URLs; None when no writer ever published the corpus' URLs."""
    if not redis_client.exists(PUBLISHED_KEY):
        return None
    return frozenset(url.decode() for url in redis_client.smembers(known_key(site)))
