"""AttachmentsPipeline: download a document's PDF/DOCX attachments and read their text.

Files are fetched through the crawl's own engine (``engine.download_async``), so the downloader
middlewares apply to them as to pages: robots.txt, retries, backoff, the per-domain slots and
delays. Only files on the item's site's domains are fetched. A failed download is recorded on
the attachment (``error``) and never drops the document.

A file's text is read in the crawl's worker pool (``crawlers.engine.parsepool``), never in the reactor:
a zip bomb or a 90,000-page PDF is refused by the ``FileLimits`` before it is unpacked, and a
file that still takes too long or too much memory is refused by the pool's job limits. Either
way the attachment is stored with its hash and size, without text, and ``error`` says why
(``over_limit: …``, ``time_limit: …``, ``memory_limit: …``).

Settings: ``POLICYWATCH_ATTACHMENT_MAX_BYTES`` (default 20 MB), the largest file fetched; the
``POLICYWATCH_ATTACHMENT_MAX_*`` limits (see ``crawlers/engine/settings.py``).
"""

from __future__ import annotations

import hashlib
import io
import logging
import zipfile
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.exceptions import IgnoreRequest

from crawlers.items import Attachment, PolicyItem
from crawlers.items.sitecrawls import SITE_META, site_of, stats_for
from crawlers.parsing.attachments import file_extension
from crawlers.parsing.filetext import FileLimits
from crawlers.parsing.textnorm import clean_text
from crawlers.sites import Site, get_site

logger = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
# The formats fetched and read. Links without an extension (download.jsp?id=...) are fetched
# too and recognised by their first bytes.
TEXT_FORMATS = ("pdf", "docx", "txt")
STAT = "policywatch/attachments/{what}"


def sniff_format(data: bytes) -> str | None:
    """``pdf`` or ``docx`` from a file's bytes, or None for anything else."""
    head = data[:1024].lstrip()
    if head.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        # A DOCX is a zip holding word/document.xml; XLSX, PPTX and plain archives are zips too.
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                return "docx" if "word/document.xml" in archive.namelist() else None
        except zipfile.BadZipFile:
            return None
    return None


def _looks_like_a_page(data: bytes, content_type: str) -> bool:
    head = data[:512].lstrip().lower()
    return content_type.startswith("text/html") or head.startswith((b"<!doctype html", b"<html"))


def declared_format(attachment: Attachment) -> str:
    """The file type the link declares (URL path, ``filename=`` parameter, or link text), or ''
    when it declares none (then the file is fetched and recognised by its first bytes)."""
    return file_extension(attachment.url, attachment.name or "") or ""


