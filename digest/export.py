"""Export the corpus's documents with their tags, for spreadsheets and notebooks.

Column names are stable (``EXPORT_COLUMNS``; ``body_text`` last, only when asked); each coded
column has a Chinese ``<column>_zh`` beside it. CSV is UTF-8 with a BOM so that Excel shows
Chinese, tag lists joined with ``;``, evidence as lines of 标签：句子; JSONL keeps lists and the
evidence object as JSON; XLSX is one sheet of documents (real dates, links, a filterable frozen
header) and one that explains the columns.
A file is written whole or not at all (a temporary file renamed into place).
"""

from __future__ import annotations

import csv
import json
import logging
import os
import re
import tempfile
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import IO, Any, Iterable
from zoneinfo import ZoneInfo

import sqlite_utils

from digest.labels import COLUMN_DOCS, code_label, evidence_text, tag_label
from digest.selection import Document, Filters, select_documents

logger = logging.getLogger(__name__)

FORMATS = ("csv", "jsonl", "xlsx")
# Coded columns keep their stable codes; a ``<column>_zh`` column beside each gives the label.
EXPORT_COLUMNS = (
    "id", "policy_id", "site", "site_name", "url", "title", "doc_number", "issuer", "index_no",
    "topic", "written_date", "published_date", "date", "month", "doc_type", "doc_type_zh",
    "status", "status_zh", "relevance", "relevance_zh", "relevance_score", "level", "level_zh",
    "region", "province", "city", "county", "city_tier", "scenarios", "scenarios_zh",
    "measures", "measures_zh", "techs", "techs_zh", "evidence", "withdrawn_at", "repealed_at",
    "first_seen", "last_seen", "last_changed", "classifier_version", "explains_id",
    "explains_title",
)
LIST_COLUMNS = ("scenarios", "measures", "techs")
LIST_LABEL_COLUMNS = tuple(f"{c}_zh" for c in LIST_COLUMNS)
DATE_COLUMNS = ("written_date", "published_date", "date")
TIME_COLUMNS = ("withdrawn_at", "repealed_at", "first_seen", "last_seen", "last_changed")
# Spreadsheet column widths (characters) where the default squeezes the content.
XLSX_WIDTHS = {"url": 40, "title": 60, "site_name": 24, "issuer": 24, "doc_number": 22,
               "index_no": 22, "evidence": 60, "body_text": 80}
TAG_SEPARATOR = ";"
XLSX_CELL_LIMIT = 32_767  # characters Excel keeps in a cell
# Characters XML 1.0 (hence XLSX) cannot hold: C0 controls other than tab, LF and CR.
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


DEFAULT_TZ = ZoneInfo("Asia/Shanghai")  # the schedule's default timezone


class ExportError(ValueError):
    """The export cannot be written as asked."""


def columns(with_text: bool = False) -> tuple[str, ...]:
    return EXPORT_COLUMNS + (("body_text",) if with_text else ())


def record(doc: Document, with_text: bool = False) -> dict[str, Any]:
    """A document as an export row, values typed as JSONL holds them."""
    out: dict[str, Any] = {}
    for name in columns(with_text):
        if name == "policy_id":
            out[name] = doc.policy_key
        elif name in ("id", "site", "url", "title", "site_name", "date", "month"):
            out[name] = getattr(doc, name)
        elif name in LIST_COLUMNS:
            out[name] = list(doc.tags(name))
        elif name in LIST_LABEL_COLUMNS:
            column = name[: -len("_zh")]
            out[name] = [tag_label(column, t) for t in doc.tags(column)]
        elif name.endswith("_zh"):
            out[name] = code_label(name[: -len("_zh")], doc.values.get(name[: -len("_zh")]))
        else:
            out[name] = doc.values.get(name)
    return out


def flat(row: dict[str, Any]) -> dict[str, Any]:
    """A row for a spreadsheet cell by cell: tag lists joined with ';', evidence as lines of
    标签：句子."""
    out = {}
    for name, value in row.items():
        if name in LIST_COLUMNS or name in LIST_LABEL_COLUMNS:
            out[name] = TAG_SEPARATOR.join(value)
        elif name == "evidence":
            out[name] = evidence_text(value)
        else:
            out[name] = value
    return out


def write_csv(rows: Iterable[dict[str, Any]], stream: IO[str], with_text: bool = False) -> int:
    """CSV with a BOM and a header row; returns the number of rows written."""
    stream.write("\ufeff")
    writer = csv.DictWriter(stream, fieldnames=columns(with_text), lineterminator="\r\n")
    writer.writeheader()
    count = 0
    for row in rows:
        writer.writerow({k: "" if v is None else v for k, v in flat(row).items()})
        count += 1
    return count


def write_jsonl(rows: Iterable[dict[str, Any]], stream: IO[str]) -> int:
    count = 0
    for row in rows:
        stream.write(json.dumps(row, ensure_ascii=False) + "\n")
        count += 1
    return count


