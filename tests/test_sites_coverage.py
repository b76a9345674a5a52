"""The registry covers the portals of metaverse policy, says honestly how each was checked, and
can list a portal it must not crawl."""

from __future__ import annotations

import asyncio
import filecmp
import json
import re

import pytest
from click.testing import CliRunner

from crawlers.families import family_names
from crawlers.sites import all_sites
from crawlers.sites.spec import LEVELS, Column, Site, SiteSpecError
from crawlers.tools.sitelist import site_rows, sites_table, verification
from fixtures import sitegen
from scheduler import main

SITES = all_sites()

# The issuers of 2021–22 metaverse policies the registry must watch (issue 8), by a part of
# the site's Chinese name.
ISSUERS = [
    "中华人民共和国中央人民政府", "工业和信息化部", "上海市人民政府", "上海市经济和信息化委员会",
    "徐汇区", "宝山区", "北京市经济和信息化局", "通州区", "黄埔区", "南沙区", "福田区",
    "武汉市人民政府", "武汉市经济和信息化局", "杭州市人民政府", "钱塘区", "南京市人民政府", "江宁区",
    "厦门市工业和信息化局", "厦门市大数据管理局", "渝北区", "合肥市", "南昌市", "滨湖区",
    "沈阳市和平区", "保定市", "海口市", "浙江省人民政府", "江苏省人民政府", "江西省人民政府",
    "山东省人民政府", "安徽省人民政府", "黑龙江省人民政府", "西藏自治区人民政府", "横琴粤澳深度合作区",
]
MUNICIPALITIES = ("11", "12", "31", "50")  # 北京 天津 上海 重庆: their districts rank as prefecture


def test_at_least_30_portals_on_every_level():
    assert len(SITES) >= 30
    levels = {s.level for s in SITES}
    assert levels == set(LEVELS)
    assert {s.family for s in SITES} == set(family_names()), "every CMS family has a site"


@pytest.mark.parametrize("issuer", ISSUERS)
def test_every_issuer_of_metaverse_policy_is_watched(issuer):
    assert any(issuer in s.name for s in SITES), f"no site for {issuer}"


@pytest.mark.parametrize("site", SITES, ids=[s.key for s in SITES])
def test_division_code_fits_the_level(site):
    code = site.division_code
    if site.level == "national":
        assert code == "100000"
    elif site.level == "province":
        assert code.endswith("0000")
    elif site.level == "prefecture":
        assert code.endswith("00") and not code.endswith("0000") or \
            (code[:2] in MUNICIPALITIES and not code.endswith("00")), code
    else:
        assert not code.endswith("00"), code


@pytest.mark.parametrize("site", SITES, ids=[s.key for s in SITES])
def test_verification_status_is_honest(site, request):
    """Only a saved real page counts as verified; everything else says what it rests on."""
    assert site.evidence.strip(), f"{site.key}: no evidence recorded"
    if site.verified_on:
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", site.verified_on)
        assert "realpages" in site.evidence, f"{site.key}: verified without a saved real page"
    else:
        assert re.search(r"layout only|public crawler code|family layout", site.evidence), site.evidence
    assert verification(site) == (f"verified {site.verified_on}" if site.verified_on else "unverified")


def test_cited_real_pages_exist(realpages):
    names = {p.name for p in (realpages / "html").iterdir()} | {p.name for p in (realpages / "data").iterdir()}
    for site in SITES:
        for host in re.findall(r"realpages ([\w.-]+?\.(?:cn|com))_", site.evidence):
            assert any(n.startswith(host + "_") for n in names), f"{site.key} cites {host}, not saved"


def test_search_and_browser_paths_are_used():
    assert any(s.search is not None for s in SITES), "a portal's site search is declared"
    assert any(s.needs_browser for s in SITES), "a portal only a browser can list"


def _blocked_site(**changes) -> Site:
    fields = dict(key="x_blocked", name="示例市人民政府", division_code="360400", level="prefecture",
                  family="trs", domains=("www.example-blocked.cn",),
                  columns=(Column(name="政策文件", url="http://www.example-blocked.cn/zcwj/"),),
                  enabled=False, blocked_reason="robots.txt: Disallow: /zcwj/", evidence="test")
    fields.update(changes)
    return Site(**fields)


def test_a_blocked_site_must_not_be_enabled():
    with pytest.raises(SiteSpecError, match="enabled"):
        _blocked_site(enabled=True)


def test_a_bad_verified_on_is_refused():
    with pytest.raises(SiteSpecError, match="verified_on"):
        _blocked_site(verified_on="22/11/2026")


def test_a_blocked_site_is_listed_with_its_reason():
    site = _blocked_site()
    assert "not crawled: robots.txt: Disallow: /zcwj/" in sites_table([site])
    row = site_rows([site])[0]
    assert row["blocked_reason"] == "robots.txt: Disallow: /zcwj/" and row["enabled"] is False


def test_a_blocked_site_is_never_crawled():
    """The spider asks nothing of a site listed as not crawled, and records why."""
    from scrapy.utils.test import get_crawler

    from crawlers.engine.spiders.policy import PolicySpider

    crawler = get_crawler(PolicySpider)
    spider = PolicySpider.from_crawler(crawler, site=_blocked_site())
    crawler.spider = spider
    crawler.stats.open_spider()

    async def collect():
        return [r async for r in spider.start()]

    assert asyncio.run(collect()) == []
    failures = spider.crawl_of("x_blocked").failures
    assert failures[0]["reason"] == "not_crawled"
    assert "robots.txt" in failures[0]["message"]


def test_sites_command_shows_status_and_evidence():
    result = CliRunner().invoke(main, ["sites"])
    assert result.exit_code == 0, result.output
    assert "status" in result.output and "evidence" in result.output
    assert "unverified" in result.output and "verified 2026-11-22" in result.output
    rows = json.loads(CliRunner().invoke(main, ["sites", "--json"]).output)
    jj = next(r for r in rows if r["key"] == "jj_gov")
    assert jj["search"]["terms"][0] == "元宇宙" and jj["status"] == "unverified"


@pytest.mark.parametrize("key", list(sitegen.PLACES))
def test_generated_fixtures_are_what_the_generator_writes(key, tmp_path):
    """The committed fixtures of the generated sites are the generator's current output."""
    written = sitegen.write_site(key, root=tmp_path)
    committed = sitegen.SITES_DIR / key
    names = sorted(p.name for p in written.iterdir())
    assert names == sorted(p.name for p in committed.iterdir())
    _, mismatch, errors = filecmp.cmpfiles(written, committed, names, shallow=False)
    assert not mismatch and not errors, f"run `python fixtures/sitegen.py {key}`: {mismatch or errors} differ"
