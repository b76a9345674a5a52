"""安徽省人民政府 (www.ah.gov.cn): the province's own 政务公开 platform (``/public/column/...``),
read by the shape of its dated list."""

from crawlers.sites.spec import Column, Politeness, Site

SITE = Site(
    key="ah_gov",
    name="安徽省人民政府",
    division_code="340000",
    level="province",
    family="generic",
    domains=("www.ah.gov.cn",),
    columns=(
        Column(
            name="省政府文件",
            url="https://www.ah.gov.cn/public/column/1681?type=4&action=list&nav=3&catId=6708451",
        ),
    ),
    politeness=Politeness(concurrency=1, delay=3.0),
    evidence=(
        "generic family layout only; column URL not confirmed (check it with `policywatch "
        "probe ah_gov`)"
    ),
    verified_on="",
)
