"""浙江省人民政府 (www.zj.gov.cn): Hanweb 大汉 JCMS; the column page supplies the feed's unitid/webid."""

from crawlers.sites.spec import Column, Politeness, Site

SITE = Site(
    key="zj_gov",
    name="浙江省人民政府",
    division_code="330000",
    level="province",
    family="hanweb",
    domains=("www.zj.gov.cn",),
    columns=(Column(name="行政规范性文件", url="https://www.zj.gov.cn/col/col1229019364/index.html"),),
    politeness=Politeness(concurrency=1, delay=3.0),
    evidence=(
        "URL pattern from public crawler code; hanweb family layout only (no saved page of "
        "this portal)"
    ),
    verified_on="",
)
