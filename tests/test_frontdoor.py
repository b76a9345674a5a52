"""The front door: every command finds the corpus the config names, reads it without writing,
and refuses a bad corpus or a bad config in one line.

The inputs are built by benchmarks/faultcases/frontdoor.py, which runs the same faults as
separate processes for benchmarks/faults.py.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from benchmarks.faultcases import frontdoor as faults
from benchmarks.faultcases.frontdoor import BAD_CONFIGS, BAD_CORPORA, UNREACHABLE
from crawlers.replay.portal import ReplayPortal
from pipelines.schema import SCHEMA_VERSION, open_corpus
from scheduler import main
from tests.test_distributed import redis_url  # noqa: F401 — the project's real Redis fixture

REPO = Path(__file__).resolve().parents[1]
TITLE = "示例市元宇宙产业第1号文件"


def invoke(home: Path, *args: str):
    """``policywatch ARGS`` in this process with $POLICYWATCH_HOME at ``home`` and no
    $POLICYWATCH_CONFIG; stderr apart from stdout."""
    return CliRunner().invoke(main, [str(a) for a in args],
                              env={"POLICYWATCH_HOME": str(home), "POLICYWATCH_CONFIG": None})


def one_line_refusal(result, *must_say: str) -> str:
    """The result is a clean refusal: exit 1, no exception escaped, one stderr line saying it all."""
    assert result.exit_code == 1, (result.exit_code, result.output, result.stderr)
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for text in must_say:
        assert text in lines[0], (text, lines[0])
    return lines[0]


# --- [paths] db is the corpus of every command --------------------------------------------------
@pytest.fixture
def elsewhere(tmp_path):
    """A home with a config whose [paths] db is outside the home, and that corpus (3 documents)."""
    home, db = tmp_path / "home", tmp_path / "elsewhere" / "corpus.db"
    home.mkdir()
    db.parent.mkdir()
    faults.policywatch_corpus(db)
    (home / "policywatch.toml").write_text(
        f'[paths]\ndb = "{db}"\ndigests = "{tmp_path / "digests"}"\n'
        '[schedule]\nstagger_seconds = 0\n[sites]\nenabled = ["replay_generic"]\n', encoding="utf-8")
    return home, db


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _cli(home: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return faults.policywatch([str(a) for a in args], home, timeout=timeout)


def _crawled(db: Path) -> set[str]:
    conn = open_corpus(db)
    try:
        return {r[0] for r in conn.execute("SELECT DISTINCT site FROM documents")}
    finally:
        conn.close()


def _browse_count(home: Path) -> int:
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-m", "scheduler", "browse", "--port", str(port)],
                               cwd=REPO, env={**faults.os.environ, "POLICYWATCH_HOME": str(home)},
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/corpus/documents.json?_size=0",
                                            timeout=30) as response:
                    return json.loads(response.read())["filtered_table_rows_count"]
            except (urllib.error.URLError, ConnectionError):
                if process.poll() is not None or time.monotonic() > deadline:
                    process.kill()
                    pytest.fail(f"policywatch browse did not start:\n{process.stdout.read()}")
                time.sleep(0.2)
    finally:
        process.terminate()
        process.wait(timeout=10)


READERS = ["status", "search", "changes", "digest-preview", "export", "report", "browse"]
WRITERS = ["digest", "retag", "migrate", "ingest"]
CRAWLS = ["crawl", "backfill", "run"]


@pytest.mark.parametrize("command", READERS + WRITERS + CRAWLS)
def test_every_command_uses_the_corpus_the_config_names(command, elsewhere, tmp_path, request):
    """With ``[paths] db`` outside the home and no --db, each command that opens the corpus
    opens that one — and none creates $POLICYWATCH_HOME/corpus.db."""
    home, db = elsewhere
    if command in CRAWLS:
        portal = ReplayPortal.from_fixtures(["replay_generic"])
        with portal.serve() as base:
            args = {"crawl": ["crawl", "replay_generic"], "backfill": ["backfill", "replay_generic"],
                    "run": ["run", "--no-digest"]}[command]
            result = _cli(home, *args, "--replay", base)
        assert result.returncode == 0, result.stdout + result.stderr
        assert _crawled(db) == {"jx_gov", "replay_generic"}
    elif command == "browse":
        assert _browse_count(home) == 3
    elif command == "ingest":
        result = invoke(home, "ingest", "--redis", request.getfixturevalue("redis_url"), "--until-idle", "0")
        assert result.exit_code == 0, result.output + result.stderr
        assert f"into {db}" in result.output
    else:
        args = {"status": ["status", "--json"], "search": ["search", "元宇宙"], "changes": ["changes"],
                "digest-preview": ["digest", "--no-deliver", "--out", "-", "--format", "json"],
                "export": ["export"], "report": ["report", "--no-charts", "--out", tmp_path / "report"],
                "digest": ["digest", "--out", tmp_path / "out"], "retag": ["retag"],
                "migrate": ["migrate"]}[command]
        result = invoke(home, *args)
        assert result.exit_code == 0, result.output + result.stderr
        shown = result.output + result.stderr
        expected = {
            "status": '"documents": 3', "search": TITLE, "changes": TITLE, "digest-preview": TITLE,
            "export": TITLE, "report": "3 份文件尚未分类",
            "digest": "files: 3 change(s) delivered", "retag": "of 3 examined",
            "migrate": f"{db}: corpus already at schema version {SCHEMA_VERSION}",
        }[command]
        assert expected in shown, shown
    assert not (home / "corpus.db").exists()


def test_a_command_db_overrides_the_group_and_the_group_the_config(elsewhere, tmp_path):
    home, db = elsewhere
    other = faults.policywatch_corpus(tmp_path / "other.db", documents=1)
    assert "第2号" in invoke(home, "search", "元宇宙").output  # the config's corpus: 3 documents
    assert "第2号" not in invoke(home, "--db", other, "search", "元宇宙").output
    assert "第2号" in invoke(home, "--db", other, "search", "元宇宙", "--db", db).output


# --- a bad corpus: one line, nothing touched ------------------------------------------------------
def _reader_cases():
    for bad in BAD_CORPORA:
        for command in faults.reader_commands(Path("."), serving=bad.name != "deep-damage"):
            yield pytest.param(bad, command, id=f"{bad.name}-{command}")


@pytest.mark.faults
@pytest.mark.parametrize(("bad", "command"), list(_reader_cases()))
def test_read_commands_refuse_a_bad_corpus_in_one_line_and_change_nothing(bad, command, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    path = bad.build(tmp_path / "corpus.db")
    before = path.read_bytes()
    result = invoke(home, "--db", path, *faults.reader_commands(tmp_path)[command])
    one_line_refusal(result, str(path), bad.says)
    assert path.read_bytes() == before
    assert not (home / "corpus.db").exists()


def _writer_cases():
    for bad in BAD_CORPORA:
        if bad.writers_refuse:
            for command in faults.writer_commands(Path(".")):
                yield pytest.param(bad, command, id=f"{bad.name}-{command}")


@pytest.mark.faults
@pytest.mark.parametrize(("bad", "command"), list(_writer_cases()))
def test_writers_refuse_a_bad_corpus_before_any_work(bad, command, tmp_path):
    """crawl, backfill, run, digest delivery, retag and migrate: refused in one line before a
    page is fetched; somebody else's database is never given our tables."""
    home = tmp_path / "home"
    home.mkdir()
    path = bad.build(tmp_path / "corpus.db")
    before = path.read_bytes()
    result = invoke(home, "--db", path, *faults.writer_commands(tmp_path)[command])
    one_line_refusal(result, str(path), bad.says)
    assert path.read_bytes() == before


