"""Text of attachment files: PDF (pypdf), DOCX (python-docx, paragraphs and tables in
document order) and plain text. Other types (DOC, WPS, OFD, XLS, archives) give None.

A file of a supported type that cannot be read (corrupt, encrypted, not really that type)
raises ``FileTextError`` naming the file type and the cause, so the attachments pipeline can
record the error on the attachment; an unsupported type is not an error and returns None.
A readable file with no extractable text (a scanned PDF) returns "".
"""

from __future__ import annotations

import io
import logging
import zipfile

from .text import normalize_text

log = logging.getLogger(__name__)

SUPPORTED = ("pdf", "docx", "txt")


class FileTextError(ValueError):
    """A supported file could not be read."""


def _extension(filename_or_ext: str) -> str:
    name = (filename_or_ext or "").strip().lower().split("?", 1)[0]
    return name.rsplit(".", 1)[-1] if "." in name else name


def extract_file_text(data: bytes, filename_or_ext: str) -> str | None:
    """The text of an attachment, normalised like body text; None for unsupported types."""
    ext = _extension(filename_or_ext)
    if ext not in SUPPORTED:
        return None
    if not data:
        raise FileTextError(f"{ext}: the file is empty")
    if ext == "pdf":
        return _pdf_text(data)
    if ext == "docx":
        return _docx_text(data)
    from .encoding import decode_text

    return normalize_text(decode_text(data)[0])


def _pdf_text(data: bytes) -> str:
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
        pages = [page.extract_text() or "" for page in reader.pages]
    except FileTextError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        raise FileTextError(f"pdf: unreadable ({type(exc).__name__}: {exc})") from exc
    return normalize_text("\n".join(pages))


def _docx_text(data: bytes) -> str:
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.oxml.ns import qn
    from lxml.etree import XMLSyntaxError
    from docx.table import Table
    from docx.text.paragraph import Paragraph

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
