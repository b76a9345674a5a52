"""黑龙江省人民政府 (www.hlj.gov.cn): a portal of the Ucap/开普云 cluster (``/hlj/cNNNNNN/...shtml``)."""

from crawlers.sites.spec import Column, Politeness, Site

SITE = Site(
    key="hlj_gov",
    name="黑龙江省人民政府",
    division_code="230000",
    level="province",
    family="ucap",
    domains=("www.hlj.gov.cn",),
    columns=(Column(name="文件库", url="https://www.hlj.gov.cn/hlj/c108371/zfxxgk_list.shtml"),),
    politeness=Politeness(concurrency=1, delay=3.0),
    evidence=(
        "ucap family layout only; column URL not confirmed (check it with `policywatch probe "
        "hlj_gov`)"
    ),
    verified_on="",
)
