"""The one place dates are read, in every form Chinese portals write them.

2022-10-26, 2022年10月26日, 2022/10/26, 2022.10.26, 2022-10-26 11:54:00, 20221026 (in URLs),
full-width digits, and 二〇二二年十月二十六日 as it appears under a document's seal.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

_SEP = r"\s*[-/.年]\s*"
_NUMERIC = re.compile(
    r"(?<!\d)(?P<y>(?:19|20)\d{2})" + _SEP + r"(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})(?:\s*日)?(?!\d)"
)
_COMPACT = re.compile(r"(?<!\d)(?P<y>(?:19|20)\d{2})(?P<m>[01]\d)(?P<d>[0-3]\d)(?!\d)")
_CN_DIGITS = "〇一二三四五六七八九"
_CN_DIGIT_CLASS = "〇○ΟOo零一二三四五六七八九"
_CN_DATE = re.compile(
    rf"(?P<y>[{_CN_DIGIT_CLASS}]{{4}})\s*年\s*(?P<m>[十{_CN_DIGIT_CLASS}]{{1,3}})\s*月"
    rf"\s*(?P<d>[十{_CN_DIGIT_CLASS}]{{1,3}})\s*日"
)


def _cn_digit(ch: str) -> int:
    if ch in "〇○ΟOo零":
        return 0
    return _CN_DIGITS.index(ch)


def _cn_number(text: str) -> int:
    """一 → 1, 十 → 10, 十二 → 12, 二十 → 20, 二十六 → 26, 三十一 → 31."""
    if "十" not in text:
        return int("".join(str(_cn_digit(c)) for c in text))
    tens, _, units = text.partition("十")
    return (_cn_digit(tens) if tens else 1) * 10 + (_cn_digit(units) if units else 0)


def _make(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def find_dates(text: str | None) -> list[date]:
    """Every valid date in ``text``, in order of appearance."""
    if not text:
        return []
    text = unicodedata.normalize("NFKC", text)
    found: list[tuple[int, date]] = []
    for m in _NUMERIC.finditer(text):
        d = _make(int(m["y"]), int(m["m"]), int(m["d"]))
        if d:
            found.append((m.start(), d))
    for m in _CN_DATE.finditer(text):
        y = int("".join(str(_cn_digit(c)) for c in m["y"]))
        d = _make(y, _cn_number(m["m"]), _cn_number(m["d"]))
        if d:
            found.append((m.start(), d))
    found.sort(key=lambda pair: pair[0])
    return [d for _, d in found]


def parse_date(text: str | None) -> date | None:
    """The first date in ``text``, or None."""
    dates = find_dates(text)
    return dates[0] if dates else None


def date_from_url(url: str) -> date | None:
    """The date many CMSs put in detail URLs: /art/2022/10/26/..., /202210/t20221026_..., ..."""
    m = re.search(r"/art/((?:19|20)\d{2})/(\d{1,2})/(\d{1,2})/", url)
    if m:
        return _make(int(m[1]), int(m[2]), int(m[3]))
    m = re.search(r"[/_t]((?:19|20)\d{2})([01]\d)([0-3]\d)[_/.]", url)
    if m:
        return _make(int(m[1]), int(m[2]), int(m[3]))
    m = re.search(r"/((?:19|20)\d{2})-([01]\d)/([0-3]\d)/", url)
    if m:
        return _make(int(m[1]), int(m[2]), int(m[3]))
    return None
