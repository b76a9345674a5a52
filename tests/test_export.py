"""`policywatch export`: CSV (UTF-8 with BOM), JSONL and XLSX read back give the same documents
and tags as the corpus; filters select what SQL selects; a failed export leaves nothing behind."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from digest.export import EXPORT_COLUMNS
from scheduler import main
from tests.classified_corpus import DRAFT_TITLE, classified_copy

pytestmark = pytest.mark.e2e
TAGS = ("scenarios", "measures", "techs")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    return classified_copy(tmp_path_factory, "export")


def corpus_rows(corpus: Path, where: str = "1", params=()) -> dict[int, dict]:
    conn = sqlite3.connect(corpus)
    conn.row_factory = sqlite3.Row
    rows = conn.execute(f"SELECT * FROM documents WHERE {where}", params).fetchall()
    out = {}
    for row in rows:
        doc = dict(row)
        for column in TAGS:
            doc[column] = json.loads(doc[column]) if doc[column] else []
        out[doc["id"]] = doc
    return out


def export(corpus: Path, *args: str) -> str:
    result = CliRunner().invoke(main, ["export", "--db", str(corpus), *args])
    assert result.exit_code == 0, result.output
    return result.output


def assert_same_documents(rows: list[dict], expected: dict[int, dict], split_tags: bool) -> None:
    got = {int(r["id"]): r for r in rows}
    assert set(got) == set(expected)
    for doc_id, doc in expected.items():
        row = got[doc_id]
        for column in ("url", "title", "site", "relevance", "level", "region", "published_date"):
            assert (row[column] or None) == doc[column], (doc_id, column)
        assert (row["doc_number"] or None) == doc["doc_number"]
        for column in TAGS:
            value = row[column]
            tags = [t for t in value.split(";") if t] if split_tags else value
            assert tags == doc[column], (doc_id, column)


def test_csv_has_a_bom_stable_columns_and_round_trips(corpus, tmp_path):
    out = tmp_path / "documents.csv"
    said = export(corpus, "--out", str(out))
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert said.strip() == f"已导出 {len(rows)} 份文件到 {out}"
    assert tuple(rows[0].keys()) == EXPORT_COLUMNS
    assert_same_documents(rows, corpus_rows(corpus), split_tags=True)
    # Chinese survives as it is, not as escapes.
    assert "元宇宙" in raw.decode("utf-8-sig")


def test_jsonl_round_trips_with_lists(corpus, tmp_path):
    out = tmp_path / "documents.jsonl"
    export(corpus, "--out", str(out), "--with-text")
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert tuple(rows[0]) == EXPORT_COLUMNS + ("body_text",)
    expected = corpus_rows(corpus)
    assert_same_documents(rows, expected, split_tags=False)
    for row in rows:
        assert row["body_text"] == expected[row["id"]]["body_text"]
        evidence = expected[row["id"]]["evidence"]
        assert row["evidence"] == (json.loads(evidence) if evidence else None)


def test_xlsx_round_trips(corpus, tmp_path):
    from openpyxl import load_workbook

    out = tmp_path / "documents.xlsx"
    export(corpus, "--out", str(out), "--relevance", "dedicated,mentions")
    book = load_workbook(out, read_only=True)
    assert book.sheetnames == ["documents", "columns"]
    values = list(book["documents"].iter_rows(values_only=True))
    header, body = values[0], values[1:]
    assert header == EXPORT_COLUMNS
    rows = [dict(zip(header, (("" if v is None else v) for v in row))) for row in body]
    # Dates are Excel dates, not text.
    dated = [r for r in rows if r["published_date"]]
    assert dated and all(isinstance(r["published_date"], datetime) for r in dated)
    for row in rows:
        for column in ("written_date", "published_date"):
            if isinstance(row[column], datetime):
                row[column] = row[column].date().isoformat()
    expected = corpus_rows(corpus, "relevance IN ('dedicated', 'mentions')")
    assert expected
    assert_same_documents(rows, expected, split_tags=True)


def test_xlsx_reads_as_a_spreadsheet_should(corpus, tmp_path):
    from openpyxl import load_workbook

    out = tmp_path / "documents.xlsx"
    export(corpus, "--out", str(out))
    sheet = load_workbook(out)["documents"]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:{sheet.cell(1, sheet.max_column).column_letter}{sheet.max_row}"
    url = EXPORT_COLUMNS.index("url") + 1
    link = sheet.cell(2, url)
    assert link.hyperlink is not None and link.hyperlink.target == link.value.strip()
    published = sheet.cell(2, EXPORT_COLUMNS.index("published_date") + 1)
    assert published.number_format == "yyyy-mm-dd"
    first_seen = sheet.cell(2, EXPORT_COLUMNS.index("first_seen") + 1)
    assert isinstance(first_seen.value, datetime) and first_seen.number_format == "yyyy-mm-dd hh:mm"
    assert sheet.column_dimensions[sheet.cell(1, EXPORT_COLUMNS.index("title") + 1).column_letter].width == 60


def test_every_code_has_its_chinese_label_beside_it(corpus):
    from digest.labels import DOC_TYPES, LEVELS, RELEVANCE, STATUSES, tag_label

    rows = list(csv.DictReader(io.StringIO(export(corpus, "--format", "csv").lstrip("\ufeff"))))
    assert rows
    for row in rows:
        for column, labels in (("relevance", RELEVANCE), ("level", LEVELS), ("doc_type", DOC_TYPES),
                               ("status", STATUSES)):
            assert row[f"{column}_zh"] == (labels.get(row[column], row[column]) if row[column] else "")
        for column in TAGS:
            codes = [t for t in row[column].split(";") if t]
            assert row[f"{column}_zh"].split(";") == ([tag_label(column, t) for t in codes] or [""])
    tagged = next(r for r in rows if r["evidence"])
    assert "{" not in tagged["evidence"] and "：" in tagged["evidence"]  # lines, not JSON
    assert any(r["relevance_zh"] == "专项政策" for r in rows)


def test_filters_select_what_sql_selects(corpus, tmp_path):
    out = tmp_path / "some.jsonl"
    export(corpus, "--out", str(out), "--relevance", "dedicated", "--relevance", "related",
           "--region", "华东,华中", "--from", "2022-01-01", "--to", "2026-09-30")
    ids = {json.loads(line)["id"] for line in out.read_text(encoding="utf-8").splitlines()}
    expected = corpus_rows(
        corpus,
        "relevance IN ('dedicated', 'related') AND region IN ('华东', '华中') AND "
        "coalesce(published_date, written_date, substr(first_seen, 1, 10)) "
        "BETWEEN '2022-01-01' AND '2026-09-30'")
    assert ids == set(expected) and ids


def test_per_policy_exports_each_policy_once_as_its_final(corpus):
    text = export(corpus, "--format", "jsonl", "--per-policy")
    rows = [json.loads(line) for line in text.splitlines()]
    conn = sqlite3.connect(corpus)
    policies = conn.execute("SELECT count(DISTINCT coalesce(policy_id, id)) FROM documents "
                            "WHERE doc_type IS NOT 'interpretation'").fetchone()[0]
    assert len(rows) == policies  # a 政策解读 is no policy
    assert not any(r["doc_type"] == "interpretation" for r in rows)
    assert DRAFT_TITLE not in {r["title"] for r in rows}
    assert len({r["policy_id"] for r in rows}) == len(rows)


def test_csv_to_standard_output(corpus):
    text = export(corpus, "--site", "replay_generic")
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert {r["url"] for r in rows} == {d["url"] for d in corpus_rows(
        corpus, "site = 'replay_generic'").values()}


@pytest.mark.parametrize("args, message", [
    (["--format", "xlsx"], "an xlsx export needs a file"),
    (["--site", "nowhere"], "unknown site nowhere"),
    (["--level", "village"], "'village' is not one of"),
    (["--to", "yesterday"], "--to 'yesterday' is not a date"),
])
def test_bad_options_are_refused(corpus, args, message):
    result = CliRunner().invoke(main, ["export", "--db", str(corpus), *args])
    assert result.exit_code != 0
    assert message in result.output


def test_out_must_be_a_file(corpus, tmp_path):
    result = CliRunner().invoke(main, ["export", "--db", str(corpus), "--out", str(tmp_path)])
    assert result.exit_code != 0


def test_a_failed_export_leaves_the_previous_file_and_no_scratch(corpus, tmp_path, monkeypatch):
    from digest import export as export_module
    from digest.selection import Filters
    from pipelines.schema import open_corpus

    out = tmp_path / "documents.jsonl"
    out.write_text("the previous export\n", encoding="utf-8")

    def fail_halfway(rows, stream):
        stream.write(json.dumps(rows[0], ensure_ascii=False) + "\n")
        raise OSError("disk full")

    monkeypatch.setattr(export_module, "write_jsonl", fail_halfway)
    with pytest.raises(OSError, match="disk full"):
        export_module.export_documents(open_corpus(corpus), Filters(), "jsonl", out)
    assert out.read_text(encoding="utf-8") == "the previous export\n"
    assert [p.name for p in tmp_path.iterdir()] == ["documents.jsonl"]


def test_an_interpretation_names_the_policy_it_explains(corpus):
    """A 政策解读's row says which document it explains (id and title); other rows leave it empty."""
    rows = [json.loads(line) for line in export(corpus, "--format", "jsonl").splitlines()]
    conn = sqlite3.connect(corpus)
    links = dict(conn.execute("SELECT document_id, explains_id FROM interpretations").fetchall())
    assert links  # the replay portal's 江苏 plan and its 解读
    for row in rows:
        assert row["explains_id"] == links.get(row["id"])
        if row["explains_id"]:
            title = conn.execute("SELECT title FROM documents WHERE id = ?", [row["explains_id"]]).fetchone()[0]
            assert row["explains_title"] == title and row["doc_type"] == "interpretation"
