"""山西省人民政府 (www.shanxi.gov.cn): a TRS WCM portal; 省政府文件 in its 信息公开 section."""

from crawlers.sites.spec import Column, Politeness, Site

SITE = Site(
    key="sx_gov",
    name="山西省人民政府",
    division_code="140000",
    level="province",
    family="trs",
    domains=("www.shanxi.gov.cn",),
    columns=(
        Column(
            name="省政府文件",
            url="https://www.shanxi.gov.cn/zfxxgk/zfxxgkzl/fdzdgknr/lzyj/szfwj/",
        ),
    ),
    politeness=Politeness(concurrency=1, delay=2.0),
    evidence=(
        "realpages www.shanxi.gov.cn_detail_1.html (TRS detail page, createPageHTML script); "
        "list layout (dl.sxinfo-pubfiles-item, index_N.shtml) from public crawlers"
    ),
    verified_on="2026-11-22",
)
