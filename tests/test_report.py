"""`policywatch report` on a corpus crawled from the replay portal: every number, share and list
checked against the corpus by independent SQL; the charts drawn with Chinese glyphs."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from scheduler import main
from tests.classified_corpus import DRAFT_TITLE, FINAL_TITLE, classified_copy

pytestmark = pytest.mark.e2e

# One document per policy, as TAXONOMY.md §5 counts: documents sharing a policy_id count once,
# as the final (drafts last, then withdrawn pages, then the earliest).
POLICIES_SQL = """
WITH docs AS (
  SELECT d.*, coalesce(d.policy_id, d.id) AS policy,
    coalesce(d.published_date, d.written_date, substr(d.first_seen, 1, 10)) AS day,
    CASE WHEN d.status IS NOT NULL AND d.status != '' THEN d.status = 'draft'
         ELSE (d.title LIKE '%征求意见%' OR d.title LIKE '%草案%') END AS draft
  FROM documents d WHERE d.doc_type IS NOT 'interpretation'),
ranked AS (
  SELECT *, row_number() OVER (
    PARTITION BY policy ORDER BY draft, withdrawn_at IS NOT NULL, day, id) AS rn
  FROM docs)
SELECT * FROM ranked WHERE rn = 1
"""
SINGLE = {"relevance": "relevance", "level": "level", "region": "region",
          "city_tier": "city_tier", "month": "substr(day, 1, 7)"}
TAGS = ("scenarios", "measures", "techs")
ALL_RELEVANT = ("dedicated", "mentions", "related")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    return classified_copy(tmp_path_factory, "report")


def counted(conn, relevance, date_from="0000-00-00", date_to="9999-99-99") -> str:
    """SQL of the policies a report counts (as a subquery)."""
    marks = ", ".join(f"'{r}'" for r in relevance)
    return (f"SELECT * FROM ({POLICIES_SQL}) WHERE relevance IN ({marks}) "
            f"AND day BETWEEN '{date_from}' AND '{date_to}'")


def expected_buckets(conn, sub: str) -> dict[str, dict]:
    """Breakdown name -> {key: sorted document ids}, computed straight from the corpus."""
    out: dict[str, dict] = {}
    for name, expr in SINGLE.items():
        groups: dict = {}
        for key, doc_id in conn.execute(f"SELECT {expr}, id FROM ({sub})"):
            groups.setdefault(key, []).append(doc_id)
        out[name] = {k: sorted(v) for k, v in groups.items()}
    for column in TAGS:
        groups = {}
        for key, doc_id in conn.execute(
                f"SELECT DISTINCT j.value, p.id FROM ({sub}) p, json_each(p.{column}) j"):
            groups.setdefault(key, []).append(doc_id)
        untagged = [r[0] for r in conn.execute(
            f"SELECT id FROM ({sub}) WHERE coalesce(json_array_length({column}), 0) = 0")]
        if untagged:
            groups[None] = untagged
        out[column] = {k: sorted(v) for k, v in groups.items()}
    return out


def run_report(corpus: Path, out: Path, *args: str):
    result = CliRunner().invoke(main, ["report", "--db", str(corpus), "--out", str(out), *args])
    assert result.exit_code == 0, result.output
    return json.loads((out / "report.json").read_text(encoding="utf-8")), result


def markdown_tables(text: str) -> dict[str, dict[str, int]]:
    """Section title -> {row label: count} from the report's Markdown."""
    tables: dict[str, dict[str, int]] = {}
    section = None
    for line in text.splitlines():
        heading = re.match(r"## \d+\. (.+)", line)
        if heading:
            section = heading.group(1)
            tables[section] = {}
        elif section and line.startswith("| ") and not line.startswith("| 类别"):
            cells = [c.strip() for c in line.strip("|").split(" | ")]
            tables[section][cells[0]] = int(cells[1])
        elif line.startswith("## 附录"):
            section = None
    return tables


