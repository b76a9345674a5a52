"""What a crawl of one site is told when it starts: the corpus' known URLs, the revisits due,
a backfill's pending list pages. The corpus builds it (``pipelines.revisits``, named to the
engine by the ``POLICYWATCH_CRAWL_STATE`` setting); the spider reads it."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class DueRevisit:
    """A known document to fetch again, with the validators of its last version."""

    url: str
    etag: str | None = None
    last_modified: str | None = None
    column: str | None = None
    # SHA-1 of the bytes its current version was read from, when the page links no files: the
    # same bytes again read the same (a portal that sends no validators answers 200, not 304).
    body_sha1: str | None = None

    def conditional_headers(self) -> dict[str, str]:
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers


@dataclass(frozen=True)
class CrawlState:
    """The corpus as a crawl of one site sees it when it starts."""

    known: frozenset[str] = frozenset()
    due: tuple[DueRevisit, ...] = ()
    # Backfill only: list pages discovered by an earlier, unfinished backfill, per column.
    pending_pages: dict[str, list[dict]] = field(default_factory=dict)
