"""武汉市经济和信息化局 (jxj.wuhan.gov.cn): 政府信息公开 > 政策文件; TRS like the city portal."""

from crawlers.sites.spec import Column, Politeness, Site

SITE = Site(
    key="wh_jxj",
    name="武汉市经济和信息化局",
    division_code="420100",
    level="prefecture",
    family="trs",
    domains=("jxj.wuhan.gov.cn",),
    columns=(Column(name="政策文件", url="http://jxj.wuhan.gov.cn/zwgk/xxgk/zcwj/"),),
    politeness=Politeness(concurrency=1, delay=3.0),
    evidence=(
        "trs family layout only; column URL not confirmed (check it with `policywatch probe "
        "wh_jxj`)"
    ),
    verified_on="",
)