@pytest.fixture(scope="module")
def drawn(corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("report-out")
    data, result = run_report(corpus, out, "--relevance", ",".join(ALL_RELEVANT))
    return data, out, result


def test_every_number_and_its_documents_match_the_corpus(corpus, drawn):
    data, _, _ = drawn
    conn = sqlite3.connect(corpus)
    sub = counted(conn, ALL_RELEVANT)
    total = conn.execute(f"SELECT count(*) FROM ({sub})").fetchone()[0]
    assert total > 5
    assert data["total"] == total
    assert data["documents"] == conn.execute(
        f"SELECT count(*) FROM documents WHERE coalesce(policy_id, id) IN "
        f"(SELECT policy FROM ({sub}))").fetchone()[0]
    expected = expected_buckets(conn, sub)
    for name, want in expected.items():
        buckets = data["breakdowns"][name]["buckets"]
        got = {b["key"]: sorted(b["documents"]) for b in buckets if b["count"]}
        assert got == want, name
        for b in buckets:
            assert b["count"] == len(b["documents"])
            assert b["share"] == pytest.approx(b["count"] / total, abs=1e-6)
    # Single-label breakdowns cover every counted policy exactly once.
    for name in SINGLE:
        assert sum(b["count"] for b in data["breakdowns"][name]["buckets"]) == total
    # The appendix lists exactly the counted documents, each with its place in the numbers.
    appendix_ids = {row["id"] for row in data["appendix"]}
    assert appendix_ids == {r[0] for r in conn.execute(f"SELECT id FROM ({sub})")}


def test_interpretations_are_said_and_never_counted(corpus, drawn):
    """政策解读 explain a policy: the report says how many, and counts none of them."""
    data, out, _ = drawn
    conn = sqlite3.connect(corpus)
    marks = ", ".join(f"'{r}'" for r in ALL_RELEVANT)
    interpretations = [r[0] for r in conn.execute(
        f"SELECT id FROM documents WHERE doc_type = 'interpretation' AND relevance IN ({marks})")]
    assert interpretations  # the replay portal's 江苏 metaverse plan has its 解读
    assert data["interpretations"] == len(interpretations)
    assert not {row["id"] for row in data["appendix"]} & set(interpretations)
    assert f"另有 {len(interpretations)} 篇政策解读" in (out / "report.md").read_text(encoding="utf-8")


def test_a_draft_and_its_final_count_once_as_the_final(corpus, drawn):
    data, _, _ = drawn
    conn = sqlite3.connect(corpus)
    draft_id = conn.execute("SELECT id FROM documents WHERE title = ?", [DRAFT_TITLE]).fetchone()[0]
    final_id = conn.execute("SELECT id FROM documents WHERE title = ?", [FINAL_TITLE]).fetchone()[0]
    rows = {row["id"]: row for row in data["appendix"]}
    assert final_id in rows and draft_id not in rows
    assert draft_id in rows[final_id]["other_documents"]


def test_markdown_and_html_show_the_same_numbers(corpus, drawn):
    data, out, _ = drawn
    markdown = (out / "report.md").read_text(encoding="utf-8")
    tables = markdown_tables(markdown)
    for name, breakdown in data["breakdowns"].items():
        table = tables[breakdown["title"]]
        for b in breakdown["buckets"]:
            assert table[b["label"]] == b["count"], (name, b["label"])
        if not breakdown["multi_label"]:
            assert table["合计"] == data["total"]
    appendix = markdown.split("## 附录", 1)[1]
    for row in data["appendix"]:
        # The link's text is short (the whole URL squeezed the issuer to a character a line).
        assert f"| [原文](<{row['url']}>) |" in appendix
        assert f"| {row['number']} | " in appendix
        assert f"[{row['url']}]" not in appendix and f"| <{row['url']}> |" not in appendix
    html = (out / "report.html").read_text(encoding="utf-8")
    for row in data["appendix"]:
        assert f'id="doc-{row["number"]}"' in html
    for name in data["breakdowns"]:
        assert f'src="charts/{name}.svg"' in html
        assert "![" in markdown and f"(charts/{name}.png)" in markdown
    conn = sqlite3.connect(corpus)
    dedicated = conn.execute(
        f"SELECT count(*) FROM ({counted(conn, ALL_RELEVANT)}) WHERE relevance = 'dedicated'"
    ).fetchone()[0]
    share = f"{dedicated / data['total'] * 100:.1f}%"
    assert f"| 专项政策（dedicated） | {dedicated} | {share} |" in markdown


def test_charts_exist_and_are_drawn_with_chinese_glyphs(drawn):
    from digest.charts import find_cjk_font

    data, out, _ = drawn
    font_id = find_cjk_font().replace(" ", "")
    for name, breakdown in data["breakdowns"].items():
        png = out / "charts" / f"{name}.png"
        svg = out / "charts" / f"{name}.svg"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
        text = svg.read_text(encoding="utf-8")
        # Text is drawn as glyph outlines from the CJK font; matplotlib notes each string.
        assert f'id="{font_id}-' in text, name
        assert f"<!-- {breakdown['title']} -->" in text
        for b in breakdown["buckets"]:
            first_line = b["label"].split("（")[0] or b["label"]
            assert first_line in text, (name, b["label"])


def test_a_missing_glyph_is_an_error_not_a_box(tmp_path):
    from digest.charts import Bar, ChartError, bar_chart

    with pytest.raises(ChartError, match="missing from font"):
        bar_chart([Bar("专项政策", 3, 0.5)], "按相关性", tmp_path / "chart", font="DejaVu Sans")
    assert list(tmp_path.iterdir()) == []


def test_a_period_counts_a_policy_in_the_month_of_its_final(corpus, tmp_path):
    conn = sqlite3.connect(corpus)
    draft_day = conn.execute("SELECT published_date FROM documents WHERE title = ?",
                             [DRAFT_TITLE]).fetchone()[0]
    final_day = conn.execute("SELECT published_date FROM documents WHERE title = ?",
                             [FINAL_TITLE]).fetchone()[0]
    assert draft_day[:7] < final_day[:7]
    date_from, date_to = draft_day[:7] + "-01", final_day[:7] + "-28"
    data, _ = run_report(corpus, tmp_path, "--from", date_from, "--to", date_to,
                         "--relevance", "dedicated", "--relevance", "mentions", "--no-charts")
    sub = counted(conn, ("dedicated", "mentions"), date_from, date_to)
    assert data["total"] == conn.execute(f"SELECT count(*) FROM ({sub})").fetchone()[0]
    months = {b["key"]: b["count"] for b in data["breakdowns"]["month"]["buckets"]}
    # Every month of the period is listed, the draft's month without the draft.
    assert list(months) == sorted(months) and min(months) == date_from[:7] and max(months) == date_to[:7]
    draft_id = conn.execute("SELECT id FROM documents WHERE title = ?", [DRAFT_TITLE]).fetchone()[0]
    assert all(draft_id not in b["documents"] for b in data["breakdowns"]["month"]["buckets"])
    assert not (tmp_path / "charts").exists() or not any((tmp_path / "charts").iterdir())


def test_unclassified_documents_are_named_not_counted(tmp_path_factory, tmp_path):
    # The corpus as a crawl without the classifier leaves it: nothing to count, and said so.
    copy = classified_copy(tmp_path_factory, "unclassified")
    conn = sqlite3.connect(copy)
    with conn:
        conn.execute("UPDATE documents SET relevance = NULL")
    conn.close()
    result = CliRunner().invoke(main, ["report", "--db", str(copy), "--out", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    assert "统计政策 0 项" in result.output and "尚未分类，未计入统计" in result.output
    markdown = (tmp_path / "r" / "report.md").read_text(encoding="utf-8")
    assert "尚未分类" in markdown
    assert not (tmp_path / "r" / "charts").exists()


@pytest.mark.parametrize("args, message", [
    (["--from", "2024-02-30"], "--from '2024-02-30' is not a date"),
    (["--from", "2024-05-01", "--to", "2024-04-01"], "is after --to"),
    (["--relevance", "dedicated,central"], "'central' is not one of"),
    (["--region", "华西"], "'华西' is not one of"),
    (["--site", "no_such_site"], "unknown site no_such_site"),
])
def test_bad_options_are_refused_and_write_nothing(corpus, tmp_path, args, message):
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["report", "--db", str(corpus), "--out", str(out), *args])
    assert result.exit_code != 0
    assert message in result.output
    assert not out.exists()


def test_a_missing_corpus_is_named(tmp_path):
    result = CliRunner().invoke(main, ["report", "--db", str(tmp_path / "none.db"),
                                       "--out", str(tmp_path / "out")])
    assert result.exit_code != 0 and "no corpus at" in result.output
    assert not (tmp_path / "none.db").exists()
