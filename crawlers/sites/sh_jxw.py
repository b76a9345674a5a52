"""上海市经济和信息化委员会 (sheitc.sh.gov.cn): 政策法规; articles at ``/<column>/YYYYMMDD/<id>.html``."""

from crawlers.sites.spec import Column, Politeness, Site

SITE = Site(
    key="sh_jxw",
    name="上海市经济和信息化委员会",
    division_code="310000",
    level="province",
    family="generic",
    domains=("sheitc.sh.gov.cn", "www.sheitc.sh.gov.cn"),
    columns=(Column(name="政策法规", url="https://sheitc.sh.gov.cn/zcfg/index.html"),),
    politeness=Politeness(concurrency=1, delay=3.0),
    evidence=(
        "URL pattern from public crawler code; generic family layout only (no saved page of "
        "this portal)"
    ),
    verified_on="",
)
