"""A generated portal column of N documents for the replay portal (tests of scale and resumption).

It is served as the replay-only site ``replay_generic`` (www.example-gov.cn, column
/zcwj/index.html): list pages of ``per_page`` dated links, newest first, chained by 下一页, and a
small detail page per document with a metadata table.
"""

from __future__ import annotations

from datetime import date, timedelta

from crawlers.replay.portal import ReplayPortal

HOST = "http://www.example-gov.cn"
COLUMN = f"{HOST}/zcwj/index.html"


def list_url(page: int) -> str:
    return COLUMN if page == 1 else f"{HOST}/zcwj/index_{page}.html"


def doc_url(n: int) -> str:
    return f"{HOST}/zcwj/doc/t{n:06d}.html"


def doc_date(n: int) -> date:
    return date(2020, 1, 1) + timedelta(days=n // 3)


def detail_page(n: int, revision: str = "") -> str:
    title = f"示例市关于第{n}号事项的通知"
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title></head>
<body><div class="nav"><a href="/">首页</a></div>
<h1>{title}</h1>
<table class="info"><tr><td>发文机关：</td><td>示例市人民政府办公室</td>
<td>文号：</td><td>示政办〔{doc_date(n).year}〕{n}号</td></tr>
<tr><td>发布日期：</td><td>{doc_date(n).isoformat()}</td></tr></table>
<div class="content"><p>各区人民政府，市政府各部门：</p>
<p>现就第{n}号事项通知如下。请各单位按照职责分工，认真组织实施，确保各项任务落到实处。{revision}</p>
<p>示例市人民政府办公室</p></div>
<div class="foot">版权所有：示例市人民政府</div></body></html>"""


def list_page(numbers: list[int], page: int, last_page: int) -> str:
    rows = "".join(f'<li><a href="{doc_url(n)}">示例市关于第{n}号事项的通知</a>'
                   f'<span>{doc_date(n).isoformat()}</span></li>' for n in numbers)
    nav = f'<a href="{list_url(page + 1)}">下一页</a>' if page < last_page else ""
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>政策文件</title></head><body>'
            f'<div class="nav"><a href="/">首页</a></div><ul class="list">{rows}</ul>'
            f'<div class="pager">{nav}</div></body></html>')


def build(portal: ReplayPortal, numbers: list[int], per_page: int = 20, delay: float = 0.0) -> int:
    """Serve documents ``numbers`` (newest = highest first) in list pages; returns the page count."""
    ordered = sorted(numbers, reverse=True)
    pages = [ordered[i:i + per_page] for i in range(0, len(ordered), per_page)] or [[]]
    for i, chunk in enumerate(pages, start=1):
        portal.put(list_url(i), list_page(chunk, i, len(pages)))
    for n in ordered:
        portal.put(doc_url(n), detail_page(n), delay=delay)
    portal.put(f"{HOST}/robots.txt", "User-agent: *\nDisallow: /admin/\n", content_type="text/plain")
    return len(pages)
