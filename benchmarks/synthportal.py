"""A synthetic portal of N policy documents, served on 127.0.0.1 for benchmarks and scale tests.

It is the replay-only site ``replay_generic`` (www.example-gov.cn, column ``/zcwj/index.html``)
grown to any size: list pages of ``PER_PAGE`` dated links, newest first, chained by 下一页,
and behind them detail pages as real 政府信息公开 pages are built — a heavy header and navigation,
breadcrumbs, a metadata table (索引号, 发文机关, 文号, 成文日期, 发布日期, 主题分类), a
body of 6 to 60 paragraphs (the page weighs 10–60 KB), share bars, related links, a footer and
scripts. About one page in seven is GBK (half of those declare it only in a <meta> tag), one
in ten links a PDF attachment, one in twelve is about 元宇宙 or its technologies.

Pages are generated on request from the document number (nothing is held in memory), so a
portal of 20,000 documents costs nothing to set up. The texts are written for this generator
from phrase pools in the register of 政策文件 and are about no real document.
"""

from __future__ import annotations

import random
import sys
from datetime import date, timedelta
from functools import lru_cache
from html import escape
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from crawlers.replay.portal import ReplayPortal, ServedPage  # noqa: E402

HOST = "http://www.example-gov.cn"
SITE_KEY = "replay_generic"
COLUMN = f"{HOST}/zcwj/index.html"
PER_PAGE = 20
START = date(2016, 1, 1)

PLACES = ("示例市", "示例市经济和信息化局", "示例市发展和改革委员会", "示例市科学技术局",
          "示例市商务局", "示例市文化广电旅游局", "示例市人力资源和社会保障局")
KINDS = ("通知", "实施意见", "若干措施", "行动方案", "管理办法", "工作方案", "实施细则")
SUBJECTS = ("数字经济高质量发展", "中小企业纾困解难", "制造业数字化转型", "促进消费扩容提质",
            "科技创新平台建设", "优化营商环境", "人才引进培养", "工业互联网创新发展",
            "文化和旅游融合发展", "绿色低碳转型", "现代物流体系建设", "农业产业化经营",
            "高新技术企业培育", "服务业扩大开放", "软件和信息技术服务业发展")
METAVERSE_SUBJECTS = ("元宇宙产业创新发展", "虚拟现实与行业应用融合发展", "数字孪生城市建设",
                      "元宇宙应用场景建设", "数字人产业发展")
TOPICS = ("工业、交通", "科技、教育", "财政、金融、审计", "商贸、海关、旅游", "劳动、人事、监察",
          "综合政务", "城乡建设、环境保护")

OPENINGS = (
    "为深入贯彻落实党中央、国务院决策部署，加快推进{subject}，结合本市实际，制定本{kind}。",
    "为进一步推动{subject}，激发市场主体活力，根据有关法律法规和政策规定，现提出以下{kind}。",
    "各区人民政府，市政府各部门，各直属机构：现将《示例市关于{subject}的{kind}》印发给你们，请认真贯彻执行。",
)
HEADINGS = ("总体要求", "主要目标", "重点任务", "支持政策", "组织实施", "保障措施", "监督管理",
            "附则", "工作机制", "资金管理", "考核评估", "宣传引导")
