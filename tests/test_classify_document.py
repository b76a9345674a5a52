"""classify() on small documents of our own: relevance and its evidence, furniture, negation,
PDF line breaks, content tags by place and density, type and status, and bad input."""

from __future__ import annotations

import json

import pytest

from classifiers.classify import ClassifyError, Document, classify
from classifiers.doctype import classify_type
from classifiers.sentences import MAX_CHARS, prepare

PLAN_BODY = (
    "为抢抓元宇宙发展机遇，制定本方案。\n"
    "一、元宇宙技术攻关\n支持虚拟现实、数字孪生和数字人关键技术攻关。\n"
    "二、元宇宙场景建设\n建设工业元宇宙孪生工厂，打造景区沉浸式文旅体验项目。\n"
    "三、保障措施\n设立元宇宙产业专项资金，对重点项目给予最高五百万元补贴。"
)


def test_a_metaverse_plan_is_dedicated_with_its_evidence_and_tags():
    result = classify(Document(title="某市元宇宙产业发展行动方案", text=PLAN_BODY,
                               issuer="武汉市经济和信息化局"))
    assert result.relevance == "dedicated" and result.relevance_score > 0.9
    assert result.evidence["relevance"] == "某市元宇宙产业发展行动方案"
    assert {"industry", "tourism_culture"} <= set(result.scenarios)
    assert {"tech_rnd", "funding"} <= set(result.measures)
    assert {"xr", "digital_twin", "digital_human"} <= set(result.techs)
    assert "补贴" in result.evidence["measure:funding"]
    assert result.doc_type == "action_plan" and result.status == "final"
    assert (result.level, result.city, result.city_tier) == ("prefecture", "武汉市", "新一线")


def test_a_broad_plan_naming_the_metaverse_once_mentions_it():
    text = ("一、加快5G网络和数据中心建设。\n二、发展集成电路、人工智能和软件产业。\n"
            "三、前瞻布局元宇宙、量子信息等未来产业。\n四、推进制造业数字化转型。\n"
            "五、提升政务服务数字化水平。\n六、完善数据要素市场。")
    result = classify(Document(title="某省数字经济发展规划", text=text, issuer="江西省人民政府"))
    assert result.relevance == "mentions"
    assert "元宇宙" in result.evidence["relevance"]
    assert result.doc_type == "plan"


def test_a_vr_industry_policy_without_the_word_metaverse_is_related():
    text = ("为加快虚拟现实产业发展，提出如下意见。\n一、发展虚拟现实头显和近眼显示器件。\n"
            "二、推动虚拟现实在教育、文旅和医疗中的应用。\n三、建设虚拟现实产业基地。")
    result = classify(Document(title="关于加快虚拟现实产业发展的实施意见", text=text))
    assert result.relevance == "related" and "xr" in result.techs


def test_one_passing_vr_mention_is_none():
    text = ("一、发放文旅消费券。\n二、支持景区开发夜游项目，鼓励运用虚拟现实等技术丰富游览体验。\n"
            "三、对新评定的5A级景区给予奖励。\n四、举办文旅消费季。")
    assert classify(Document(title="某市促进文旅消费的若干措施", text=text)).relevance == "none"


def test_furniture_that_reached_the_text_never_counts():
    text = ("各乡镇：\n现就做好春耕生产工作通知如下。\n一、抓好农资供应。\n二、加强农技指导。\n"
            "相关链接：\n元宇宙产业专题\n元宇宙政策汇编\n版权所有：某某县人民政府 元宇宙专题")
    result = classify(Document(title="关于做好春耕生产工作的通知", text=text))
    assert result.relevance == "none" and "relevance" not in result.evidence
    kept = [s.text for s in prepare("t", text).sentences]
    assert not any("元宇宙" in s for s in kept)


def test_a_negated_mention_is_not_a_mention():
    text = ("第一条 为规范软件产业专项资金管理，制定本办法。\n"
            "第二条 专项资金支持软件产品研发。\n第三条 本办法支持范围不包括元宇宙等概念炒作类项目。")
    assert classify(Document(title="软件产业专项资金管理办法", text=text)).relevance == "none"


def test_words_that_contain_a_term_do_not_count_as_it():
    text = "一、扩大数字人民币受理场景。\n二、开展数字人才培训，每年培训数字人才一万人次。"
    result = classify(Document(title="数字人民币与数字人才工作方案", text=text))
    assert result.relevance == "none" and "digital_human" not in result.techs
    assert "finance" in result.scenarios


