"""江苏省工业和信息化厅 (gxt.jiangsu.gov.cn): Hanweb 大汉 JCMS."""

from crawlers.sites.spec import Column, Politeness, Site

SITE = Site(
    key="js_gxt",
    name="江苏省工业和信息化厅",
    division_code="320000",
    level="province",
    family="hanweb",
    domains=("gxt.jiangsu.gov.cn",),
    columns=(
        # The column of the saved dataproxy.jsp feed (its records link /art/.../art_80179_*.html).
        # unitid 403740 and webid 23 are the feed's form values as public crawlers of the portal
        # send them; the column page's own nextgroup link overrides nothing declared here.
        Column(
            name="政策文件",
            url="https://gxt.jiangsu.gov.cn/col/col80179/index.html",
            params={"columnid": "80179", "unitid": "403740", "webid": "23",
                    "webname": "江苏省工业和信息化厅"},
        ),
    ),
    politeness=Politeness(concurrency=1, delay=2.0),
    evidence=(
        "realpages gxt.jiangsu.gov.cn_jpage_list_page1..3.xml (list feed: 76 records a page, "
        "totalpage 31); unitid/webid from public crawler code; family layout (detail)"
    ),
    verified_on="2026-11-22",
)
