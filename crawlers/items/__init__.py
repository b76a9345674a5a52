"""What the crawl produces: list entries found on column pages and parsed policy documents.

Items are plain dataclasses (read through ``itemadapter.ItemAdapter`` by Scrapy's feed exports; the pipelines read their attributes).
Dates are ``datetime.date`` objects once parsed, never strings.
"""

from __future__ import annotations

import base64
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any


def _base64(value: bytes | None) -> str | None:
    return base64.b64encode(value).decode("ascii") if value is not None else None


def _transient(value: Any) -> None:
    return None


def _attachments(value: list["Attachment"]) -> list[dict[str, Any]]:
    return [{k: v for k, v in asdict(a).items() if k != "data"} for a in value]


# Scrapy's feed exports (`scrapy crawl policy -a site=KEY -O items.jsonl`) read these field
# serializers: the raw response as base64, transient work products left out.
@dataclass
class Attachment:
    """A file linked from a policy page (PDF, DOC/DOCX, WPS, OFD, XLS, ZIP...)."""

    url: str
    name: str
    # Filled by the attachments pipeline when the file is downloaded.
    sha256: str | None = None
    size: int | None = None
    content_type: str | None = None
    text: str | None = None
    error: str | None = None
    # The file's bytes when the spider already holds them (transient: never stored).
    data: bytes | None = field(default=None, repr=False, compare=False)

    @property
    def extension(self) -> str:
        path = self.url.split("?", 1)[0].rsplit("/", 1)[-1]
        return path.rsplit(".", 1)[-1].lower() if "." in path else ""


@dataclass
class ListEntry:
    """One link on a column (list) page, before its detail page is fetched."""

    url: str
    title: str
    published_date: date | None = None
    # Fields some list feeds carry (gkmlpt JSON, script-embedded data) that spare a parse.
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PageRequest:
    """A page to fetch, described without Scrapy so that parsers stay pure.

    Hanweb's list feed is a POST with form data; client-rendered lists may need the browser.
    """

    url: str
    method: str = "GET"
    formdata: tuple[tuple[str, str], ...] = ()
    page: int = 1  # the page number within its column, for progress and limits
    browser: bool = False


@dataclass
class ListPage:
    """The parse of one list page: its entries and where the column continues."""

    entries: list[ListEntry]
    next_pages: list[PageRequest] = field(default_factory=list)
    total_pages: int | None = None


@dataclass
class Revisit:
    """A known document checked again and found unchanged without a new parse (HTTP 304)."""

    url: str
    site: str
    status: int = 304


@dataclass
class PolicyItem:
    """A parsed policy document page."""

    url: str
    site: str
    title: str
    doc_number: str | None = None  # 文号, e.g. 武政规〔2022〕16号
    issuer: str | None = None  # 发文机关
    index_no: str | None = None  # 索引号
    topic: str | None = None  # 主题分类
    written_date: date | None = None  # 成文日期
    published_date: date | None = None  # 发布日期
    validity: str | None = None  # 有效性/时效 as the page states it (有效, 失效, 已废止...)
    body_text: str = ""
    attachments: list[Attachment] = field(default_factory=list,
                                          metadata={"serializer": _attachments})
    column: str | None = None
    fetched_at: datetime | None = None
    # The response as fetched, kept (compressed) with each stored version.
    raw_body: bytes | None = field(default=None, metadata={"serializer": _base64})
    raw_encoding: str | None = None
    http_status: int | None = None
    http_headers: dict[str, str] = field(default_factory=dict, metadata={"serializer": dict})
    # Where each field came from (metadata table, meta tag, body...), for maintainers.
    provenance: dict[str, str] = field(default_factory=dict)
    # Did the body text come from the page or an attachment?
    text_source: str = "page"
    # The classifier stage's tags (classifiers.classify.Classification.columns()), written with
    # the document in the same transaction; None when the stage did not run.
    classification: dict[str, Any] | None = field(default=None, repr=False)
    # The body text's hash and search form when a parse worker computed them
    # (crawlers.parsing.textnorm.BodyForms); transient: the store uses them only if the text matches.
    body_forms: Any = field(default=None, repr=False, compare=False,
                            metadata={"serializer": _transient})

    def __repr__(self) -> str:
        # Logs show which document, not its raw bytes.
        return (f"PolicyItem(site={self.site!r}, url={self.url!r}, title={self.title!r}, "
                f"doc_number={self.doc_number!r}, published_date={self.published_date}, "
                f"chars={len(self.body_text)}, attachments={len(self.attachments)})")

    def to_json(self) -> dict[str, Any]:
        """The public JSON form (the one `policywatch parse` prints): dates as YYYY-MM-DD."""
        data = asdict(self)
        out: dict[str, Any] = {}
        for key in PUBLIC_FIELDS:
            value = data[key]
            if isinstance(value, date):
                value = value.isoformat()
            out[key] = value
        out["attachments"] = [{"url": a.url, "name": a.name} for a in self.attachments]
        return out


PUBLIC_FIELDS = (
    "title",
    "url",
    "doc_number",
    "issuer",
    "index_no",
    "topic",
    "written_date",
    "published_date",
    "body_text",
    "attachments",
)
