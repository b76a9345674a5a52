"""北京市通州区人民政府（北京城市副中心） (www.bjtzh.gov.cn): 政策文件.

A district of a 直辖市 ranks as prefecture (TAXONOMY.md)."""

from crawlers.sites.spec import Column, Politeness, Site

SITE = Site(
    key="bj_tz",
    name="北京市通州区人民政府",
    division_code="110112",
    level="prefecture",
    family="trs",
    domains=("www.bjtzh.gov.cn",),
    columns=(Column(name="政策文件", url="https://www.bjtzh.gov.cn/bjtz/xxfb/zcwj/index.shtml"),),
    politeness=Politeness(concurrency=1, delay=3.0),
    evidence=(
        "trs family layout only; column URL not confirmed (check it with `policywatch probe "
        "bj_tz`)"
    ),
    verified_on="",
)
