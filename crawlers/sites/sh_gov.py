"""上海市人民政府 (www.shanghai.gov.cn): 政府信息公开 > 政策文件 (nw12344).

Static list pages ``index.html``, ``index_2.html``... with ``ul.tadaty-list`` items; articles at
``/nw12344/YYYYMMDD/<id>.html`` keep the body in ``#ivs_content``."""

from crawlers.sites.spec import Column, Politeness, Selectors, Site

SITE = Site(
    key="sh_gov",
    name="上海市人民政府",
    division_code="310000",
    level="province",
    family="trs",
    domains=("www.shanghai.gov.cn",),
    columns=(Column(name="政策文件", url="https://www.shanghai.gov.cn/nw12344/index.html"),),
    politeness=Politeness(concurrency=1, delay=3.0),
    selectors=Selectors(list_item=".tadaty-list li", title="#ivs_title", content="#ivs_content"),
    evidence=(
        "URL pattern from public crawler code; trs family layout only (no saved page of this "
        "portal)"
    ),
    verified_on="",
)
