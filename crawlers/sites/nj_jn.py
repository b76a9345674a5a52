"""南京市江宁区人民政府 (www.jiangning.gov.cn), which publishes for 江宁高新区 too; Hanweb 大汉."""

from crawlers.sites.spec import Column, Politeness, Site

SITE = Site(
    key="nj_jn",
    name="南京市江宁区人民政府",
    division_code="320115",
    level="county",
    family="hanweb",
    domains=("www.jiangning.gov.cn",),
    columns=(Column(name="政策文件", url="https://www.jiangning.gov.cn/col/col56331/index.html"),),
    politeness=Politeness(concurrency=1, delay=3.0),
    evidence=(
        "hanweb family layout only; column URL not confirmed (check it with `policywatch probe "
        "nj_jn`)"
    ),
    verified_on="",
)
