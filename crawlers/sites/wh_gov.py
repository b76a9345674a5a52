"""武汉市人民政府 (www.wuhan.gov.cn): 政府信息公开 > 政府文件 > 市政府文件; TRS
(``YYYYMM/tYYYYMMDD_N.shtml`` articles)."""

from crawlers.sites.spec import Column, Politeness, Site

SITE = Site(
    key="wh_gov",
    name="武汉市人民政府",
    division_code="420100",
    level="prefecture",
    family="trs",
    domains=("www.wuhan.gov.cn",),
    columns=(Column(name="市政府文件", url="https://www.wuhan.gov.cn/zwgk/xxgk/zfwj/szfwj/"),),
    politeness=Politeness(concurrency=1, delay=3.0),
    evidence=(
        "URL pattern from public crawler code; trs family layout only (no saved page of this "
        "portal)"
    ),
    verified_on="",
)