SENTENCES = (
    "坚持政府引导、市场主导、协同推进的原则，统筹发展和安全，着力破解制约发展的突出问题。",
    "到{year}年，全市相关产业规模力争突破{amount}亿元，培育一批具有核心竞争力的骨干企业。",
    "对符合条件的企业，按照项目实际投资额的{percent}%给予补助，单个项目最高不超过{amount}万元。",
    "各区、各部门要切实加强组织领导，明确责任分工，细化工作举措，确保各项任务落地见效。",
    "建立健全部门协同工作机制，定期调度重点项目进展情况，及时协调解决推进中的困难和问题。",
    "加大财政资金支持力度，统筹用好各级专项资金，引导社会资本参与重点领域项目建设。",
    "支持企业开展技术改造和设备更新，推广应用先进适用技术，提升生产效率和产品质量。",
    "完善人才评价激励机制，对引进的高层次人才在住房、子女入学、医疗保障等方面给予支持。",
    "强化要素保障，优先保障重大项目用地、用能需求，优化审批流程，压缩办理时限。",
    "加强政策宣传解读，及时回应社会关切，营造全社会共同参与、合力推进的良好氛围。",
    "市统计部门会同有关部门建立统计监测制度，定期发布发展情况，开展第三方评估。",
    "本{kind}涉及的资金兑现按照“免申即享”方式办理，由主管部门主动核定并拨付。",
    "鼓励金融机构创新信贷产品和服务方式，扩大中长期贷款投放，降低企业融资成本。",
    "对弄虚作假、骗取财政资金的，依法依规追回资金，并按照有关规定追究相应责任。",
    "推动数据资源开放共享，建设公共服务平台，为中小企业提供检验检测、成果转化等服务。",
    "支持龙头企业牵头组建创新联合体，开展关键核心技术攻关，加快科技成果产业化。",
)
METAVERSE_SENTENCES = (
    "加快虚拟现实、增强现实、数字孪生、人工智能等技术融合创新，打造元宇宙产业集聚区。",
    "重点突破近眼显示、空间计算、三维建模与实时渲染等关键技术，支持头显终端研发和量产。",
    "推动元宇宙技术在工业制造、文化旅游、教育培训、商业消费等领域的融合应用，建设一批示范场景。",
    "支持建设元宇宙创新中心和公共服务平台，对经认定的平台给予最高{amount}万元资助。",
    "发展数字人、虚拟数字资产等新业态，规范数据安全和内容监管，营造健康有序的发展环境。",
)
NAV = ("首页", "要闻动态", "政务公开", "政策文件", "政策解读", "政务服务", "互动交流", "数据开放",
       "走进示例", "专题专栏", "通知公告", "人事信息", "规划计划", "财政资金", "重点领域")


