"""合肥市人民政府 (www.hefei.gov.cn): the Anhui 政务公开 platform (``/public/column/...``),
read by the shape of its dated list."""

from crawlers.sites.spec import Column, Politeness, Site

SITE = Site(
    key="hf_gov",
    name="合肥市人民政府",
    division_code="340100",
    level="prefecture",
    family="generic",
    domains=("www.hefei.gov.cn",),
    columns=(
        Column(
            name="市政府文件",
            url="https://www.hefei.gov.cn/public/column/4971?type=4&action=list&nav=3&catId=6712561",
        ),
    ),
    politeness=Politeness(concurrency=1, delay=3.0),
    evidence=(
        "generic family layout only; column URL not confirmed (check it with `policywatch "
        "probe hf_gov`)"
    ),
    verified_on="",
)
