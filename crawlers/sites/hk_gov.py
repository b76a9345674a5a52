"""海口市人民政府 (www.haikou.gov.cn): 政府信息公开 > 市政府文件. Public crawler notes found this
column behind a 安全狗 web firewall; such pages are refused as blocked, never stored."""

from crawlers.sites.spec import Column, Politeness, Site

SITE = Site(
    key="hk_gov",
    name="海口市人民政府",
    division_code="460100",
    level="prefecture",
    family="trs",
    domains=("www.haikou.gov.cn",),
    columns=(Column(name="市政府文件", url="http://www.haikou.gov.cn/xxgk/szfwj/"),),
    politeness=Politeness(concurrency=1, delay=3.0),
    evidence=(
        "URL pattern from public crawler code; trs family layout only (no saved page of this "
        "portal)"
    ),
    verified_on="",
)
