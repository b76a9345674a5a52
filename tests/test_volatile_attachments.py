"""No false revision when a file's bytes change but its content does not (#17).

Real files made here (benchmarks/faultcases/attachments.py builds them): a DOCX regenerated with
new ZIP times, a PDF re-rendered with a new producer date and a "下载时间" watermark behind a link
whose ``?t=`` changes every day, a pair of files listed in another order. Each such fetch is kept
as a sighting — nothing lost, no alert — while a figure changed inside the DOCX, a file added and
a file removed are revisions, each with its diff. First through the store, then through real
crawls of the replay portal across three days.
"""

from __future__ import annotations

import json
import sqlite3

import pytest

from benchmarks.faultcases import attachments as cases
from crawlers.parsing.attachments import changed_params, stable_link
from digest.build import build_digest
from digest.render import render_html, render_markdown
from pipelines import schema as corpus_schema
from pipelines.schema import open_corpus
from pipelines.storing import store_document
from pipelines.volatileparams import learned_params

pytestmark = pytest.mark.faults


@pytest.fixture
def db(tmp_path):
    corpus = open_corpus(tmp_path / "corpus.db")
    yield corpus
    corpus.close()


def _changes(db) -> list[tuple[str, dict]]:
    return [(kind, json.loads(diff)) for kind, diff in db.execute("select kind, diff from changes order by id")]


def _sightings(db) -> list[dict]:
    return [dict(r) for r in db.query("select * from sightings order by id")]


def test_stable_link_drops_what_changes_on_every_download():
    assert stable_link("http://A.gov.cn/f/a.pdf?t=1764581400") == "http://a.gov.cn/f/a.pdf"
    assert stable_link("http://a.gov.cn/down.jsp?id=7&_=1764581400123&token=x") == "http://a.gov.cn/down.jsp?id=7"
    assert stable_link("http://a.gov.cn/down.jsp?id=7&sid=3f2a9c1be47d0a55") == "http://a.gov.cn/down.jsp?id=7"
    assert stable_link("http://a.gov.cn/down.jsp?id=7&dl=ab12") == "http://a.gov.cn/down.jsp?id=7&dl=ab12"
    assert stable_link("http://a.gov.cn/down.jsp?id=7&dl=ab12", {"dl"}) == "http://a.gov.cn/down.jsp?id=7"
    assert changed_params("http://a/x?id=1&k=2", "http://a/x?id=1&k=3") == ({"k"}, {"id"})
    assert changed_params("http://a/x?id=1", "http://a/y?id=1") is None


def test_the_volatile_twins_are_other_bytes():
    day1, day2 = cases.volatile_day(1), cases.volatile_day(2)
    for a, b in zip(day1, day2):
        assert {x.data for x in a.attachments} != {x.data for x in b.attachments}, a.title
    assert "下载时间：2026-12-02" in cases.fetched(day2[1].attachments[0]).text
    assert day1[1].attachments[0].href != day2[1].attachments[0].href  # ?t= of the day


@pytest.mark.parametrize("n, differs", [
    (8001, ["attachment_bytes"]),  # the DOCX made again: new ZIP times
    (8002, ["attachment_bytes", "attachment_links"]),  # re-rendered PDF, watermark, new ?t=
    (8003, ["attachment_bytes", "attachment_order"]),  # the pair listed the other way round
])
def test_a_volatile_fetch_is_a_sighting_not_a_revision(db, n, differs):
    first, second = cases.store_days(db, n, [(1, False), (2, False)])
    assert first.kind == "new" and second.kind == "unchanged"
    assert [kind for kind, _ in _changes(db)] == ["new"]  # no alert
    assert db.execute("select count(*) from versions").fetchone()[0] == 1
    (sighting,) = _sightings(db)
    assert sighting["id"] == second.sighting_id and sighting["version_id"] == first.version_id
    assert json.loads(sighting["differs"]) == differs
    # Nothing lost: the new files' hashes and sizes, as fetched and in the page's order.
    day2 = next(d for d in cases.volatile_day(2) if d.n == n)
    kept = json.loads(sighting["attachments"])
    assert [(a["url"], a["sha256"]) for a in kept] == \
        [(x.url, cases.fetched(x).sha256) for x in day2.attachments]
    stored = {r["sha256"] for r in db.query("select sha256 from attachments")}
    assert not {a["sha256"] for a in kept} <= stored


