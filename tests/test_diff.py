"""Readable diffs: sentences added, removed and edited (changed characters marked), attachments
named, metadata as field: old → new."""

from __future__ import annotations

import pytest

from pipelines.diff import (
    attachment_changes,
    char_segments,
    field_changes,
    paragraphs,
    segments_as_text,
    split_sentences,
    text_diff,
)

OLD = (
    "各区人民政府，市政府各部门：\n"
    "一、总体要求。到2025年，建成2个元宇宙产业基地。\n"
    "二、重点任务。支持企业开展关键技术攻关；建设公共服务平台。\n"
    "三、保障措施。加强资金支持。"
)
NEW = (
    "各区人民政府，市政府各部门：\n"
    "一、总体要求。到2026年，建成3个元宇宙产业基地。\n"
    "二、重点任务。支持企业开展关键技术攻关；建设公共服务平台。\n"
    "三、保障措施。加强资金支持和人才引进。\n"
    "四、附则。本方案自印发之日起施行。"
)


def test_sentences_split_on_chinese_stops_and_line_breaks():
    assert split_sentences("第一句。第二句；第三句！第四句？\n标题行\n第五句") == [
        "第一句。", "第二句；", "第三句！", "第四句？", "标题行", "第五句"]


def test_lines_a_pdf_extractor_wrapped_are_one_sentence_again():
    pdf = ("为加快促进我市元宇宙产业创新发展,开辟经济发展新领域\n\n"
           "新赛道,结合我市实际,特制订本方案。\n\n一、总体要求\n\n坚持应用牵引。")
    assert paragraphs(pdf) == [
        "为加快促进我市元宇宙产业创新发展,开辟经济发展新领域\n新赛道,结合我市实际,特制订本方案。",
        "一、总体要求", "坚持应用牵引。"]
    assert split_sentences(pdf)[0] == "为加快促进我市元宇宙产业创新发展,开辟经济发展新领域新赛道,结合我市实际,特制订本方案。"


def test_a_revision_lists_added_and_edited_sentences_with_the_characters_marked():
    diff = text_diff(OLD, NEW)
    assert (diff["added"], diff["removed"], diff["changed"], diff["omitted"]) == (2, 0, 2, 0)
    first = diff["entries"][0]
    assert first["op"] == "changed"
    assert first["old"] == "到2025年，建成2个元宇宙产业基地。"
    assert first["segments"] == [["=", "到202"], ["-", "5"], ["+", "6"], ["=", "年，建成"],
                                 ["-", "2"], ["+", "3"], ["=", "个元宇宙产业基地。"]]
    assert segments_as_text(diff["entries"][1]["segments"]) == "加强资金支持{+和人才引进+}。"
    assert [e["text"] for e in diff["entries"] if e["op"] == "added"] == ["四、附则。", "本方案自印发之日起施行。"]


def test_a_rewritten_sentence_is_removed_and_added_not_marked_character_by_character():
    diff = text_diff("总则。各单位要加强组织领导。", "总则。市财政每年安排专项资金五千万元。")
    assert [e["op"] for e in diff["entries"]] == ["removed", "added"]


def test_removed_sentences_are_listed_in_order():
    diff = text_diff(NEW, OLD)
    assert [e["op"] for e in diff["entries"]] == ["changed", "changed", "removed", "removed"]
    assert diff["entries"][2]["text"] == "四、附则。"


@pytest.mark.parametrize("reflowed", [
    OLD.replace("\n", "\n\n"),  # blank lines between paragraphs
    OLD.replace("2025", "２０２５").replace("，", "， "),  # full-width digits, spaces
    OLD.replace("一、总体要求。", "一、总体要求。\n"),  # a line break after a stop
])
def test_layout_and_width_are_not_differences(reflowed):
    diff = text_diff(OLD, reflowed)
    assert diff["entries"] == [] and diff["added"] == diff["removed"] == diff["changed"] == 0


