"""detect_block: WAF, challenge, login and error pages; normal pages pass."""

from __future__ import annotations

import pytest

from crawlers.parsing.blocks import detect_block

DOC = ("<html><head><title>关于加强网络安全工作的通知</title></head><body>"
       "<form action='/search'><input name='q'><button>搜索</button></form>"
       "<div id='zoom'>" + "<p>各单位要落实网络安全责任，做好安全防护和数据安全管理工作。</p>" * 40
       + "<p>如页面不存在或链接失效，请联系网站管理员。</p></div></body></html>")


def test_a_long_policy_page_about_security_with_a_search_form_passes():
    assert detect_block(200, {}, DOC) is None
    assert detect_block(200, {}, DOC.encode("gb18030")) is None


@pytest.mark.parametrize("status,html,kind", [
    (521, "<html><script>document.cookie=('__jsl_clearance=1620000000.1|0|'+'abc');location.href=location.pathname</script></html>", "challenge"),
    (200, "<html><script>var arg1='3B1C8E5F9A0D2E4F6A8B0C1D2E3F4A5B6C7D8E9F';document.cookie='acw_sc__v2='+x;location.reload()</script></html>", "challenge"),
    (412, "<html><head><meta content='x' r='m'><script>$_ts=window['$_ts'];if(!$_ts)$_ts={};$_ts.nsd=1</script></head><body></body></html>", "challenge"),
    (200, "<html><body><script>var c='x';document.cookie='s='+c+';path=/';window.location.reload();</script></body></html>", "challenge"),
    (200, "<html><title>创宇云防御</title><body><h1>您的访问被阻断</h1><p>当前访问疑似黑客攻击，已被创宇云防御拦截。</p></body></html>", "waf"),
    (403, "<html><body><p>网站防火墙：您的请求带有不合法参数，已被网站管理员设置拦截！</p><p>安全狗</p></body></html>", "waf"),
    (200, "<html><body><h2>访问受限</h2><p>请求频率过快，请稍后再试。</p></body></html>", "waf"),
    (200, "<html><body><noscript>x</noscript><p>请开启JavaScript并刷新该页。</p></body></html>", "challenge"),
    (429, "<html><body>Too many requests</body></html>", "waf"),
    (200, "<html><title>统一身份认证</title><body><h3>用户登录</h3><form><input name='u'><input type='password' name='p'>"
          "<button>登录</button></form></body></html>", "login"),
    (404, "<html><body>anything</body></html>", "not_found"),
    (200, "<html><title>404 页面不存在</title><body><p>您访问的页面不存在，3秒后返回首页。</p></body></html>", "not_found"),
    (200, "<html><body><h1>系统繁忙</h1><p>请稍后再试</p></body></html>", "error"),
    (500, "<html><body><p>Internal Server Error</p></body></html>", "error"),
    (503, "<html><body>维护中</body></html>", "error"),
])
def test_block_pages(status, html, kind):
    verdict = detect_block(status, {}, html)
    assert verdict is not None and verdict.kind == kind, verdict
    assert verdict.evidence


def test_block_and_error_verdicts_differ_in_is_block():
    assert detect_block(403, {}, "<p>网站防火墙</p>").is_block
    assert not detect_block(404, {}, "<p>x</p>").is_block


def test_a_document_mentioning_login_and_404_is_not_an_error_page():
    html = ("<html><title>关于404号建议的答复</title><body><div>" +
            "<p>关于用户登录系统和密码管理的建议已收悉，现答复如下。</p>" * 50 + "</div></body></html>")
    assert detect_block(200, {}, html) is None


def test_binary_bytes_are_not_judged_here():
    assert detect_block(200, {}, b"%PDF-1.7 binary") is None
