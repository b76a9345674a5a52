"""中华人民共和国中央人民政府 (www.gov.cn): the State Council's policy feeds.

Both columns are JSON: the 最新政策 page is drawn by script from ZUIXINZHENGCE.json, and
the 国务院政策文件库 is the sousuo.www.gov.cn search API (paged by ``p``/``n``).
"""

from crawlers.sites.spec import Column, Politeness, Site

SITE = Site(
    key="cn_gov",
    name="中华人民共和国中央人民政府",
    division_code="100000",
    level="national",
    family="govcn",
    domains=("www.gov.cn", "sousuo.www.gov.cn"),
    columns=(
        Column(
            name="最新政策",
            url="https://www.gov.cn/zhengce/zuixin/ZUIXINZHENGCE.json",
            max_pages=1,
        ),
        Column(
            name="国务院文件",
            url=(
                "https://sousuo.www.gov.cn/search-gov/data?t=zhengcelibrary_gw&q=&timetype=timeqb"
                "&mintime=&maxtime=&sort=pubtime&sortType=1&searchfield=title&p=1&n=20"
            ),
        ),
    ),
    politeness=Politeness(concurrency=1, delay=2.0),
    evidence=(
        "family layout only: feeds as public crawlers read them (ZUIXINZHENGCE.json, "
        "search-gov/data); realpages www.gov.cn_detail_1.html (国务院公报 detail page)"
    ),
    verified_on="",
)
