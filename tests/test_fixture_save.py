"""`policywatch fixture save`: a saved or served page becomes a fixture with its parse."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from crawlers.replay.portal import ReplayPortal
from crawlers.tools.fixtures import load_site_fixtures
from crawlers.tools.fixturesave import FixtureSaveError, save_fixture
from scheduler import main


def _detail(site_key: str):
    return next(p for p in load_site_fixtures(site_key) if p.kind == "detail" and p.expected_path)


def test_saving_a_file_writes_page_parse_and_meta(tmp_path):
    page = _detail("jx_gov")
    source = tmp_path / "saved.html"
    source.write_bytes(page.body)
    result = save_fixture("jx_gov", str(source), url=page.url, root=tmp_path / "sites")

    assert result.page_path.read_bytes() == page.body
    expected = json.loads(result.expected_path.read_text(encoding="utf-8"))
    assert expected["title"] == page.expected()["title"]
    assert expected["doc_number"] == page.expected()["doc_number"]
    assert expected["_without"] == []
    # The folder is a valid fixture folder the registry test and the replay portal can read.
    saved = load_site_fixtures("jx_gov", tmp_path / "sites")
    assert [(p.kind, p.url) for p in saved] == [("detail", page.url)]

    with pytest.raises(FixtureSaveError, match="already has a detail fixture"):
        save_fixture("jx_gov", str(source), url=page.url, root=tmp_path / "sites")


def test_saving_a_list_page_served_by_the_replay_portal(tmp_path):
    page = next(p for p in load_site_fixtures("sx_gov") if p.kind == "list" and p.page == 1)
    portal = ReplayPortal.from_fixtures(["sx_gov"])
    with portal.serve() as base:
        result = save_fixture("sx_gov", page.url, url=None, kind="list", replay_url=base,
                              root=tmp_path / "sites")
    expected = json.loads(result.expected_path.read_text(encoding="utf-8"))
    assert expected["entries"] == page.expected()["entries"]
    meta = json.loads((tmp_path / "sites" / "sx_gov" / "meta.json").read_text(encoding="utf-8"))
    assert meta["pages"][0]["column"] == page.column


def test_a_page_that_does_not_parse_is_refused_and_nothing_is_written(tmp_path):
    empty = tmp_path / "empty.html"
    empty.write_bytes(b"")
    with pytest.raises(FixtureSaveError, match="does not parse"):
        save_fixture("jx_gov", str(empty), url="http://www.jiangxi.gov.cn/art/2022/1/1/art_1_1.html",
                     root=tmp_path / "sites")
    assert not (tmp_path / "sites").exists()


def test_off_site_url_and_missing_url_are_named(tmp_path):
    source = tmp_path / "saved.html"
    source.write_bytes(_detail("jx_gov").body)
    with pytest.raises(FixtureSaveError, match="not on jx_gov's domains"):
        save_fixture("jx_gov", str(source), url="http://www.example.com/a.html", root=tmp_path)
    result = CliRunner().invoke(main, ["fixture", "save", "jx_gov", str(source)])
    assert result.exit_code != 0 and "--url is required" in result.output