def test_pdf_line_breaks_inside_words_are_joined():
    text = ("为加快促进我市元宇宙产\n业创新发展,开辟经济发展新领域\n新赛道,结合我市实际,特制订本方\n"
            "案。力争到 2025 年,高水平建成两个以上元宇\n宙产业基地,培育引进两百个以上元宇宙创\n"
            "新企业,建成元宇宙创新发展先导区。\n")
    sentences = [s.text for s in prepare("", text).sentences]
    assert any("元宇宙产业创新发展" in s.replace(" ", "") for s in sentences)
    assert classify(Document(title="某市产业创新发展实施方案", text=text)).relevance == "dedicated"


def test_a_long_list_of_sectors_is_boilerplate_a_paragraph_is_a_plan():
    listed = classify(Document(title="某市人工智能发展规划",
                               text="推动人工智能在工业、农业、交通、医疗、教育、文旅、金融等领域广泛应用。"))
    assert listed.scenarios == []
    paragraph = classify(Document(title="某市人工智能发展规划", text=(
        "推动人工智能在工业、农业、交通、医疗、教育、文旅、金融等领域广泛应用。\n"
        "推进智慧文旅建设，在重点景区和博物馆推出智能导览服务。")))
    assert paragraph.scenarios == ["tourism_culture"]
    assert "博物馆" in paragraph.evidence["scenario:tourism_culture"]


@pytest.mark.parametrize("title, doc_type, status", [
    ("关于印发《某市元宇宙产业发展行动计划（2023—2025年）》的通知", "action_plan", "final"),
    ("关于公开征求《某省虚拟现实应用场景培育若干措施（征求意见稿）》意见的通知", "measures", "draft"),
    ("某市元宇宙产业创新发展实施方案（2022—2024年）（征求意见稿）", "implementation_plan", "draft"),
    ("某省数字经济发展“十四五”规划", "plan", "final"),
    ("关于加快推进虚拟现实产业发展的实施意见", "guidance", "final"),
    ("2023年某市政府工作报告", "work_report", "final"),
    ("《某省元宇宙产业创新发展行动计划》政策解读", "interpretation", "final"),
    ("关于举办2023年元宇宙创新大赛的通知", "notice", "final"),
    ("某市元宇宙产业扶持办法（2024年修订）", "measures", "revised"),
    ("【已废止】某市城市道路占用挖掘管理办法", "measures", "repealed"),
    ("某市政府信息公开工作年度报告（2022年）", "other", "final"),
])
def test_type_and_status_from_the_title(title, doc_type, status):
    result = classify_type(title)
    assert (result.doc_type, result.status) == (doc_type, status)


def test_the_pages_own_validity_field_says_repealed():
    assert classify_type("关于印发《某办法》的通知", "", "已失效").status == "repealed"
    assert classify_type("关于印发《某办法》的通知", "", "有效").status == "final"


def test_empty_input_is_a_clear_error():
    with pytest.raises(ClassifyError, match="nothing to classify"):
        classify(Document(title="  ", text="\n\n"))


def test_a_title_alone_is_classified_and_said_so():
    result = classify(Document(title="关于举办元宇宙创新大赛的通知"))
    assert result.relevance == "dedicated"
    assert "no body text: classified on the title alone" in result.notes


def test_a_missing_issuer_and_site_leaves_the_jurisdiction_empty_and_says_so():
    result = classify(Document(title="关于征集元宇宙应用场景的通知", text="现征集元宇宙应用场景。"))
    assert result.level is None and result.region is None
    assert any("jurisdiction unknown" in note for note in result.notes)


def test_100_megabytes_of_text_are_read_up_to_the_limit():
    paragraph = "本市推进元宇宙产业发展，建设元宇宙产业园。" + "农田水利设施建设和维护。" * 20 + "\n"
    text = paragraph * (100 * 1024 * 1024 // len(paragraph.encode("utf-8")) + 1)
    assert len(text.encode("utf-8")) >= 100 * 1024 * 1024
    result = classify(Document(title="某县年度工作总结", text=text))
    assert result.relevance in ("dedicated", "mentions")
    assert any(str(MAX_CHARS) in note for note in result.notes)
    json.dumps(result.to_json(), ensure_ascii=False)  # still a plain JSON answer


def test_a_run_on_text_without_punctuation_or_breaks():
    text = "元宇宙" + "数据" * 300_000
    result = classify(Document(title="无标点长文本", text=text))
    assert result.relevance in ("dedicated", "mentions")
    assert all(len(s.text) <= 400 for s in prepare("", text).sentences)


def test_attachment_text_counts_and_a_copy_of_the_body_counts_once():
    cover = "现将《实施方案》印发给你们，请认真贯彻执行。"
    plan = "为推动元宇宙产业发展，制定本方案。建设元宇宙产业园。推广元宇宙应用场景。"
    result = classify(Document(title="关于印发某市产业发展实施方案的通知", text=cover, attachments=(plan,)))
    assert result.relevance == "dedicated"
    twice = prepare("t", plan, (plan,))
    assert len(twice.body) == len(prepare("t", plan).body)
