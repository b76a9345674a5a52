"""厦门市工业和信息化局 (gxj.xm.gov.cn): 政务公开 > 政策文件; TRS static columns."""

from crawlers.sites.spec import Column, Politeness, Site

SITE = Site(
    key="xm_gxj",
    name="厦门市工业和信息化局",
    division_code="350200",
    level="prefecture",
    family="trs",
    domains=("gxj.xm.gov.cn",),
    columns=(Column(name="政策文件", url="https://gxj.xm.gov.cn/zwgk/zcwj/"),),
    politeness=Politeness(concurrency=1, delay=3.0),
    evidence=(
        "trs family layout only; column URL not confirmed (check it with `policywatch probe "
        "xm_gxj`)"
    ),
    verified_on="",
)
