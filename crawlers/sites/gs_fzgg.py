"""甘肃省发展和改革委员会 (fzgg.gansu.gov.cn): an Ucap/开普云 portal; 通知公告.

Some notices carry their text only in a PDF attachment (see the fixture's PDF).
"""

from crawlers.sites.spec import Column, Politeness, Site

SITE = Site(
    key="gs_fzgg",
    name="甘肃省发展和改革委员会",
    division_code="620000",
    level="province",
    family="ucap",
    domains=("fzgg.gansu.gov.cn",),
    columns=(
        Column(name="通知公告", url="https://fzgg.gansu.gov.cn/fzgg/tzgg/list.shtml"),
    ),
    politeness=Politeness(concurrency=1, delay=2.0),
    evidence=(
        "realpages fzgg.gansu.gov.cn_detail_1.html (detail structure, PDF-only text); "
        "list layout of the Gansu cluster (jyt.gansu.gov.cn_list_1.html)"
    ),
    verified_on="2026-11-22",
)
