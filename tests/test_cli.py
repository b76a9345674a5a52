"""The `policywatch` command: documented, and clear about bad input."""

from __future__ import annotations

import json

import click
import pytest
from click.testing import CliRunner

from crawlers.sites import all_sites
from crawlers.tools.fixtures import load_site_fixtures
from pipelines.schema import open_corpus
from scheduler import hoist_global_options, main


def _commands(group: click.Group, prefix: str = ""):
    for name, command in group.commands.items():
        yield f"{prefix}{name}", command
        if isinstance(command, click.Group):
            yield from _commands(command, f"{prefix}{name} ")


def test_every_command_and_option_has_help():
    for name, command in _commands(main):
        assert command.help, f"`policywatch {name}` has no help text"
        for param in command.params:
            if isinstance(param, click.Option):
                assert param.help, f"`policywatch {name}` option {param.opts} has no help text"


def test_sites_lists_the_registry():
    result = CliRunner().invoke(main, ["sites", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [r["key"] for r in rows] == [s.key for s in all_sites()]
    table = CliRunner().invoke(main, ["sites"]).output
    for site in all_sites():
        assert site.key in table and site.name in table


def test_parse_prints_the_document_json(tmp_path):
    site = all_sites()[0]
    page = next(p for p in load_site_fixtures(site.key) if p.kind == "detail" and p.expected_path)
    result = CliRunner().invoke(main, ["parse", str(page.path), "--url", page.url])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    expected = page.expected()
    for field in ("title", "url", "doc_number", "issuer", "index_no", "topic", "written_date",
                  "published_date", "attachments"):
        assert data[field] == expected[field], field


def test_parse_refuses_bad_input_with_a_clear_message(tmp_path):
    empty = tmp_path / "empty.html"
    empty.write_bytes(b"")
    result = CliRunner().invoke(main, ["parse", str(empty), "--url", "http://www.example-gov.cn/a.html"])
    assert result.exit_code != 0
    assert "empty" in result.output and "empty.html" in result.output

    binary = tmp_path / "image.html"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    result = CliRunner().invoke(main, ["parse", str(binary), "--url", "http://www.example-gov.cn/b.html"])
    assert result.exit_code != 0 and "binary" in result.output


def test_crawl_names_an_unknown_site():
    result = CliRunner().invoke(main, ["crawl", "no_such_site"])
    assert result.exit_code != 0
    assert "unknown site 'no_such_site'" in result.output


def test_run_is_one_round_and_one_failing_site_stops_nothing(tmp_path):
    """`policywatch run`: every configured site in its own process, then the digest; a site
    whose portal is broken fails alone."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from crawlers.replay.portal import ReplayPortal
    from pipelines.schema import open_corpus

    repo = Path(__file__).resolve().parents[1]
    config = tmp_path / "policywatch.toml"
    config.write_text(f"""
[paths]
db = "{tmp_path / 'corpus.db'}"
digests = "{tmp_path / 'digests'}"
[schedule]
stagger_seconds = 0
max_parallel = 3
[sites]
enabled = ["jx_gov", "sx_gov", "replay_generic"]
""", encoding="utf-8")
    portal = ReplayPortal.from_fixtures(["jx_gov", "replay_generic"])  # sx_gov's pages are gone
    with portal.serve() as base:
        result = subprocess.run([sys.executable, "-m", "scheduler", "run", "--config", str(config),
                                 "--replay", base], cwd=repo, capture_output=True, text=True, timeout=600,
                                env={**os.environ, "POLICYWATCH_HOME": str(tmp_path)})
    assert result.returncode == 0, result.stdout + result.stderr
    lines = {line.split()[0]: line for line in result.stdout.splitlines() if line.strip()}
    assert "ok" in lines["jx_gov"] and "ok" in lines["replay_generic"]
    assert "failed" in lines["sx_gov"]
    corpus = open_corpus(tmp_path / "corpus.db")
    sites = {r["site"] for r in corpus.query("select distinct site from documents")}
    assert sites == {"jx_gov", "replay_generic"}
    assert {r["kind"] for r in corpus.query("select kind from runs")} == {"crawl"}
    assert any((tmp_path / "digests").rglob("*")), "the round ends with the digest"


def test_the_daily_round_sweeps_a_site_when_its_sweep_is_due(tmp_path):
    """`[schedule] sweep_days`: the round after the corpus exists sweeps a never-swept site
    (every day when sweep_days = 1), and the next one, less than a day later, does not."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from crawlers.replay.portal import ReplayPortal
    from pipelines.schema import open_corpus

    repo = Path(__file__).resolve().parents[1]
    config = tmp_path / "policywatch.toml"
    config.write_text(f"""
[paths]
db = "{tmp_path / 'corpus.db'}"
[schedule]
stagger_seconds = 0
sweep_days = 1
[sites]
enabled = ["replay_generic"]
""", encoding="utf-8")
    portal = ReplayPortal.from_fixtures(["replay_generic"])
    with portal.serve() as base:
        for _ in range(3):
            result = subprocess.run([sys.executable, "-m", "scheduler", "run", "--config", str(config),
                                     "--replay", base, "--no-digest"], cwd=repo, capture_output=True,
                                    text=True, timeout=600, env={**os.environ, "POLICYWATCH_HOME": str(tmp_path)})
            assert result.returncode == 0, result.stdout + result.stderr
    corpus = open_corpus(tmp_path / "corpus.db")
    modes = [r[0] for r in corpus.execute("SELECT json_extract(counts, '$.mode') FROM runs ORDER BY id")]
    assert modes == ["incremental", "sweep", "incremental"]


def test_config_and_db_are_the_groups_alone():
    """--config and --db are declared once, on the group (the front door resolves them once);
    no command declares its own, and the group's options may follow the subcommand."""
    names = 0
    for name, command in _commands(main):
        names += 1
        for param in command.params:
            assert not {"--config", "--db", "--log-file", "-v", "-q"} & set(param.opts), name
    assert names >= 20
    assert {"--config", "--db", "--log-file", "-v", "-q"} <= {opt for p in main.params for opt in p.opts}


@pytest.mark.parametrize("args, expected", [
    (["crawl", "a", "--db", "x.db", "-v"], ["--db", "x.db", "-v", "crawl", "a"]),
    (["--config=c.toml", "status", "-qq", "--json"], ["--config=c.toml", "-qq", "status", "--json"]),
    (["search", "元宇宙", "--log-file", "l.txt", "--limit", "3"],
     ["--log-file", "l.txt", "search", "元宇宙", "--limit", "3"]),
    (["parse", "--url", "u", "--", "--db"], ["parse", "--url", "u", "--", "--db"]),
])
def test_group_options_move_before_the_subcommand(args, expected):
    assert hoist_global_options(args) == expected


def test_options_anywhere_reach_the_group(tmp_path):
    """`policywatch status --db F -v --log-file L`: the corpus is F, the log goes to L."""
    db = tmp_path / "elsewhere.db"
    open_corpus(db).close()
    log = tmp_path / "logs" / "pw.log"
    result = CliRunner().invoke(main, ["status", "--db", str(db), "-v", "--log-file", str(log), "--json"])
    assert result.exit_code == 0, result.output
    assert isinstance(json.loads(result.output), list)
    assert log.exists()
    missing = CliRunner().invoke(main, ["status", "--db", str(tmp_path / "none.db")])
    assert missing.exit_code == 1 and "none.db" in missing.output


def test_run_fails_loudly_when_its_digest_fails(tmp_path):
    """A round whose crawls worked but whose digest could not be delivered (nobody listens on
    the e-mail channel's port) exits 1 with one line saying so, not 0."""
    import os
    import socket
    import subprocess
    import sys
    from pathlib import Path

    from crawlers.replay.portal import ReplayPortal

    with socket.socket() as probe:  # a port nobody listens on, on loopback
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    repo = Path(__file__).resolve().parents[1]
    config = tmp_path / "policywatch.toml"
    config.write_text(f"""
[paths]
db = "{tmp_path / 'corpus.db'}"
digests = "{tmp_path / 'digests'}"
[schedule]
stagger_seconds = 0
[sites]
enabled = ["replay_generic"]
[channels.email]
host = "127.0.0.1"
port = {port}
starttls = false
sender = "alerts@example.org"
recipients = ["team@example.org"]
""", encoding="utf-8")
    portal = ReplayPortal.from_fixtures(["replay_generic"])
    with portal.serve() as base:
        result = subprocess.run([sys.executable, "-m", "scheduler", "run", "--config", str(config),
                                 "--replay", base], cwd=repo, capture_output=True, text=True, timeout=600,
                                env={**os.environ, "POLICYWATCH_HOME": str(tmp_path)})
    assert result.returncode == 1, result.stdout + result.stderr
    assert "ok" in result.stdout.split("replay_generic", 1)[1].splitlines()[0]
    last = [line for line in result.stderr.splitlines() if line.strip()][-1]
    assert last.startswith("round's digest failed: "), result.stderr[-2000:]