@pytest.mark.faults
@pytest.mark.parametrize("command", ["digest-deliver", "retag", "migrate"])
def test_an_empty_file_is_no_corpus_for_writers_that_do_not_create_one(command, tmp_path):
    path = faults.zero_length(tmp_path / "corpus.db")
    result = invoke(tmp_path, "--db", path, *faults.writer_commands(tmp_path)[command])
    one_line_refusal(result, str(path), "empty file")
    assert path.read_bytes() == b""


@pytest.mark.faults
def test_a_crawl_starts_a_corpus_in_an_empty_file(tmp_path):
    """An empty file holds nothing to lose: a crawl (which may create the corpus) starts one
    there, as SQLite does — two crawls creating a new corpus at once meet such a file."""
    path = faults.zero_length(tmp_path / "corpus.db")
    with ReplayPortal.from_fixtures(["replay_generic"]).serve() as base:
        result = _cli(tmp_path, "crawl", "replay_generic", "--db", path, "--replay", base)
    assert result.returncode == 0, result.stdout + result.stderr
    assert _crawled(path) == {"replay_generic"}


@pytest.mark.faults
def test_a_foreign_database_with_a_schema_version_is_still_not_ours(tmp_path):
    path = faults.foreign_sqlite(tmp_path / "theirs.db")
    conn = faults.sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 3")
    conn.close()
    before = path.read_bytes()
    for args in (["search", "x"], ["migrate"], ["retag"]):
        one_line_refusal(invoke(tmp_path, "--db", path, *args), str(path), "not a policywatch corpus")
    assert path.read_bytes() == before


