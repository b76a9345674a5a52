"""南昌市人民政府 (www.nc.gov.cn): a Jiangxi Ucap/开普云 portal (``/ncszf/.../*.shtml``)."""

from crawlers.sites.spec import Column, Politeness, Site

SITE = Site(
    key="nc_gov",
    name="南昌市人民政府",
    division_code="360100",
    level="prefecture",
    family="ucap",
    domains=("www.nc.gov.cn",),
    columns=(Column(name="政策文件库", url="https://www.nc.gov.cn/ncszf/gfxwjtyfbpt/zcwjk.shtml"),),
    politeness=Politeness(concurrency=1, delay=3.0),
    evidence=(
        "URL pattern from public crawler code; ucap family layout only (no saved page of this "
        "portal)"
    ),
    verified_on="",
)