def test_long_diffs_are_cut_and_counted():
    old = "".join(f"第{i}条旧内容。" for i in range(100))
    new = "".join(f"第{i}款完全不同的新规定条文内容。" for i in range(100))
    diff = text_diff(old, new, max_entries=10)
    assert len(diff["entries"]) == 10
    assert diff["omitted"] == diff["added"] + diff["removed"] + diff["changed"] - 10 > 0


def test_character_segments_keep_the_text_as_written():
    # Compared folded (full-width == half-width), shown as the portal wrote it.
    assert char_segments("到2025年", "到２０２５年底") == [["=", "到２０２５年"], ["+", "底"]]


def test_metadata_changes_read_field_old_new():
    old = {"doc_number": "示政办发〔2024〕3号", "published_date": "2024-03-01", "title": "甲"}
    new = {"doc_number": "示政办发〔2024〕4号", "published_date": "2024-03-01", "title": "甲 ",
           "validity": "失效"}
    assert field_changes(old, new) == [
        {"field": "doc_number", "label": "文号", "old": "示政办发〔2024〕3号", "new": "示政办发〔2024〕4号"}]


def test_a_value_that_disappears_is_a_gap_not_a_change_but_a_new_value_is():
    assert field_changes({"doc_number": "示政发〔2024〕1号"}, {"doc_number": None}) == []
    assert field_changes({"validity": None}, {"validity": "失效"}) == [
        {"field": "validity", "label": "有效性", "old": None, "new": "失效"}]


def test_attachment_changes_are_named():
    a = {"url": "http://x.gov.cn/a.pdf", "name": "附件1", "sha256": "a" * 64}
    b = {"url": "http://x.gov.cn/b.pdf", "name": "附件2", "sha256": "b" * 64}
    c = {"url": "http://x.gov.cn/c.docx", "name": "附件3", "sha256": "c" * 64}
    changed_a = {**a, "sha256": "d" * 64}
    assert attachment_changes([a, b], [changed_a, c]) == [
        {"change": "replaced", "name": "附件1", "url": a["url"]},
        {"change": "added", "name": "附件3", "url": c["url"]},
        {"change": "removed", "name": "附件2", "url": b["url"]},
    ]


def test_a_failed_download_or_a_moved_identical_file_is_no_attachment_change():
    a = {"url": "http://x.gov.cn/a.pdf", "name": "附件1", "sha256": "a" * 64}
    failed = {"url": a["url"], "name": "附件1", "sha256": None}
    moved = {**a, "url": "http://x.gov.cn/files/2024/a.pdf"}
    assert attachment_changes([a], [failed]) == []
    assert attachment_changes([a], [moved]) == []
    replaced = {**moved, "sha256": "e" * 64}
    assert attachment_changes([a], [replaced]) == [
        {"change": "replaced", "name": "附件1", "url": moved["url"], "old_url": a["url"]}]


def test_real_pdf_text_diffs_against_its_web_form_to_nothing(realpages):
    """The Wuhan plan as its PDF gave it and as a web page would show it: no difference."""
    text = (realpages / "text" / "wuhan_wzg_2022_16_final.txt").read_text(encoding="utf-8")
    # One paragraph a line, no spaces, full-width punctuation: how a portal's page shows it.
    as_web_page = "\n".join("".join(p.split()) for p in paragraphs(text))
    as_web_page = as_web_page.replace(",", "，").replace("(", "（").replace(")", "）")
    assert text_diff(text, as_web_page)["entries"] == []
    assert text_diff(text, "".join(as_web_page.split()))["entries"] == []  # not even a line break
    edited = as_web_page.replace("50个以上元宇宙典型应用场景", "80个以上元宇宙典型应用场景")
    diff = text_diff(text, edited)
    assert diff["changed"] == 1 and diff["added"] == diff["removed"] == 0
    assert ["-", "5"] in diff["entries"][0]["segments"] and ["+", "8"] in diff["entries"][0]["segments"]
