"""横琴粤澳深度合作区 (www.hengqin.gov.cn): static NFCMS columns (``content/post_N.html``).

The zone sits inside 珠海 (division 440400); its 执行委员会 issues at a rank above a
district, counted here as prefecture."""

from crawlers.sites.spec import Column, Politeness, Site

SITE = Site(
    key="hq_hz",
    name="横琴粤澳深度合作区",
    division_code="440400",
    level="prefecture",
    family="generic",
    domains=("www.hengqin.gov.cn",),
    columns=(
        Column(
            name="通知公告",
            url="https://www.hengqin.gov.cn/macao_zh_hans/zwgk/tzgg/gg/index.html",
        ),
    ),
    politeness=Politeness(concurrency=1, delay=3.0),
    evidence=(
        "URL pattern from public crawler code; generic family layout only (no saved page of "
        "this portal)"
    ),
    verified_on="",
)
