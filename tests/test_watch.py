"""Config-declared sites: `watch add|list|remove` edit the TOML safely; such a site is crawled,
scheduled, reported and goes through a day of the demo like a registry site."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from crawlers.config import ConfigError
from crawlers.replay.portal import REPLAY_DIR, ReplayPortal
from scheduler import load_app_config as load_config
from scheduler import main

REPO = Path(__file__).resolve().parents[1]
TRUTH = json.loads((REPLAY_DIR / "unknown" / "truth.json").read_text(encoding="utf-8"))
KFQ = TRUTH["kfq"]

USER_CONFIG = """\
# policywatch config of the research group (keep these comments)
[paths]
db = "/srv/policywatch/corpus.db"  # the shared corpus

[schedule]
time = "06:30"
"""

ENTRY = """
[[watch]]
# a column we follow by hand
key = "{key}"
issuer = "示例县人民政府"
name = "通知公告"
url = "http://www.example-xian.cn/tzgg/"
family = "generic"
division_code = "429005"
level = "county"
"""


def cli(*args) -> subprocess.CompletedProcess:
    """`policywatch ARGS...` in its own process, as a user (or the schedule) runs it."""
    return subprocess.run([sys.executable, "-m", "scheduler", *map(str, args)], cwd=REPO,
                          capture_output=True, text=True, timeout=300)


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def portal():
    portal = ReplayPortal.from_fixtures()
    with portal.serve() as base:
        yield portal, base


# --- the [[watch]] section of the config ------------------------------------------------------
def test_a_watch_entry_is_a_site(tmp_path):
    path = tmp_path / "pw.toml"
    path.write_text(USER_CONFIG + ENTRY.format(key="xian_tzgg") + 'params = {per_page = 20}\ndelay = 3.5\n',
                    encoding="utf-8")
    config = load_config(path)
    (site,) = config.watch
    assert (site.key, site.name, site.family, site.division_code, site.level) == \
        ("xian_tzgg", "示例县人民政府", "generic", "429005", "county")
    assert site.columns[0].name == "通知公告" and site.columns[0].params == {"per_page": 20}
    assert site.domains == ("www.example-xian.cn",)  # the URL's host unless declared
    assert site.politeness.delay == 3.5
    assert site.evidence.startswith("config-declared (pw.toml)")


@pytest.mark.parametrize(("extra", "message"), [
    ('family = "wordpress"\n', "family: 'wordpress' is not one of"),
    ('colour = "blue"\n', "unknown key(s) colour"),
    ('delay = "slow"\n', "delay must be a number"),
    ('needs_browser = "yes"\n', "needs_browser must be true or false"),
    ('domains = ["www.elsewhere.cn"]\n', "is not on the declared domains"),
])
def test_a_bad_watch_entry_names_the_file_the_entry_and_the_key(tmp_path, extra, message):
    path = tmp_path / "pw.toml"
    text = ENTRY.format(key="xian_tzgg")
    key = extra.split(" = ")[0]
    text = "\n".join(line for line in text.splitlines() if not line.startswith(f"{key} =")) + "\n" + extra
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert str(path) in str(raised.value) and "[[watch]] 'xian_tzgg'" in str(raised.value)
    assert message in str(raised.value)


def test_a_watch_entry_missing_keys_says_which(tmp_path):
    path = tmp_path / "pw.toml"
    path.write_text('[[watch]]\nkey = "a_b"\nurl = "http://www.a.cn/x/"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[\[watch\]\] 'a_b': missing issuer, name, family, division_code, level"):
        load_config(path)


def test_a_key_clash_with_the_registry_names_both_sites(tmp_path):
    path = tmp_path / "pw.toml"
    path.write_text(ENTRY.format(key="jx_gov"), encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    message = str(raised.value)
    assert "[[watch]] 'jx_gov' (示例县人民政府, http://www.example-xian.cn/tzgg/)" in message
    assert "the registry's site 'jx_gov' (江西省人民政府, crawlers/sites/jx_gov.py)" in message


def test_a_key_declared_twice_is_an_error(tmp_path):
    path = tmp_path / "pw.toml"
    path.write_text(ENTRY.format(key="a_b") + ENTRY.format(key="a_b"), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"'a_b' is declared twice \(tables #1 and #2\)"):
        load_config(path)


# --- watch add / list / remove ----------------------------------------------------------------
def test_watch_add_keeps_the_users_file_and_writes_what_detect_proposes(tmp_path, portal):
    _, base = portal
    path = tmp_path / "policywatch.toml"
    path.write_text(USER_CONFIG, encoding="utf-8")
    result = invoke("watch", "add", "http://www.jiangxi.gov.cn/col/col4975/index.html", "--config", path,
                    "--replay", base, "--no-browser")
    assert result.exit_code == 0, result.output
    assert "added [[watch]] jiangxi_col4975" in result.output
    text = path.read_text(encoding="utf-8")
    assert text.startswith(USER_CONFIG)  # comments, tables and order kept
    config = load_config(path)
    assert config.schedule.time == "06:30" and str(config.db) == "/srv/policywatch/corpus.db"
    (site,) = config.watch
    # Names and jurisdiction from the page and the gazetteer; the family and why from detect.
    assert (site.key, site.name, site.family, site.division_code, site.level) == \
        ("jiangxi_col4975", "江西省人民政府", "hanweb", "360000", "province")
    assert site.columns[0].name == "政策文件"
    assert "detected" in site.evidence and "datastore" in site.evidence

    # The options win over what the page says.
    result = invoke("watch", "add", "http://www.example-xian.cn/tzgg/", "--config", path, "--replay", base,
                    "--name", "县政府通知", "--issuer", "示例县人民政府", "--division", "429005",
                    "--level", "county", "--key", "xian_notices", "--delay", "3")
    assert result.exit_code == 0, result.output
    added = {s.key: s for s in load_config(path).watch}["xian_notices"]
    assert (added.columns[0].name, added.division_code, added.politeness.delay) == ("县政府通知", "429005", 3.0)

    listed = invoke("watch", "list", "--config", path)
    assert "jiangxi_col4975" in listed.output and "xian_notices" in listed.output
    assert "2 config-declared site(s)" in listed.output
    as_json = json.loads(invoke("watch", "list", "--config", path, "--json").output)
    assert [t["key"] for t in as_json] == ["jiangxi_col4975", "xian_notices"]


def test_watch_add_refuses_what_it_cannot_watch_and_writes_nothing(tmp_path, portal):
    server, base = portal
    path = tmp_path / "policywatch.toml"
    path.write_text(USER_CONFIG + ENTRY.format(key="xian_tzgg"), encoding="utf-8")
    before = path.read_bytes()
    # The same key again.
    result = invoke("watch", "add", "http://www.example-xian.cn/tzgg/", "--config", path, "--replay", base,
                    "--key", "xian_tzgg", "--division", "429005", "--level", "county")
    assert result.exit_code == 1 and "[[watch]] 'xian_tzgg' exists already" in result.output
    # A registry site's key.
    result = invoke("watch", "add", "http://www.example-xian.cn/tzgg/", "--config", path, "--replay", base,
                    "--key", "jx_gov", "--division", "429005", "--level", "county")
    assert result.exit_code == 1 and "the registry's site 'jx_gov'" in result.output
    # An issuer the gazetteer cannot place, without --division.
    result = invoke("watch", "add", "http://www.example-xian.cn/tzgg/", "--config", path, "--replay", base)
    assert result.exit_code == 2 and "give --division CODE and --level" in result.output
    # A page that lists nothing.
    server.put("http://www.example-none.cn/about.html", "<html><body><p>关于我们</p><a href='/'>首页</a></body></html>")
    result = invoke("watch", "add", "http://www.example-none.cn/about.html", "--config", path, "--replay", base,
                    "--division", "429005", "--level", "county", "--issuer", "示例", "--name", "关于")
    assert result.exit_code == 1 and "not added" in result.output and "0 entries" in result.output
    assert path.read_bytes() == before

    # A config that is already broken is not touched.
    broken = tmp_path / "broken.toml"
    broken.write_text('[schedule]\ntime = "25:00"\n', encoding="utf-8")
    result = invoke("watch", "add", "http://www.example-xian.cn/tzgg/", "--config", broken, "--replay", base,
                    "--division", "429005", "--level", "county")
    assert result.exit_code == 1 and '[schedule] time: expected a time HH:MM' in result.output
    assert broken.read_text(encoding="utf-8") == '[schedule]\ntime = "25:00"\n'


def test_watch_remove_takes_out_one_table_and_nothing_else(tmp_path):
    path = tmp_path / "policywatch.toml"
    path.write_text(USER_CONFIG + ENTRY.format(key="first_one") + ENTRY.format(key="second_one")
                    + '\n[sites]\ncontact = "ops@example.org"  # the webmasters reach us here\n', encoding="utf-8")
    result = invoke("watch", "remove", "first_one", "--config", path)
    assert result.exit_code == 0, result.output
    assert "removed [[watch]] first_one" in result.output and "documents stay" in result.output
    text = path.read_text(encoding="utf-8")
    assert 'key = "first_one"' not in text and 'key = "second_one"' in text
    assert text.startswith(USER_CONFIG)
    assert "# the webmasters reach us here" in text and "# a column we follow by hand" in text
    assert [s.key for s in load_config(path).watch] == ["second_one"]
    missing = invoke("watch", "remove", "first_one", "--config", path)
    assert missing.exit_code == 1 and "no [[watch]] 'first_one'; config-declared sites: second_one" in missing.output
    invoke("watch", "remove", "second_one", "--config", path)
    assert "[[watch]]" not in path.read_text(encoding="utf-8")
    assert load_config(path).watch == () and load_config(path).contact == "ops@example.org"


def test_watch_add_writes_the_default_config_when_none_exists(tmp_path, portal, monkeypatch):
    _, base = portal
    monkeypatch.setenv("POLICYWATCH_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("POLICYWATCH_CONFIG", raising=False)
    result = invoke("watch", "add", "https://fzgg.gansu.gov.cn/fzgg/tzgg/list.shtml", "--replay", base)
    assert result.exit_code == 0, result.output
    written = tmp_path / "home" / "policywatch.toml"
    assert [s.family for s in load_config(written).watch] == ["ucap"]


# --- a config site among the others -------------------------------------------------------------
def test_sites_and_status_mark_config_declared_sites(tmp_path):
    path = tmp_path / "pw.toml"
    path.write_text(ENTRY.format(key="xian_tzgg"), encoding="utf-8")
    table = invoke("sites", "--config", path)
    assert table.exit_code == 0, table.output
    line = next(l for l in table.output.splitlines() if l.startswith("xian_tzgg"))
    assert "config-declared" in line and "示例县人民政府" in line
    rows = json.loads(invoke("sites", "--json", "--config", path).output)
    assert rows[-1]["key"] == "xian_tzgg" and rows[-1]["status"] == "config-declared"
    assert "xian_tzgg" not in invoke("sites", "--markdown", "--config", path).output  # README: registry only

    from pipelines.schema import open_corpus

    db = tmp_path / "corpus.db"
    open_corpus(db).close()
    status = invoke("status", "--db", db, "--config", path)
    assert status.exit_code == 0, status.output
    assert "xian_tzgg (config)" in status.output
    health = json.loads(invoke("status", "--db", db, "--config", path, "--json").output)
    mine = next(h for h in health if h["site"] == "xian_tzgg")
    assert mine["config_declared"] and mine["state"] == "never run"


def test_the_schedule_crawls_config_sites_with_their_config(tmp_path):
    from crawlers.engine.rounds import crawl_command
    from scheduler import scheduled_sites

    path = tmp_path / "pw.toml"
    path.write_text('[sites]\ndisabled = ["cn_gov"]\n' + ENTRY.format(key="xian_tzgg"), encoding="utf-8")
    config = load_config(path)
    keys = [s.key for s in scheduled_sites(config, interval=False)]
    assert "xian_tzgg" in keys and "jx_gov" in keys and "cn_gov" not in keys
    command = crawl_command("xian_tzgg", tmp_path / "c.db", config_path=path)
    assert command[command.index("--config") + 1] == str(path)


def test_crawl_names_an_unknown_key_among_config_sites(tmp_path):
    path = tmp_path / "pw.toml"
    path.write_text(ENTRY.format(key="xian_tzgg"), encoding="utf-8")
    result = invoke("crawl", "no_such_site", "--config", path, "--db", tmp_path / "c.db")
    assert result.exit_code == 2
    assert "unknown site 'no_such_site'" in result.output and "config-declared: xian_tzgg" in result.output


# --- a day of the demo with a watched site --------------------------------------------------------
def test_a_watched_site_lives_through_days_like_any_other(tmp_path, monkeypatch):
    """watch add a replay column; the daily round (`policywatch run`) crawls it: a `new` change
    per document; the next day the demo's machinery revises one page and crawls again: one
    `revised` change; the digest lists them."""
    from crawlers.replay.demo import Day, PortalDays, crawl_day
    from pipelines.schema import open_corpus

    config, db = tmp_path / "policywatch.toml", tmp_path / "corpus.db"
    # One subscription to everything: the digest lists every change in full, irrelevant or not.
    config.write_text(f'[paths]\ndb = "{db}"\n\n[[subscription]]\nname = "all"\nmin_relevance = "none"\n',
                      encoding="utf-8")
    portal = ReplayPortal()
    portal.load_extra()
    with portal.serve() as base:
        added = invoke("watch", "add", KFQ["column"], "--config", config, "--replay", base, "--key", "kfq_zcwj",
                       "--division", "429004", "--level", "county")
        assert added.exit_code == 0, added.output
        # [sites] enabled may name only sites that exist: the watched one, once added.
        with config.open("a", encoding="utf-8") as f:
            f.write('\n[sites]\nenabled = ["kfq_zcwj"]  # only ours today\n')

        day1 = cli("run", "--config", config, "--replay", base, "--no-digest")
        assert day1.returncode == 0, day1.stdout + day1.stderr
        assert "kfq_zcwj" in day1.stdout and "ok" in day1.stdout
        corpus = open_corpus(db)
        kinds = [r["kind"] for r in corpus.query("select kind from changes order by id")]
        assert kinds == ["new"] * len(KFQ["documents"])

        # Day 2: one document revised on the portal, crawled through the demo's day machinery.
        revised_url = KFQ["documents"][2]["url"]
        served = portal.get(revised_url).body.decode("utf-8")
        assert "十二家企业" in served
        (tmp_path / "revised.html").write_text(served.replace("十二家企业", "十五家企业"), encoding="utf-8")
        (tmp_path / "waf.html").write_text("<html><body>blocked</body></html>", encoding="utf-8")
        day = Day(number=2, date="2026-11-24", slug="revision", story="a watched page is revised",
                  put=({"url": revised_url, "file": "revised.html"},))
        PortalDays(portal, {"file": "waf.html"}, folder=tmp_path).apply(day)
        monkeypatch.setenv("POLICYWATCH_CONFIG", str(config))  # the day's crawl finds the site here
        report = crawl_day(["kfq_zcwj"], db, base, day)
    assert report["kfq_zcwj"]["revised"] == 1 and report["kfq_zcwj"]["new"] == 0

    corpus = open_corpus(db)
    changes = [dict(r) for r in corpus.query(
        "select c.kind, d.url, d.site from changes c join documents d on d.id = c.document_id order by c.id")]
    assert [c["kind"] for c in changes] == ["new"] * len(KFQ["documents"]) + ["revised"]
    assert changes[-1]["url"] == revised_url and {c["site"] for c in changes} == {"kfq_zcwj"}
    assert {c["url"] for c in changes if c["kind"] == "new"} == {d["url"] for d in KFQ["documents"]}

    listed = json.loads(invoke("changes", "--since", "2000-01-01", "--json", "--db", db, "--config", config).output)
    assert sorted(e["kind"] for e in listed) == sorted(["new"] * len(KFQ["documents"]) + ["revised"])
    digest = invoke("digest", "--format", "json", "--out", "-", "--no-deliver", "--db", db, "--config", config)
    assert digest.exit_code == 0, digest.output
    built = json.loads(digest.output)
    assert built["counts"].get("revised") == 1 and built["counts"].get("new") == len(KFQ["documents"])
    revision = next(e for e in built["changes"] if e["kind"] == "revised")
    assert revision["document"]["url"] == revised_url
    assert "十五家企业" in json.dumps(revision["diff"], ensure_ascii=False)
