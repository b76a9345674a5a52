"""A classified corpus for the report, browse and export tests: a real Scrapy crawl of the replay
portal into a real SQLite file (once per test session), copied and labelled per test module.

The labels are the test's own, set with plain SQL from the titles and texts (see ``classify``):
the tests check that reports, exports and the browser count and show what the corpus holds,
whatever the classifier decides. Columns of the shared data contract that this checkout's schema
does not have yet are added here with ALTER TABLE (TEST ONLY, marked below).
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

from crawlers.replay import ReplayPortal

REPO = Path(__file__).resolve().parents[1]
_CACHE: dict[str, Path] = {}

# The synthetic lineage the tests use: a draft (征求意见稿) and the final it is declared to have.
DRAFT_TITLE = "关于公开征求《江苏省虚拟现实与元宇宙应用场景培育若干措施（征求意见稿）》意见的通知"
FINAL_TITLE = "省工业和信息化厅关于印发《江苏省元宇宙产业创新发展行动计划（2026—2028年）》的通知"

# Columns of the shared data contract (classifier + change detection), with their SQL types.
CONTRACT_COLUMNS = {
    "relevance": "TEXT", "relevance_score": "REAL", "scenarios": "TEXT", "measures": "TEXT",
    "techs": "TEXT", "level": "TEXT", "region": "TEXT", "province": "TEXT", "city": "TEXT",
    "county": "TEXT", "city_tier": "TEXT", "doc_type": "TEXT", "status": "TEXT",
    "evidence": "TEXT", "classifier_version": "TEXT", "policy_id": "INTEGER",
    "withdrawn_at": "TEXT", "repealed_at": "TEXT",
}

# GB/T 2260 province code (first two digits of a site's division code) -> (province, region).
PROVINCES = {
    "11": ("北京市", "华北"), "12": ("天津市", "华北"), "13": ("河北省", "华北"),
    "14": ("山西省", "华北"), "15": ("内蒙古自治区", "华北"), "21": ("辽宁省", "东北"),
    "22": ("吉林省", "东北"), "23": ("黑龙江省", "东北"), "31": ("上海市", "华东"),
    "32": ("江苏省", "华东"), "33": ("浙江省", "华东"), "34": ("安徽省", "华东"),
    "35": ("福建省", "华东"), "36": ("江西省", "华东"), "37": ("山东省", "华东"),
    "41": ("河南省", "华中"), "42": ("湖北省", "华中"), "43": ("湖南省", "华中"),
    "44": ("广东省", "华南"), "45": ("广西壮族自治区", "华南"), "46": ("海南省", "华南"),
    "50": ("重庆市", "西南"), "51": ("四川省", "西南"), "52": ("贵州省", "西南"),
    "53": ("云南省", "西南"), "54": ("西藏自治区", "西南"), "61": ("陕西省", "西北"),
    "62": ("甘肃省", "西北"), "63": ("青海省", "西北"), "64": ("宁夏回族自治区", "西北"),
    "65": ("新疆维吾尔自治区", "西北"),
}
# The sites the corpus is crawled from: the project's first fixture sites and the replay-only
# generic site (bad pages, a GBK page, a DOCX document). A fixed list keeps the tests' corpus
# the same when more sites are registered.
CORPUS_SITES = ("cn_gov", "sx_gov", "jx_gov", "jx_sthjt", "js_gxt", "zj_fgw", "gs_fzgg",
                "gs_jyt", "replay_generic")
# word in title/text -> tag, per family: enough to give the tests several tags with overlaps.
LEXICON = {
    "scenarios": {"文旅": "tourism_culture", "制造": "industry", "教育": "education",
                  "城市": "city", "消费": "commerce"},
    "measures": {"资金": "funding", "产业园": "industrial_layout", "标准": "standards",
                 "人才": "enterprise_talent"},
    "techs": {"虚拟现实": "xr", "数字孪生": "digital_twin", "人工智能": "ai", "算力": "computing",
              "区块链": "blockchain"},
}


def crawled_corpus(tmp_path_factory) -> Path:
    """The corpus after one crawl of CORPUS_SITES (built once per session; never change it:
    take ``classified_copy``)."""
    if "crawled" not in _CACHE:
        db = tmp_path_factory.mktemp("research") / "crawled.db"
        with ReplayPortal.from_fixtures().serve() as base:
            result = subprocess.run(
                [sys.executable, "-m", "scheduler", "crawl", *CORPUS_SITES, "--db", str(db),
                 "--replay", base],
                cwd=REPO, capture_output=True, text=True, timeout=600,
            )
        assert result.returncode == 0, result.stdout + result.stderr
        conn = sqlite3.connect(db)
        titles = {row[0] for row in conn.execute("SELECT title FROM documents")}
        conn.close()
        missing = {DRAFT_TITLE, FINAL_TITLE} - titles
        assert not missing, f"the crawl did not store {missing}:\n{result.stdout}{result.stderr}"
        _CACHE["crawled"] = db
    return _CACHE["crawled"]


def classified_copy(tmp_path_factory, name: str = "corpus") -> Path:
    """A copy of the crawled corpus with the test's classification; ``name``.db in a new folder."""
    source = crawled_corpus(tmp_path_factory)
    target = tmp_path_factory.mktemp(name) / f"{name}.db"
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    with dst:
        src.backup(dst)
    src.close()
    classify(dst)
    dst.close()
    return target


