"""The taxonomy's values (TAXONOMY.md) in the order reports list them, with their Chinese labels.

Reports and exports show a researcher 专项政策 and 地市级, not ``dedicated`` and ``prefecture``;
the stored values stay the English tag names.
"""

from __future__ import annotations

RELEVANCE = {
    "dedicated": "专项政策",
    "mentions": "相关政策",
    "related": "关联技术",
    "none": "不相关",
}
# What "relevant" means for counting (TAXONOMY.md §5): dedicated + mentions; related only when asked.
DEFAULT_RELEVANCE = ("dedicated", "mentions")

LEVELS = {
    "national": "国家级",
    "province": "省级",
    "prefecture": "地市级",
    "county": "区县级",
}

REGIONS = ("华东", "华南", "华北", "华中", "西南", "西北", "东北")

CITY_TIERS = ("一线", "新一线", "其他")

SCENARIOS = {
    "tourism_culture": "文旅",
    "industry": "工业",
    "commerce": "商业/消费",
    "education": "教育",
    "health": "医疗健康",
    "city": "城市管理",
    "public_service": "民生服务/政务",
    "exhibition": "会展",
    "entertainment": "娱乐/社交/游戏",
    "sports": "体育",
    "transport": "交通/汽车",
    "finance": "金融",
}

MEASURES = {
    "tech_rnd": "核心技术研发",
    "industrial_layout": "产业布局",
    "funding": "资金保障与支持",
    "enterprise_talent": "企业和人才引培",
    "exchange": "交流合作",
    "regulation": "监管治理",
    "standards": "标准制定",
    "ip": "知识产权保护",
}

TECHS = {
    "digital_twin": "数字孪生",
    "hci": "人机交互",
    "bci": "脑机接口",
    "xr": "虚拟现实/增强现实/混合现实/扩展现实",
    "digital_human": "数字人/虚拟人",
    "display": "近眼显示/新型显示",
    "computing": "边缘计算/云计算/算力",
    "rendering": "3D建模与渲染/图形引擎",
    "iot": "物联网",
    "ai": "人工智能",
    "blockchain": "区块链/NFT/数字藏品",
    "chips": "芯片",
    "network": "5G/6G/巨量通信",
    "os": "操作系统",
}

# The multi-label tag columns of ``documents``, with their family's name and labels.
TAG_FAMILIES = {
    "scenarios": ("应用场景", SCENARIOS),
    "measures": ("生态体系建设措施", MEASURES),
    "techs": ("核心技术", TECHS),
}

DOC_TYPES = {
    "action_plan": "行动计划/行动方案",
    "implementation_plan": "实施方案",
    "measures": "办法/措施",
    "plan": "规划",
    "guidance": "指导意见",
    "work_report": "政府工作报告",
    "notice": "通知/公告",
    "interpretation": "政策解读",
    "other": "其他",
}

STATUSES = {
    "draft": "征求意见稿",
    "final": "正式印发",
    "revised": "修订",
    "repealed": "废止/失效",
}

UNSET = "未标注"

# The kinds of change (the ``changes`` table), in the order a digest shows them.
CHANGE_KINDS = {
    "new": "新发布",
    "finalised": "征求意见稿已正式印发",
    "revised": "已修订",
    "repealed": "已废止/失效",
    "withdrawn": "已撤下",
}

# Why a maintainer should look at a site (pipelines.health's flags), for the digest's
# maintainer section; ``policywatch status`` keeps health's own English reasons.
HEALTH_FLAGS = {
    "silent": "连续多次抓取没有发现任何文件",
    "parse_failures": "上次抓取中大量页面无法解析（网页结构可能已改版）",
    "blocked": "遇到防火墙、验证或登录页面，未存储任何内容",
    "robots": "robots.txt 禁止抓取所监测的栏目",
    "unreachable": "无法解析域名或连接网站",
    "not_crawled": "未抓取",
}
# Flags whose reason carries the site's own words (a connection error, a site module's reason
# for not crawling): shown after the Chinese label, unless it is health's generic sentence.
HEALTH_FLAG_DETAILS = {"unreachable": "the portal could not be resolved or connected to",
                       "not_crawled": "not crawled"}


