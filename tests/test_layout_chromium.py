"""What researchers read, opened in the system Chromium: the digest e-mail's HTML and the report's
HTML from the demo's week, each at a desktop and a narrow width — Chinese renders (no tofu), no
table cell is squeezed, a screenshot of each is kept under tests/artefacts/."""

from __future__ import annotations

import subprocess
import sys

import pytest

from digest.build import build_digest
from digest.delivery import EmailChannel
from digest.settings import EmailChannel as EmailSettings
from pipelines.schema import read_corpus
from tests.demo_corpus import JS_FINAL, REPO, demo_corpus
from tests.pagecheck import assert_no_tofu, screenshot, squeezed, tofu

pytestmark = pytest.mark.browser
WIDTHS = (1280, 600)  # a desktop window; an e-mail pane or a phone held sideways


def test_the_checks_see_tofu_and_a_squeezed_cell(browser):
    """The checks are not blind: characters no installed font has (CJK Extension G) are tofu,
    and the old report appendix's layout (the whole URL as link text) squeezes the issuer."""
    page = browser.new_page(viewport={"width": 600, "height": 400})
    page.set_content(
        "<p>元宇宙产业 \U00030000\U00030001\U00030002</p><table style='width:100%'><tr>"
        "<td>江苏省工业和信息化厅</td><td>https://gxt.jiangsu.gov.cn/art/2026/11/18/"
        "art_80179_11930017.html?columnid=12345678901234567890</td></tr></table>")
    found = tofu(page)
    assert found["tofu"] == ["\U00030000", "\U00030001", "\U00030002"], found
    [cell] = squeezed(page)
    assert cell["text"] == "江苏省工业和信息化厅" and cell["width"] < cell["need"]
    page.close()


@pytest.fixture(scope="module")
def email_html(tmp_path_factory):
    """The HTML part of the e-mail that delivers a digest of every change of the demo's week."""
    corpus, _ = demo_corpus(tmp_path_factory)
    db = read_corpus(corpus)
    ids = [r["id"] for r in db.query("SELECT id FROM changes ORDER BY id")]
    digest = build_digest(db, ids, since=None)
    title = next(db.query("SELECT title FROM documents WHERE url = ?", [JS_FINAL]))["title"]
    db.close()
    message = EmailChannel(EmailSettings(host="127.0.0.1", sender="policywatch@example.org",
                                         recipients=("researcher@example.org",))).build_message(digest)
    html = message.get_body(preferencelist=("html",)).get_content()
    path = tmp_path_factory.mktemp("email") / "digest.html"
    path.write_text(html, encoding="utf-8")
    return path, title


@pytest.mark.parametrize("width", WIDTHS)
def test_the_digest_email_in_chromium(browser, email_html, width):
    path, title = email_html
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(path.as_uri())
    assert title in page.inner_text("body")  # a dedicated policy finalised: listed in full
    screenshot(page, f"digest-email-{width}")  # kept whatever the checks find
    assert_no_tofu(page)
    assert squeezed(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scrolling
    page.close()


@pytest.fixture(scope="module")
def report_html(tmp_path_factory):
    corpus, _ = demo_corpus(tmp_path_factory)
    out = tmp_path_factory.mktemp("report")
    result = subprocess.run([sys.executable, "-m", "scheduler", "report", "--db", str(corpus),
                             "--out", str(out)], cwd=REPO, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return out / "report.html"


@pytest.mark.parametrize("width", WIDTHS)
def test_the_report_in_chromium(browser, report_html, width):
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(report_html.as_uri())
    screenshot(page, f"report-{width}")  # kept whatever the checks find
    links = page.locator("#appendix td.link a")
    assert links.count() > 0 and set(links.all_inner_texts()) == {"原文"}
    charts = page.evaluate("[...document.images].map(i => i.complete && i.naturalWidth > 0)")
    assert charts and all(charts)
    assert_no_tofu(page)
    assert squeezed(page) == []
    page.close()