def _xlsx_value(value: Any, name: str, doc_id: Any, clipped: list[str], tz: tzinfo) -> Any:
    if not isinstance(value, str) or not value:
        return value
    if name in DATE_COLUMNS:
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return value
    if name in TIME_COLUMNS:
        try:
            # Excel keeps no time zone: the time as read where the schedule runs.
            return datetime.fromisoformat(value).astimezone(tz).replace(tzinfo=None)
        except ValueError:
            return value
    value = _XML_ILLEGAL.sub("", value)
    if len(value) > XLSX_CELL_LIMIT:
        clipped.append(f"{doc_id}.{name}")
        value = value[: XLSX_CELL_LIMIT - 1] + "…"
    return value


def write_xlsx(rows: Iterable[dict[str, Any]], path: Path, filters_note: str,
               with_text: bool = False, tz: tzinfo = DEFAULT_TZ) -> int:
    """One sheet of documents (a frozen, filterable header; dates and times as Excel dates in
    ``tz``; links that open) and one that explains the columns."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)
    sheet = book.create_sheet("documents")
    sheet.freeze_panes = "A2"
    names = columns(with_text)
    for index, name in enumerate(names, start=1):
        if name in XLSX_WIDTHS:
            sheet.column_dimensions[get_column_letter(index)].width = XLSX_WIDTHS[name]
    header = []
    for name in names:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = Font(bold=True)
        header.append(cell)
    sheet.append(header)
    clipped: list[str] = []
    count = 0
    wrap = Alignment(wrap_text=True, vertical="top")
    for row in rows:
        values = flat(row)
        cells = []
        for name in names:
            cell = WriteOnlyCell(sheet, value=_xlsx_value(values[name], name, row["id"], clipped, tz))
            if name in DATE_COLUMNS and isinstance(cell.value, datetime):
                cell.number_format = "yyyy-mm-dd"
            elif name in TIME_COLUMNS and isinstance(cell.value, datetime):
                cell.number_format = "yyyy-mm-dd hh:mm"
            elif name == "url" and cell.value:
                cell.hyperlink = cell.value
                cell.style = "Hyperlink"
            elif name in ("title", "evidence"):
                cell.alignment = wrap
            cells.append(cell)
        sheet.append(cells)
        count += 1
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(names))}{count + 1}"
    about = book.create_sheet("columns")
    about.append(["column", "meaning"])
    for name in names:
        about.append([name, COLUMN_DOCS.get(name, "")])
    about.append([])
    about.append(["selection", filters_note])
    about.append(["tags", f"tag lists are joined with '{TAG_SEPARATOR}'"])
    about.append(["times", f"first_seen, last_seen, last_changed, withdrawn_at, repealed_at: {tz}"])
    if clipped:
        logger.warning("%d cells were longer than Excel keeps (%d characters) and were cut: %s",
                       len(clipped), XLSX_CELL_LIMIT, ", ".join(clipped[:10]))
    book.save(path)
    return count


def export_documents(
    db: sqlite_utils.Database, filters: Filters, fmt: str, out: Path | None,
    per_policy: bool = False, with_text: bool = False, stdout: IO[str] | None = None,
    tz: tzinfo = DEFAULT_TZ,
) -> int:
    """Write the selected documents to ``out`` (or ``stdout`` for csv/jsonl); returns the count."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    if fmt == "xlsx" and out is None:
        raise ExportError("an xlsx export needs a file: pass --out FILE.xlsx")
    docs = select_documents(db, filters, per_policy=per_policy, with_text=with_text)
    rows = [record(d, with_text) for d in docs]
    note = "; ".join(f"{k}: {v}" for k, v in filters.describe()) + (
        "; one row per policy" if per_policy else "; every document")
    if out is None:
        if fmt == "csv":
            return write_csv(rows, stdout, with_text)
        return write_jsonl(rows, stdout)
    out = Path(out)
    if out.is_dir():
        raise ExportError(f"--out {out} is a folder: name the file to write")
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, scratch = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    os.close(fd)
    try:
        if fmt == "xlsx":
            count = write_xlsx(rows, Path(scratch), note, with_text, tz)
        else:
            # newline="" lets the csv module write its own \r\n line ends.
            with open(scratch, "w", encoding="utf-8", newline="") as stream:
                count = (write_csv(rows, stream, with_text) if fmt == "csv"
                         else write_jsonl(rows, stream))
        os.replace(scratch, out)
    except BaseException:
        Path(scratch).unlink(missing_ok=True)
        raise
    return count


def format_for(out: Path | None, given: str | None) -> str:
    """The format asked for, or the one ``out``'s suffix names, or csv."""
    if given:
        return given
    if out is not None and out.suffix.lower().lstrip(".") in FORMATS:
        return out.suffix.lower().lstrip(".")
    return "csv"


__all__ = ["EXPORT_COLUMNS", "ExportError", "FORMATS", "columns", "export_documents",
           "format_for", "record"]
