"""Volatile link parameters, learned per site: a query parameter that changes on every
download of the same attachment (a token, a timestamp of the site's own naming) is learned, so
that its changes are no revision (``pipelines.changes.volatile_differences``)."""

from __future__ import annotations

import sqlite_utils

from crawlers.items import PolicyItem
from crawlers.parsing.attachments import VOLATILE_PARAMS, changed_params
from crawlers.parsing.textnorm import hash_form
from pipelines.changes import Snapshot

# A parameter is learned as volatile once it changed on this many sightings in a row of the
# same link (same path, same parameters, same attachment name).
LEARN_AFTER = 2


def learned_params(db: sqlite_utils.Database, site: str) -> frozenset[str]:
    """The query parameters learned as volatile on ``site``."""
    return frozenset(name for (name,) in db.execute(
        "SELECT name FROM volatile_params WHERE site = ? AND learned_at IS NOT NULL", [site]))


def learn_params(db: sqlite_utils.Database, site: str, before: Snapshot,
                 item: PolicyItem, seen_at: str) -> None:
    """Count, per site, the query parameters that changed between the stored and the fetched
    link of the same attachment (same name, links alike but for parameter values); one that
    changes on ``LEARN_AFTER`` sightings in a row is learned; one that stays is not."""
    by_name = {hash_form(a.get("name")): a for a in before.attachments if a.get("name")}
    for a in item.attachments:
        old = by_name.get(hash_form(a.name)) if a.name else None
        alike = changed_params(old["url"], a.url) if old is not None else None
        if alike is None:
            continue
        changed, stayed = alike
        for name in changed - VOLATILE_PARAMS:
            db.execute(
                """INSERT INTO volatile_params (site, name, changes, first_seen) VALUES (?, ?, 1, ?)
                ON CONFLICT (site, name) DO UPDATE SET changes = changes + 1""",
                [site, name, seen_at])
            db.execute(
                """UPDATE volatile_params SET learned_at = ? WHERE site = ? AND name = ?
                AND learned_at IS NULL AND changes >= ?""", [seen_at, site, name, LEARN_AFTER])
        for name in stayed - VOLATILE_PARAMS:
            db.execute("""UPDATE volatile_params SET changes = 0 WHERE site = ? AND name = ?
                AND learned_at IS NULL""", [site, name])
