"""广东省人民政府 (www.gd.gov.cn): the gkmlpt 政府信息公开目录; its JSON list API
(``/gkmlpt/api/all/5?page=N&sid=2``)."""

from crawlers.sites.spec import Column, Politeness, Site

SITE = Site(
    key="gd_gov",
    name="广东省人民政府",
    division_code="440000",
    level="province",
    family="gkmlpt",
    domains=("www.gd.gov.cn",),
    columns=(
        Column(
            name="省政府文件",
            url="http://www.gd.gov.cn/gkmlpt/index",
            params={"sid": "2", "category": 5},
        ),
    ),
    politeness=Politeness(concurrency=1, delay=3.0),
    evidence=(
        "API URL, sid and category from public crawler code (several agree); gkmlpt family "
        "layout only"
    ),
    verified_on="",
)
