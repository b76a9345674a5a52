"""政策解读: recognised, and linked to the policy they explain whichever is stored first — by the
《title》 or 文号 they name, or by a link on either page; real pages where realpages has them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from benchmarks.faultcases import interp
from benchmarks.faultcases.interp import (
    HOST,
    INTERPRETATION_URL,
    POLICY_NAME,
    POLICY_NUMBER,
    POLICY_URL,
    detail_page,
    interpretation_page,
    links_of,
    policy_page,
    store_page,
)
from classifiers.doctype import classify_type
from pipelines.interpretations import explained_by, interpretations_of, link_existing_documents
from pipelines.schema import open_corpus


@pytest.fixture
def db(tmp_path):
    return open_corpus(tmp_path / "corpus.db")


@pytest.mark.parametrize("title", [
    "《江苏省制造强省建设专项资金项目验收管理办法（试行）》政策解读",
    "解读《关于促进3岁以下婴幼儿照护服务发展的实施意见》",
    "图解：示例市元宇宙三年行动方案",
    "一图读懂《示例市促进数字经济发展若干措施》",
    "市发展改革委负责同志就《示例市元宇宙行动方案》答记者问",
    "《示例市数据条例（草案）》起草说明",
    "示例市惠企政策问答",
])
def test_interpretation_titles_are_recognised(title):
    assert classify_type(title).doc_type == "interpretation"


@pytest.mark.parametrize("title", [
    "示例市人民政府办公室关于做好政策解读工作的通知",
    "关于举办2026年法律知识问答竞赛的通知",
    "示例市元宇宙产业创新发展三年行动方案",
])
def test_pages_about_interpretation_work_are_not_interpretations(title):
    assert classify_type(title).doc_type != "interpretation"


def test_real_list_feed_interpretations_are_recognised(realpages):
    """The 政策解读 titles of gxt.jiangsu.gov.cn's real list feed."""
    feed = (realpages / "data" / "gxt.jiangsu.gov.cn_jpage_list_page1.xml").read_text(encoding="utf-8")
    titles = set(re.findall(r'title="([^"]*政策解读)"', feed))
    assert titles
    assert all(classify_type(t).doc_type == "interpretation" for t in titles)


@pytest.mark.parametrize("policy_first", [True, False])
def test_linked_by_the_title_it_names_in_either_order(db, policy_first):
    pages = [(POLICY_URL, policy_page()), (INTERPRETATION_URL, interpretation_page())]
    stored = {url: store_page(db, url, html) for url, html in (pages if policy_first else pages[::-1])}
    policy, explainer = stored[POLICY_URL].document_id, stored[INTERPRETATION_URL].document_id
    assert links_of(db) == {explainer: (policy, "title")}
    assert interpretations_of(db, [policy])[policy][0]["url"] == INTERPRETATION_URL
    assert explained_by(db, [explainer])[explainer]["doc_number"] == POLICY_NUMBER
    # A 解读 is a document of its own: its own 'new', never a copy of the policy it names.
    kinds = [r[0] for r in db.execute("SELECT kind FROM changes WHERE document_id = ?", [explainer])]
    assert kinds == ["new"]
    assert not db.execute("SELECT count(*) FROM lineage").fetchone()[0]


def test_a_copy_of_the_number_is_no_copy_of_the_document(db):
    """A 解读 whose page carries its policy's 文号 in the 文号 field (some portals do) is not a
    repost of the policy."""
    policy = store_page(db, POLICY_URL, policy_page())
    page = detail_page(f"《{POLICY_NAME}》政策解读", [
        f"《{POLICY_NAME}》已经市政府同意印发。现解读如下：一是目标，二是任务，三是保障。"],
        doc_number=POLICY_NUMBER)
    explainer = store_page(db, INTERPRETATION_URL, page)
    assert explainer.changes == ("new",)
    assert links_of(db) == {explainer.document_id: (policy.document_id, "title")}


