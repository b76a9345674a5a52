"""Change recording in a real SQLite corpus: copies link without alerts, finals link to their
drafts, repeals by decision and by status, withdrawals after absences on two check days, each
change of state in one transaction."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from datetime import date, datetime, timezone

import pytest

from crawlers.items import Attachment, PolicyItem
from pipelines import lineage, presence, reads
from pipelines import schema as corpus_schema
from pipelines.presence import record_observations
from pipelines.schema import open_corpus
from pipelines.storing import store_document

T = [datetime(2026, 11, d, 8, 0, tzinfo=timezone.utc) for d in range(20, 30)]
SITE_URL = "http://www.example.gov.cn/zcwj/"

PLAN = ("各区人民政府，市政府各部门：\n现将《示例市元宇宙产业创新发展实施方案》印发给你们，请认真贯彻执行。\n"
        "一、总体要求。到2026年，建成3个元宇宙产业基地，培育50家元宇宙创新企业。\n"
        "二、重点任务。突破近眼显示、空间计算等关键技术，建设元宇宙公共服务平台。\n"
        "三、保障措施。设立元宇宙产业发展专项资金，加强人才引进和数据安全管理。")


def item(n: int, **changes) -> PolicyItem:
    base = PolicyItem(
        url=f"{SITE_URL}2026/t2026110{n}_{n}.html", site="demo_gov", title=f"示例文件{n}",
        doc_number=f"示政发〔2026〕{n}号", issuer="示例市人民政府", body_text=f"第{n}号文件正文。{PLAN}",
        published_date=date(2026, 11, 1 + n), column="政策文件", fetched_at=T[0],
    )
    return replace(base, **changes)


@pytest.fixture
def db(tmp_path):
    database = open_corpus(tmp_path / "corpus.db")
    yield database
    database.close()


def changes(db, kind=None):
    rows = db.query("SELECT c.*, d.url FROM changes c JOIN documents d ON d.id = c.document_id ORDER BY c.id")
    return [(r["kind"], r["url"]) for r in rows if kind is None or r["kind"] == kind]


def test_every_new_document_is_its_own_policy(db):
    result = store_document(db, item(1))
    assert result.changes == ("new",)
    doc = reads.get_document(db, item(1).url)
    assert doc["policy_id"] == doc["id"]


def test_a_repost_on_another_site_is_linked_without_an_alert(db):
    original = store_document(db, item(1))
    repost = store_document(db, item(1, url="http://www.other.gov.cn/zz/9.html", site="other_gov",
                                     body_text="（转载）" + item(1).body_text, fetched_at=T[1]))
    assert repost.kind == "new" and repost.changes == ()
    assert changes(db) == [("new", item(1).url)]
    rows = {r["id"]: r for r in db.query("SELECT id, policy_id FROM documents")}
    assert rows[repost.document_id]["policy_id"] == original.document_id
    link = next(db.query("SELECT * FROM lineage"))
    assert (link["document_id"], link["related_id"], link["relation"]) == (repost.document_id, original.document_id, "copy")
    assert json.loads(link["evidence"])["by"] == "doc_number"


def test_a_moved_page_with_other_text_is_a_revision_that_says_where_it_came_from(db):
    store_document(db, item(1))
    moved = item(1, url=f"{SITE_URL}archive/t20261102_1.html", fetched_at=T[1],
                 body_text=item(1).body_text.replace("3个", "5个"))
    result = store_document(db, moved)
    assert result.changes == ("revised",)
    diff = json.loads(next(db.query("SELECT diff FROM changes WHERE kind = 'revised'"))["diff"])
    assert diff["moved_from"]["url"] == item(1).url and diff["changed"] == ["text"]
    same = store_document(db, item(1, url=f"{SITE_URL}copy/t20261102_1.html", fetched_at=T[2]))
    assert same.changes == ()  # an identical copy is no news


def test_a_final_is_linked_to_its_draft_and_recorded_as_finalised(db):
    draft = store_document(db, item(
        2, title="关于公开征求《示例市元宇宙产业创新发展实施方案（2026—2027年）（征求意见稿）》意见的通知",
        doc_number=None, issuer="示例市经济和信息化局", published_date=date(2026, 9, 1),
        body_text="现将征求意见稿全文公布如下。\n" + PLAN.replace("3个", "2个")))
    final = store_document(db, item(
        3, title="示例市人民政府关于印发示例市促进元宇宙产业创新发展实施方案（2026—2028年）的通知",
        fetched_at=T[1]))
    assert final.changes == ("finalised",)
    assert changes(db) == [("new", item(2).url), ("finalised", item(3).url)]
    rows = {r["id"]: r for r in db.query("SELECT id, policy_id FROM documents")}
    assert rows[final.document_id]["policy_id"] == rows[draft.document_id]["policy_id"] == draft.document_id
    diff = json.loads(next(db.query("SELECT diff FROM changes WHERE kind = 'finalised'"))["diff"])
    assert diff["draft"]["id"] == draft.document_id
    assert diff["match"]["issuers"] == "place" and diff["match"]["text_similarity"] > 0.5
    assert any(e["op"] == "changed" for e in diff["text"]["entries"])
    # A draft is finalised once: another final-looking document is new.
    again = store_document(db, item(4, title="示例市人民政府关于印发示例市促进元宇宙产业创新发展实施方案的通知",
                                    fetched_at=T[2]))
    assert again.changes == ("new",)


def test_a_draft_met_after_its_final_joins_the_final_without_an_alert(db):
    """A backfill reads lists newest first: the final is stored before its draft."""
    final = store_document(db, item(
        3, title="示例市人民政府关于印发示例市促进元宇宙产业创新发展实施方案（2026—2028年）的通知"))
    other = store_document(db, item(5, title="示例市人民政府关于印发示例市数据要素市场化配置改革实施方案的通知"))
    draft = store_document(db, item(
        2, title="关于公开征求《示例市元宇宙产业创新发展实施方案（2026—2027年）（征求意见稿）》意见的通知",
        doc_number=None, issuer="示例市经济和信息化局", published_date=date(2026, 9, 1),
        body_text="现将征求意见稿全文公布如下。\n" + PLAN.replace("3个", "2个"), fetched_at=T[1]))
    assert draft.changes == ("new",)
    rows = {r["id"]: r for r in db.query("SELECT id, policy_id FROM documents")}
    assert rows[draft.document_id]["policy_id"] == rows[final.document_id]["policy_id"] == final.document_id
    assert rows[other.document_id]["policy_id"] == other.document_id
    link = next(db.query("SELECT * FROM lineage"))
    assert (link["document_id"], link["related_id"], link["relation"]) == \
        (final.document_id, draft.document_id, "finalises")
    assert changes(db, "finalised") == []


def test_a_repeal_decision_repeals_the_known_documents_it_names(db):
    kept = store_document(db, item(5))
    target = store_document(db, item(6))
    decision = item(9, title="示例市人民政府关于废止一批规范性文件的决定", doc_number="示政发〔2026〕20号",
                    fetched_at=T[1],
                    body_text="经研究，决定废止下列文件：\n1.《示例文件6》（示政发〔2026〕6号）\n"
                              "2.《未收录的文件》（示政发〔2018〕3号）\n下列文件继续有效：\n1.《示例文件5》（示政发〔2026〕5号）")
    result = store_document(db, decision)
    assert result.changes == ("new", "repealed")
    assert changes(db, "repealed") == [("repealed", item(6).url)]
    rows = {r["id"]: r for r in db.query("SELECT id, repealed_at FROM documents")}
    assert rows[target.document_id]["repealed_at"] == "2026-11-21T08:00:00+00:00"
    assert rows[kept.document_id]["repealed_at"] is None
    diff = json.loads(next(db.query("SELECT diff FROM changes WHERE kind = 'repealed'"))["diff"])
    assert diff["by"] == "decision" and "示政发〔2026〕6号" in diff["evidence"]
    # The decision fetched again, or revised, repeals nothing twice.
    assert store_document(db, replace(decision, fetched_at=T[2])).changes == ()
    revised = replace(decision, fetched_at=T[3], body_text=decision.body_text + "\n本决定自公布之日起施行。")
    assert store_document(db, revised).changes == ("revised",)
    assert len(changes(db, "repealed")) == 1


def test_a_status_field_turning_to_repealed_is_one_repeal(db):
    store_document(db, item(1, validity="有效"))
    result = store_document(db, item(1, validity="失效", fetched_at=T[1]))
    assert (result.kind, result.changes) == ("revised", ("repealed",))
    diff = json.loads(next(db.query("SELECT diff FROM changes WHERE kind = 'repealed'"))["diff"])
    assert diff == {"by": "status", "fields": [{"field": "validity", "label": "有效性", "old": "有效", "new": "失效"}]}
    assert reads.get_document(db, item(1).url)["repealed_at"] is not None
    assert store_document(db, item(1, validity="失效", fetched_at=T[2])).changes == ()


def test_a_document_first_seen_repealed_is_new_and_marked(db):
    result = store_document(db, item(1, validity="已废止"))
    assert result.changes == ("new",)
    assert reads.get_document(db, item(1).url)["repealed_at"] is not None


def _seen(db, day, present=(), gone=None, listed=None, complete=(), oldest=None):
    return record_observations(db, "demo_gov", None, present=present, gone=gone or {},
                               listed=listed or {}, complete=complete, oldest=oldest or {}, day=day)


def test_a_page_gone_on_two_check_days_is_withdrawn_once(db):
    for n in (1, 2):
        store_document(db, item(n))
    _seen(db, "2026-11-21", present=[item(1).url, item(2).url])
    gone = {item(2).url: "http_404"}
    assert _seen(db, "2026-11-22", present=[item(1).url], gone=gone).withdrawn == ()
    assert _seen(db, "2026-11-22", present=[item(1).url], gone=gone).withdrawn == ()  # same day again
    result = _seen(db, "2026-11-23", present=[item(1).url], gone={item(2).url: "http_410"})
    assert len(result.withdrawn) == 1
    assert changes(db, "withdrawn") == [("withdrawn", item(2).url)]
    diff = json.loads(next(db.query("SELECT diff FROM changes WHERE kind = 'withdrawn'"))["diff"])
    assert diff["checks"] == [{"day": "2026-11-22", "reason": "http_404"}, {"day": "2026-11-23", "reason": "http_410"}]
    assert _seen(db, "2026-11-24", gone={item(2).url: "http_404"}).withdrawn == ()  # once


def test_a_sighting_between_two_absences_starts_over(db):
    store_document(db, item(1))
    _seen(db, "2026-11-22", gone={item(1).url: "http_404"})
    _seen(db, "2026-11-23", present=[item(1).url])
    assert _seen(db, "2026-11-24", gone={item(1).url: "http_404"}).withdrawn == ()
    assert len(_seen(db, "2026-11-25", gone={item(1).url: "http_404"}).withdrawn) == 1


def test_a_crawl_that_saw_nothing_observes_nothing(db):
    """A blocked or failed day: no list was complete and no page answered 404."""
    store_document(db, item(1))
    for day in ("2026-11-22", "2026-11-23", "2026-11-24"):
        result = _seen(db, day, listed={"政策文件": []}, complete=())
        assert result.absent == 0
    assert changes(db, "withdrawn") == []


def test_off_a_complete_list_counts_only_within_what_the_list_still_shows(db):
    for n in (1, 2, 3):  # published 11-02, 11-03, 11-04
        store_document(db, item(n))
    listed = {"政策文件": [item(3).url]}
    # The list now starts at 11-03: document 2 (11-03) may have rolled off, 1 (11-02) too.
    _seen(db, "2026-11-22", listed=listed, complete=["政策文件"], oldest={"政策文件": date(2026, 11, 3)})
    _seen(db, "2026-11-23", listed=listed, complete=["政策文件"], oldest={"政策文件": date(2026, 11, 3)})
    assert changes(db, "withdrawn") == []
    # A list reaching back to 11-01 that no longer shows 2 and 3: those were taken off.
    listed = {"政策文件": [item(1).url]}
    for day in ("2026-11-24", "2026-11-25"):
        _seen(db, day, listed=listed, complete=["政策文件"], oldest={"政策文件": date(2026, 11, 1)})
    assert sorted(changes(db, "withdrawn")) == [("withdrawn", item(2).url), ("withdrawn", item(3).url)]


def test_an_incomplete_walk_never_says_a_page_left_its_list(db):
    store_document(db, item(2))
    for day in ("2026-11-22", "2026-11-23"):
        _seen(db, day, listed={"政策文件": [item(1).url]}, complete=[], oldest={"政策文件": date(2026, 11, 1)})
    assert changes(db, "withdrawn") == []


def test_a_withdrawn_page_that_comes_back_is_restored(db):
    store_document(db, item(1))
    for day in ("2026-11-22", "2026-11-23"):
        _seen(db, day, gone={item(1).url: "http_404"})
    result = _seen(db, "2026-11-24", present=[item(1).url])
    assert len(result.restored) == 1
    assert [k for k, _ in changes(db)] == ["new", "withdrawn", "revised"]
    diff = json.loads(list(db.query("SELECT diff FROM changes ORDER BY id"))[-1]["diff"])
    assert diff["changed"] == ["restored"]
    assert reads.get_document(db, item(1).url)["withdrawn_at"] is None


def test_a_page_that_moved_is_not_withdrawn(db):
    store_document(db, item(1))
    store_document(db, item(1, url=f"{SITE_URL}new/t20261102_1.html", fetched_at=T[1]))  # its copy
    for day in ("2026-11-22", "2026-11-23"):
        result = _seen(db, day, present=[f"{SITE_URL}new/t20261102_1.html"], gone={item(1).url: "http_404"})
    assert len(result.moved) == 1 and changes(db, "withdrawn") == []
    assert reads.get_document(db, item(1).url)["withdrawn_at"] is not None


def test_a_final_that_fails_to_store_leaves_no_link_and_no_change(db):
    store_document(db, item(2, title="《示例市元宇宙产业创新发展实施方案（征求意见稿）》", doc_number=None))
    broken = Attachment(url="http://www.example.gov.cn/files/b.pdf", name="坏附件", size=-1)
    final = item(3, title="示例市人民政府关于印发示例市元宇宙产业创新发展实施方案的通知",
                 attachments=[broken], fetched_at=T[1])
    with pytest.raises(sqlite3.IntegrityError):
        store_document(db, final)
    assert reads.counts_by_table(db, ("documents", "changes", "lineage")) == \
        {"documents": 1, "changes": 1, "lineage": 0}
    assert store_document(db, replace(final, attachments=[])).changes == ("finalised",)


def test_a_corpus_from_before_lineage_gets_its_policies(tmp_path):
    from pipelines import schema
    from pipelines.lineage import key_existing_documents

    mine = next(i for i, steps in enumerate(schema.MIGRATIONS) if key_existing_documents in steps)
    path = tmp_path / "old.db"
    raw = sqlite3.connect(path)
    for version in range(mine):  # a corpus as it was before change detection
        for step in schema.MIGRATIONS[version]:
            if callable(step):
                continue  # reindexing an empty corpus
            raw.execute(step)
    raw.execute(f"PRAGMA user_version = {mine}")
    raw.execute("INSERT INTO sites (key) VALUES ('demo_gov')")
    raw.execute("""INSERT INTO documents (site, url, title, doc_number, body_text, text_hash, first_seen,
        last_seen, last_changed) VALUES ('demo_gov', 'http://a.gov.cn/1.html', '旧文件', '示政发[2020]1 号',
        '正文', 'h', 't', 't', 't')""")
    raw.commit()
    raw.close()
    db = open_corpus(path)
    row = next(db.query("SELECT id, policy_id, doc_number_key, title_key FROM documents"))
    assert (row["policy_id"], row["doc_number_key"], row["title_key"]) == (row["id"], "示政发〔2020〕1号", "旧文件")
    db.close()


def test_observations_read_a_site_a_batch_at_a_time_with_the_same_outcome(tmp_path, monkeypatch):
    """record_observations pages through a site's documents (a 20,000-document site is never
    loaded whole): batches of two give what one batch gives."""
    import functools

    def scenario(path):
        db = open_corpus(path)
        for n in range(1, 8):
            store_document(db, item(n), now=T[0])
        urls = [item(n).url for n in range(1, 8)]
        results = [
            _seen(db, "2026-11-21", present=urls),
            _seen(db, "2026-11-22", present=urls[:4], gone={u: "http_404" for u in urls[4:]}),
            _seen(db, "2026-11-23", present=urls[:4], gone={u: "http_410" for u in urls[4:6]}),
            _seen(db, "2026-11-24", present=urls),  # the gone ones are back
        ]
        rows = db.execute("SELECT url, present_on, withdrawn_at IS NOT NULL FROM documents ORDER BY id").fetchall()
        kinds = db.execute("SELECT kind, count(*) FROM changes GROUP BY kind ORDER BY kind").fetchall()
        return results, rows, kinds

    whole = scenario(tmp_path / "whole.db")
    monkeypatch.setattr(presence, "_site_documents", functools.partial(presence._site_documents, batch=2))
    batched = scenario(tmp_path / "batched.db")
    assert batched == whole
    results, _, kinds = whole
    assert [r.present for r in results] == [7, 4, 4, 7]
    assert len(results[2].withdrawn) == 2 and len(results[3].restored) == 2
    assert ("withdrawn", 2) in kinds


def test_the_store_uses_precomputed_body_forms_only_for_their_own_text(db):
    """A parse worker computes the body's hash and search form; the store takes them when the
    text is the one they were computed from, and computes its own for any other text."""
    from crawlers.parsing.textnorm import BodyForms, text_hash
    from pipelines.search import search

    fresh = item(1)
    fresh.body_forms = BodyForms.of(fresh.body_text)
    store_document(db, fresh)
    stale = item(2)
    stale.body_forms = BodyForms.of("另一份文件的正文，不是这一份。")  # computed before an edit
    store_document(db, stale)
    stored = {r["url"]: r["text_hash"] for r in db.query("SELECT url, text_hash FROM documents")}
    assert stored[fresh.url] == text_hash(fresh.body_text)
    assert stored[stale.url] == text_hash(stale.body_text)
    assert {r["url"] for r in search(db, "第2号文件")} == {stale.url}
    assert {r["url"] for r in search(db, "另一份文件")} == set()


REPEAL_DECISION = dict(
    title="示例市人民政府关于废止一批规范性文件的决定", doc_number="示政发〔2026〕20号",
    body_text="经研究，决定废止下列文件：\n1.《示例文件6》（示政发〔2026〕6号）\n"
              "下列文件继续有效：\n1.《示例文件5》（示政发〔2026〕5号）")


def test_a_document_stored_after_the_decision_that_repealed_it_is_repealed(db):
    """A backfill reads newest first: the decision comes before the older documents it names.
    Each is stored repealed from its first sight — a fact, not a repeal alert."""
    decision = store_document(db, item(9, **REPEAL_DECISION))
    assert decision.changes == ("new",)
    repealed = store_document(db, item(6, fetched_at=T[1]))
    kept = store_document(db, item(5, fetched_at=T[1]))
    assert repealed.changes == ("new",) and kept.changes == ("new",)
    rows = {r["id"]: r["repealed_at"] for r in db.query("SELECT id, repealed_at FROM documents")}
    assert rows[repealed.document_id] == "2026-11-21T08:00:00+00:00"
    assert rows[kept.document_id] is None and rows[decision.document_id] is None
    assert changes(db, "repealed") == []
    evidence = db.execute("SELECT decision_id, evidence FROM repeal_targets").fetchall()
    assert evidence == [(decision.document_id, "1.《示例文件6》（示政发〔2026〕6号）")]


def test_the_migration_repeals_documents_stored_after_their_decision(tmp_path):
    """A corpus written before repeal targets were kept: the decision is read again, and the
    documents it names that were stored after it are marked (those stored before it were
    marked when it came)."""
    path = tmp_path / "corpus.db"
    db = open_corpus(path)
    earlier = store_document(db, item(6))
    decision = store_document(db, item(9, **REPEAL_DECISION, fetched_at=T[1]))
    later = store_document(db, item(6, url="http://www.example.gov.cn/zcwj/copy/t6.html", fetched_at=T[2]))
    kept = store_document(db, item(5, fetched_at=T[2]))
    # Back to the corpus as the previous schema left it.
    with db.conn:
        db.execute("DROP TABLE repeal_targets")
        for later_table in ("sightings", "volatile_params"):  # tables of later versions
            db.execute(f"DROP TABLE {later_table}")
        db.execute("UPDATE documents SET repealed_at = NULL WHERE id = ?", [later.document_id])
        db.execute(f"PRAGMA user_version = {_migration_of('repeal_targets')}")
    db.close()

    db = open_corpus(path)
    rows = {r["id"]: r["repealed_at"] for r in db.query("SELECT id, repealed_at FROM documents")}
    assert rows[earlier.document_id] == "2026-11-21T08:00:00+00:00"  # by the decision, as before
    assert rows[later.document_id] == "2026-11-22T08:00:00+00:00"  # its own first sight
    assert rows[kept.document_id] is None and rows[decision.document_id] is None
    assert db.execute("SELECT decision_id, doc_number_key FROM repeal_targets").fetchall() == \
        [(decision.document_id, lineage.doc_number_key("示政发〔2026〕6号"))]
    db.close()


def _migration_of(table: str) -> int:
    """The schema version whose migration creates ``table``."""
    return next(i for i, steps in enumerate(corpus_schema.MIGRATIONS)
                if any(isinstance(step, str) and f"CREATE TABLE {table} " in step for step in steps))
