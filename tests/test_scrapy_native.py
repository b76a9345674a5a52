"""The spider the Scrapy way: `scrapy list`, `scrapy crawl policy -a site=KEY` from a checkout,
into the configured corpus, with `-s` overrides and Scrapy's feed exports."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from crawlers.replay.portal import ReplayPortal

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[1]
SCRAPY = [sys.executable, "-m", "scrapy.cmdline"]


def scrapy(*args: str, home: Path, config: Path | None = None) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "POLICYWATCH_HOME": str(home), "HOME": str(home)}
    if config is not None:
        env["POLICYWATCH_CONFIG"] = str(config)
    return subprocess.run([*SCRAPY, *args], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=300)


def documents(db: Path) -> set[str]:
    with sqlite3.connect(db) as conn:
        return {url for (url,) in conn.execute("select url from documents")}


@pytest.fixture(scope="module")
def portal():
    with ReplayPortal.from_fixtures().serve() as base:
        yield base


def test_scrapy_list_names_the_policy_spider(tmp_path):
    listed = scrapy("list", home=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split() == ["policy"]


def test_scrapy_crawl_stores_into_the_configured_corpus_and_exports_items(portal, tmp_path):
    elsewhere = tmp_path / "elsewhere" / "corpus.db"
    elsewhere.parent.mkdir()
    config = tmp_path / "policywatch.toml"
    config.write_text(f'[paths]\ndb = "{elsewhere}"\n', encoding="utf-8")
    out = tmp_path / "items.jsonl"
    done = scrapy("crawl", "policy", "-a", "site=replay_generic", "-s", f"POLICYWATCH_REPLAY_URL={portal}",
                  "-O", str(out), "-L", "WARNING", home=tmp_path / "home", config=config)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    # The config's corpus, not the home's.
    assert not (tmp_path / "home" / "corpus.db").exists()
    stored = documents(elsewhere)
    assert "http://www.example-gov.cn/zcwj/202203/t20220315_1001.html" in stored
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert {r["url"] for r in rows} == stored
    plan = next(r for r in rows if r["url"].endswith("t20220315_1001.html"))
    assert plan["doc_number"] == "示政发〔2022〕7号"
    assert plan["published_date"] == "2022-03-15"
    assert plan["raw_body"] and isinstance(plan["raw_body"], str)  # base64 of the response
    assert plan["body_forms"] is None
    docx = next(r for r in rows if r["url"].endswith(".docx"))
    assert all("data" not in a for a in docx["attachments"])


def test_settings_on_the_command_line_win_and_the_crawl_mode_is_an_argument(portal, tmp_path):
    db = tmp_path / "given.db"
    first = scrapy("crawl", "policy", "-a", "site=replay_generic", "-a", "max_pages=1",
                   "-s", f"POLICYWATCH_REPLAY_URL={portal}", "-s", f"POLICYWATCH_DB={db}",
                   "-L", "WARNING", home=tmp_path / "home")
    assert first.returncode == 0, first.stderr[-3000:]
    assert documents(db)
    again = scrapy("crawl", "policy", "-a", "site=replay_generic", "-a", "incremental=1",
                   "-a", "column=政策文件", "-s", f"POLICYWATCH_REPLAY_URL={portal}",
                   "-s", f"POLICYWATCH_DB={db}", "-L", "WARNING", home=tmp_path / "home")
    assert again.returncode == 0, again.stderr[-3000:]
    with sqlite3.connect(db) as conn:
        modes = [m for (m,) in conn.execute("select json_extract(counts, '$.mode') from runs order by id")]
    assert modes == ["full", "incremental"]


@pytest.mark.parametrize("args, says", [
    (["-a", "site=nosuch"], "-a site: "),
    (["-a", "site=replay_generic", "-a", "column=nosuch"], "has no column 'nosuch'"),
    (["-a", "site=replay_generic", "-a", "since=yesterday"], "-a since: 'yesterday' is not a date"),
    (["-a", "site=replay_generic", "-a", "mode=fast"], "-a mode: 'fast' is not one of"),
])
def test_a_bad_argument_is_named(portal, tmp_path, args, says):
    done = scrapy("crawl", "policy", *args, "-s", f"POLICYWATCH_REPLAY_URL={portal}",
                  "-s", f"POLICYWATCH_DB={tmp_path / 'c.db'}", home=tmp_path)
    assert says in done.stderr
    assert not (tmp_path / "c.db").exists()


def test_the_configs_scrapy_table_reaches_a_crawl(tmp_path):
    portal = ReplayPortal.from_fixtures()
    config = tmp_path / "policywatch.toml"
    config.write_text(f'[paths]\ndb = "{tmp_path / "corpus.db"}"\n\n'
                      '[scrapy]\nUSER_AGENT = "policywatch-config-test/1.0"\n', encoding="utf-8")
    with portal.serve() as base:
        done = subprocess.run([sys.executable, "-m", "scheduler", "--config", str(config), "crawl",
                               "replay_generic", "--max-pages", "1", "--replay", base],
                              cwd=REPO, capture_output=True, text=True, timeout=300,
                              env={"PATH": "/usr/bin:/bin", "POLICYWATCH_HOME": str(tmp_path / "home")})
    assert done.returncode == 0, done.stderr[-2000:]
    assert portal.user_agents == {"policywatch-config-test/1.0"}
    assert documents(tmp_path / "corpus.db")
