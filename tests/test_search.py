"""Search as researchers type it: 文号 and 索引号 exactly, OR, phrases; the CLI's table, JSON
and "nothing found"."""

from __future__ import annotations

import json
from datetime import date

import pytest
from click.testing import CliRunner

from pipelines.schema import open_corpus
from pipelines.search import parse_query, search
from pipelines.storing import store_document
from scheduler import main
from tests.test_corpus import make_item

PLAN = "关于推动元宇宙产业创新发展的若干措施"
FARM = "关于印发智慧农业发展规划的通知"
GOV = "江西省人民政府办公厅关于印发江西省元宇宙产业发展行动计划的通知"


@pytest.fixture
def db_path(tmp_path):
    path = tmp_path / "corpus.db"
    db = open_corpus(path)
    store_document(db, make_item())  # 示政办发〔2024〕3号, 索引号 000000000/2024-00012
    store_document(db, make_item(
        url="http://www.example.gov.cn/art/2024/3/5/art_1_101.html", title=FARM,
        body_text="推进智慧农业和数字乡村建设。", doc_number="示政发〔2024〕9号",
        index_no="000000000/2024-00020", published_date=date(2024, 3, 5), attachments=[]))
    store_document(db, make_item(
        url="http://www.example.gov.cn/art/2026/1/5/art_1_102.html", title=GOV,
        body_text="各设区市人民政府：现将行动计划印发给你们。虚拟现实 产业 集群建设。",
        doc_number="赣府厅发〔2026〕38号", index_no="014500858/2026-01234",
        published_date=date(2026, 1, 5), attachments=[]))
    db.close()
    return path


@pytest.fixture
def db(db_path):
    database = open_corpus(db_path)
    yield database
    database.close()


def titles(hits):
    return [h["title"] for h in hits]


@pytest.mark.parametrize("typed", ["赣府厅发〔2026〕38号", "赣府厅发[2026]38号", '"赣府厅发（2026）38 号"',
                                   "赣府厅发【2026】38号"])
def test_a_doc_number_is_found_however_its_brackets_are_written(db, typed):
    assert titles(search(db, typed)) == [GOV]


def test_an_index_number_is_found_exactly(db):
    assert titles(search(db, "014500858/2026-01234")) == [GOV]
    assert titles(search(db, "000000000/2024-00020")) == [FARM]


def test_or_finds_either_and_the_exact_number_comes_first(db):
    assert set(titles(search(db, "智慧农业 OR 数字孪生"))) == {FARM, PLAN}
    assert set(titles(search(db, "智慧农业 | 数字孪生"))) == {FARM, PLAN}
    assert titles(search(db, "元宇宙 OR 示政发〔2024〕9号"))[0] == FARM


def test_a_quoted_phrase_keeps_its_spaces_and_and_still_needs_every_term(db):
    assert titles(search(db, '"虚拟现实 产业"')) == [GOV]
    assert titles(search(db, "“虚拟现实 产业”")) == [GOV]
    assert titles(search(db, "虚拟现实 乡村")) == []  # both terms, no document has both


def test_a_query_of_only_or_is_empty():
    with pytest.raises(ValueError, match="empty"):
        parse_query(" OR | ")


def test_cli_search_prints_json_and_says_when_nothing_is_found(db_path):
    runner = CliRunner()
    found = runner.invoke(main, ["search", "赣府厅发[2026]38号", "--db", str(db_path), "--json"])
    assert found.exit_code == 0, found.output
    rows = json.loads(found.output)
    assert [r["doc_number"] for r in rows] == ["赣府厅发〔2026〕38号"]
    assert {"title", "url", "site", "published_date", "issuer", "relevance"} <= set(rows[0])
    none = runner.invoke(main, ["search", "量子计算", "--db", str(db_path)])
    assert none.exit_code == 0
    assert "没有找到与“量子计算”匹配的文件" in none.output
    assert json.loads(runner.invoke(main, ["search", "量子计算", "--db", str(db_path), "--json"]).output) == []


def test_cli_search_table_keeps_chinese_columns_aligned(db_path):
    from crawlers.parsing.display import display_width

    shown = CliRunner().invoke(main, ["search", "元宇宙 OR 智慧农业", "--db", str(db_path)])
    assert shown.exit_code == 0, shown.output
    lines = [line for line in shown.output.splitlines() if line.strip()]
    header, rule, *rows = lines
    assert header.split()[:4] == ["发布日期", "站点", "文号", "标题"]
    title_column = display_width(header[:header.index("标题")])
    for row in rows[:3]:
        # Every row's title starts under the header's, measured in screen cells.
        assert any(display_width(row[:i]) == title_column and row[i:].startswith(("关于", "江西"))
                   for i in range(len(row)))


def test_a_query_of_too_many_terms_is_refused_in_one_line():
    from pipelines.search import MAX_TERMS, matching_ids_sql

    parse_query(" ".join(f"词{i}" for i in range(MAX_TERMS)))  # at the bound: searched
    with pytest.raises(ValueError, match=f"too many search terms \\(at most {MAX_TERMS}\\)"):
        parse_query(" OR ".join(f"词{i}" for i in range(MAX_TERMS + 1)))
    sql, params = matching_ids_sql('赣府厅发[2026]38号 OR "元宇宙 产业"')
    assert sql.startswith("SELECT d.id FROM documents d WHERE") and params
