"""Text of attachment files: PDF (pypdf), DOCX (python-docx, paragraphs and tables in
document order) and plain text. Other types (DOC, WPS, OFD, XLS, archives) give None.

A file of a supported type that cannot be read (corrupt, encrypted, not really that type)
raises ``FileTextError`` naming the file type and the cause, so the attachments pipeline can
record the error on the attachment; an unsupported type is not an error and returns None.
A readable file with no extractable text (a scanned PDF) returns "".

Files come from the network: before anything is unpacked or parsed, a file is checked
against ``FileLimits`` (a DOCX's members and their unpacked size, a PDF's pages, the text's
length); a file over a limit raises ``FileLimitError`` and yields no text. Time and memory are
bounded by the worker that runs the extraction (``crawlers.engine.parsepool``).
"""

from __future__ import annotations

import io
import logging
import zipfile
from dataclasses import dataclass

from crawlers.parsing.encoding import decode_text
from crawlers.parsing.text import normalize_text

log = logging.getLogger(__name__)

SUPPORTED = ("pdf", "docx", "txt")


class FileTextError(ValueError):
    """A supported file could not be read."""


class FileLimitError(FileTextError):
    """A file over one of the ``FileLimits``: not read at all (a zip bomb, a 90,000-page PDF)."""


@dataclass(frozen=True)
class FileLimits:
    """How much a file may unpack to before it is refused. The defaults hold every real
    policy attachment seen (a 300-page DOCX unpacks to a few MB); the crawl's settings
    (``POLICYWATCH_ATTACHMENT_MAX_*``) override them."""

    unpacked_bytes: int = 64 * 1024 * 1024  # a DOCX's members, added up
    members: int = 2000  # entries of a DOCX's zip
    pages: int = 2000  # of a PDF
    chars: int = 2_000_000  # of extracted text

    def __post_init__(self) -> None:
        for name in ("unpacked_bytes", "members", "pages", "chars"):
            if getattr(self, name) < 1:
                raise ValueError(f"attachment limit {name} must be positive, not {getattr(self, name)}")


def _extension(filename_or_ext: str) -> str:
    name = (filename_or_ext or "").strip().lower().split("?", 1)[0]
    return name.rsplit(".", 1)[-1] if "." in name else name


def extract_file_text(data: bytes, filename_or_ext: str, limits: FileLimits = FileLimits()) -> str | None:
    """The text of an attachment, normalised like body text; None for unsupported types."""
    ext = _extension(filename_or_ext)
    if ext not in SUPPORTED:
        return None
    if not data:
        raise FileTextError(f"{ext}: the file is empty")
    if ext == "pdf":
        text = _pdf_text(data, limits)
    elif ext == "docx":
        check_zip(data, limits)
        text = _docx_text(data)
    else:

        text = normalize_text(decode_text(data)[0])
    _check_chars(ext, text, limits)
    return text


def _check_chars(ext: str, text: str, limits: FileLimits) -> None:
    if len(text) > limits.chars:
        raise FileLimitError(f"{ext}: more than {limits.chars} characters of text")


def check_zip(data: bytes, limits: FileLimits) -> None:
    """Refuse a zip whose members are too many or unpack to too much, before unpacking it.

    The declared sizes are enough: ``zipfile`` never gives more bytes than a member declares
    (and fails its CRC check on a member that lies), and overlapping members of a "bomb" each
    declare their full size."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise FileTextError(f"docx: unreadable ({type(exc).__name__}: {exc})") from exc
    if len(members) > limits.members:
        raise FileLimitError(f"docx: {len(members)} zip members > {limits.members}")
    unpacked = sum(m.file_size for m in members)
    if unpacked > limits.unpacked_bytes:
        raise FileLimitError(f"docx: unpacks to {unpacked} bytes > {limits.unpacked_bytes}")


def _pdf_text(data: bytes, limits: FileLimits) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    if not data.lstrip()[:5].startswith(b"%PDF"):
        raise FileTextError("pdf: the file does not start with %PDF (not a PDF)")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                reader.decrypt("")
            except (PyPdfError, NotImplementedError) as exc:
                raise FileTextError(f"pdf: encrypted and cannot be opened: {exc}") from exc
        _check_page_tree(reader, limits)
        pages: list[str] = []
        chars = 0
        for number, page in enumerate(reader.pages, start=1):
            if number > limits.pages or len(reader.flattened_pages or ()) > limits.pages:
                raise FileLimitError(f"pdf: more than {limits.pages} pages")
            pages.append(page.extract_text() or "")
            chars += len(pages[-1])
            if chars > limits.chars:
                raise FileLimitError(f"pdf: more than {limits.chars} characters of text")
    except FileTextError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        raise FileTextError(f"pdf: unreadable ({type(exc).__name__}: {exc})") from exc
    return normalize_text("\n".join(pages))


def _check_page_tree(reader, limits: FileLimits) -> None:
    """Refuse a PDF whose page tree declares too many pages, before pypdf walks it (walking
    a 90,000-page tree alone takes 20 s). ``/Count`` may lie: the root's own list of kids is
    counted too, and the pages actually read are counted as they are read."""
    try:
        tree = reader.root_object["/Pages"].get_object()
        declared = int(tree.get("/Count", 0))
        kids = len(tree.get("/Kids", ()))
    except (KeyError, TypeError, ValueError, AttributeError):
        return  # no readable page tree: pypdf says what is wrong when the pages are read
    if max(declared, kids) > limits.pages:
        raise FileLimitError(f"pdf: {max(declared, kids)} pages > {limits.pages}")


def _docx_text(data: bytes) -> str:
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.oxml.ns import qn
    from docx.table import Table
    from docx.text.paragraph import Paragraph
    from lxml.etree import XMLSyntaxError

    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError, PackageNotFoundError, XMLSyntaxError) as exc:
        raise FileTextError(f"docx: unreadable ({type(exc).__name__}: {exc})") from exc
    lines: list[str] = []
    # Walk the body in order so tables stay where they are in the document.
    for child in document.element.body.iterchildren():
        if child.tag == qn("w:p"):
            lines.append(Paragraph(child, document).text)
        elif child.tag == qn("w:tbl"):
            for row in Table(child, document).rows:
                cells: list[str] = []
                for cell in row.cells:
                    text = " ".join(cell.text.split())
                    if not cells or cells[-1] != text:  # merged cells repeat their text
                        cells.append(text)
                lines.append(" | ".join(cells))
    return normalize_text("\n".join(lines))
