"""江西省人民政府 (www.jiangxi.gov.cn): Hanweb 大汉 JCMS."""

from crawlers.sites.spec import Column, Politeness, Site

SITE = Site(
    key="jx_gov",
    name="江西省人民政府",
    division_code="360000",
    level="province",
    family="hanweb",
    domains=("www.jiangxi.gov.cn",),
    columns=(
        # 政府信息公开目录 > 省政府办公厅 > 政策法规 > 政策文件 (the breadcrumb of the saved pages).
        # webid 3 is the page's <meta name="WebId">; unitid comes from the column page itself.
        Column(
            name="政策文件",
            url="http://www.jiangxi.gov.cn/col/col4975/index.html",
            params={"columnid": "4975", "webid": "3", "webname": "江西省人民政府"},
        ),
    ),
    politeness=Politeness(concurrency=1, delay=2.0),
    evidence=(
        "realpages www.jiangxi.gov.cn_detail_1..4,9,10.html (detail: xxgkTitle table, #zoom, "
        "breadcrumb col4975); family layout (list: datastore column page, dataproxy.jsp feed)"
    ),
    verified_on="2026-11-22",
)