def health_reason(flag: str | None, reason: str) -> str:
    """One of health's reasons (``blocked: 2 WAF/challenge/login pages, nothing stored``) as the
    digest reads it (遇到防火墙、验证或登录页面，未存储任何内容); unknown flags as health wrote them."""
    label = HEALTH_FLAGS.get(flag or "")
    if label is None:
        return reason
    generic = HEALTH_FLAG_DETAILS.get(flag or "")
    if generic is None or reason == generic:
        return label
    detail = reason.removeprefix(f"{generic}: ")
    return f"{label}（{detail}）"


def tag_label(column: str, tag: str) -> str:
    """The Chinese label of a tag of ``column`` (scenarios/measures/techs); unknown tags as named."""
    return TAG_FAMILIES[column][1].get(tag, tag)

# Column labels of a document's evidence (classifiers.classify: label -> sentence).
EVIDENCE_LABELS = {"relevance": "相关度依据", "level": "层级依据", "region": "地区依据",
                   "issuer": "发文机关依据", "doc_type": "类型依据", "status": "状态依据"}
# The Chinese label of each coded export column: a ``<column>_zh`` column stands beside it.
CODE_LABELS = {"doc_type": DOC_TYPES, "status": STATUSES, "relevance": RELEVANCE, "level": LEVELS}


def code_label(column: str, value: str | None) -> str | None:
    """The Chinese label of a coded value (``relevance`` ``dedicated`` → 专项政策)."""
    if value is None:
        return None
    return CODE_LABELS[column].get(value, value)


def evidence_text(evidence: dict | None) -> str | None:
    """A document's evidence as lines a person reads: 标签：句子 (tags named in Chinese)."""
    if not evidence:
        return None
    lines = []
    for label, sentence in evidence.items():
        family, _, tag = str(label).partition(":")
        columns = {"scenario": "scenarios", "measure": "measures", "tech": "techs"}
        if family in columns and tag:
            name = tag_label(columns[family], tag)
        else:
            name = EVIDENCE_LABELS.get(str(label), str(label))
        text = sentence if isinstance(sentence, str) else str(sentence)
        lines.append(f"{name}：{text}")
    return "\n".join(lines)


# What each column of an export (and of ``documents`` in the browser) holds.
COLUMN_DOCS = {
    "id": "文件编号 document id in the corpus",
    "policy_id": "政策编号：同一政策的征求意见稿、正式稿与转载共用 (the policy's first document id)",
    "site": "来源网站键 site key",
    "site_name": "来源网站 site name",
    "url": "原文链接 canonical URL",
    "title": "标题 title",
    "doc_number": "文号 document number",
    "issuer": "发文机关 issuer",
    "index_no": "索引号 index number",
    "topic": "主题分类 topic",
    "written_date": "成文日期 YYYY-MM-DD",
    "published_date": "发布日期 YYYY-MM-DD",
    "date": "统计日期：发布日期，缺则成文日期，再缺则首次发现日期",
    "month": "统计月份 YYYY-MM",
    "doc_type": "文件类型 document type (TAXONOMY §4)",
    "doc_type_zh": "文件类型（中文）",
    "status": "状态 draft/final/revised/repealed",
    "status_zh": "状态（中文）",
    "relevance": "相关性 dedicated/mentions/related/none",
    "relevance_zh": "相关性（中文）",
    "relevance_score": "相关性得分 relevance score",
    "level": "发文层级 national/province/prefecture/county",
    "level_zh": "发文层级（中文）",
    "region": "地区 华东/华南/华北/华中/西南/西北/东北",
    "province": "省份 province",
    "city": "城市 city",
    "county": "区县 county",
    "city_tier": "城市等级 一线/新一线/其他",
    "scenarios": "应用场景标签 scenario tags",
    "scenarios_zh": "应用场景（中文）",
    "measures": "生态体系建设措施标签 measure tags",
    "measures_zh": "生态体系建设措施（中文）",
    "techs": "核心技术标签 technology tags",
    "techs_zh": "核心技术（中文）",
    "evidence": "标签依据：每行“标签：句子” (JSONL: an object label -> sentence)",
    "withdrawn_at": "撤回时间 when the page disappeared",
    "repealed_at": "废止时间 when repealed",
    "first_seen": "首次发现 first seen (UTC)",
    "last_seen": "最近发现 last seen (UTC)",
    "last_changed": "最近变化 last changed (UTC)",
    "classifier_version": "分类器版本 classifier version",
    "explains_id": "所解读政策的文件编号：本文件是政策解读时 (the document a 解读 explains)",
    "explains_title": "所解读政策的标题 (the title of the document a 解读 explains)",
    "body_text": "正文 body text",
}
