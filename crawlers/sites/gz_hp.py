"""广州市黄埔区人民政府 / 广州开发区管委会 (www.hp.gov.cn): static NFCMS columns
(``content/post_N.html``). Its gkmlpt catalogue needs the portal's sid, which no saved page
or public code here gives; a maintainer can add it after `policywatch probe`."""

from crawlers.sites.spec import Column, Politeness, Site

SITE = Site(
    key="gz_hp",
    name="广州市黄埔区人民政府（广州开发区管委会）",
    division_code="440112",
    level="county",
    family="generic",
    domains=("www.hp.gov.cn",),
    columns=(
        Column(
            name="区科学技术局通知公告",
            url="https://www.hp.gov.cn/gzjg/qzfgwhgzbm/qkxjsj/tzgg/index.html",
        ),
    ),
    politeness=Politeness(concurrency=1, delay=3.0),
    evidence=(
        "URL pattern from public crawler code; generic family layout only (no saved page of "
        "this portal)"
    ),
    verified_on="",
)
