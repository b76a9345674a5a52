"""厦门市大数据管理局 (dsj.xm.gov.cn): 政务公开 > 政策文件; TRS static columns."""

from crawlers.sites.spec import Column, Politeness, Site

SITE = Site(
    key="xm_dsj",
    name="厦门市大数据管理局",
    division_code="350200",
    level="prefecture",
    family="trs",
    domains=("dsj.xm.gov.cn",),
    columns=(Column(name="政策文件", url="https://dsj.xm.gov.cn/zwgk/zcwj/"),),
    politeness=Politeness(concurrency=1, delay=3.0),
    evidence=(
        "trs family layout only; column URL not confirmed (check it with `policywatch probe "
        "xm_dsj`)"
    ),
    verified_on="",
)
