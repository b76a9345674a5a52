"""广州市南沙区人民政府 (www.gzns.gov.cn): static NFCMS columns (``content/post_N.html``)."""

from crawlers.sites.spec import Column, Politeness, Site

SITE = Site(
    key="gz_ns",
    name="广州市南沙区人民政府",
    division_code="440115",
    level="county",
    family="generic",
    domains=("www.gzns.gov.cn",),
    columns=(Column(name="通知公告", url="http://www.gzns.gov.cn/zwgk/tzgg/index.html"),),
    politeness=Politeness(concurrency=1, delay=3.0),
    evidence=(
        "generic family layout only; column URL not confirmed (check it with `policywatch "
        "probe gz_ns`)"
    ),
    verified_on="",
)
