"""browse's fault cases (benchmarks/faultcases/browse.py) as tests: hostile titles and text stay
text on every page, a document of megabytes renders a bounded page, hostile searches are text or
refused in one line — each through the app `policywatch browse` serves, on a real corpus."""

from __future__ import annotations

import pytest

from benchmarks.faultcases.browse import CASES, MARKUP, hostile_corpus, pages, unescaped

pytestmark = pytest.mark.faults


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fault_case(case, tmp_path):
    assert case.run(tmp_path)


def test_the_check_sees_markup_left_as_markup(tmp_path):
    # The cases' check is not blind: the raw hostile string is what it reports.
    assert unescaped(MARKUP) == ["<script>alert", "<img src=x", 'href="javascript:']
    corpus = hostile_corpus(tmp_path / "corpus.db")
    [(_, status, body)] = pages(corpus, ["/corpus/documents.json?_shape=array"])
    assert status == 200 and "<script>alert" in body  # JSON carries the data as stored


def test_only_web_addresses_are_linked():
    from digest.documentpage import web_link

    assert web_link("https://www.gov.cn/a.pdf") == "https://www.gov.cn/a.pdf"
    assert web_link(" HTTP://x.cn/ ") == "HTTP://x.cn/"
    for hostile in ("javascript:alert(1)", " JavaScript:alert(1)", "data:text/html,<b>", "", None):
        assert web_link(hostile) is None


def test_only_stored_times_are_shown_as_local_times():
    from types import SimpleNamespace

    from digest.browseplugin import attach, render_cell

    ds = SimpleNamespace()
    attach(ds, "America/New_York")

    def cell(value, database="corpus"):
        return render_cell(row={}, value=value, column="x", table="runs", database=database,
                           datasette=ds)

    assert cell("2026-11-20T08:00:00+00:00") == "2026-11-20 03:00"
    assert cell("2026-11-20 08:00:00") == "2026-11-20 03:00"  # naive is UTC, as stored
    assert cell("2026-11-20T08:00:00+00:00", "other") is None  # not the corpus
    # Dates, text that only starts like a time, and long hostile cells are Datasette's to show.
    for value in ("2026-11-20", "2026-11-20T08:00:00+00:00 <script>", "2026-11-20T99:99",
                  "2026-11-20T08:00" + "0" * 1_000_000, 20261120, None):
        assert cell(value) is None, str(value)[:40]
