"""The corpus on a real SQLite file: schema, versions, changes, transactions, search, runs."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from datetime import date, datetime, timezone

import pytest

from crawlers.items import Attachment, PolicyItem
from crawlers.parsing import urls
from crawlers.sites.spec import Column, Site
from pipelines import reads, runs, schema, siterows, storing, values
from pipelines.schema import open_corpus
from pipelines.search import search
from pipelines.storing import Refused, store_document

T0 = datetime(2024, 3, 1, 8, 0, tzinfo=timezone.utc)
T1 = datetime(2024, 3, 2, 8, 0, tzinfo=timezone.utc)
T2 = datetime(2024, 3, 3, 8, 0, tzinfo=timezone.utc)

BODY = (
    "各区人民政府，市政府各部门：\n\n"
    "为加快推动元宇宙产业创新发展，培育数字经济新增长点，现将有关事项通知如下。\n\n"
    "一、总体要求。坚持应用牵引、技术创新，建设虚拟现实与增强现实产业集群。\n\n"
    "二、重点任务。支持企业开展数字孪生、区块链等关键技术攻关。"
)


def make_item(**changes) -> PolicyItem:
    item = PolicyItem(
        url="HTTP://www.Example.gov.cn:80/art/2024/3/1/art_1_100.html#top",
        site="demo_gov",
        title="关于推动元宇宙产业创新发展的若干措施",
        doc_number="示政办发〔2024〕3号",
        issuer="示例市人民政府办公室",
        index_no="000000000/2024-00012",
        written_date=date(2024, 2, 27),
        published_date=date(2024, 3, 1),
        body_text=BODY,
        column="政策文件",
        fetched_at=T0,
        raw_body="<html><body>页面</body></html>".encode("utf-8"),
        raw_encoding="utf-8",
        http_status=200,
        http_headers={"Content-Type": "text/html; charset=utf-8"},
        attachments=[Attachment(url="http://www.example.gov.cn/files/a.pdf", name="附件1",
                                sha256="ab" * 32, size=1234, content_type="application/pdf",
                                text="附件正文")],
    )
    return replace(item, **changes)


@pytest.fixture
def db(tmp_path):
    database = open_corpus(tmp_path / "corpus.db")
    yield database
    database.close()


def counts(db):
    return reads.counts_by_table(db)


def test_schema_creation_is_idempotent(tmp_path):
    path = tmp_path / "sub" / "corpus.db"
    first = open_corpus(path)
    tables = set(first.table_names())
    assert {"sites", "documents", "versions", "attachments", "changes", "runs",
            "documents_fts"} <= tables
    assert schema.schema_version(first) == schema.SCHEMA_VERSION
    assert first.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert first.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    store_document(first, make_item())
    first.close()

    again = open_corpus(path)
    assert set(again.table_names()) == tables
    assert schema.migrate(again) == schema.SCHEMA_VERSION
    assert counts(again)["documents"] == 1
    again.close()


def test_a_newer_schema_is_refused(tmp_path):
    path = tmp_path / "corpus.db"
    open_corpus(path).close()
    raw = sqlite3.connect(path)
    raw.execute(f"PRAGMA user_version = {schema.SCHEMA_VERSION + 1}")
    raw.close()
    with pytest.raises(schema.CorpusError, match="newer"):
        open_corpus(path)


def test_canonical_url():
    assert urls.canonical_url("HTTP://WWW.Gov.CN:80/Zhengce/A.htm?id=1#p2") == \
        "http://www.gov.cn/Zhengce/A.htm?id=1"
    assert urls.canonical_url("https://x.gov.cn:443") == "https://x.gov.cn/"
    assert urls.canonical_url("https://x.gov.cn:8443/a") == "https://x.gov.cn:8443/a"
    with pytest.raises(ValueError, match="not an absolute"):
        urls.canonical_url("/relative/path.html")


def test_new_document_stores_one_document_one_version_one_change(db):
    result = store_document(db, make_item(), run_id=None)
    assert result.kind == "new"
    assert counts(db) == {"documents": 1, "versions": 1, "attachments": 1, "changes": 1,
                          "runs": 0}
    doc = reads.get_document(db, "http://www.example.gov.cn/art/2024/3/1/art_1_100.html")
    assert doc["id"] == result.document_id
    assert doc["current_version_id"] == result.version_id
    assert doc["published_date"] == "2024-03-01"
    assert doc["first_seen"] == doc["last_seen"] == doc["last_changed"] == "2024-03-01T08:00:00+00:00"
    version = reads.versions_of(db, result.document_id)[0]
    assert values.decompress_raw(version["raw"]).decode("utf-8") == "<html><body>页面</body></html>"
    assert json.loads(version["fields"])["doc_number"] == "示政办发〔2024〕3号"
    change = next(db.query("SELECT * FROM changes"))
    assert (change["kind"], change["version_id"]) == ("new", result.version_id)
    attachment = next(db.query("SELECT * FROM attachments"))
    assert (attachment["version_id"], attachment["text"]) == (result.version_id, "附件正文")


def test_identical_fetch_stores_nothing_new_but_bumps_last_seen(db):
    first = store_document(db, make_item())
    again = store_document(db, make_item(fetched_at=T1))
    assert again == storing.StoreResult("unchanged", first.document_id, first.version_id)
    assert counts(db) == {"documents": 1, "versions": 1, "attachments": 1, "changes": 1,
                          "runs": 0}
    doc = reads.get_document(db, make_item().url)
    assert doc["last_seen"] == "2024-03-02T08:00:00+00:00"
    assert doc["last_changed"] == "2024-03-01T08:00:00+00:00"


def test_whitespace_and_width_differences_are_unchanged(db):
    store_document(db, make_item())
    respaced = BODY.replace("\n\n", "\n").replace("，", "， ").replace("一、", "　　一、")
    # The same title with ASCII digits written full-width and extra spaces.
    reformatted = make_item(
        body_text=respaced, fetched_at=T1, title=" 关于推动元宇宙产业创新发展的若干措施  ",
        doc_number="示政办发〔２０２４〕３号",
    )
    assert store_document(db, reformatted).kind == "unchanged"
    assert counts(db)["versions"] == 1


def test_revised_text_adds_a_version_and_keeps_the_old_one(db):
    first = store_document(db, make_item())
    old_version = reads.versions_of(db, first.document_id)[0]
    revised_body = BODY.replace("区块链", "区块链、人工智能")
    second = store_document(db, make_item(body_text=revised_body, fetched_at=T1))
    assert second.kind == "revised"
    assert second.document_id == first.document_id
    assert second.version_id != first.version_id

    versions = reads.versions_of(db, first.document_id)
    assert [v["id"] for v in versions] == [first.version_id, second.version_id]
    assert versions[0] == old_version  # untouched
    assert versions[1]["body_text"] == revised_body
    doc = reads.get_document(db, make_item().url)
    assert doc["body_text"] == revised_body
    assert doc["current_version_id"] == second.version_id
    assert doc["first_seen"] == "2024-03-01T08:00:00+00:00"
    assert doc["last_changed"] == "2024-03-02T08:00:00+00:00"
    kinds = [r["kind"] for r in db.query("SELECT kind FROM changes ORDER BY id")]
    assert kinds == ["new", "revised"]
    diff = json.loads(next(db.query("SELECT diff FROM changes WHERE kind = 'revised'"))["diff"])
    assert diff["changed"] == ["text"]
    # Attachments belong to their version: the new version has its own rows.
    assert counts(db)["attachments"] == 2


def test_a_changed_key_field_is_a_revision(db):
    store_document(db, make_item())
    result = store_document(db, make_item(doc_number="示政办发〔2024〕4号", fetched_at=T1))
    assert result.kind == "revised"
    diff = json.loads(next(db.query("SELECT diff FROM changes WHERE kind = 'revised'"))["diff"])
    # Metadata changes are kept readable, as field: old → new.
    assert diff["changed"] == ["fields"]
    assert diff["fields"] == [{"field": "doc_number", "label": "文号",
                               "old": "示政办发〔2024〕3号", "new": "示政办发〔2024〕4号"}]


def test_a_changed_attachment_is_a_revision_but_a_failed_download_is_not(db):
    store_document(db, make_item())
    failed = Attachment(url="http://www.example.gov.cn/files/a.pdf", name="附件1",
                        error="TimeoutError: took too long")
    assert store_document(db, make_item(attachments=[failed], fetched_at=T1)).kind == "unchanged"
    replaced = Attachment(url="http://www.example.gov.cn/files/a.pdf", name="附件1",
                          sha256="cd" * 32, size=99, text="新附件正文")
    assert store_document(db, make_item(attachments=[replaced], fetched_at=T2)).kind == "revised"


def test_cover_note_fallback_after_a_failed_attachment_is_not_a_revision(db):
    from_pdf = make_item(body_text="附件中的政策全文：第一条……第二条……", text_source="attachment")
    store_document(db, from_pdf)
    failed = Attachment(url="http://www.example.gov.cn/files/a.pdf", name="附件1",
                        error="HTTP 503")
    cover = make_item(body_text="现将《若干措施》印发给你们，请认真贯彻执行。", text_source="page",
                      attachments=[failed], fetched_at=T1)
    assert store_document(db, cover).kind == "unchanged"


@pytest.mark.parametrize("changes, reason", [
    ({"url": ""}, "no_url"),
    ({"url": "javascript:void(0)"}, "bad_url"),
    ({"title": "  "}, "no_title"),
    ({"body_text": " \n ", "attachments": []}, "empty_text"),
    ({"body_text": "", "attachments": [Attachment(url="http://x.gov.cn/a.pdf", name="a")]},
     "empty_text"),
])
def test_unstorable_items_are_refused_with_a_reason(db, changes, reason):
    with pytest.raises(Refused) as caught:
        store_document(db, make_item(**changes))
    assert caught.value.reason == reason
    assert counts(db)["documents"] == 0


def test_attachment_text_alone_is_enough_to_store(db):
    assert store_document(db, make_item(body_text="")).kind == "new"


def test_a_transaction_failing_midway_leaves_nothing(db):
    broken = Attachment(url="http://www.example.gov.cn/files/b.pdf", name="坏附件", size=-1)
    item = make_item(attachments=[make_item().attachments[0], broken])
    with pytest.raises(sqlite3.IntegrityError):
        store_document(db, item)
    assert counts(db) == {"documents": 0, "versions": 0, "attachments": 0, "changes": 0,
                          "runs": 0}
    assert list(db.query("SELECT rowid FROM documents_fts WHERE documents_fts MATCH '元宇宙'")) == []
    # The connection is usable afterwards and the same document stores cleanly.
    assert store_document(db, make_item()).kind == "new"


def test_a_failing_revision_leaves_the_document_as_it_was(db):
    first = store_document(db, make_item())
    broken = Attachment(url="http://www.example.gov.cn/files/b.pdf", name="坏附件", size=-1)
    with pytest.raises(sqlite3.IntegrityError):
        store_document(db, make_item(body_text=BODY + "\n\n三、附则。", attachments=[broken],
                                     fetched_at=T1))
    doc = reads.get_document(db, make_item().url)
    assert doc["body_text"] == BODY
    assert doc["current_version_id"] == first.version_id
    assert doc["last_seen"] == "2024-03-01T08:00:00+00:00"
    assert counts(db)["versions"] == 1 and counts(db)["changes"] == 1


def test_versions_cannot_be_rewritten(db):
    result = store_document(db, make_item())
    with pytest.raises(sqlite3.IntegrityError, match="never updated"):
        db.execute("UPDATE versions SET body_text = 'x' WHERE id = ?", [result.version_id])


def test_search_uses_fts_for_long_terms_and_like_for_short_ones(db):
    store_document(db, make_item())
    store_document(db, make_item(
        url="http://www.example.gov.cn/art/2024/3/5/art_1_101.html",
        title="关于印发智慧农业发展规划的通知", body_text="推进智慧农业和数字乡村建设。",
        doc_number="示政发〔2024〕9号", attachments=[],
    ))
    hits = search(db, "元宇宙产业")  # 5 characters: the trigram index
    assert [h["title"] for h in hits] == ["关于推动元宇宙产业创新发展的若干措施"]
    assert [h["title"] for h in search(db, "数字孪生")] == ["关于推动元宇宙产业创新发展的若干措施"]
    # 2 characters: LIKE, in the title of one and the text of the other.
    assert {h["title"] for h in search(db, "规划")} == {"关于印发智慧农业发展规划的通知"}
    assert len(search(db, "数字")) == 2
    # Mixed: both must hold.
    assert [h["title"] for h in search(db, "智慧农业 乡村")] == ["关于印发智慧农业发展规划的通知"]
    assert search(db, "元宇宙 乡村") == []
    assert search(db, "量子计算") == []
    assert search(db, '10%_"') == []  # quoting and LIKE wildcards are escaped
    with pytest.raises(ValueError, match="empty"):
        search(db, "   ")


def test_search_follows_revisions(db):
    store_document(db, make_item())
    store_document(db, make_item(body_text="本措施自印发之日起施行，有效期至二〇二六年。",
                                 fetched_at=T1))
    assert search(db, "数字孪生") == []
    assert len(search(db, "自印发之日起")) == 1


def _site(key="demo_gov"):
    return Site(key=key, name="示例市人民政府", division_code="110000", level="prefecture",
                family="trs", domains=("example.gov.cn",),
                columns=(Column(name="政策文件", url="http://www.example.gov.cn/zcwj/"),))


def test_sites_upsert_keeps_health(db):
    siterows.upsert_site(db, _site())
    siterows.record_site_failure(db, "demo_gov", "blocked: WAF page", when=T0)
    siterows.record_site_success(db, "demo_gov", when=T1)
    siterows.upsert_site(db, replace(_site(), name="示例市政府门户"))
    row = next(db.query("SELECT * FROM sites"))
    assert row["name"] == "示例市政府门户"
    assert json.loads(row["domains"]) == ["example.gov.cn"]
    assert row["last_failure_reason"] == "blocked: WAF page"
    assert row["last_success"] == "2024-03-02T08:00:00+00:00"


def test_runs_are_recorded(db):
    run_id = runs.start_run(db, "demo_gov", "crawl", when=T0)
    row = next(db.query("SELECT * FROM runs WHERE id = ?", [run_id]))
    assert (row["status"], row["finished_at"]) == ("running", None)
    result = store_document(db, make_item(), run_id=run_id)
    assert reads.versions_of(db, result.document_id)[0]["run_id"] == run_id
    runs.finish_run(db, run_id, {"pages": 3, "new": 1, "blocked": 1},
                      {"failed": {"timeout": 1}}, "partial", when=T1)
    row = next(db.query("SELECT * FROM runs WHERE id = ?", [run_id]))
    assert row["status"] == "partial" and row["blocked"] == 1
    assert json.loads(row["counts"])["new"] == 1
    assert row["finished_at"] == "2024-03-02T08:00:00+00:00"
    with pytest.raises(ValueError, match="kind"):
        runs.start_run(db, "demo_gov", "daily")
    with pytest.raises(ValueError, match="no run"):
        runs.finish_run(db, 999, {}, None, "ok")


def test_search_matches_across_pdf_line_breaks_and_widths(db):
    store_document(db, make_item(body_text="为促进元宇宙产\n业创新发展，支持 ＶＲ 头显和\nAR glasses 研发。"))
    assert len(search(db, "元宇宙产业创新")) == 1
    assert len(search(db, "VR")) == 1  # written full-width, searched half-width
    assert len(search(db, "ＡＲ")) == 1
    assert len(search(db, "AR glasses")) == 1
    assert search(db, "ARglasses") == []  # Latin words stay apart


def test_a_version_1_corpus_is_migrated_and_its_documents_indexed(tmp_path):
    from pipelines import schema

    path = tmp_path / "old.db"
    raw = sqlite3.connect(path)
    for statement in schema.MIGRATIONS[0]:
        raw.execute(statement)
    raw.execute("PRAGMA user_version = 1")
    raw.execute("INSERT INTO sites (key) VALUES ('demo_gov')")
    raw.execute(
        """INSERT INTO documents (site, url, title, body_text, text_hash, first_seen, last_seen,
        last_changed) VALUES ('demo_gov', 'http://a.gov.cn/1.html', '旧文件', '发展元宇宙\n产业',
        'h', 't', 't', 't')"""
    )
    raw.commit()
    raw.close()

    db = open_corpus(path)
    assert schema.schema_version(db) == schema.SCHEMA_VERSION
    assert [d["title"] for d in search(db, "元宇宙产业")] == ["旧文件"]
    assert "documents_fts_insert" not in {t.name for t in db.triggers}
    db.close()


def test_real_pdf_text_is_searchable_and_reflowing_it_is_no_change(db, realpages):
    """The 2022 Wuhan plan as text extracted from its PDF (hard line breaks, half-width
    punctuation, spaced-out characters) against the same text as a web page would show it."""
    text = (realpages / "text" / "wuhan_wzg_2022_16_final.txt").read_text(encoding="utf-8")
    first = store_document(db, make_item(body_text=text, title="武汉市促进元宇宙产业创新发展实施方案",
                                         attachments=[]))
    assert [d["id"] for d in search(db, "元宇宙产业创新发展")] == [first.document_id]
    assert [d["id"] for d in search(db, "武汉市人民政府")] == [first.document_id]  # "武 汉 市 人 民 政 府"
    assert [d["id"] for d in search(db, "武汉")] == [first.document_id]
    as_web_page = "".join(text.split()).replace(",", "，").replace("(", "（").replace(")", "）")
    again = store_document(db, make_item(body_text=as_web_page, fetched_at=T1,
                                         title="武汉市促进元宇宙产业创新发展实施方案", attachments=[]))
    assert again.kind == "unchanged"
