"""山东省人民政府 (www.shandong.gov.cn): Hanweb 大汉 JCMS; 政策文件."""

from crawlers.sites.spec import Column, Politeness, Site

SITE = Site(
    key="sd_gov",
    name="山东省人民政府",
    division_code="370000",
    level="province",
    family="hanweb",
    domains=("www.shandong.gov.cn",),
    columns=(Column(name="政策文件", url="https://www.shandong.gov.cn/col/col93931/index.html"),),
    politeness=Politeness(concurrency=1, delay=3.0),
    evidence=(
        "URL pattern from public crawler code; hanweb family layout only (no saved page of "
        "this portal)"
    ),
    verified_on="",
)
