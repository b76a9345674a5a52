"""The site registry: typed, validated at import, one module per portal."""

from __future__ import annotations

import pytest

from crawlers.families import get_family
from crawlers.sites import Column, Politeness, Site, SiteSpecError, all_sites, get_site

GOOD = dict(
    key="hb_wh", name="武汉市人民政府", division_code="420100", level="prefecture", family="trs",
    domains=("www.wuhan.gov.cn",),
    columns=(Column(name="政策文件", url="http://www.wuhan.gov.cn/zwgk/xxgk/zfwj/"),),
)


def test_a_valid_site():
    site = Site(**GOOD)
    assert site.allows_url("http://www.wuhan.gov.cn/a.html")
    assert site.allows_url("http://sub.www.wuhan.gov.cn/a.html")
    assert not site.allows_url("http://www.wuhan.gov.cn.evil.example/a.html")


@pytest.mark.parametrize(("change", "message"), [
    ({"key": "Hb-Wh"}, "key: must be ASCII snake_case"),
    ({"name": ""}, "name: the Chinese name is required"),
    ({"division_code": "4201"}, "division_code: '4201' is not a 6-digit GB/T 2260 code"),
    ({"level": "city"}, "level: 'city' is not one of"),
    ({"family": "wordpress"}, "family: 'wordpress' is not one of"),
    ({"columns": ()}, "columns: at least one column"),
    ({"columns": (Column(name="x", url="/zwgk/"),)}, "is not an absolute http(s) URL"),
    ({"columns": (Column(name="x", url="http://www.hubei.gov.cn/zwgk/"),)}, "is not on the declared domains"),
    ({"politeness": Politeness(concurrency=4)}, "must be 1 or 2 requests at a time"),
    ({"politeness": Politeness(delay=0.1)}, "at least 0.5 s"),
    ({"politeness": Politeness(obey_robots=False)}, "ignoring robots.txt needs a written reason"),
])
def test_a_mistake_names_the_site_and_the_field(change, message):
    with pytest.raises(SiteSpecError) as err:
        Site(**{**GOOD, **change})
    assert message in str(err.value)
    assert str(err.value).startswith(f"site {change.get('key', 'hb_wh')!r}")


def test_registry_sites_are_unique_and_use_known_families():
    sites = all_sites()
    assert len({s.key for s in sites}) == len(sites)
    for site in sites:
        assert get_family(site.family).name == site.family
        assert get_site(site.key) is site
    with pytest.raises(KeyError, match="unknown site 'nope'; known sites: "):
        get_site("nope")
