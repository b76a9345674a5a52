"""`policywatch export`: CSV (UTF-8 with BOM), JSONL and XLSX read back give the same documents
and tags as the corpus; filters select what SQL selects; a failed export leaves nothing behind."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
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
    export(corpus, "--out", str(out))
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
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
    expected = corpus_rows(corpus, "relevance IN ('dedicated', 'mentions')")
    assert expected
    assert_same_documents(rows, expected, split_tags=True)


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
    policies = conn.execute("SELECT count(DISTINCT coalesce(policy_id, id)) FROM documents").fetchone()[0]
    assert len(rows) == policies
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
    from pipelines.schema import open_corpus
    from digest.selection import Filters

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