def test_linked_by_a_number_in_its_opening(db):
    policy = store_page(db, POLICY_URL, policy_page())
    explainer = store_page(db, INTERPRETATION_URL, interpretation_page(
        title="图解：我市元宇宙产业三年目标", opening=f"近日，市政府印发{POLICY_NUMBER}文件，明确三年目标。"))
    assert links_of(db) == {explainer.document_id: (policy.document_id, "doc_number_in_text")}


@pytest.mark.parametrize("policy_first", [True, False])
def test_linked_by_its_link_to_the_original(db, policy_first):
    explainer_page = interpretation_page(
        title="图解：我市元宇宙产业三年目标", opening="一张图看懂我市元宇宙产业的三年目标。",
        links=[("", POLICY_URL, "原文链接")])
    pages = [(POLICY_URL, policy_page()), (INTERPRETATION_URL, explainer_page)]
    stored = {url: store_page(db, url, html) for url, html in (pages if policy_first else pages[::-1])}
    assert links_of(db) == {stored[INTERPRETATION_URL].document_id:
                            (stored[POLICY_URL].document_id, "link")}


def test_a_sidebar_of_other_policies_is_no_original(db):
    """A 解读's page listing other documents (最新文件) without saying 原文 links none of them."""
    store_page(db, f"{HOST}/zcwj/202611/t20261101_3001.html", detail_page(
        "示例市城市更新管理办法", ["城市更新项目管理办法全文，共三十条，自发布之日起施行。"]))
    explainer = store_page(db, INTERPRETATION_URL, interpretation_page(
        title="图解：我市元宇宙产业三年目标", opening="一张图看懂我市元宇宙产业的三年目标。",
        links=[("最新文件：", "/zcwj/202611/t20261101_3001.html", "关于印发示例市数字经济规划的通知")]))
    assert explainer.document_id not in links_of(db)


# The real pages of www.jiangxi.gov.cn link their 解读 under the body (相关解读：<a>解读《…》</a>).
JIANGXI = {
    "www.jiangxi.gov.cn_detail_1.html": ("http://www.jiangxi.gov.cn/art/2020/2/13/art_4975_1503934.html",
                                         "http://www.jiangxi.gov.cn/art/2020/2/13/art_14236_1510383.html"),
    "www.jiangxi.gov.cn_detail_2.html": ("http://www.jiangxi.gov.cn/art/2020/2/26/art_4975_1510362.html",
                                         "http://www.jiangxi.gov.cn/art/2020/2/27/art_448_1511212.html"),
    "www.jiangxi.gov.cn_detail_4.html": ("http://www.jiangxi.gov.cn/art/2020/3/12/art_4975_1568494.html",
                                         "http://www.jiangxi.gov.cn/art/2020/3/16/art_14236_1585706.html"),
}


def _store_real(db, realpages: Path, name: str):
    from crawlers.pageparse import parse_saved_page
    from pipelines.classify import ClassifyPipeline
    from pipelines.storing import store_document

    url, _ = JIANGXI[name]
    item = parse_saved_page((realpages / "html" / name).read_bytes(), url, {}, site_key="jx_gov")
    ClassifyPipeline(None).process_item(item)
    return store_document(db, item)


@pytest.mark.parametrize("name", sorted(JIANGXI))
@pytest.mark.parametrize("policy_first", [True, False])
def test_real_policy_page_links_its_interpretation(db, realpages, name, policy_first):
    """The 解读 names nothing: only the real policy page's 相关解读 link ties them."""
    _, linked_url = JIANGXI[name]
    page = detail_page("图解：一图看懂我省新出台的实施意见", ["本图解用六张图介绍实施意见的主要内容和责任分工。"],
                       issuer="江西省人民政府办公厅")
    if policy_first:
        policy = _store_real(db, realpages, name)
        explainer = store_page(db, linked_url, page, site="replay_generic")
    else:
        explainer = store_page(db, linked_url, page, site="replay_generic")
        policy = _store_real(db, realpages, name)
    assert links_of(db) == {explainer.document_id: (policy.document_id, "linked_from_policy")}


