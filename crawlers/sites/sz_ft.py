"""深圳市福田区人民政府 (www.szft.gov.cn): static NFCMS columns (``index_N.html``,
``content/post_N.html``)."""

from crawlers.sites.spec import Column, Politeness, Site

SITE = Site(
    key="sz_ft",
    name="深圳市福田区人民政府",
    division_code="440304",
    level="county",
    family="generic",
    domains=("www.szft.gov.cn",),
    columns=(Column(name="区工业和信息化局通知公告", url="https://www.szft.gov.cn/bmxx/qgxj/tzgg/index.html"),),
    politeness=Politeness(concurrency=1, delay=3.0),
    evidence=(
        "URL pattern from public crawler code; generic family layout only (no saved page of "
        "this portal)"
    ),
    verified_on="",
)
