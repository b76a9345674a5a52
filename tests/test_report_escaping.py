"""report.md writes what comes from the portals as text: a title holding <script>, | or a
Markdown link is escaped as the digest escapes it."""

from __future__ import annotations

import pytest

from benchmarks.faultcases.hostile import HOSTILE_TITLE, hostile_report, unescaped_markup
from digest.render import md_escape

pytestmark = pytest.mark.faults


def test_report_md_escapes_titles_issuers_labels_and_links(tmp_path):
    text = hostile_report(tmp_path).read_text(encoding="utf-8")
    assert unescaped_markup(text) == []
    [row] = [line for line in text.splitlines() if line.startswith("| 1 |")]
    assert md_escape(HOSTILE_TITLE) in row
    assert "<https://www.example.gov.cn/a%20b%7C%3Cc%3E.html>" in row
    assert row.count(" | ") == 6  # seven cells: the title's | does not split the row


def test_the_check_sees_raw_markup():
    assert unescaped_markup("| 1 | <script>alert(1)</script> |") == ["<script>"]
