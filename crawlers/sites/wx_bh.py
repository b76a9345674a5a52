"""无锡市滨湖区人民政府 (www.wxbh.gov.cn): Hanweb 大汉, as the Jiangsu cluster."""

from crawlers.sites.spec import Column, Politeness, Site

SITE = Site(
    key="wx_bh",
    name="无锡市滨湖区人民政府",
    division_code="320211",
    level="county",
    family="hanweb",
    domains=("www.wxbh.gov.cn",),
    columns=(Column(name="政策文件", url="https://www.wxbh.gov.cn/col/col7226/index.html"),),
    politeness=Politeness(concurrency=1, delay=3.0),
    evidence=(
        "hanweb family layout only; column URL not confirmed (check it with `policywatch probe "
        "wx_bh`)"
    ),
    verified_on="",
)
