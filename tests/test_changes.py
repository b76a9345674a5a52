"""Change detection as pure functions: what counts as a revision (and what never does), repeal
by status or by decision, and when absences make a withdrawal."""

from __future__ import annotations

import pytest

from pipelines.changes import (
    Snapshot,
    comparable_text,
    compare,
    is_repeal_decision,
    repealed_numbers,
    status_says_repealed,
    withdrawal_due,
)

TEXT = ("各区人民政府，市政府各部门：\n一、总体要求。到2025年，建成2个元宇宙产业基地。\n"
        "二、重点任务。支持企业开展关键技术攻关。")
FIELDS = {"title": "关于推动元宇宙产业创新发展的若干措施", "doc_number": "示政办发〔2024〕3号",
          "issuer": "示例市人民政府办公室", "index_no": "000000000/2024-00012",
          "written_date": "2024-02-27", "published_date": "2024-03-01", "validity": "有效"}
PDF = {"url": "http://www.example.gov.cn/files/a.pdf", "name": "附件1", "sha256": "a" * 64, "error": None}


def snap(text=TEXT, fields=None, attachments=(PDF,), source="page") -> Snapshot:
    return Snapshot(text, {**FIELDS, **(fields or {})}, tuple(attachments), source)


@pytest.mark.parametrize("furniture", [
    "\n浏览次数：1388", "\n【打印本页】【关闭窗口】", "\n分享到：", "\n扫一扫在手机打开当前页",
    "\n页面生成时间：2026-11-25 06:01:33", "\n相关链接", "\n访问量: 42次", "\n字体：大 中 小",
])
def test_page_furniture_is_never_a_revision(furniture):
    assert compare(snap(TEXT + "\n浏览次数：1024"), snap(TEXT + furniture)).changed == ()


def test_furniture_words_inside_policy_text_are_kept():
    assert comparable_text("依法关闭落后产能。打印店须登记。") == "依法关闭落后产能。打印店须登记。"
    assert compare(snap("依法关闭落后产能。"), snap("依法淘汰落后产能。")).changed == ("text",)


def test_a_text_edit_is_a_revision_with_its_sentence_diff():
    revision = compare(snap(), snap(TEXT.replace("2个", "3个")))
    assert revision.changed == ("text",)
    entry = revision.text["entries"][0]
    assert entry["op"] == "changed" and ["+", "3"] in entry["segments"]
    assert revision.diff()["changed"] == ["text"]


def test_a_layout_change_is_no_revision():
    assert compare(snap(), snap(TEXT.replace("\n", "\n\n").replace("，", "， "))).changed == ()


def test_an_empty_extraction_is_not_a_change():
    assert compare(snap(), snap("  \n ")).changed == ()


def test_a_cover_note_standing_in_for_an_unread_attachment_is_not_a_change():
    failed = {**PDF, "sha256": None, "error": "HTTP 503"}
    before = snap("附件正文：第一条……第二条……", source="attachment")
    after = snap("现将《若干措施》印发给你们。", attachments=[failed], source="page")
    assert compare(before, after).changed == ()


def test_key_fields_and_attachments_are_revisions():
    revision = compare(snap(), snap(fields={"published_date": "2024-03-02"},
                                    attachments=[{**PDF, "sha256": "b" * 64}]))
    assert revision.changed == ("fields", "attachments")
    assert revision.fields == [{"field": "published_date", "label": "发布日期",
                                "old": "2024-03-01", "new": "2024-03-02"}]
    assert revision.attachments == [{"change": "replaced", "name": "附件1", "url": PDF["url"]}]


def test_a_version_stored_before_validity_was_read_is_not_revised_by_it():
    old_fields = {k: v for k, v in FIELDS.items() if k != "validity"}
    assert compare(Snapshot(TEXT, old_fields, (PDF,)), snap()).changed == ()


@pytest.mark.parametrize("value, repealed", [
    ("失效", True), ("已废止", True), ("废止", True), ("无效", True), ("已失效", True),
    ("有效", False), ("现行有效", False), ("部分失效", False), ("", False), (None, False),
])
def test_status_values(value, repealed):
    assert status_says_repealed(value) is repealed


def test_a_status_turning_to_repealed_is_a_repeal_not_a_revision():
    revision = compare(snap(), snap(fields={"validity": "失效"}))
    assert revision.repealed_by_status == "失效" and revision.only_repeal
    both = compare(snap(), snap(TEXT + "\n三、附则。", fields={"validity": "失效"}))
    assert both.repealed_by_status == "失效" and not both.only_repeal
    assert compare(snap(fields={"validity": "失效"}), snap(fields={"validity": "已失效"})).repealed_by_status is None


@pytest.mark.parametrize("title, decision", [
    ("山西省人民政府关于废止和宣布失效一批省政府规范性文件的决定", True),
    ("关于公布规范性文件清理结果的通知", True),
    ("关于宣布失效一批行政规范性文件的通知", True),
    ("关于印发元宇宙产业发展行动计划的通知", False),
])
def test_repeal_decisions_are_told_by_their_titles(title, decision):
    assert is_repeal_decision(title) is decision


DECISION = """晋政发〔2026〕12号
各市、县人民政府：
根据《国务院办公厅关于开展行政规范性文件清理工作的通知》（国办发〔2026〕5号）要求，对省政府规范性文件进行了清理。现决定如下：
一、决定废止下列文件：
1.《山西省人民政府关于进一步加强耕地保护工作的意见》（晋政发〔2024〕3号）
2.《关于加快发展现代物流业的若干意见》（晋政发[2019]15号）
二、宣布下列文件失效：
1.《山西省煤炭资源整合实施方案》（晋政发（2018）22号）
三、下列文件继续有效，由制定机关适时修订：
1.《山西省数据要素市场化配置改革实施方案》（晋政发〔2024〕6号）
本决定自公布之日起施行。"""


def test_a_decision_repeals_the_numbers_listed_under_its_repeal_headings():
    found = dict(repealed_numbers(DECISION, "晋政发〔2026〕12号"))
    assert set(found) == {"晋政发〔2024〕3号", "晋政发〔2019〕15号", "晋政发〔2018〕22号"}
    assert "耕地保护" in found["晋政发〔2024〕3号"]


def test_numbers_in_one_sentence_with_the_repeal_word_count():
    text = "经研究，决定废止《示例市城市更新办法》（示政规〔2020〕1号）和《示例市停车管理规定》（示政规〔2019〕7号）。"
    assert {k for k, _ in repealed_numbers(text)} == {"示政规〔2020〕1号", "示政规〔2019〕7号"}
    assert repealed_numbers("根据《某某办法》（国发〔2020〕1号），制定本办法。") == []


def test_withdrawal_needs_two_check_days_after_the_last_sighting():
    assert not withdrawal_due(["2026-11-24"], None)
    assert not withdrawal_due(["2026-11-24", "2026-11-24"], None)  # one day, checked twice
    assert withdrawal_due(["2026-11-24", "2026-11-26"], "2026-11-23")  # a day without a check between
    assert not withdrawal_due(["2026-11-24", "2026-11-26"], "2026-11-25")  # seen again between
    assert not withdrawal_due(["2026-11-24", "2026-11-25"], "2026-11-25")  # seen later the same day
