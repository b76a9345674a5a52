"""北京市经济和信息化局 (jxj.beijing.gov.cn): 政务公开 > 政策文件.

A TRS column: ``index.html``, ``index_1.html``...; articles ``YYYYMM/tYYYYMMDD_N.html``."""

from crawlers.sites.spec import Column, Politeness, Site

SITE = Site(
    key="bj_jxj",
    name="北京市经济和信息化局",
    division_code="110000",
    level="province",
    family="trs",
    domains=("jxj.beijing.gov.cn",),
    columns=(Column(name="政策文件", url="https://jxj.beijing.gov.cn/zwgk/2024zcwj/index.html"),),
    politeness=Politeness(concurrency=1, delay=3.0),
    evidence=(
        "URL pattern from public crawler code; trs family layout only (no saved page of this "
        "portal)"
    ),
    verified_on="",
)
