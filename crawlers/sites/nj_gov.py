"""南京市人民政府 (www.nanjing.gov.cn): 政府信息公开 > 市政府文件; TRS static columns."""

from crawlers.sites.spec import Column, Politeness, Site

SITE = Site(
    key="nj_gov",
    name="南京市人民政府",
    division_code="320100",
    level="prefecture",
    family="trs",
    domains=("www.nanjing.gov.cn",),
    columns=(Column(name="市政府文件", url="https://www.nanjing.gov.cn/xxgkn/zfgb/szfwj/index.html"),),
    politeness=Politeness(concurrency=1, delay=3.0),
    evidence=(
        "trs family layout only; column URL not confirmed (check it with `policywatch probe "
        "nj_gov`)"
    ),
    verified_on="",
)