def test_documents_stored_before_the_links_existed_are_linked(db):
    """The migration's step: refs, title cores and links of what is already stored."""
    explainer = store_page(db, INTERPRETATION_URL, interpretation_page())
    policy = store_page(db, POLICY_URL, policy_page())
    with db.atomic():
        for table in ("interpretations", "interpretation_refs", "title_cores"):
            db.execute(f"DELETE FROM {table}")
    with db.atomic():
        link_existing_documents(db)
    assert links_of(db) == {explainer.document_id: (policy.document_id, "title")}


def test_a_link_once_made_is_kept(db):
    """A second policy of the same name stored later does not move the link."""
    policy = store_page(db, POLICY_URL, policy_page())
    explainer = store_page(db, INTERPRETATION_URL, interpretation_page())
    store_page(db, f"{HOST}/other/2001.html", detail_page(
        POLICY_NAME, ["另一网站转载的同名文件，正文不同：关于元宇宙产业的其他安排。"], issuer="示例县人民政府"))
    assert links_of(db) == {explainer.document_id: (policy.document_id, "title")}


@pytest.mark.faults
@pytest.mark.parametrize("case", interp.CASES, ids=lambda c: c.name)
def test_fault_case(case, tmp_path):
    assert case.run(tmp_path)


def test_browse_document_page_context_names_both_sides(tmp_path):
    """digest.browseplugin.interpretation_context, read through Datasette's own connection."""
    import asyncio

    from digest.browse import make_datasette
    from digest.browseplugin import DATABASE, interpretation_context

    path = tmp_path / "corpus.db"
    db = open_corpus(path)
    policy = store_page(db, POLICY_URL, policy_page()).document_id
    explainer = store_page(db, INTERPRETATION_URL, interpretation_page()).document_id
    db.close()
    ds = make_datasette(path)

    async def both():
        await ds.invoke_startup()
        corpus = ds.get_database(DATABASE)
        return (await interpretation_context(corpus, policy),
                await interpretation_context(corpus, explainer))

    of_policy, of_explainer = asyncio.run(both())
    assert [j["url"] for j in of_policy["pw_interpretations"]] == [INTERPRETATION_URL]
    assert of_policy["pw_explains"] is None
    assert of_explainer["pw_explains"]["url"] == POLICY_URL
    assert of_explainer["pw_explains"]["by"] == "title"


def test_digest_shows_a_new_interpretation_under_its_new_policy(db):
    """Both new in one digest: one entry, the policy's, with its 解读 under it in every format;
    the 解读's change is covered (marked with the digest) though not listed on its own."""
    from digest.build import build_digest
    from digest.render import render

    policy = store_page(db, POLICY_URL, policy_page())
    explainer = store_page(db, INTERPRETATION_URL, interpretation_page())
    changes = [r[0] for r in db.execute("SELECT id FROM changes ORDER BY id")]
    digest = build_digest(db, changes, since=None)
    assert [e.document["id"] for e in digest.entries] == [policy.document_id]
    assert [j["id"] for j in digest.entries[0].interpretations] == [explainer.document_id]
    assert digest.change_ids == sorted(changes)
    md, html = render(digest, "md"), render(digest, "html")
    assert f"- 政策解读：《{POLICY_NAME}》政策解读（2026-11-21） <{INTERPRETATION_URL}>" in md
    assert f'href="{INTERPRETATION_URL}"' in html and f'href="{INTERPRETATION_URL}"' in render(digest, "atom")
    assert render(digest, "json").count(INTERPRETATION_URL) >= 1


def test_the_replay_pages_are_the_builders_pages():
    """fixtures/replay/interpretations/ is what benchmarks/faultcases/interp.replay_pages()
    writes: the end-to-end crawl and the unit tests read the same pages."""
    from crawlers.replay.portal import REPLAY_DIR

    folder = REPLAY_DIR / "interpretations"
    pages = interp.replay_pages()
    assert sorted(p.name for p in folder.iterdir()) == sorted(pages)
    for name, body in pages.items():
        assert (folder / name).read_bytes() == body, name
