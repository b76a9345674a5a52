"""Downloader pieces that must not decode pages they do not need to: the meta-refresh check and
the replay handler's re-addressing."""

from __future__ import annotations

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse, TextResponse
from scrapy.utils.test import get_crawler

from crawlers.engine.downloader import _under_url
from crawlers.engine.middlewares import QuickMetaRefreshMiddleware

URL = "https://www.example.gov.cn/zwgk/index.html"
# A GBK page that declares no charset: Scrapy would guess its encoding with charset-normalizer.
UNDECLARED = "<html><body><p>关于印发元宇宙产业发展行动计划的通知</p></body></html>".encode("gbk")
REFRESH = b'<html><head><META HTTP-EQUIV="Refresh" CONTENT="0; URL=/zwgk/new.html"></head></html>'


@pytest.fixture
def no_guessing(monkeypatch):
    def guessed(self):
        raise AssertionError("the page's encoding was guessed")

    monkeypatch.setattr(TextResponse, "_body_inferred_encoding", guessed)


@pytest.fixture
def middleware():
    return QuickMetaRefreshMiddleware.from_crawler(get_crawler())


def test_a_meta_refresh_is_still_followed(middleware):
    request = Request(URL)
    got = middleware.process_response(request, HtmlResponse(URL, body=REFRESH, request=request))
    assert isinstance(got, Request) and got.url == "https://www.example.gov.cn/zwgk/new.html"


def test_a_page_without_refresh_is_passed_on_undecoded(middleware, no_guessing):
    request = Request(URL)
    response = HtmlResponse(URL, body=UNDECLARED, request=request)
    assert middleware.process_response(request, response) is response


def test_a_replayed_response_is_readdressed_without_decoding(no_guessing):
    replayed = Request("http://127.0.0.1:8000/https/www.example.gov.cn/zwgk/index.html")
    original = Request(URL, meta={"column": "zcwj"})
    response = HtmlResponse(replayed.url, status=200, headers={"ETag": '"v1"'}, body=UNDECLARED,
                            flags=["cached"], request=replayed, protocol="HTTP/1.1")
    moved = _under_url(response, original)
    assert type(moved) is HtmlResponse
    assert (moved.url, moved.request, moved.status, moved.body, moved.flags, moved.protocol) == \
        (URL, original, 200, UNDECLARED, ["cached"], "HTTP/1.1")
    assert moved.headers.get("ETag") == b'"v1"'


def test_a_readdressed_page_still_decodes_as_before():
    response = HtmlResponse("http://127.0.0.1:8000/x", body=UNDECLARED)
    moved = _under_url(response, Request(URL))
    assert "元宇宙产业发展行动计划" in moved.text
    assert moved.text == response.text
