"""九江市人民政府 (www.jiujiang.gov.cn): TRS columns, and the TRS 智能检索 site search on
zmhd.jiujiang.gov.cn, asked for 元宇宙 and related terms (keyword discovery).

The irs-c-web result page draws its results by script (the saved real page is the DOM a browser
rendered), so the search goes through the browser; it is declared as http so that the browser
follows the portal's own redirect."""

from crawlers.sites.spec import Column, Politeness, Search, Site

SITE = Site(
    key="jj_gov",
    name="九江市人民政府",
    division_code="360400",
    level="prefecture",
    family="trs",
    domains=("www.jiujiang.gov.cn", "zmhd.jiujiang.gov.cn"),
    columns=(Column(name="政府文件", url="https://www.jiujiang.gov.cn/zwgk/zfxxgkml/zfwj/"),),
    politeness=Politeness(concurrency=1, delay=3.0),
    search=Search(
        url="http://zmhd.jiujiang.gov.cn/irs-c-web/?code=183f883089d&searchWord={query}",
        results="irs",
        browser=True,
    ),
    evidence=(
        "search result page: realpages zmhd.jiujiang.gov.cn_list_1.html (TRS irs-c-web); "
        "columns: trs family layout only, column URL not confirmed"
    ),
    verified_on="",
)
