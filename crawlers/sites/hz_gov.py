"""杭州市人民政府 (www.hangzhou.gov.cn): Hanweb 大汉 JCMS, as the Zhejiang cluster."""

from crawlers.sites.spec import Column, Politeness, Site

SITE = Site(
    key="hz_gov",
    name="杭州市人民政府",
    division_code="330100",
    level="prefecture",
    family="hanweb",
    domains=("www.hangzhou.gov.cn",),
    columns=(Column(name="市政府文件", url="https://www.hangzhou.gov.cn/col/col1229063382/index.html"),),
    politeness=Politeness(concurrency=1, delay=3.0),
    evidence=(
        "hanweb family layout only; column URL not confirmed (check it with `policywatch probe "
        "hz_gov`)"
    ),
    verified_on="",
)