class AttachmentsPipeline:
    """Fetch PDF/DOCX attachments, fill sha256/size/content_type/text (or error), and give a
    cover-note page (``text_source == "attachment_pending"``) the text of its attachment."""

    def __init__(self, crawler, max_bytes: int = DEFAULT_MAX_BYTES, limits: FileLimits = FileLimits()):
        if max_bytes < 1:
            raise ValueError(f"POLICYWATCH_ATTACHMENT_MAX_BYTES must be positive, not {max_bytes}")
        self.crawler = crawler
        self.max_bytes = max_bytes
        self.limits = limits
        self.offload = offload_of(crawler)

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        return cls(crawler, settings.getint("POLICYWATCH_ATTACHMENT_MAX_BYTES", DEFAULT_MAX_BYTES),
                   file_limits(settings))

    def site_for(self, key: str) -> Site | None:
        """The declared site an item came from: the crawling spider's own ``site`` (replay and
        test sites live outside the registry), else the registry's; None when neither knows it."""
        return site_for(self.crawler, key)

    async def process_item(self, item):
        if not isinstance(item, PolicyItem):
            return item
        site = self.site_for(item.site)
        stats = stats_for(self.crawler, item.site)
        done: dict[str, Attachment] = {}
        for attachment in item.attachments:
            if attachment.url in done:  # the same file linked twice: fetch it once
                _copy_result(done[attachment.url], attachment)
                continue
            await self._fetch(attachment, site, stats)
            done[attachment.url] = attachment
        if item.text_source == "attachment_pending":
            _take_text_from_attachments(item)
        return item

    @staticmethod
    def _count(what: str, stats) -> None:
        stats.inc_value(STAT.format(what=what))

    def _fail(self, attachment: Attachment, reason: str, message: str, stats) -> None:
        attachment.error = f"{reason}: {message}"
        self._count(f"failed/{reason}", stats)
        logger.warning("attachment %s not read (%s): %s", attachment.url, reason, message)

    def _skip(self, attachment: Attachment, reason: str, message: str, stats) -> None:
        attachment.error = f"{reason}: {message}"
        self._count(f"skipped/{reason}", stats)

    async def _fetch(self, attachment: Attachment, site: Site | None, stats) -> None:
        declared = declared_format(attachment)
        if declared and declared not in TEXT_FORMATS:
            self._skip(attachment, "unfetched", f".{declared} files are not downloaded", stats)
            return
        if urlsplit(attachment.url).scheme not in ("http", "https"):
            self._skip(attachment, "unfetched", "not an http(s) link", stats)
            return
        if site is None:
            self._skip(attachment, "unknown_site", "the item's site is not declared anywhere", stats)
            return
        if not site.allows_url(attachment.url):
            self._skip(attachment, "offsite", f"not on {site.key}'s domains {site.domains}", stats)
            return

        if attachment.data is not None:
            # The spider already fetched it: a list entry that links straight to the file.
            data, content_type = attachment.data, attachment.content_type or ""
            attachment.data = None
        else:
            fetched = await self._download(attachment, site, stats)
            if fetched is None:
                return
            data, content_type = fetched
        attachment.content_type = content_type or None
        if len(data) > self.max_bytes:  # a server that sent no Content-Length
            self._fail(attachment, "too_large", f"{len(data)} bytes > {self.max_bytes}", stats)
            return
        if _looks_like_a_page(data, content_type.lower()):
            # A WAF page or an error page served with status 200 is not the file.
            self._fail(attachment, "not_a_file", f"got a web page ({content_type or 'no type'})", stats)
            return
        attachment.sha256 = hashlib.sha256(data).hexdigest()
        attachment.size = len(data)
        self._count("fetched", stats)
        # What the bytes are beats what the link says (a .pdf link may serve a DOCX).
        fmt = sniff_format(data) or (declared if declared == "txt" else None)
        if fmt is None:
            self._fail(attachment, "unsupported", f"not a PDF or DOCX ({content_type or 'no type'})", stats)
            return
        kind, text, message = await self.offload.attachment_text(data, fmt, self.limits)
        if kind == "refused":
            self._fail(attachment, text, message, stats)
            return
        attachment.text = clean_text(text) or None
        if attachment.text is None:
            self._count("no_text", stats)  # a scanned PDF, most likely

    async def _download(self, attachment: Attachment, site: Site, stats) -> tuple[bytes, str] | None:
        """The file's bytes and Content-Type, through the engine (robots.txt, retries and the
        portal's download slot apply); None with the error recorded when it cannot be had."""
        request = Request(
            attachment.url,
            meta={"download_maxsize": self.max_bytes, "download_warnsize": self.max_bytes,
                  "policywatch_attachment": True, SITE_META: site.key},
        )
        try:
            response = await self.crawler.engine.download_async(request)
        except IgnoreRequest as exc:  # robots.txt, offsite, or a middleware's veto
            self._fail(attachment, "ignored", str(exc) or type(exc).__name__, stats)
            return None
        except Exception as exc:  # noqa: BLE001 — any download error belongs on the attachment
            # Twisted and Scrapy raise many unrelated types here (timeouts, DNS, refused
            # connections, the size limit's cancellation); all mean "not fetched".
            self._fail(attachment, "download", f"{type(exc).__name__}: {exc}"[:300], stats)
            return None
        if response.status != 200:
            self._fail(attachment, f"http_{response.status}", f"HTTP {response.status}", stats)
            return None
        return response.body, response.headers.get(b"Content-Type", b"").decode("latin-1").strip()


def file_limits(settings) -> FileLimits:
    """The ``POLICYWATCH_ATTACHMENT_MAX_*`` settings as ``FileLimits`` (defaults where unset)."""
    defaults = FileLimits()
    return FileLimits(
        unpacked_bytes=settings.getint("POLICYWATCH_ATTACHMENT_MAX_UNPACKED", defaults.unpacked_bytes),
        members=settings.getint("POLICYWATCH_ATTACHMENT_MAX_MEMBERS", defaults.members),
        pages=settings.getint("POLICYWATCH_ATTACHMENT_MAX_PAGES", defaults.pages),
        chars=settings.getint("POLICYWATCH_ATTACHMENT_MAX_CHARS", defaults.chars),
    )


def offload_of(crawler):
    """The crawl's door to its parse pool, which the engine's ``ParsePool`` extension (in the
    settings' EXTENSIONS) hands over; a clear error when a crawl was set up without it."""
    offload = getattr(crawler, "policywatch_offload", None)
    if offload is None:
        raise RuntimeError("the crawl has no parse pool: EXTENSIONS must hold "
                           "crawlers.engine.parsepool.ParsePool (crawlers/engine/settings.py has it)")
    return offload


def site_for(crawler, key: str) -> Site | None:
    """The Site with this key: the running spider's (``crawlers.items.sitecrawls.site_of``),
    else the registry's."""
    own = site_of(crawler, key)
    if isinstance(own, Site):
        return own
    try:
        return get_site(key)
    except KeyError:
        return None


def _copy_result(source: Attachment, target: Attachment) -> None:
    for name in ("sha256", "size", "content_type", "text", "error"):
        setattr(target, name, getattr(source, name))


def _take_text_from_attachments(item: PolicyItem) -> None:
    """A cover-note page's text is its first readable attachment; else the note itself."""
    for attachment in item.attachments:
        if attachment.text:
            item.body_text = attachment.text
            item.text_source = "attachment"
            item.provenance["body_text"] = f"attachment: {attachment.url}"
            return
    item.text_source = "page"
