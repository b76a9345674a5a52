"""The classifier in the pipeline and the corpus: ClassifyPipeline puts the tags on the item,
the store writes them with the document in one transaction, retag rewrites stale ones."""

from __future__ import annotations

import json
import sqlite3
from datetime import date, datetime, timezone

import pytest
from scrapy import Spider
from scrapy.settings import Settings
from scrapy.statscollectors import MemoryStatsCollector

import pipelines.retag
from classifiers import classify as classify_module
from crawlers.items import Attachment, PolicyItem
from crawlers.sites import get_site
from pipelines import classification, reads, schema, siterows, storing
from pipelines.classify import ClassifyPipeline
from pipelines.retag import retag


class FakeCrawler:
    def __init__(self, spider_site=None):
        self.settings = Settings({})
        self.stats = MemoryStatsCollector(self)
        self.spider = Spider(name="policy")
        if spider_site is not None:
            self.spider.site = spider_site


def make_item(n: int = 1, **changes) -> PolicyItem:
    base = dict(
        url=f"http://www.jiangsu.gov.cn/art/2024/3/1/art_{n}.html", site="js_gxt",
        title="省工业和信息化厅关于印发《江苏省元宇宙产业发展行动计划》的通知",
        issuer="省工业和信息化厅", published_date=date(2024, 3, 1),
        body_text="各设区市工业和信息化局：\n现将《行动计划》印发给你们。\n一、推动工业元宇宙在智能制造领域应用，建设孪生工厂。",
        fetched_at=datetime(2024, 3, 1, tzinfo=timezone.utc),
    )
    base.update(changes)
    return PolicyItem(**base)


@pytest.fixture
def db(tmp_path):
    return schema.open_corpus(tmp_path / "corpus.db")


def test_the_schema_has_the_classification_columns(db):
    columns = {c.name: c.type for c in db["documents"].columns}
    for name in classification.CLASSIFICATION_COLUMNS:
        assert name in columns, name
    assert columns["relevance"] == "TEXT" and columns["relevance_score"] == "REAL"
    db.execute("INSERT INTO sites (key) VALUES ('x')")
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("""INSERT INTO documents (site, url, title, text_hash, first_seen, last_seen,
            last_changed, relevance) VALUES ('x', 'http://a/b', 't', 'h', 'n', 'n', 'n', 'central')""")


def test_the_pipeline_tags_the_item_with_the_sites_jurisdiction():
    crawler = FakeCrawler()
    out = ClassifyPipeline.from_crawler(crawler).process_item(make_item())
    tags = out.classification
    assert tags["relevance"] == "dedicated" and tags["level"] == "province"
    assert (tags["province"], tags["region"], tags["doc_type"]) == ("江苏省", "华东", "action_plan")
    assert "industry" in json.loads(tags["scenarios"])
    assert crawler.stats.get_value("policywatch/classify/dedicated") == 1
    assert tags["classifier_version"] == classify_module.classifier_version()


def test_the_pipeline_reads_attachment_text_and_a_replay_sites_jurisdiction():
    from crawlers.replay.portal import REPLAY_SITES

    site = REPLAY_SITES[0]  # 示例市, county-level, division 429004: not in the registry
    item = make_item(site=site.key, issuer="示例市人民政府", title="关于印发示例市产业园建设方案的通知",
                     body_text="现将方案印发给你们。", attachments=[Attachment(
                         url="http://www.example-gov.cn/a.docx", name="方案",
                         text="建设虚拟现实产业园，发展虚拟现实头显和近眼显示。推动虚拟现实在教育中应用。")])
    out = ClassifyPipeline.from_crawler(FakeCrawler(site)).process_item(item)
    assert out.classification["relevance"] == "related"
    assert (out.classification["level"], out.classification["province"]) == ("county", "湖北省")


def test_an_item_without_title_or_text_passes_untagged_and_counted():
    crawler = FakeCrawler()
    out = ClassifyPipeline.from_crawler(crawler).process_item(make_item(title="", body_text=""))
    assert out.classification is None
    assert crawler.stats.get_value("policywatch/classify/failed") == 1


