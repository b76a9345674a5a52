"""What one site's crawl did, as the crawl process reports it (``crawl --outcomes``, the round)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class SiteRunReport:
    """What one site's crawl did, from its counters (``crawlers.engine.sitestats``)."""

    site: str
    list_pages: int = 0
    detail_pages: int = 0
    items: int = 0
    new: int = 0
    revised: int = 0
    unchanged: int = 0
    known: int = 0  # list entries skipped as already stored (incremental, sweep, backfill)
    failed: dict[str, int] = field(default_factory=dict)
    failures: list[dict[str, str]] = field(default_factory=list)
    finish_reason: str = ""
    unwritable: str = ""  # why the corpus could not be written, when that stopped the crawl
    seconds: float = 0.0  # from the site's start to its end

    @property
    def broken(self) -> bool:
        """Nothing worked (as ``pipelines.health.crawl_worked`` says of a run) and pages were
        refused. (A quiet day of a site whose broken pages are refused again is not broken.)
        An item that failed in a pipeline (``not_stored``) did not work."""
        reached_the_end = self.items - self.failed.get("not_stored", 0)
        return reached_the_end <= 0 and self.known == 0 and bool(self.failed)

    @property
    def interrupted(self) -> bool:
        """Stopped by the operator (Ctrl-C, SIGTERM): Scrapy's shutdown."""
        return self.finish_reason == "shutdown"

    @property
    def stopped(self) -> bool:
        """Ended before its work was done, for whatever reason (no reason at all: the spider
        never closed, e.g. a second Ctrl-C forced the process down)."""
        return self.finish_reason != "finished"

    @property
    def blocked(self) -> int:
        return self.failed.get("blocked", 0)

    @classmethod
    def from_stats(cls, site: str, stats: dict[str, Any], failures: list[dict[str, str]]) -> "SiteRunReport":
        prefix = "policywatch/failed/"
        return cls(
            site=site,
            list_pages=stats.get("policywatch/pages/list", 0),
            detail_pages=stats.get("policywatch/pages/detail", 0),
            items=stats.get("policywatch/items", 0),
            new=stats.get("policywatch/documents/new", 0),
            revised=stats.get("policywatch/documents/revised", 0),
            unchanged=stats.get("policywatch/documents/unchanged", 0),
            known=stats.get("policywatch/skipped/known", 0),
            failed={k[len(prefix):]: v for k, v in stats.items() if k.startswith(prefix)},
            failures=list(failures),
            finish_reason=str(stats.get("finish_reason", "")),
            unwritable=str(stats.get("policywatch/store/unwritable") or ""),
            seconds=float(stats.get("elapsed_time_seconds") or 0.0),
        )
