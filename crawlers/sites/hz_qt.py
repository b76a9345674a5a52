"""杭州市钱塘区人民政府 (www.qiantang.gov.cn): Hanweb 大汉 JCMS, as the Zhejiang cluster."""

from crawlers.sites.spec import Column, Politeness, Site

SITE = Site(
    key="hz_qt",
    name="杭州市钱塘区人民政府",
    division_code="330114",
    level="county",
    family="hanweb",
    domains=("www.qiantang.gov.cn",),
    columns=(Column(name="政策文件", url="https://www.qiantang.gov.cn/col/col1229526316/index.html"),),
    politeness=Politeness(concurrency=1, delay=3.0),
    evidence=(
        "hanweb family layout only; column URL not confirmed (check it with `policywatch probe "
        "hz_qt`)"
    ),
    verified_on="",
)