def test_an_older_corpus_is_read_after_policywatch_migrate(tmp_path):
    """Readers never migrate: an older corpus is refused with the command that migrates it;
    `policywatch migrate` does, in one transaction, and the readers read it."""
    path = faults.older_schema(tmp_path / "corpus.db")
    before = path.read_bytes()
    line = one_line_refusal(invoke(tmp_path, "--db", path, "search", "元宇宙"), str(path), "older")
    assert f"policywatch migrate --db {path}" in line
    assert path.read_bytes() == before
    migrated = invoke(tmp_path, "--db", path, "migrate")
    assert migrated.exit_code == 0
    assert f"migrated from schema version {SCHEMA_VERSION - 1} to {SCHEMA_VERSION}" in migrated.output
    assert TITLE in invoke(tmp_path, "--db", path, "export").output


def test_a_missing_corpus_is_named_and_not_created(tmp_path):
    for args in (["status"], ["search", "x"], ["changes"], ["export"], ["retag"], ["migrate"],
                 ["digest"]):
        one_line_refusal(invoke(tmp_path, *args), f"no corpus at {tmp_path / 'corpus.db'}")
    assert not (tmp_path / "corpus.db").exists()


@pytest.mark.faults
def test_a_real_process_refuses_a_foreign_database_in_one_line(tmp_path):
    """The fault suite's case, as the lead's benchmarks/faults.py runs it: real processes."""
    case = next(c for c in faults.CASES if c.name == "corpus-foreign-sqlite-writers")
    assert "in one line each" in case.run(tmp_path)


@pytest.mark.faults
def test_a_home_that_is_a_file_is_refused_in_one_line(tmp_path):
    case = next(c for c in faults.CASES if c.name == "corpus-home-not-a-directory")
    assert "cannot open or create" in case.run(tmp_path)


# --- a bad config: one line naming the file and the key ------------------------------------------
@pytest.mark.faults
@pytest.mark.parametrize("name", BAD_CONFIGS)
def test_a_bad_config_is_refused_in_one_line_naming_file_and_key(name, tmp_path):
    """Each is refused when the file is read — before `run` crawls anything — not later."""
    config, names = faults.bad_config(tmp_path, name)
    result = invoke(tmp_path, "--config", config, "run", "--replay", UNREACHABLE)
    one_line_refusal(result, str(config), names)
    assert not (tmp_path / "corpus.db").exists()


@pytest.mark.faults
@pytest.mark.parametrize("command", [["status"], ["sites"], ["schedule"], ["digest"], ["search", "x"],
                                     ["crawl", "jx_gov"], ["watch", "list"], ["probe", "jx_gov"]])
def test_every_command_that_needs_the_config_names_the_bad_key(command, tmp_path):
    (tmp_path / "policywatch.toml").write_bytes(BAD_CONFIGS["stagger-a-string"][0])
    one_line_refusal(invoke(tmp_path, *command), "policywatch.toml", "[schedule] stagger_seconds")


@pytest.mark.faults
def test_commands_that_need_no_config_work_beside_a_broken_one(tmp_path):
    (tmp_path / "policywatch.toml").write_bytes(BAD_CONFIGS["not-utf8"][0])
    document = tmp_path / "doc.json"
    document.write_text(json.dumps({"title": "示例市元宇宙产业发展行动计划", "issuer": "示例市人民政府",
                                    "text": "加快元宇宙产业发展。"}, ensure_ascii=False), encoding="utf-8")
    classified = invoke(tmp_path, "classify", document)
    assert classified.exit_code == 0, classified.output + classified.stderr
    assert "relevance" in json.loads(classified.output)
    assert invoke(tmp_path, "--help").exit_code == 0
    assert invoke(tmp_path, "sites", "--markdown").exit_code == 0
    one_line_refusal(invoke(tmp_path, "status"), "policywatch.toml", "not UTF-8")


@pytest.mark.faults
def test_a_real_process_refuses_a_bad_config_in_one_line(tmp_path):
    case = next(c for c in faults.CASES if c.name == "config-stagger-a-string")
    assert "stagger_seconds" in case.run(tmp_path)
