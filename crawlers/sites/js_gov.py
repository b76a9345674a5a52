"""江苏省人民政府 (www.jiangsu.gov.cn): Hanweb 大汉 JCMS; 省政府及办公厅最新文件."""

from crawlers.sites.spec import Column, Politeness, Site

SITE = Site(
    key="js_gov",
    name="江苏省人民政府",
    division_code="320000",
    level="province",
    family="hanweb",
    domains=("www.jiangsu.gov.cn",),
    columns=(Column(name="最新文件", url="https://www.jiangsu.gov.cn/col/col84242/index.html"),),
    politeness=Politeness(concurrency=1, delay=3.0),
    evidence=(
        "URL pattern from public crawler code; hanweb family layout only (no saved page of "
        "this portal)"
    ),
    verified_on="",
)
