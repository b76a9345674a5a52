"""重庆市渝北区人民政府 (www.ybq.gov.cn): 政府信息公开 > 区政府文件; TRS, as the Chongqing
cluster. A district of a 直辖市 ranks as prefecture (TAXONOMY.md)."""

from crawlers.sites.spec import Column, Politeness, Site

SITE = Site(
    key="cq_yb",
    name="重庆市渝北区人民政府",
    division_code="500112",
    level="prefecture",
    family="trs",
    domains=("www.ybq.gov.cn",),
    columns=(Column(name="区政府文件", url="http://www.ybq.gov.cn/zwgk_535/zfxxgkml/zcwj/qzfwj/"),),
    politeness=Politeness(concurrency=1, delay=3.0),
    evidence=(
        "trs family layout only; column URL not confirmed (check it with `policywatch probe "
        "cq_yb`)"
    ),
    verified_on="",
)
