"""crawlers/parsing/dates.py: every date form portals write, invalid dates rejected."""

from __future__ import annotations

from datetime import date

import pytest

from crawlers.parsing.dates import date_from_url, find_dates, parse_date

D = date(2022, 10, 26)


@pytest.mark.parametrize("text", [
    "2022-10-26", "2022年10月26日", "2022/10/26", "2022.10.26", "2022-10-26 11:54:00",
    "发布日期：2022年10月26日", "２０２２年１０月２６日", "２０２２－１０－２６", "2022 年 10 月 26 日",
    "二〇二二年十月二十六日", "二○二二年十月二十六日", "二Ｏ二二年十月二十六日", "2022-10-26-23:59:59",
])
def test_forms(text):
    assert parse_date(text) == D


@pytest.mark.parametrize("text,expected", [
    ("二〇二三年五月二十二日", date(2023, 5, 22)), ("二〇二〇年二月五日", date(2020, 2, 5)),
    ("二〇一九年十二月三十一日", date(2019, 12, 31)), ("2023年5月22日", date(2023, 5, 22)),
    ("2020-2-5", date(2020, 2, 5)),
])
def test_more_forms(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["2022-02-30", "2022年13月1日", "2021-02-29", "二〇二二年二月三十日",
                                  "1850-01-01", "无", "", None, "第2022期"])
def test_invalid_or_missing_dates_are_rejected(text):
    assert parse_date(text) is None


def test_find_dates_in_order():
    assert find_dates("成文日期：2022-10-26 发布日期：2022年10月31日") == [D, date(2022, 10, 31)]


@pytest.mark.parametrize("url,expected", [
    ("http://www.jiangxi.gov.cn/art/2020/2/13/art_4975_1503934.html", date(2020, 2, 13)),
    ("http://www.shanxi.gov.cn/yw/sxyw/201909/t20190918_693227.shtml", date(2019, 9, 18)),
    ("https://www.gov.cn/zhengce/content/2022-10/28/content_5722322.htm", date(2022, 10, 28)),
    ("https://www.nea.gov.cn/20251020/1bbc/c.html", date(2025, 10, 20)),
    ("https://example.gov.cn/a/b.html", None),
])
def test_date_from_url(url, expected):
    assert date_from_url(url) == expected
