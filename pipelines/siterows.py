"""A site's row in the corpus: its declaration, and the health marks its runs leave on it.

(``pipelines.health`` reads site health back from these rows and the runs.)
"""

from __future__ import annotations

from datetime import datetime

import sqlite_utils

from crawlers.sites.spec import Site
from pipelines.values import iso_time, to_json


def upsert_site(db: sqlite_utils.Database, site: Site) -> None:
    """Insert or update a site's declaration; its health columns are left as they are."""
    with db.atomic():
        db.execute(
            """INSERT INTO sites (key, name, division_code, level, family, domains, enabled)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (key) DO UPDATE SET name = excluded.name,
                division_code = excluded.division_code, level = excluded.level,
                family = excluded.family, domains = excluded.domains,
                enabled = excluded.enabled""",
            [site.key, site.name, site.division_code, site.level, site.family,
             to_json(list(site.domains)), int(site.enabled)],
        )


def ensure_site(db: sqlite_utils.Database, key: str) -> None:
    """A bare row for ``key`` if it has none; call inside the writing transaction."""
    # It keeps the foreign keys whole when a site was never upserted (tests, ad-hoc runs).
    db.execute("INSERT OR IGNORE INTO sites (key) VALUES (?)", [key])


def record_site_success(db: sqlite_utils.Database, key: str, when: datetime | None = None) -> None:
    """Mark a site healthy as of ``when`` (now by default)."""
    with db.atomic():
        ensure_site(db, key)
        db.execute("UPDATE sites SET last_success = ? WHERE key = ?", [iso_time(when), key])


def record_site_failure(
    db: sqlite_utils.Database, key: str, reason: str, when: datetime | None = None
) -> None:
    """Mark a site failing as of ``when``, with a short human-readable ``reason``."""
    with db.atomic():
        ensure_site(db, key)
        db.execute(
            "UPDATE sites SET last_failure = ?, last_failure_reason = ? WHERE key = ?",
            [iso_time(when), reason, key],
        )
