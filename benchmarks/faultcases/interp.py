"""政策解读 that point at nothing, at too much, at themselves, or that are hostile: the
``interpretations`` area of the fault suite.

Each case writes its pages, parses them with the generic family's detail parser, classifies
and stores them into a real corpus file through ``pipelines.storing.store_document`` (the
store's own path, the interpretation hook included) and reads back what was linked. The page
builders and ``store_page`` are shared with tests/test_interpretations.py and
tests/test_e2e_interpretations.py.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from html import escape
from pathlib import Path
from typing import Iterable

from . import FaultCase

HOST = "http://www.example-gov.cn"
# 4n/n of a linear step is about 4; a quadratic one shows 16.
SUPERLINEAR = 10.0


# --- page builders (generic family, the replay portal's example city) -------------------------------


def detail_page(title: str, paragraphs: Iterable[str], *, doc_number: str = "无",
                issuer: str = "示例市人民政府", published: str = "2026-11-20",
                links: Iterable[tuple[str, str, str]] = (), extra: str = "") -> bytes:
    """A detail page of the replay portal's generic site. ``links``: (label before, href, text)
    as a portal prints them under the body (相关解读：<a>解读《…》</a>)."""
    body = "\n".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    linked = "\n".join(
        f'<p><span>{escape(label)}</span><a href="{escape(href)}">{escape(text)}</a></p>'
        for label, href, text in links)
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>{escape(title)}_示例市人民政府</title>
</head>
<body>
<div class="top-bar"><a href="/">网站首页</a> | <a href="/zwgk/">政务公开</a> | <a href="/zcwj/">政策文件</a></div>
<div class="article">
<h1 class="art-title">{escape(title)}</h1>
<dl class="art-info">
<dt>发文单位：</dt><dd>{escape(issuer)}</dd>
<dt>文　　号：</dt><dd>{escape(doc_number)}</dd>
<dt>发布日期：</dt><dd>{published}</dd>
</dl>
<div class="art-body">
{body}
{linked}
</div>
{extra}
</div>
<div class="foot"><p>版权所有：示例市人民政府　网站标识码：4290000001</p></div>
</body>
</html>
""".encode("utf-8")


def list_page(entries: Iterable[tuple[str, str, str]]) -> bytes:
    """The generic site's column page listing ``(href, title, date)``."""
    rows = "\n".join(f'<div class="row"><a href="{escape(h)}">{escape(t)}</a><em>{d}</em></div>'
                     for h, t, d in entries)
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>政策文件_示例市人民政府</title></head>
<body>
<div class="top-bar"><a href="/">网站首页</a> | <a href="/zcwj/">政策文件</a></div>
<div class="main-list">
<h2>政策文件</h2>
{rows}
<div class="pager"><span class="cur">1</span></div>
</div>
<div class="foot"><p>版权所有：示例市人民政府</p></div>
</body></html>
""".encode("utf-8")


# The policy and its 解读 the tests and the end-to-end crawl use.
POLICY_URL = f"{HOST}/zcwj/202611/t20261120_2001.html"
POLICY_TITLE = "示例市人民政府关于印发示例市元宇宙产业创新发展三年行动方案（2026—2028年）的通知"
POLICY_NAME = "示例市元宇宙产业创新发展三年行动方案（2026—2028年）"
POLICY_NUMBER = "示政发〔2026〕12号"
INTERPRETATION_URL = f"{HOST}/zcwj/202611/t20261121_2002.html"
INTERPRETATION_TITLE = f"《{POLICY_NAME}》政策解读"


def policy_page(links: Iterable[tuple[str, str, str]] = ()) -> bytes:
    return detail_page(POLICY_TITLE, [
        "各区人民政府，市政府各部门：",
        f"现将《{POLICY_NAME}》印发给你们，请认真贯彻执行。",
        "一、发展目标。到2028年，全市元宇宙核心产业规模突破二百亿元，建设虚拟现实、数字孪生、数字人等"
        "关键技术创新平台十个以上，打造沉浸式文旅、工业元宇宙等应用场景五十个。",
        "二、重点任务。加强三维建模与渲染引擎、近眼显示等关键技术攻关，建设元宇宙产业园，"
        "设立元宇宙产业基金，对首台套产品给予补贴。",
        "示例市人民政府", "2026年11月18日",
    ], doc_number=POLICY_NUMBER, published="2026-11-20", links=links)


def interpretation_page(title: str = INTERPRETATION_TITLE, opening: str | None = None,
                        links: Iterable[tuple[str, str, str]] = (), published: str = "2026-11-21",
                        extra: str = "") -> bytes:
    return detail_page(title, [
        opening if opening is not None else
        f"近日，市政府印发了《{POLICY_NAME}》（{POLICY_NUMBER}，以下简称《方案》）。现就《方案》解读如下。",
        "一、出台背景。元宇宙是数字经济的新赛道，为抢抓发展机遇，制定本方案。",
        "二、主要内容。《方案》提出到2028年核心产业规模突破二百亿元的目标，部署关键技术攻关、"
        "产业园建设和应用场景培育等任务。",
        "三、保障措施。设立产业基金，加强人才引进。",
    ], issuer="示例市发展和改革委员会", published=published, links=links, extra=extra)


def replay_pages() -> dict[str, bytes]:
    """fixtures/replay/interpretations/: the policy (its 相关解读 link included), its 解读, and
    the column's list on each day (an unrelated report on every list: a list needs two rows)."""
    policy = (POLICY_URL.removeprefix(HOST), POLICY_TITLE, "2026-11-20")
    explainer = (INTERPRETATION_URL.removeprefix(HOST), INTERPRETATION_TITLE, "2026-11-21")
    other = ("/zcwj/202201/t20220120_1012.html", "示例市政府信息公开工作年度报告（2021年）", "2022-01-20")
    return {
        "policy.html": policy_page(links=[("相关解读：", INTERPRETATION_URL, INTERPRETATION_TITLE)]),
        "interpretation.html": interpretation_page(),
        "list_policy.html": list_page([policy, other]),
        "list_interpretation.html": list_page([explainer, other]),
        "list_both.html": list_page([explainer, policy, other]),
    }


