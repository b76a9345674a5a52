"""extract_file_text on files built here: DOCX (python-docx), PDF (fixtures/pdfmaker.py: a
Type0 font whose ToUnicode map carries Chinese), plain text; corrupt and unsupported files."""

from __future__ import annotations

import io

import docx
import pytest

from crawlers.parsing.filetext import FileTextError, extract_file_text
from fixtures.pdfmaker import make_pdf


def make_docx() -> bytes:
    document = docx.Document()
    document.add_paragraph("武汉市促进元宇宙产业创新发展实施方案")
    document.add_paragraph("一、总体要求")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "任务", "责任单位"
    table.cell(1, 0).text, table.cell(1, 1).text = "建设元宇宙创新中心", "市经信局"
    document.add_paragraph("二、保障措施")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_docx_paragraphs_and_tables_in_order():
    text = extract_file_text(make_docx(), "方案.docx")
    assert text.split("\n") == [
        "武汉市促进元宇宙产业创新发展实施方案", "一、总体要求", "任务 | 责任单位", "建设元宇宙创新中心 | 市经信局",
        "二、保障措施",
    ]


def test_pdf_with_chinese_text_round_trips():
    text = extract_file_text(make_pdf(["甘肃省关于加力支持工业企业设备更新的若干措施", "一、总体要求"]),
                             "https://x.gov.cn/files/a.PDF?v=1")
    assert "甘肃省关于加力支持工业企业设备更新的若干措施" in text
    assert "一、总体要求" in text


def test_plain_text_is_decoded():
    assert extract_file_text("元宇宙\r\n产业".encode("gb18030"), "txt") == "元宇宙\n产业"


@pytest.mark.parametrize("name", ["a.doc", "a.wps", "a.ofd", "a.xlsx", "a.zip", "a.rar", "noext"])
def test_unsupported_types_give_none(name):
    assert extract_file_text(b"whatever", name) is None


@pytest.mark.parametrize("data,name,words", [
    (b"<html>not a pdf</html>", "a.pdf", "not a PDF"),
    (b"%PDF-1.4\n garbage without objects", "a.pdf", "pdf: unreadable"),
    (b"PK\x03\x04 broken zip", "a.docx", "docx: unreadable"),
    (b"plain text", "a.docx", "docx: unreadable"),
    (b"", "a.pdf", "empty"),
])
def test_corrupt_supported_files_raise_a_clear_error(data, name, words):
    with pytest.raises(FileTextError) as err:
        extract_file_text(data, name)
    assert words in str(err.value)
