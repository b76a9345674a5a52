"""Tagged JSON for everything a distributed crawl passes through Redis — never pickle.

Anyone who can write to Redis can put anything in a queue, so what comes out is data and only
data: ``json.loads`` of a size-capped message, then a walk that rebuilds the few types the
crawl needs from tags it knows (``$bytes``, ``$date``, ``$datetime``, ``$tuple``, ``$items`` for
a mapping with keys that are not plain strings, ``$dc`` for a dataclass of an explicit allowlist).
Nothing is imported, called or evaluated by name; an unknown tag, a type outside the allowlist
or a shape out of place is a ``CodecError``.

This module is also scrapy-redis's ``SCHEDULER_SERIALIZER`` for the shared request queue
(``dumps``/``loads`` of ``Request.to_dict()``): ``loads`` checks the request's shape — its
callbacks among the spider's callbacks, its class a Scrapy request class — before scrapy-redis
builds a request from it.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import fields, is_dataclass
from datetime import date, datetime
from typing import Any, Mapping

from crawlers.items import ListEntry, PageRequest
from crawlers.sites.spec import Column

# A request is a URL, a few headers and small cb_kwargs; an item carries its raw page.
MAX_REQUEST_BYTES = 1 << 20
MAX_MESSAGE_BYTES = 64 << 20

# What the spider's requests carry in cb_kwargs (crawlers.engine.spiders.policy).
REQUEST_TYPES: dict[str, type] = {"Column": Column, "ListEntry": ListEntry, "PageRequest": PageRequest}
# The spider's callbacks and errback: a queued request may name nothing else.
CALLBACKS = frozenset({"parse_list", "parse_search", "parse_detail", "on_error"})
REQUEST_CLASSES = frozenset({"scrapy.http.request.form.FormRequest"})
REQUEST_KEYS = frozenset({"url", "callback", "errback", "method", "headers", "body", "cookies", "meta",
                          "encoding", "priority", "dont_filter", "flags", "cb_kwargs", "_class"})


class CodecError(ValueError):
    """A value cannot go through the queue, or a message that came out of it is not one."""


def encode(value: Any, types: Mapping[str, type] = {}, where: str = "value") -> Any:
    """``value`` as JSON-able data; ``CodecError`` (naming where, ``where`` first) for what
    JSON cannot hold and no tag covers. Dataclasses only of ``types`` (name -> class)."""
    try:
        return _encode(value, types)
    except _Unqueueable as exc:
        raise CodecError(f"{where}{''.join(reversed(exc.path))}: a {exc.kind} cannot be queued") from None


class _Unqueueable(Exception):
    # The path is built only on the way out of a failure, not for every value encoded.
    def __init__(self, kind: str):
        self.kind = kind
        self.path: list[str] = []


def _encode(value: Any, types: Mapping[str, type]) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, (bytes, bytearray)):
        return {"$bytes": base64.b64encode(value).decode("ascii")}
    if isinstance(value, (list, tuple)):
        out = []
        for i, v in enumerate(value):
            try:
                out.append(_encode(v, types))
            except _Unqueueable as exc:
                exc.path.append(f"[{i}]")
                raise
        return out if isinstance(value, list) else {"$tuple": out}
    if isinstance(value, dict):
        plain = all(isinstance(k, str) for k in value) and not (
            len(value) == 1 and next(iter(value)).startswith("$"))  # would read as a tag
        pairs = []
        for k, v in value.items():
            try:
                pairs.append((k if plain else _encode(k, types), _encode(v, types)))
            except _Unqueueable as exc:
                exc.path.append(f".{k}" if plain else f"[{k!r}]")
                raise
        return dict(pairs) if plain else {"$items": [list(p) for p in pairs]}
    if is_dataclass(value) and not isinstance(value, type):
        name = type(value).__name__
        if types.get(name) is not type(value):
            raise _Unqueueable(name)
        return {"$dc": [name, _encode({f.name: getattr(value, f.name) for f in fields(value)}, types)]}
    raise _Unqueueable(type(value).__name__)


def decode(value: Any, types: Mapping[str, type] = {}) -> Any:
    """The value ``encode`` encoded, from ``json.loads`` output; ``CodecError`` for anything
    else."""
    if isinstance(value, list):
        return [decode(v, types) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        (tag, inner), = value.items()
        if tag.startswith("$"):
            return _untag(tag, inner, types)
    return {k: decode(v, types) for k, v in value.items()}


def _untag(tag: str, inner: Any, types: Mapping[str, type]) -> Any:
    try:
        if tag == "$datetime":
            return datetime.fromisoformat(_text(inner))
        if tag == "$date":
            return date.fromisoformat(_text(inner))
        if tag == "$bytes":
            return base64.b64decode(_text(inner), validate=True)
        if tag == "$tuple" and isinstance(inner, list):
            return tuple(decode(v, types) for v in inner)
        if tag == "$items" and isinstance(inner, list):
            pairs = [decode(p, types) for p in inner]
            if not all(isinstance(p, list) and len(p) == 2 for p in pairs):
                raise CodecError("$items holds something other than pairs")
            return {_hashable(k): v for k, v in pairs}
        if tag == "$dc" and isinstance(inner, list) and len(inner) == 2 \
                and isinstance(inner[1], dict) and inner[0] in types:
            return types[inner[0]](**{k: decode(v, types) for k, v in inner[1].items()})
    except (ValueError, TypeError, binascii.Error) as exc:
        if isinstance(exc, CodecError):
            raise
        raise CodecError(f"bad {tag}: {exc}") from None
    raise CodecError(f"unknown tag {tag!r}" if tag not in ("$tuple", "$items", "$dc") else f"bad {tag}")


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise CodecError("a tag holds something other than text")
    return value


def _hashable(key: Any) -> Any:
    if isinstance(key, list):
        raise CodecError("a mapping key is a list")
    return key


def parse_message(raw: bytes | str, limit: int) -> Any:
    """``json.loads`` of a message of at most ``limit`` bytes (its tags still in place);
    ``CodecError`` saying why not."""
    if len(raw) > limit:
        raise CodecError(f"message of {len(raw)} bytes is over the {limit}-byte limit")
    try:
        return json.loads(raw)
    except UnicodeDecodeError:
        raise CodecError("message is not UTF-8") from None
    except RecursionError:
        raise CodecError("message nests too deeply") from None
    except ValueError as exc:
        raise CodecError(f"message is not JSON: {str(exc)[:200]}") from None


def decode_message(raw: bytes | str, limit: int, types: Mapping[str, type] = {}) -> Any:
    """A message, parsed (``parse_message``) and ``decode``-d."""
    data = parse_message(raw, limit)
    try:
        return decode(data, types)
    except RecursionError:
        raise CodecError("message nests too deeply") from None


# --- scrapy-redis's serializer interface -----------------------------------------------------
def dumps(request: dict[str, Any]) -> bytes:
    """A request's ``to_dict()`` as JSON; ``CodecError`` when something in it cannot be queued
    (the spider put an object in meta or cb_kwargs that has no tag here)."""
    data = json.dumps(encode(request, REQUEST_TYPES, "request"), ensure_ascii=False).encode("utf-8")
    if len(data) > MAX_REQUEST_BYTES:
        raise CodecError(f"request for {request.get('url')} is {len(data)} bytes, over the "
                         f"{MAX_REQUEST_BYTES}-byte limit")
    return data


def loads(raw: bytes) -> dict[str, Any]:
    """The request dict ``dumps`` wrote, checked; ``CodecError`` for anything else."""
    data = decode_message(raw, MAX_REQUEST_BYTES, REQUEST_TYPES)
    if not isinstance(data, dict) or not isinstance(data.get("url"), str):
        raise CodecError("not a request (no url)")
    extra = set(data) - REQUEST_KEYS
    if extra:
        raise CodecError(f"unknown request fields: {', '.join(sorted(map(str, extra)))}")
    for name in ("callback", "errback"):
        if data.get(name) is not None and data[name] not in CALLBACKS:
            raise CodecError(f"{name} {str(data[name])[:60]!r} is not one of the spider's")
    if "_class" in data and data["_class"] not in REQUEST_CLASSES:
        raise CodecError(f"request class {str(data['_class'])[:80]!r} is not allowed")
    for name, kind in (("meta", dict), ("cb_kwargs", dict), ("headers", dict)):
        if data.get(name) is not None and not isinstance(data[name], kind):
            raise CodecError(f"request {name} is not a mapping")
    return data