# --- storing a page as a crawl would --------------------------------------------------------------


def store_page(db, url: str, html: bytes, *, site: str = "replay_generic",
               fetched_at: datetime | None = None):
    """Parse ``html`` as the generic site's detail page at ``url``, classify it and store it
    (the crawl's parse → classify → store path); returns the store's result."""
    from crawlers.pageparse import parse_saved_page
    from crawlers.replay.portal import REPLAY_SITES
    from pipelines.classify import ClassifyPipeline
    from pipelines.storing import store_document

    declared = next(s for s in REPLAY_SITES if s.key == site)
    item = parse_saved_page(html, url, {"Content-Type": "text/html; charset=utf-8"},
                            site=declared, fetched_at=fetched_at or datetime.now(timezone.utc))
    ClassifyPipeline(None).process_item(item)
    return store_document(db, item)


def links_of(db) -> dict[int, tuple[int, str]]:
    """interpretation id -> (the policy it explains, how it was found)."""
    return {r[0]: (r[1], r[2]) for r in db.execute(
        "SELECT document_id, explains_id, by FROM interpretations")}


def _corpus(scratch: Path):
    from pipelines.schema import open_corpus

    return open_corpus(scratch / "corpus.db")


def _expect(condition: bool, what: str) -> None:
    if not condition:
        raise AssertionError(what)


# --- cases --------------------------------------------------------------------------------------


def names_nothing(scratch: Path) -> str:
    """A 解读 whose 《title》 and 文号 match nothing stored: stored, unlinked; its policy
    stored later is linked to it."""
    db = _corpus(scratch)
    alone = store_page(db, INTERPRETATION_URL, interpretation_page())
    _expect(links_of(db) == {}, "a 解读 naming nothing stored was linked")
    policy = store_page(db, POLICY_URL, policy_page())
    linked = links_of(db)
    _expect(linked.get(alone.document_id, (None,))[0] == policy.document_id,
            f"the policy stored later was not linked: {linked}")
    return f"unlinked until its policy came, then linked by {linked[alone.document_id][1]}"


def number_matches_many(scratch: Path) -> str:
    """A 解读 naming, by 文号 only, a number two unrelated stored documents carry: ambiguous,
    not linked to either."""
    db = _corpus(scratch)
    for n, title in ((3001, "示例市数字经济促进办法"), (3002, "示例县文化旅游发展规划")):
        store_page(db, f"{HOST}/zcwj/202611/t20261101_{n}.html", detail_page(
            title, [f"{title}全文。本办法自发布之日起施行，共二十条，规定了适用范围、职责分工与保障措施。"],
            doc_number="示政发〔2026〕99号", issuer="示例市人民政府" if n == 3001 else "示例县人民政府"))
    one = store_page(db, INTERPRETATION_URL, interpretation_page(
        title="示政发〔2026〕99号文件政策问答",
        opening="本问答就示政发〔2026〕99号文件的适用范围作出说明，供社会各界参考。"))
    _expect(one.document_id not in links_of(db), "an ambiguous 文号 was linked to one of two policies")
    return "ambiguous 文号 (2 policies): not linked"


def name_fits_many(scratch: Path) -> str:
    """A 解读 naming 《示例市政府工作报告》, a name 60 stored documents have (one a year):
    no one policy's; not linked, and no more than MAX_CANDIDATES of them read."""
    from pipelines.interpretations import MAX_CANDIDATES

    db = _corpus(scratch)
    for year in range(1967, 2027):
        store_page(db, f"{HOST}/zfgzbg/{year}.html", detail_page(
            f"{year}年示例市政府工作报告", [f"{year}年，全市地区生产总值增长{year % 9 + 1}%，"
                                          f"完成重点项目{year % 40 + 10}个。"], published=f"{year}-02-01"))
    one = store_page(db, INTERPRETATION_URL, interpretation_page(
        title="一图读懂《示例市政府工作报告》", opening="本图解介绍今年政府工作报告的主要目标。"))
    _expect(one.document_id not in links_of(db), "a name 60 documents share was linked to one")
    return f"a name of 60 documents (cap {MAX_CANDIDATES}): not linked"