def test_the_watermarked_text_is_kept_with_the_sighting(db):
    cases.store_days(db, 8002, [(1, False), (2, False)])
    (attachment,) = json.loads(_sightings(db)[0]["attachments"])
    assert "下载时间：2026-12-02" in attachment["text"]  # not the version's: kept
    cases.store_days(db, 8001, [(1, False), (2, False)])
    (same,) = json.loads(_sightings(db)[1]["attachments"])
    assert same.get("text_as_version") is True and "text" not in same


def test_an_identical_fetch_is_neither_a_sighting_nor_a_revision(db):
    cases.store_days(db, 8001, [(1, False)])
    again = store_document(db, cases.item_of(cases.volatile_day(1)[0], 2))
    assert again.kind == "unchanged" and again.sighting_id is None
    assert _sightings(db) == []


def test_real_changes_are_revisions_each_with_its_diff(db):
    for n in (8001, 8002, 8003):
        results = cases.store_days(db, n, [(1, False), (2, False), (3, True)])
        assert [r.kind for r in results] == ["new", "unchanged", "revised"]
    revised = [diff for kind, diff in _changes(db) if kind == "revised"]
    assert [d["changed"] for d in revised] == [["attachments"]] * 3
    figure, added, removed = (d["attachments"] for d in revised)
    assert [(c["change"], c["name"]) for c in figure] == [("replaced", "示例市元宇宙产业发展实施细则.docx")]
    (sentence,) = figure[0]["text"]["entries"]
    assert sentence["op"] == "changed" and ["-", "2"] in sentence["segments"] and ["+", "3"] in sentence["segments"]
    assert [(c["change"], c["name"]) for c in added] == [("added", "任务分工.docx")]
    assert [(c["change"], c["name"]) for c in removed] == [("removed", "附件2 申报表.docx")]
    # The digest shows what changed: the file and the sentence inside it.
    ids = [i for (i,) in db.execute("select id from changes where kind = 'revised' order by id")]
    digest = build_digest(db, ids, since=None)
    markdown = render_markdown(digest)
    assert "附件已更换：示例市元宇宙产业发展实施细则.docx" in markdown
    assert "附件正文变化：1 句修改" in markdown and "~~2~~**3**" in markdown
    assert "新增附件：任务分工.docx" in markdown and "删除附件：附件2 申报表.docx" in markdown
    assert "附件正文变化" in render_html(digest)


def test_a_parameter_that_changes_on_every_sighting_is_learned_for_its_site(db):
    doc = cases.volatile_day(1)[0]
    linked = doc.attachments[0]

    def on(day: int, dl: str, name: str = linked.name):
        doc.attachments = [cases.Linked(f"/zcwj/files/down.jsp?id=8001&dl={dl}", name, linked.data)]
        return store_document(db, cases.item_of(doc, day))

    on(1, "a1"), on(2, "b2")
    assert learned_params(db, "replay_generic") == frozenset()  # once is no habit
    on(3, "c3")
    assert learned_params(db, "replay_generic") == {"dl"}
    # Learned, the link names the file even when its name changes too: one attachment, unchanged.
    result = on(4, "d4", name="实施细则（全文）.docx")
    assert result.kind == "unchanged" and [k for k, _ in _changes(db)] == ["new"]
    assert learned_params(db, "other_site") == frozenset()


