"""The README's table of supported portals is generated from the registry and kept current."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from crawlers.sites import all_sites
from crawlers.tools.sitelist import README_END, README_START, ReadmeError, current_readme_section, readme_section
from scheduler import main

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_lists_the_registry_as_it_is():
    text = README.read_text(encoding="utf-8")
    assert current_readme_section(text) == readme_section(all_sites()), (
        "the README's supported portals are stale: run `policywatch sites --readme README.md`")


def test_the_section_sits_in_its_own_heading_before_adding_a_site():
    text = README.read_text(encoding="utf-8")
    assert text.index("## Supported portals") < text.index(README_START) < text.index("## Adding a site")


def test_every_site_has_a_row_with_its_status_and_evidence():
    section = readme_section(all_sites())
    for site in all_sites():
        row = next(line for line in section.splitlines() if line.startswith(f"| `{site.key}` |"))
        assert site.name in row
        assert ("verified " + site.verified_on if site.verified_on else "unverified") in row
        assert site.evidence.replace("|", "\\|") in row


def test_markdown_option_prints_the_section():
    result = CliRunner().invoke(main, ["sites", "--markdown"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == readme_section(all_sites())


def test_readme_option_rewrites_a_stale_section_and_nothing_else(tmp_path):
    stale = tmp_path / "README.md"
    stale.write_text(f"# x\n\nintro\n\n{README_START}\n| old | table |\n{README_END}\n\n## after\n",
                     encoding="utf-8")
    result = CliRunner().invoke(main, ["sites", "--readme", str(stale)])
    assert result.exit_code == 0, result.output
    assert "updated" in result.output
    text = stale.read_text(encoding="utf-8")
    assert text.startswith("# x\n\nintro\n\n") and text.endswith("\n\n## after\n")
    assert current_readme_section(text) == readme_section(all_sites())
    again = CliRunner().invoke(main, ["sites", "--readme", str(stale)])
    assert "already current" in again.output


def test_a_readme_without_the_markers_is_a_clear_error(tmp_path):
    plain = tmp_path / "README.md"
    plain.write_text("# x\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["sites", "--readme", str(plain)])
    assert result.exit_code != 0
    assert "sites:start" in result.output and str(plain) in result.output
    with pytest.raises(ReadmeError):
        current_readme_section("# nothing here")
