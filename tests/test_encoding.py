"""decode_html: declared, mis-declared and undeclared charsets; binary files refused."""

from __future__ import annotations

import pytest

from crawlers.parsing.encoding import decode_html, normalize_charset
from crawlers.parsing.errors import ParseError

TEXT = "关于促进元宇宙产业创新发展的实施意见：镕𬌗䶮"  # 镕/䶮 are GBK/GB18030-only, not GB2312


def page(charset_meta: str, text: str = TEXT) -> str:
    meta = f'<meta http-equiv="Content-Type" content="text/html; charset={charset_meta}">' if charset_meta else ""
    return f"<html><head>{meta}<title>{text}</title></head><body><p>{text}</p></body></html>"


def test_utf8_declared():
    text, enc = decode_html(page("utf-8").encode("utf-8"), {"Content-Type": "text/html; charset=utf-8"})
    assert TEXT in text and enc == "utf-8"


def test_gb2312_declared_but_gbk_and_gb18030_characters():
    body = page("gb2312").encode("gb18030")
    with pytest.raises(UnicodeDecodeError):
        body.decode("gb2312")
    text, enc = decode_html(body, {})
    assert TEXT in text and enc == "gb18030"


def test_header_says_utf8_but_bytes_are_gbk():
    body = page("").encode("gbk", "ignore")
    text, enc = decode_html(body, {"Content-Type": "text/html; charset=UTF-8"})
    assert "关于促进元宇宙产业创新发展的实施意见" in text and enc == "gb18030"


def test_meta_says_gbk_but_bytes_are_utf8():
    text, enc = decode_html(page("gbk").encode("utf-8"), {})
    assert TEXT in text and enc == "utf-8"


def test_no_declaration_at_all():
    for codec in ("utf-8", "gb18030"):
        text, _ = decode_html(page("").encode(codec), {})
        assert TEXT in text


def test_latin1_declaration_is_ignored_for_chinese_bytes():
    text, enc = decode_html(page("iso-8859-1").encode("gbk", "ignore"), {"content-type": "text/html; charset=ISO-8859-1"})
    assert "元宇宙" in text and enc == "gb18030"


def test_bom_wins():
    text, enc = decode_html(b"\xef\xbb\xbf" + page("gbk").encode("utf-8"), {})
    assert TEXT in text and enc == "utf-8"


def test_utf8_cut_in_the_middle_of_a_character_still_decodes():
    body = "<p>元宇宙".encode("utf-8")[:-1]
    text, enc = decode_html(body, {})
    assert text == "<p>元宇" and enc == "utf-8"


@pytest.mark.parametrize("data,kind", [
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "PDF"),
    (b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 40, "ZIP"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 40, "OLE2"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "PNG"),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF", "JPEG"),
    (b"Rar!\x1a\x07\x00", "RAR"),
])
def test_binary_served_as_html_is_refused(data, kind):
    with pytest.raises(ParseError) as err:
        decode_html(data, {"Content-Type": "text/html"})
    assert err.value.reason == "binary" and kind in err.value.message


@pytest.mark.parametrize("body", [b"", b"   \r\n\t "])
def test_empty(body):
    with pytest.raises(ParseError) as err:
        decode_html(body, {})
    assert err.value.reason == "empty"


@pytest.mark.parametrize("name,codec", [("GB2312", "gb18030"), ("gbk", "gb18030"), ("x-gbk", "gb18030"),
                                        ("UTF8", "utf-8"), ("big5", "big5"), ("latin1", None), ("nonsense", None)])
def test_normalize_charset(name, codec):
    assert normalize_charset(name) == codec


@pytest.mark.faults
@pytest.mark.parametrize("declared", ["header", "meta"])
def test_declared_utf8_with_a_few_bad_bytes_stays_utf8_with_replacement_characters(declared):
    from benchmarks.faultcases.hostile import BAD_UTF8_TITLE, bad_utf8_page

    body = bad_utf8_page()
    headers = {"Content-Type": "text/html; charset=utf-8"} if declared == "header" else {}
    if declared == "header":
        body = body.replace(b'<meta charset="utf-8">', b"")
    text, enc = decode_html(body, headers)
    assert enc == "utf-8" and BAD_UTF8_TITLE in text
    assert text.count("\ufffd") == 3  # \xff, \xfe and \x80, each one replacement character


@pytest.mark.faults
def test_a_list_page_with_a_few_bad_bytes_keeps_its_chinese_titles():
    from crawlers.families.listparse import decode

    body = ('<html><head><meta charset="utf-8"></head><body><ul>'
            '<li><a href="/a.html">关于印发元宇宙行动计划的通知</a></li></ul>\x00</body></html>').encode()
    body = body.replace(b"\x00", b"\xc3\x28")  # an invalid two-byte sequence
    assert "关于印发元宇宙行动计划的通知" in decode(body, {})


@pytest.mark.faults
def test_undeclared_gbk_with_an_ascii_scrap_of_bad_utf8_is_still_gbk():
    body = page("").encode("gbk", "ignore") + b"\xc3\x28"
    text, enc = decode_html(body, {})
    assert "关于促进元宇宙产业创新发展的实施意见" in text and enc == "gb18030"