def test_a_corpus_of_the_previous_schema_gains_sightings_and_keeps_its_data(tmp_path):
    path = tmp_path / "old.db"
    db = open_corpus(path)
    first, = cases.store_days(db, 8001, [(1, False)])
    with db.conn:
        db.execute("DROP TABLE sightings")
        db.execute("DROP TABLE volatile_params")
        # Back to the version before the sightings' migration, however many came after it.
        before = next(i for i, steps in enumerate(corpus_schema.MIGRATIONS)
                      if any(isinstance(s, str) and "CREATE TABLE sightings" in s for s in steps))
        db.execute(f"PRAGMA user_version = {before}")
    db.close()
    db = open_corpus(path)
    assert corpus_schema.schema_version(db) == corpus_schema.SCHEMA_VERSION
    assert db.execute("select count(*) from versions").fetchone()[0] == 1
    second = store_document(db, cases.item_of(cases.volatile_day(2)[0], 2))
    assert second.version_id == first.version_id and second.sighting_id is not None
    with pytest.raises(sqlite3.IntegrityError, match="sightings are never updated"):
        db.execute("update sightings set seen_at = 'x'")
    with pytest.raises(sqlite3.IntegrityError, match="sightings are never deleted"):
        db.execute("delete from sightings")
    db.close()


@pytest.mark.e2e
def test_daily_crawls_alert_real_changes_only(tmp_path):
    from crawlers.replay.portal import ReplayPortal

    portal = ReplayPortal()
    path = tmp_path / "corpus.db"
    runs = []
    with portal.serve() as base:
        for day, real in ((1, False), (2, False), (3, True)):
            cases.serve_day(portal, cases.volatile_day(day, real))
            result = cases.crawl(base, path, day=f"2026-12-0{day}")
            assert result.returncode == 0, result.stderr[-3000:]
            db = open_corpus(path)
            runs.append(json.loads(db.execute("select counts from runs order by id desc limit 1").fetchone()[0]))
            db.close()
    assert [(r["new"], r["revised"], r["unchanged"], r["volatile"]) for r in runs] == \
        [(3, 0, 0, 0), (0, 0, 3, 3), (0, 3, 0, 0)]
    db = open_corpus(path)
    assert [k for k, _ in _changes(db)] == ["new"] * 3 + ["revised"] * 3
    assert len(_sightings(db)) == 3 and db.execute("select count(*) from versions").fetchone()[0] == 6
    by_doc = {url.rsplit("_", 1)[-1]: json.loads(diff) for url, diff in db.execute(
        "select d.url, c.diff from changes c join documents d on d.id = c.document_id where c.kind = 'revised'")}
    assert by_doc["8001.html"]["attachments"][0]["text"]["changed"] == 1
    assert [c["change"] for c in by_doc["8002.html"]["attachments"]] == ["added"]
    assert [c["change"] for c in by_doc["8003.html"]["attachments"]] == ["removed"]
    db.close()


def test_a_cover_note_taking_another_listed_file_first_is_no_revision():
    from pipelines.changes import Snapshot, attachment_view, compare, volatile_differences

    guide = attachment_view("http://a.gov.cn/a.pdf", "申报指南", "a" * 64, None, "申报指南\n申报单位应在本市注册。")
    form = attachment_view("http://a.gov.cn/b.docx", "申报表", "b" * 64, None, "申报表\n单位名称：")
    before = Snapshot(guide["text"], {}, (guide, form), "attachment")
    after = Snapshot(form["text"], {}, (form, guide), "attachment")
    assert compare(before, after).changed == ()
    assert volatile_differences(before, after) == ["text", "attachment_order"]
    edited = attachment_view(guide["url"], "申报指南", "c" * 64, None, "申报指南\n申报单位应在本省注册。")
    revision = compare(before, Snapshot(edited["text"], {}, (edited, form), "attachment"))
    assert revision.changed == ("text", "attachments") and revision.text["changed"] == 1
