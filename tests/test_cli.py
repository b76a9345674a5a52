"""The `policywatch` command: documented, and clear about bad input."""

from __future__ import annotations

import json

import click
from click.testing import CliRunner

from crawlers.tools.fixtures import load_site_fixtures
from crawlers.sites import all_sites
from scheduler import main


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


def test_config_and_db_are_defined_once():
    """Every command's --config and --db is the shared one (crawlers.app), which overrides the
    group's App — no command resolves the config or the corpus on its own. The demo's --db is
    its own corpus, apart from the real one."""
    from crawlers.app import config_option, db_option

    def shared(decorator) -> click.Option:
        return decorator(click.command()(lambda: None)).params[0]

    config, db = shared(config_option), shared(db_option)
    seen = 0
    for name, command in _commands(main):
        for param in command.params:
            if "--config" in param.opts:
                assert param.callback is config.callback and not param.expose_value, name
                seen += 1
            if "--db" in param.opts and name != "demo":
                assert param.callback is db.callback and not param.expose_value, name
                seen += 1
    assert seen >= 20
    assert {"--config", "--db"} <= {opt for p in main.params for opt in p.opts}
