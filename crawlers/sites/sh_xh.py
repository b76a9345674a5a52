"""上海市徐汇区人民政府 (www.xuhui.gov.cn): 政府信息公开 > 政策文件.

A district of a 直辖市 ranks as prefecture (TAXONOMY.md)."""

from crawlers.sites.spec import Column, Politeness, Site

SITE = Site(
    key="sh_xh",
    name="上海市徐汇区人民政府",
    division_code="310104",
    level="prefecture",
    family="generic",
    domains=("www.xuhui.gov.cn",),
    columns=(Column(name="政策文件", url="https://www.xuhui.gov.cn/xxgk/zcwj/index.html"),),
    politeness=Politeness(concurrency=1, delay=3.0),
    evidence=(
        "generic family layout only; column URL not confirmed (check it with `policywatch "
        "probe sh_xh`)"
    ),
    verified_on="",
)
