"""浙江省发展和改革委员会 (fgw.zj.gov.cn): Hanweb 大汉 JCMS."""

from crawlers.sites.spec import Column, Politeness, Site

SITE = Site(
    key="zj_fgw",
    name="浙江省发展和改革委员会",
    division_code="330000",
    level="province",
    family="hanweb",
    # The footer names fzggw.zj.gov.cn as the English-letter domain of the same portal.
    domains=("fgw.zj.gov.cn", "fzggw.zj.gov.cn"),
    columns=(
        # 政务公开 > 政策文件, from the saved page's navigation; webid 3185 is its ss_webid.
        Column(
            name="政策文件",
            url="http://fgw.zj.gov.cn/col/col1599528/index.html",
            params={"columnid": "1599528", "webid": "3185", "webname": "浙江省发展和改革委员会"},
        ),
    ),
    politeness=Politeness(concurrency=1, delay=2.0),
    evidence=(
        "realpages fgw.zj.gov.cn_detail_1.html (detail: con-title, small-title, #zoom.main-txt, "
        "navigation col1599528); family layout (list)"
    ),
    verified_on="2026-11-22",
)