def doc_date(n: int) -> date:
    """Document ``n``'s publication date: three documents a day from 2016 on."""
    return START + timedelta(days=n // 3)


def doc_url(n: int) -> str:
    day = doc_date(n)
    return f"{HOST}/zcwj/{day:%Y%m}/t{day:%Y%m%d}_{n}.html"


def attachment_url(n: int) -> str:
    day = doc_date(n)
    return f"{HOST}/zcwj/{day:%Y%m}/P{day:%Y%m%d}{n:06d}.pdf"


def list_url(page: int) -> str:
    return COLUMN if page == 1 else f"{HOST}/zcwj/index_{page}.html"


def page_count(n_docs: int) -> int:
    return max(1, -(-n_docs // PER_PAGE))


def is_gbk(n: int) -> bool:
    return n % 7 == 3


def has_attachment(n: int) -> bool:
    return n % 10 == 4


def is_metaverse(n: int) -> bool:
    return n % 12 == 5


def doc_title(n: int) -> str:
    rng = random.Random(n * 7919)
    subject = rng.choice(METAVERSE_SUBJECTS if is_metaverse(n) else SUBJECTS)
    issuer = PLACES[n % len(PLACES)]
    return f"{issuer}关于{subject}的{rng.choice(KINDS)}（第{n}号）"


def doc_number(n: int) -> str:
    return f"示政办〔{doc_date(n).year}〕{n}号"


def _fill(template: str, rng: random.Random, subject: str, kind: str) -> str:
    return template.format(subject=subject, kind=kind, year=2026 + rng.randint(0, 4),
                           amount=rng.choice((50, 100, 200, 300, 500, 1000)),
                           percent=rng.choice((10, 15, 20, 30)))


def body_paragraphs(n: int) -> list[str]:
    """The document's text: 6 to 60 paragraphs, so the page weighs 10–60 KB."""
    rng = random.Random(n)
    subject = rng.choice(METAVERSE_SUBJECTS if is_metaverse(n) else SUBJECTS)
    kind = rng.choice(KINDS)
    pool = SENTENCES + (METAVERSE_SENTENCES * 3 if is_metaverse(n) else ())
    paragraphs = [_fill(rng.choice(OPENINGS), rng, subject, kind)]
    sections = rng.randint(2, 12)
    numerals = "一二三四五六七八九十"
    for s in range(sections):
        paragraphs.append(f"{numerals[s % 10]}、{HEADINGS[s % len(HEADINGS)]}")
        for _ in range(rng.randint(1, 4)):
            count = rng.randint(2, 5)
            paragraphs.append("".join(_fill(rng.choice(pool), rng, subject, kind) for _ in range(count)))
    paragraphs.append(f"本{kind}自印发之日起施行，有效期{rng.choice((2, 3, 5))}年。")
    return paragraphs


@lru_cache(maxsize=1)
def _header() -> str:
    links = "".join(f'<li><a href="{HOST}/col/{i}/index.html">{name}</a></li>' for i, name in enumerate(NAV))
    sub = "".join(f'<a href="{HOST}/zwgk/{i}/index.html">{name}</a>' for i, name in enumerate(NAV * 4))
    return (
        '<div class="top-bar"><span>欢迎访问示例市人民政府门户网站</span><a href="#">无障碍浏览</a>'
        '<a href="#">长者模式</a><a href="#">English</a><a href="#">繁體</a></div>'
        '<div class="header"><div class="logo"><img src="/images/logo.png" alt="示例市人民政府"></div>'
        '<form class="search" action="/search"><input name="q" placeholder="请输入关键词">'
        f'<button>搜索</button></form></div><div class="nav"><ul>{links}</ul></div>'
        f'<div class="subnav">{sub}</div>'
    )


@lru_cache(maxsize=1)
def _footer() -> str:
    friends = "".join(f'<option value="{HOST}/f{i}">{name}门户网站</option>'
                      for i, name in enumerate(PLACES * 3))
    script = ("var _hmt=_hmt||[];(function(){var hm=document.createElement('script');"
              "hm.src='/stat/tj.js';var s=document.getElementsByTagName('script')[0];"
              "s.parentNode.insertBefore(hm,s);})();") * 6
    return (
        f'<div class="links"><select>{friends}</select></div>'
        '<div class="footer"><p>主办单位：示例市人民政府办公室　承办单位：示例市大数据中心</p>'
        '<p>网站标识码：4290040001　示ICP备12345678号　示公网安备 42900402000001号</p>'
        '<p>版权所有：示例市人民政府　联系电话：0000-12345678</p></div>'
        f'<script>{script}</script>'
    )


def _related(n: int) -> str:
    items = "".join(f'<li><a href="{doc_url(m)}">{escape(doc_title(m))}</a></li>'
                    for m in range(max(1, n - 6), n))
    return f'<div class="related"><h3>相关文件</h3><ul>{items}</ul></div>'


def detail_page(n: int) -> str:
    """Document ``n``'s detail page as HTML text (encoded by ``detail_body``)."""
    day = doc_date(n)
    written = day - timedelta(days=n % 5 + 1)
    title = escape(doc_title(n))
    charset = "gbk" if is_gbk(n) else "utf-8"
    body = "".join(f"<p>{escape(p)}</p>" for p in body_paragraphs(n))
    attachment = ""
    if has_attachment(n):
        attachment = (f'<div class="fujian"><p>附件：<a href="{attachment_url(n)}">'
                      f'{title}（政策全文）.pdf</a></p></div>')
    return (
        f'<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; charset={charset}">'
        f'<title>{title}_政策文件_示例市人民政府</title>'
        f'<meta name="ArticleTitle" content="{title}"><meta name="PubDate" content="{day} 09:30">'
        '<meta name="ContentSource" content="示例市人民政府办公室"><meta name="SiteName" content="示例市人民政府">'
        '<link rel="stylesheet" href="/css/common.css"><script src="/js/jquery.min.js"></script></head>'
        f'<body>{_header()}'
        '<div class="position">当前位置：<a href="/">首页</a> &gt; <a href="/zwgk/">政务公开</a> &gt; '
        '<a href="/zcwj/index.html">政策文件</a></div>'
        '<div class="xxgk-table"><table class="info">'
        f'<tr><td>索引号：</td><td>11429004MB1234567X/{day.year}-{n:05d}</td>'
        f'<td>主题分类：</td><td>{TOPICS[n % len(TOPICS)]}</td></tr>'
        f'<tr><td>发文机关：</td><td>示例市人民政府办公室</td><td>文号：</td><td>{doc_number(n)}</td></tr>'
        f'<tr><td>成文日期：</td><td>{written.year}年{written.month}月{written.day}日</td>'
        f'<td>发布日期：</td><td>{day.isoformat()}</td></tr>'
        f'<tr><td>标题：</td><td colspan="3">{title}</td></tr></table></div>'
        f'<div class="article"><h1 class="title">{title}</h1>'
        f'<div class="content" id="zoom">{body}'
        '<p style="text-align:right">示例市人民政府办公室</p>'
        f'<p style="text-align:right">{written.year}年{written.month}月{written.day}日</p></div>'
        f'{attachment}'
        '<div class="share">分享到：<a href="#">微信</a><a href="#">微博</a><a href="#">QQ空间</a>'
        '<a href="javascript:window.print()">【打印本页】</a><a href="javascript:window.close()">【关闭窗口】</a></div>'
        f'</div>{_related(n)}{_footer()}</body></html>'
    )


def detail_body(n: int) -> tuple[bytes, dict[str, str]]:
    """Document ``n``'s page bytes and headers: GBK pages declare it in the header or only in
    the page's <meta> (as many portals do)."""
    html = detail_page(n)
    if is_gbk(n):
        ctype = "text/html; charset=GBK" if n % 2 else "text/html"
        return html.encode("gbk"), {"Content-Type": ctype}
    return html.encode("utf-8"), {"Content-Type": "text/html; charset=utf-8"}


def list_page(page: int, n_docs: int) -> str:
    """List page ``page`` of a portal of ``n_docs`` documents (newest first)."""
    last = page_count(n_docs)
    top = n_docs - (page - 1) * PER_PAGE
    numbers = range(top, max(0, top - PER_PAGE), -1)
    rows = "".join(f'<li><a href="{doc_url(n)}" title="{escape(doc_title(n))}">{escape(doc_title(n))}</a>'
                   f'<span class="date">{doc_date(n).isoformat()}</span></li>' for n in numbers)
    pager = f'<a href="{list_url(1)}">首页</a>'
    if page > 1:
        pager += f'<a href="{list_url(page - 1)}">上一页</a>'
    if page < last:
        pager += f'<a href="{list_url(page + 1)}">下一页</a><a href="{list_url(last)}">尾页</a>'
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>政策文件_示例市人民政府</title></head>'
        f'<body>{_header()}<div class="position">当前位置：<a href="/">首页</a> &gt; 政策文件</div>'
        f'<div class="main"><ul class="list">{rows}</ul>'
        f'<div class="pager">{pager}<span>共{last}页</span></div></div>{_footer()}</body></html>'
    )


@lru_cache(maxsize=1)
def attachment_pdf() -> bytes:
    """One small PDF with Chinese text, served for every attachment link."""
    from fixtures.pdfmaker import make_pdf

    return make_pdf(["附件：政策全文", "本文件自印发之日起施行。", "示例市人民政府办公室"])


class SyntheticPortal(ReplayPortal):
    """The replay portal serving a generated column of ``n_docs`` documents on top of whatever
    was ``put`` (pages put explicitly win, so a test can still change one page)."""

    def __init__(self, n_docs: int, delay: float = 0.0) -> None:
        super().__init__()
        self.n_docs = n_docs
        self.delay = delay  # seconds before each generated detail page is answered
        self.put(f"{HOST}/robots.txt", "User-agent: *\nDisallow: /admin/\n", content_type="text/plain")

    def get(self, url: str) -> ServedPage | None:
        page = super().get(url)
        if page is not None:
            return page
        return self._generated(url)

    def _generated(self, url: str) -> ServedPage | None:
        path = url.split("://", 1)[-1].split("/", 1)[-1].split("?", 1)[0]
        if not url.startswith(HOST.split("://")[0] + "://www.example-gov.cn/zcwj/"):
            return None
        name = path.rsplit("/", 1)[-1]
        if path == "zcwj/index.html":
            return ServedPage(list_page(1, self.n_docs).encode(), 200, {"Content-Type": "text/html; charset=utf-8"})
        if name.startswith("index_") and name.endswith(".html"):
            page = _int(name[6:-5])
            if page is None or not 1 < page <= page_count(self.n_docs):
                return None
            return ServedPage(list_page(page, self.n_docs).encode(), 200, {"Content-Type": "text/html; charset=utf-8"})
        if name.startswith("t") and name.endswith(".html") and "_" in name:
            n = _int(name[:-5].rsplit("_", 1)[1])
            if n is None or not 1 <= n <= self.n_docs or doc_url(n) != url:
                return None
            body, headers = detail_body(n)
            return ServedPage(body, 200, headers, delay=self.delay)
        if name.startswith("P") and name.endswith(".pdf"):
            n = _int(name[9:-4])
            if n is None or not 1 <= n <= self.n_docs or attachment_url(n) != url:
                return None
            return ServedPage(attachment_pdf(), 200, {"Content-Type": "application/pdf"})
        return None

    def urls(self) -> list[str]:
        """Only the explicitly put pages (the generated ones are too many to list)."""
        return super().urls()


def _int(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def all_pages(n_docs: int) -> list[tuple[str, bytes, dict[str, str]]]:
    """Every detail page of the portal as (url, bytes, headers), for measuring parsing alone."""
    return [(doc_url(n), *detail_body(n)) for n in range(1, n_docs + 1)]