def _stored(db, url):
    return next(db.query("SELECT * FROM documents WHERE url = ?", [url]))


def test_the_store_writes_the_tags_with_the_document(db):
    item = ClassifyPipeline(FakeCrawler()).process_item(make_item())
    storing.store_document(db, item)
    row = _stored(db, item.url)
    assert (row["relevance"], row["level"], row["region"], row["province"]) == (
        "dedicated", "province", "华东", "江苏省")
    assert json.loads(row["evidence"])["relevance"] == item.title
    assert row["classifier_version"] == classify_module.classifier_version()


def test_an_unchanged_refetch_takes_a_newer_classifiers_tags_without_a_change(db):
    item = ClassifyPipeline(FakeCrawler()).process_item(make_item())
    storing.store_document(db, item)
    before = reads.counts_by_table(db)
    again = make_item()
    again.classification = {**item.classification, "relevance": "mentions", "classifier_version": "newer"}
    assert storing.store_document(db, again).kind == "unchanged"
    assert reads.counts_by_table(db) == before
    assert (_stored(db, item.url)["relevance"], _stored(db, item.url)["classifier_version"]) == (
        "mentions", "newer")


def test_a_bad_tag_fails_the_whole_store(db):
    item = make_item()
    item.classification = {"relevance": "central", "classifier_version": "x"}
    with pytest.raises(sqlite3.IntegrityError):
        storing.store_document(db, item)
    assert reads.counts_by_table(db)["documents"] == 0
    item.classification = {"colour": "red"}
    with pytest.raises(ValueError, match="not classification columns: colour"):
        storing.store_document(db, item)
    assert reads.counts_by_table(db)["documents"] == 0


def _store_untagged(db, count: int):
    siterows.upsert_site(db, get_site("js_gxt"))
    for n in range(count):
        storing.store_document(db, make_item(n, title=f"关于做好第{n}批农田水利建设的通知",
                                            body_text=f"第{n}批农田水利设施建设。"))


def test_retag_tags_every_stale_document_and_then_none(db):
    _store_untagged(db, 5)
    storing.store_document(db, ClassifyPipeline(FakeCrawler()).process_item(make_item(99)))
    first = retag(db)
    assert (first.examined, first.updated, first.failed) == (5, 5, 0)
    rows = list(db.query("SELECT relevance, level, province, classifier_version FROM documents"))
    assert {r["classifier_version"] for r in rows} == {classify_module.classifier_version()}
    assert {(r["level"], r["province"]) for r in rows} == {("province", "江苏省")}
    assert retag(db).examined == 0
    assert retag(db, everything=True).updated == 6


def test_retag_batches_are_all_or_nothing(db, monkeypatch):
    _store_untagged(db, 5)
    calls = {"n": 0}
    real = classification.write_classification

    def failing(db_, document_id, columns, only_if_stale=False):
        calls["n"] += 1
        if calls["n"] == 4:  # the second batch's second document
            raise sqlite3.OperationalError("disk I/O error")
        return real(db_, document_id, columns, only_if_stale)

    monkeypatch.setattr(pipelines.retag, "write_classification", failing)
    with pytest.raises(sqlite3.OperationalError):
        retag(db, batch=2)
    versions = [r[0] for r in db.execute("SELECT classifier_version FROM documents ORDER BY id")]
    assert versions[:2] == [classify_module.classifier_version()] * 2  # the first batch stands
    assert versions[2:] == [None, None, None]  # the failed batch left nothing half-done
    monkeypatch.setattr(pipelines.retag, "write_classification", real)
    assert retag(db).updated == 3


def test_policywatch_retag_command(tmp_path):
    from click.testing import CliRunner

    from scheduler import main

    path = tmp_path / "corpus.db"
    _store_untagged(schema.open_corpus(path), 3)
    result = CliRunner().invoke(main, ["retag", "--db", str(path)])
    assert result.exit_code == 0, result.output
    assert "3 document(s) re-tagged" in result.output
    missing = CliRunner().invoke(main, ["retag", "--db", str(tmp_path / "none.db")])
    assert missing.exit_code != 0 and "no corpus at" in missing.output
