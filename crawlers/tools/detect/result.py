"""What a detection found: the pages it saw, the family, the list, one document, the notes and
the verdict (``ok``, ``broken``, ``blocked``: the exit status 0, 1, 2)."""

from __future__ import annotations

from dataclasses import dataclass, field

from crawlers.items import ListPage, PolicyItem
from crawlers.sites.spec import Site
from crawlers.tools.detect.recognition import Recognition

OK, BROKEN, BLOCKED = "ok", "broken", "blocked"
REQUIRED_FIELDS = ("title", "published_date")
USUAL_FIELDS = ("doc_number", "issuer", "index_no", "topic", "written_date")


@dataclass
class Fetch:
    """A page as detect saw it (fetched, read from a file, or rendered by the browser)."""

    url: str
    status: int
    headers: dict[str, str]
    body: bytes
    source: str = "fetched"  # fetched / file / browser


@dataclass
class Detection:
    """Everything ``policywatch detect`` found about a column."""

    url: str
    verdict: str = OK
    recognition: Recognition | None = None
    list_page: Fetch | None = None
    listing: ListPage | None = None
    detail_page: Fetch | None = None
    item: PolicyItem | None = None
    notes: list[tuple[str, str]] = field(default_factory=list)  # (severity, message)
    site: Site | None = None  # the proposed spec
    column_name: str = ""
    issuer: str = ""
    division_known: bool = False
    fetched: list[str] = field(default_factory=list)

    def note(self, severity: str, message: str) -> None:
        self.notes.append((severity, message))
        if severity == BLOCKED:
            self.verdict = BLOCKED
        elif severity == BROKEN and self.verdict == OK:
            self.verdict = BROKEN

    @property
    def family(self) -> str | None:
        return self.recognition.family if self.recognition else None

    def missing(self) -> list[str]:
        if self.item is None:
            return []
        return [n for n in (*REQUIRED_FIELDS, *USUAL_FIELDS) if getattr(self.item, n) in (None, "")]

    @property
    def exit_code(self) -> int:
        return {OK: 0, BROKEN: 1, BLOCKED: 2}[self.verdict]


__all__ = ["BLOCKED", "BROKEN", "OK", "REQUIRED_FIELDS", "USUAL_FIELDS", "Detection", "Fetch"]
