"""保定市人民政府 (www.baoding.gov.cn): 政务公开 > 市政府文件; TRS static columns."""

from crawlers.sites.spec import Column, Politeness, Site

SITE = Site(
    key="bd_gov",
    name="保定市人民政府",
    division_code="130600",
    level="prefecture",
    family="trs",
    domains=("www.baoding.gov.cn",),
    columns=(Column(name="市政府文件", url="http://www.baoding.gov.cn/zwgk/zfwj/"),),
    politeness=Politeness(concurrency=1, delay=3.0),
    evidence=(
        "trs family layout only; column URL not confirmed (check it with `policywatch probe "
        "bd_gov`)"
    ),
    verified_on="",
)
