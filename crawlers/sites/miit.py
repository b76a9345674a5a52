"""工业和信息化部 (www.miit.gov.cn): 政策文件 > 文件发布.

The column page is a shell: its list is drawn by script from the portal's jpaas "unit" API,
so the list is read from the page the browser renders (``needs_browser``). Declared as http so
that the browser follows the portal's own redirect."""

from crawlers.sites.spec import Column, Politeness, Site

SITE = Site(
    key="miit",
    name="中华人民共和国工业和信息化部",
    division_code="100000",
    level="national",
    family="generic",
    domains=("www.miit.gov.cn",),
    columns=(Column(name="文件发布", url="http://www.miit.gov.cn/zwgk/zcwj/wjfb/index.html"),),
    politeness=Politeness(concurrency=1, delay=3.0),
    needs_browser=True,
    evidence=(
        "URL pattern from public crawler code; generic family layout only (no saved page of "
        "this portal)"
    ),
    verified_on="",
)
