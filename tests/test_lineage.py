"""Lineage: reposts and moved copies, and a draft (征求意见稿) matched to the final it became."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.lineage import (
    FINAL_TITLE_MIN,
    core_title,
    doc_number_key,
    find_copy,
    find_draft,
    is_draft,
    issuer_affinity,
    text_similarity,
    title_similarity,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sites"

WUHAN_DRAFT = "关于公开征求《武汉市元宇宙产业创新发展实施方案（2022—2024年）（征求意见稿）》意见的通知"
WUHAN_FINAL = "市人民政府关于印发武汉市促进元宇宙产业创新发展实施方案(2022—2025年)的通知"


def expected(site: str, n: int) -> dict:
    data = json.loads((FIXTURES / site / f"detail_{n}.json").read_text(encoding="utf-8"))
    return {"id": n, "site": site, "url": data["url"], "title": data["title"],
            "issuer": data["issuer"], "doc_number": data["doc_number"],
            "published_date": data["published_date"], "text": data["body_text"]}


@pytest.mark.parametrize("title, core", [
    (WUHAN_DRAFT, "武汉市元宇宙产业创新发展实施方案"),
    ("《武汉市元宇宙产业创新发展实施方案（2022—2024年）（征求意见稿）》", "武汉市元宇宙产业创新发展实施方案"),
    (WUHAN_FINAL, "武汉市促进元宇宙产业创新发展实施方案"),
    ("武汉市促进元宇宙产业创新发展实施方案（2022—2025年）", "武汉市促进元宇宙产业创新发展实施方案"),
    ("省工业和信息化厅关于印发《江苏省元宇宙产业创新发展行动计划（2026—2028年）》的通知",
     "江苏省元宇宙产业创新发展行动计划"),
    ("江西省人民政府办公厅关于加快推进虚拟现实产业高质量发展的实施意见", "加快推进虚拟现实产业高质量发展的实施意见"),
])
def test_core_title_drops_wrappers_years_brackets_and_draft_marks(title, core):
    assert core_title(title) == core


def test_the_wuhan_draft_and_final_titles_are_alike_enough():
    assert title_similarity(WUHAN_DRAFT, WUHAN_FINAL) >= FINAL_TITLE_MIN


@pytest.mark.parametrize("title, draft", [
    (WUHAN_DRAFT, True),
    ("《甘肃省中小学数字校园建设规范（征求意见稿）》", True),
    ("关于《上海市数据条例（草案）》公开征求意见的公告", True),
    (WUHAN_FINAL, False),
    ("关于《武汉市元宇宙产业创新发展实施方案（征求意见稿）》意见采纳情况的说明", False),
    ("《江苏省元宇宙产业创新发展行动计划（2026—2028年）》政策解读", False),
])
def test_drafts_are_told_by_their_titles(title, draft):
    assert is_draft(title) is draft


@pytest.mark.parametrize("value", ["武政规〔2022〕16号", "武政规[2022]16号", "武政规（2022）16 号",
                                   "武政规 【2022】 16号", "武政规〔２０２２〕１６号"])
def test_doc_numbers_fold_to_one_key(value):
    assert doc_number_key(value) == "武政规〔2022〕16号"


def test_a_value_that_is_not_a_doc_number_has_no_key():
    assert doc_number_key("无") is None and doc_number_key("2022-10-26") is None


def test_issuers_of_one_jurisdiction_are_related():
    draft = {"issuer": "武汉市经济和信息化局", "title": WUHAN_DRAFT, "site": "wh_jxj"}
    final = {"issuer": "武汉市人民政府", "title": WUHAN_FINAL, "site": "wh_gov"}
    assert issuer_affinity(draft, final) == "place"
    assert issuer_affinity({"issuer": "省政府办公厅", "title": "x"},
                           {"issuer": "江西省人民政府省政府办公厅", "title": "y"}) == "same"
    other = {"issuer": "江苏省工业和信息化厅", "title": "《江苏省元宇宙产业创新发展行动计划》", "site": "js"}
    assert issuer_affinity(draft, other) == ""


def _wuhan_draft_text(final: str) -> str:
    """A draft as such drafts go: the first two thirds of the final's sentences, with the draft's
    period and smaller targets (built from the real final text at test time)."""
    paragraphs = [p for p in final.split("\n") if p.strip()]
    draft = "\n".join(paragraphs[: len(paragraphs) * 2 // 3])
    return draft.replace("2025", "2024").replace("50 个以上", "30 个以上").replace("200 个以上", "100 个以上")


def test_the_wuhan_final_is_matched_to_its_draft(realpages):
    final_text = (realpages / "text" / "wuhan_wzg_2022_16_final.txt").read_text(encoding="utf-8")
    draft = {"id": 7, "site": "wh_jxj", "title": WUHAN_DRAFT, "issuer": "武汉市经济和信息化局",
             "published_date": "2022-08-05", "text": _wuhan_draft_text(final_text)}
    final = {"id": 9, "site": "wh_gov", "title": WUHAN_FINAL, "issuer": "武汉市人民政府",
             "doc_number": "武政规〔2022〕16号", "published_date": "2022-10-26", "text": final_text}
    unrelated = expected("sx_gov", 1)  # 山西省元宇宙产业创新发展行动计划: alike, but another province
    unrelated_as_draft = {**unrelated, "id": 8, "title": "《山西省元宇宙产业创新发展行动计划（征求意见稿）》"}
    match = find_draft(final, [unrelated_as_draft, draft])
    assert match is not None and match.document_id == 7 and match.relation == "finalises"
    assert match.evidence["issuers"] == "place"
    assert match.evidence["title_similarity"] >= FINAL_TITLE_MIN
    assert match.evidence["text_similarity"] >= 0.5
    # A draft is never the final of itself, nor is a draft published after the final.
    assert find_draft(draft, [draft]) is None
    assert find_draft(final, [{**draft, "published_date": "2022-11-01"}]) is None


def test_an_interpretation_of_the_final_is_not_a_final():
    draft = {"id": 1, "site": "js_gxt", "issuer": "江苏省工业和信息化厅", "published_date": "2026-09-20",
             "title": "关于公开征求《江苏省元宇宙产业创新发展行动计划（2026—2028年）（征求意见稿）》意见的通知",
             "text": "元宇宙产业创新发展行动计划征求意见稿全文。"}
    reading = expected("js_gxt", 1)  # 《江苏省元宇宙产业创新发展行动计划（2026—2028年）》政策解读
    assert find_draft(reading, [draft]) is None
    final = expected("js_gxt", 2)  # ... 关于印发《江苏省元宇宙产业创新发展行动计划（2026—2028年）》的通知
    assert find_draft(final, [draft]).document_id == 1  # same title core, same issuer


def test_different_policies_of_one_portal_are_not_matched():
    """Every pair of the fixture documents: no final for a draft among them (the two drafts in
    the fixtures — gs_jyt and js_gxt — have no final there)."""
    docs = [expected(site, n) for site, count in (("gs_jyt", 5), ("js_gxt", 5), ("sx_gov", 5),
                                                   ("jx_gov", 3), ("zj_fgw", 3), ("cn_gov", 4))
            for n in range(1, count + 1)]
    for i, doc in enumerate(docs):
        doc["id"] = i
    drafts = [d for d in docs if is_draft(d["title"])]
    assert {d["site"] for d in drafts} == {"gs_jyt", "js_gxt"}
    for doc in docs:
        assert find_draft(doc, drafts) is None, doc["title"]
        assert find_copy(doc, [d for d in docs if d is not doc]) is None, doc["title"]


def test_a_repost_under_another_url_is_a_copy_by_doc_number():
    original = expected("cn_gov", 1)
    repost = {**original, "id": 99, "site": "gs_fzgg", "url": "https://fzgg.gansu.gov.cn/zz/1.shtml",
              "issuer": "国务院", "text": "转发：" + original["text"][:100]}
    match = find_copy(repost, [original])
    assert match.document_id == original["id"] and match.evidence["by"] == "doc_number"


def test_a_moved_page_is_a_copy_by_title_and_text():
    original = expected("gs_fzgg", 1)  # no 文号
    moved = {**original, "id": 99, "url": original["url"].replace("/202510/", "/archive/202510/"),
             "text": original["text"] + "\n（本页已迁移）"}
    match = find_copy(moved, [original])
    assert match is not None and match.evidence["by"] == "title_and_text"
    assert match.evidence["text_similarity"] >= 0.9
    rewritten = {**moved, "text": expected("gs_fzgg", 3)["text"]}
    assert find_copy(rewritten, [original]) is None


def test_text_similarity_is_containment():
    assert text_similarity("甲乙丙丁戊己庚辛", "甲乙丙丁戊己庚辛壬癸子丑寅卯") == 1.0
    assert text_similarity("", "甲乙丙") == 0.0