def links_itself(scratch: Path) -> str:
    """A 解读 whose page links to itself (原文链接 pointing back) and names nothing; a policy
    page whose 相关解读 link points at itself: no link to itself, none made."""
    db = _corpus(scratch)
    one = store_page(db, INTERPRETATION_URL, interpretation_page(
        title="一图读懂：示例市惠企政策", opening="本图解介绍示例市惠企政策的申报条件和流程。",
        links=[("原文链接：", INTERPRETATION_URL, "原文链接")]))
    policy = store_page(db, POLICY_URL, policy_page(links=[("相关解读：", POLICY_URL, "政策解读")]))
    linked = links_of(db)
    _expect(one.document_id not in linked and policy.document_id not in linked,
            f"a page linking to itself was linked: {linked}")
    return "self links ignored: nothing linked"


def interpretations_link_each_other(scratch: Path) -> str:
    """Two 解读s linking each other as 原文 and naming nothing stored: a 解读 never explains a
    解读."""
    db = _corpus(scratch)
    other = f"{HOST}/zcwj/202611/t20261122_2003.html"
    a = store_page(db, INTERPRETATION_URL, interpretation_page(
        title="图解：示例市惠企政策（一）", opening="本图解介绍惠企政策。",
        links=[("原文：", other, "原文链接")]))
    b = store_page(db, other, interpretation_page(
        title="图解：示例市惠企政策（二）", opening="本图解介绍惠企政策。",
        links=[("原文：", INTERPRETATION_URL, "原文链接")]))
    linked = links_of(db)
    _expect(a.document_id not in linked and b.document_id not in linked,
            f"a 解读 was linked to a 解读: {linked}")
    return "解读 → 解读 links ignored: nothing linked"


def _hostile_interpretation(n: int) -> bytes:
    title = "解读" + "《" * n + "示例" * n + "》" * n
    opening = ("《" + "方案" * 3 + "》") * n + "示政发〔2026〕" * n
    links = "".join(f'<a href="/zcwj/x{i}.html">《示例市第{i}号方案》原文</a>' for i in range(n))
    return interpretation_page(title=title[:20_000], opening=opening, extra=f"<div>{links}</div>")


def _hostile_policy(n: int) -> bytes:
    links = "".join(f'<p>相关解读：<a href="/zcwj/jd{i}.html">解读{i}</a></p>' for i in range(n))
    return policy_page() + links.encode("utf-8")


def hostile_titles(scratch: Path) -> str:
    """A 解读 with nested 《《《 titles, thousands of names and 文号 fragments and links, and a
    policy page with thousands of 相关解读 links: stored, refs bounded (MAX_REFS, MAX_LINKS),
    time linear in the page (n, 2n, 4n)."""
    from pipelines.interpretations import MAX_LINKS, MAX_REFS, named_refs, page_links

    timings = []
    for n in (5_000, 10_000, 20_000):
        page = _hostile_interpretation(n)
        started = time.perf_counter()
        refs = page_links(INTERPRETATION_URL, page, {}, interpretation=True)
        names = named_refs("解读" + "《" * n + "》" * n, "《方案方案方案》" * n)
        linked = page_links(POLICY_URL, _hostile_policy(n), {}, interpretation=False)
        timings.append(time.perf_counter() - started)
        _expect(len(refs) <= MAX_LINKS and len(linked) <= MAX_LINKS and len(names) <= 2 * MAX_REFS,
                f"refs not bounded: {len(refs)} and {len(linked)} links, {len(names)} names")
    growth = timings[2] / max(timings[0], 1e-6)
    _expect(growth < SUPERLINEAR, f"link reading grows superlinearly: 4n/n = {growth:.1f}")
    db = _corpus(scratch)
    stored = store_page(db, INTERPRETATION_URL, _hostile_interpretation(5_000))
    refs = db.execute("SELECT count(*) FROM interpretation_refs WHERE document_id = ?",
                      [stored.document_id]).fetchone()[0]
    _expect(stored.kind == "new", "the hostile 解读 was not stored")
    return f"stored, {refs} refs kept; 4n/n time {growth:.1f}x"


CASES = [
    FaultCase("interp-names-nothing", "a 解读 naming a 文号 and 《title》 nothing stored has", names_nothing),
    FaultCase("interp-number-many", "a 解读 naming a 文号 two unrelated documents carry", number_matches_many),
    FaultCase("interp-name-many", "a 解读 naming 《示例市政府工作报告》, which 60 documents are",
              name_fits_many),
    FaultCase("interp-self-link", "a 解读 and a policy page linking to themselves", links_itself),
    FaultCase("interp-each-other", "two 解读s linking each other as 原文", interpretations_link_each_other),
    FaultCase("interp-hostile-title", "nested 《《《, 20,000 names and links in a 解读 or a policy page",
              hostile_titles),
]
