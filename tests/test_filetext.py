"""extract_file_text on files built here: DOCX (python-docx), PDF (written by hand, with a
Type0 font whose ToUnicode map carries Chinese), plain text; corrupt and unsupported files."""

from __future__ import annotations

import io

import docx
import pytest

from crawlers.parsing.filetext import FileTextError, extract_file_text


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


def make_pdf(lines: list[str]) -> bytes:
    """A one-page PDF: each character is a CID of an Identity-H Type0 font; the ToUnicode
    CMap maps CIDs back to Unicode, which is all a text extractor needs (no glyphs embedded)."""
    chars = sorted({c for line in lines for c in line})
    cid = {c: i + 1 for i, c in enumerate(chars)}
    content = b"BT /F1 14 Tf 72 760 Td 18 TL\n"
    for line in lines:
        content += b"<" + "".join(f"{cid[c]:04X}" for c in line).encode() + b"> Tj T*\n"
    content += b"ET"
    bfchar = "".join(f"<{cid[c]:04X}> <{ord(c):04X}>\n" for c in chars)
    cmap = (
        "/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Adobe-Identity-UCS def /CMapType 2 def\n"
        "1 begincodespacerange <0000> <FFFF> endcodespacerange\n"
        f"{len(chars)} beginbfchar\n{bfchar}endbfchar\n"
        "endcmap CMapName currentdict /CMap defineresource pop end end"
    ).encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type0 /BaseFont /SimSun /Encoding /Identity-H "
        b"/DescendantFonts [6 0 R] /ToUnicode 7 0 R >>",
        b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /SimSun /CIDToGIDMap /Identity "
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /DW 1000 >>",
        b"<< /Length %d >>\nstream\n" % len(cmap) + cmap + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


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
