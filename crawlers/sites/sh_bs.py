"""上海市宝山区人民政府 (www.shbsq.gov.cn): 政府信息公开 > 政策文件.

A district of a 直辖市 ranks as prefecture (TAXONOMY.md)."""

from crawlers.sites.spec import Column, Politeness, Site

SITE = Site(
    key="sh_bs",
    name="上海市宝山区人民政府",
    division_code="310113",
    level="prefecture",
    family="generic",
    domains=("www.shbsq.gov.cn",),
    columns=(Column(name="政策文件", url="https://www.shbsq.gov.cn/zwgk/zcwj/index.html"),),
    politeness=Politeness(concurrency=1, delay=3.0),
    evidence=(
        "generic family layout only; column URL not confirmed (check it with `policywatch "
        "probe sh_bs`)"
    ),
    verified_on="",
)