def _tags(text: str, family: str) -> list[str]:
    return sorted({tag for word, tag in LEXICON[family].items() if word in text})


def classify(conn: sqlite3.Connection) -> None:
    """Label every document (unless the crawl's classifier did): relevance from 元宇宙 and related
    words, place from the site, tags from a small lexicon, status from 征求意见稿; the draft
    above joins its final's policy."""
    present = {row[1] for row in conn.execute("PRAGMA table_info(documents)")}
    with conn:
        # --- TEST ONLY: the contract's columns until their migrations are in this checkout ---
        for column, sql_type in CONTRACT_COLUMNS.items():
            if column not in present:
                conn.execute(f'ALTER TABLE documents ADD COLUMN "{column}" {sql_type}')
        # --- end of TEST ONLY ---
        if "classifier_version" in present and conn.execute(
                "SELECT count(*) FROM documents WHERE classifier_version IS NOT NULL").fetchone()[0]:
            # The crawl's classifier stage labelled the corpus: test against its labels.
            _link_draft(conn)
            return
        sites = {key: (level, code or "") for key, level, code in
                 conn.execute("SELECT key, level, division_code FROM sites")}
        rows = conn.execute("SELECT id, site, title, body_text FROM documents").fetchall()
        for doc_id, site, title, body in rows:
            text = f"{title}\n{body}"
            if "元宇宙" in title:
                relevance = "dedicated"
            elif "元宇宙" in body or "数字经济" in title:
                relevance = "mentions"
            elif any(w in text for w in ("虚拟现实", "算力", "数字孪生")):
                relevance = "related"
            else:
                relevance = "none"
            level, code = sites[site]
            province, region = PROVINCES.get(code[:2], (None, None))
            if level == "national":
                province = region = None
            # The replay portal's 示例市 stands for an ordinary prefecture-level city.
            city, tier = ("示例市", "其他") if site == "replay_generic" else (None, None)
            conn.execute(
                """UPDATE documents SET relevance = ?, relevance_score = ?, level = ?,
                    region = ?, province = ?, city = ?, city_tier = ?, scenarios = ?,
                    measures = ?, techs = ?, status = ?, evidence = ?,
                    classifier_version = 'tests' WHERE id = ?""",
                [relevance, {"dedicated": 0.9, "mentions": 0.6, "related": 0.4}.get(relevance, 0.0),
                 level, region, province, city, tier,
                 json.dumps(_tags(text, "scenarios")), json.dumps(_tags(text, "measures")),
                 json.dumps(_tags(text, "techs")), "draft" if "征求意见稿" in title else "final",
                 json.dumps({"relevance": title}, ensure_ascii=False), doc_id],
            )
        _link_draft(conn)


def _link_draft(conn: sqlite3.Connection) -> None:
    """Make DRAFT_TITLE a draft of FINAL_TITLE's policy (whatever lineage found)."""
    final_id = conn.execute("SELECT id FROM documents WHERE title = ?", [FINAL_TITLE]).fetchone()[0]
    conn.execute("UPDATE documents SET policy_id = ? WHERE id = ?", [final_id, final_id])
    changed = conn.execute("UPDATE documents SET policy_id = ?, status = 'draft' WHERE title = ?",
                           [final_id, DRAFT_TITLE]).rowcount
    assert changed == 1, "the draft the tests link to its final is not in the crawled corpus"
