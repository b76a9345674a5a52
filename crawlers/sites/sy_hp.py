"""沈阳市和平区人民政府 (www.syhp.gov.cn): 政务公开 > 政策文件; TRS static columns."""

from crawlers.sites.spec import Column, Politeness, Site

SITE = Site(
    key="sy_hp",
    name="沈阳市和平区人民政府",
    division_code="210102",
    level="county",
    family="trs",
    domains=("www.syhp.gov.cn",),
    columns=(Column(name="政策文件", url="http://www.syhp.gov.cn/zwgk/zcwj/index.html"),),
    politeness=Politeness(concurrency=1, delay=3.0),
    evidence=(
        "trs family layout only; column URL not confirmed (check it with `policywatch probe "
        "sy_hp`)"
    ),
    verified_on="",
)
