"""甘肃省教育厅 (jyt.gansu.gov.cn): 文件通知 in its 政府信息公开 section.

The list template ships its items inside an HTML comment and paginates with
``createPageHTML('page_div', count, current, 'zwgklist', 'shtml', total)``; detail pages
use the Gansu cluster's ``#detailContent`` body.
"""

from crawlers.sites.spec import Column, Politeness, Selectors, Site

SITE = Site(
    key="gs_jyt",
    name="甘肃省教育厅",
    division_code="620000",
    level="province",
    family="trs",
    domains=("jyt.gansu.gov.cn",),
    columns=(
        Column(name="文件通知", url="https://jyt.gansu.gov.cn/jyt/c110634/zwgklist.shtml"),
    ),
    politeness=Politeness(concurrency=1, delay=2.0),
    selectors=Selectors(content="#detailContent", metadata=".xxgk_table table"),
    evidence=(
        "realpages jyt.gansu.gov.cn_list_1.html (list structure, createPageHTML pagination); "
        "detail layout of the Gansu cluster (realpages fzgg.gansu.gov.cn_detail_1.html)"
    ),
    verified_on="2026-11-22",
)
