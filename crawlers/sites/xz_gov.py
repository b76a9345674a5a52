"""西藏自治区人民政府 (www.xizang.gov.cn): 政务公开 > 政府文件; TRS-style static columns."""

from crawlers.sites.spec import Column, Politeness, Site

SITE = Site(
    key="xz_gov",
    name="西藏自治区人民政府",
    division_code="540000",
    level="province",
    family="trs",
    domains=("www.xizang.gov.cn",),
    columns=(Column(name="政府文件", url="https://www.xizang.gov.cn/zwgk/zfxxgkml/zcwj/index.html"),),
    politeness=Politeness(concurrency=1, delay=3.0),
    evidence=(
        "trs family layout only; column URL not confirmed (check it with `policywatch probe "
        "xz_gov`)"
    ),
    verified_on="",
)
