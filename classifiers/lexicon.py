"""The weighted lexicon: the words that signal relevance and each content tag of TAXONOMY.md.

Data, not code: a term's weight says how sure a match makes us (1.0: the word names the thing;
lower: the word often means something else too). Terms are matched on the matching form of a
sentence (``sentences.match_form``: NFKC-folded and lower-cased), so write Latin terms in lower
case; they only match as whole words (``ar`` never inside ``market``).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

Terms = dict[str, float]

# --- relevance -------------------------------------------------------------------------------

CORE: Terms = {"元宇宙": 1.0, "metaverse": 1.0}

# The technologies the metaverse is made of: a policy about them without 元宇宙 is `related`.
RELATED: Terms = {
    "虚拟现实": 1.0, "增强现实": 1.0, "混合现实": 1.0, "扩展现实": 1.0, "vr": 0.9, "ar": 0.7,
    "xr": 0.9, "mr": 0.5, "数字人": 1.0, "数字人民币": 0.0, "数字人才": 0.0, "数字人力": 0.0, "虚拟人": 1.0, "虚拟数字人": 1.0, "数字虚拟人": 1.0,
    "数字孪生": 1.0, "数字藏品": 1.0, "nft": 1.0, "非同质化通证": 1.0, "web3": 1.0,
    "web3.0": 1.0, "近眼显示": 0.8, "虚拟偶像": 0.8, "脑机接口": 0.6, "空间计算": 0.8,
    "头显": 0.8, "沉浸式": 0.4, "全息": 0.4, "虚拟空间": 0.5, "智能穿戴": 0.3,
}

# Cues that a term is named only to be excluded: 本办法不涉及元宇宙项目.
# Cues later in the sentence that refuse what it named: 对…元宇宙…项目，不予支持.
REFUSALS = ("不予支持", "不予受理", "不予立项", "不予认定", "不予资助", "不在支持范围", "不纳入支持")
NEGATIONS = ("不涉及", "不包括", "不包含", "不属于", "不含", "不适用", "无关", "并非", "不是", "暂不", "除外")

# --- content tags (TAXONOMY.md §2) -----------------------------------------------------------

SCENARIOS: dict[str, Terms] = {
    "tourism_culture": {
        "文旅": 1.0, "数字文旅": 1.0, "文化和旅游": 1.0, "旅游": 0.9, "景区": 1.0, "博物馆": 1.0,
        "演艺": 1.0, "全景旅游": 1.0, "文化遗产": 0.9, "非遗": 0.9, "文博": 1.0, "夜游": 1.0,
        "文创": 0.7, "沉浸式体验": 0.6, "历史文化": 0.6, "文化街区": 0.8, "红色文化": 0.8,
        "旅游景区": 1.0, "演艺新空间": 1.0, "沉浸式戏剧": 1.0,
    },
    "industry": {
        "工业元宇宙": 1.0, "孪生工厂": 1.0, "智能制造": 1.0, "工业仿真": 1.0, "工业互联网": 0.8,
        "工厂": 0.7, "制造业": 0.5, "工业": 0.5, "生产线": 0.8, "产线": 0.8, "工业设计": 0.9,
        "设备运维": 0.9, "工业生产": 1.0,
    },
    "commerce": {
        "虚拟购物": 1.0, "数字商圈": 1.0, "直播带货": 1.0, "虚拟试穿": 1.0, "虚拟试衣": 1.0,
        "电商": 0.8, "电子商务": 0.8, "商贸": 0.8, "商圈": 0.9, "零售": 0.8, "购物": 0.8, "商超": 0.9,
        "消费": 0.5, "商业": 0.5, "商业楼宇": 0.0, "虚拟门店": 1.0, "步行街": 0.8,
    },
    "education": {
        "虚拟课堂": 1.0, "职业培训": 1.0, "实训": 1.0, "科普": 0.9, "教育": 0.5, "教学": 0.9,
        "课堂": 0.8, "校园": 0.5, "虚拟仿真实验": 1.0, "学生": 0.4, "教育元宇宙": 1.0,
        "教育培训": 0.8,
    },
    "health": {
        "远程医疗": 1.0, "手术": 1.0, "医疗": 0.6, "健康": 0.4, "医疗保障": 0.0, "医疗康复": 1.0,
        "远程会诊": 1.0, "养老": 0.9, "康复": 0.9,
        "医院": 0.8, "诊疗": 1.0, "医学": 0.8,
    },
    "city": {
        "数字孪生城市": 1.0, "cim": 1.0, "bim": 0.9, "城市大脑": 1.0, "城市管理": 1.0,
        "城市治理": 1.0, "智慧城市": 0.9, "城市规划": 0.9, "城市运行": 1.0, "城市信息模型": 1.0,
        "应急管理": 0.7, "智慧社区": 0.8,
    },
    "public_service": {
        "政务服务": 1.0, "政务": 0.6, "智慧办公": 1.0, "公共服务": 0.5, "民生服务": 1.0,
        "便民": 0.8, "一网通办": 1.0, "虚拟大厅": 1.0,
    },
    "exhibition": {
        "云展厅": 1.0, "数字会展": 1.0, "会展": 1.0, "展会": 0.8, "云展": 1.0, "展馆": 0.7,
        "展厅": 0.7, "博览会": 0.6,
    },
    "entertainment": {
        "元游戏": 1.0, "虚拟偶像": 1.0, "虚拟社交": 1.0, "游戏": 0.9, "动漫": 0.9, "娱乐": 0.8,
        "社交": 0.6, "电竞": 1.0, "文娱": 0.9, "影视": 0.8, "演唱会": 0.9, "数字音乐": 0.9, "虚拟演出": 1.0,
    },
    "sports": {
        "赛事": 0.6, "马拉松": 1.0, "体育": 0.8, "体育器材": 0.0, "健身": 0.9, "运动": 0.6, "冰雪": 0.7,
    },
    "transport": {
        "智能网联汽车": 1.0, "交通": 0.6, "汽车": 0.5, "车联网": 1.0, "自动驾驶": 1.0,
        "出行": 0.7, "轨道交通": 1.0, "智慧交通": 1.0,
    },
    "finance": {
        "数字金融": 1.0, "数字资产": 1.0, "金融": 0.6, "科技金融": 0.0, "银行": 0.7, "保险": 0.6, "支付": 0.7,
        "数字人民币": 1.0, "供应链金融": 1.0,
    },
}

MEASURES: dict[str, Terms] = {
    "tech_rnd": {
        "关键技术攻关": 1.0, "技术攻关": 1.0, "揭榜挂帅": 1.0, "科技专项": 1.0, "重大科技专项": 1.0,
        "核心技术": 0.8, "关键技术": 0.8, "研发": 0.6, "联合攻关": 1.0, "协同攻关": 1.0,
        "技术创新": 0.5, "共性技术": 0.9, "突破": 0.4,
    },
    "industrial_layout": {
        "产业园": 1.0, "集聚区": 1.0, "产业基地": 1.0, "基地": 0.6, "孵化器": 1.0,
        "重点实验室": 1.0, "产业联盟": 1.0, "创新中心": 0.9, "集聚": 0.6, "产业集群": 0.9,
        "示范区": 0.6, "先导区": 0.8, "加速器": 0.8, "众创空间": 0.9, "产业布局": 1.0,
    },
    "funding": {
        "产业基金": 1.0, "引导基金": 1.0, "专项资金": 1.0, "补贴": 1.0, "补助": 0.9, "贴息": 1.0,
        "信贷": 0.9, "融资租赁": 1.0, "资金支持": 1.0, "奖励": 0.8, "资助": 0.9, "奖补": 1.0,
        "融资": 0.7, "投资基金": 1.0, "担保": 0.6, "消费券": 0.8, "扶持资金": 1.0,
        "给予最高": 0.8, "万元支持": 1.0, "科技金融": 0.8,
    },
    "enterprise_talent": {
        "专精特新": 1.0, "领军企业": 1.0, "龙头企业": 0.9, "骨干企业": 0.9, "人才引进": 1.0,
        "引进人才": 1.0, "高层次人才": 1.0, "购房补贴": 1.0, "产教融合": 1.0, "招商引资": 0.9,
        "独角兽": 1.0, "瞪羚": 1.0, "人才": 0.6, "引育": 0.9, "培育企业": 0.8, "创新型企业": 0.6,
        "招引": 0.8,
    },
    "exchange": {
        "峰会": 1.0, "论坛": 1.0, "大赛": 1.0, "展览": 0.8, "节展会赛": 1.0, "交流合作": 1.0,
        "博览会": 0.9, "交流活动": 0.8, "创新大赛": 1.0, "对接会": 0.9, "国际合作": 0.8,
    },
    "regulation": {
        "监管": 0.9, "负面清单": 1.0, "非法交易": 1.0, "非法集资": 1.0, "数据安全": 1.0,
        "风险防范": 0.9, "炒作": 0.9, "伦理": 0.8, "合规": 0.8, "个人信息保护": 1.0,
        "安全管理": 0.6, "网络安全": 0.8, "治理体系": 0.6,
    },
    "standards": {
        "标准体系": 1.0, "标准化": 1.0, "制定标准": 1.0, "标准制定": 1.0, "团体标准": 1.0,
        "行业标准": 1.0, "国家标准": 1.0, "地方标准": 1.0, "标准研制": 1.0, "技术标准": 1.0,
        "标准规范": 0.9,
    },
    "ip": {
        "知识产权": 1.0, "专利": 0.9, "版权": 0.9, "著作权": 1.0,
    },
}

TECHS: dict[str, Terms] = {
    "digital_twin": {"数字孪生": 1.0, "孪生": 0.8},
    "hci": {"人机交互": 1.0, "感知交互": 1.0, "手势识别": 1.0, "眼动": 0.9, "动作捕捉": 1.0,
            "语音交互": 1.0, "交互技术": 0.9, "触觉反馈": 1.0},
    "bci": {"脑机接口": 1.0, "脑机": 0.9},
    "xr": {"虚拟现实": 1.0, "增强现实": 1.0, "混合现实": 1.0, "扩展现实": 1.0, "vr": 1.0,
           "ar": 0.8, "xr": 1.0, "头显": 0.9},
    "digital_human": {"数字人": 1.0, "虚拟人": 1.0, "虚拟数字人": 1.0, "数字虚拟人": 1.0,
                      "虚拟主播": 1.0, "数字人民币": 0.0, "数字人才": 0.0, "数字人力": 0.0},
    "display": {"近眼显示": 1.0, "新型显示": 1.0, "微显示": 1.0, "三维显示": 1.0, "全息": 0.8,
                "micro-led": 1.0, "oled": 0.9, "光场": 0.9, "显示面板": 0.9},
    "computing": {"边缘计算": 1.0, "云计算": 1.0, "算力": 1.0, "数据中心": 0.8, "超算": 1.0,
                  "智算": 1.0, "高性能计算": 1.0, "分布式存储": 0.9, "先进计算": 1.0},
    "rendering": {"3d建模": 1.0, "三维建模": 1.0, "渲染": 1.0, "图形引擎": 1.0, "建模": 0.6,
                  "引擎": 0.6, "三维重建": 1.0, "数字内容生成": 0.8},
    "iot": {"物联网": 1.0, "传感器": 0.8, "感知终端": 0.8},
    "ai": {"人工智能": 1.0, "ai": 0.9, "大模型": 1.0, "机器学习": 1.0, "aigc": 1.0,
           "机器视觉": 0.9, "自然语言处理": 1.0, "类脑计算": 0.9, "智能算法": 0.8},
    "blockchain": {"区块链": 1.0, "nft": 1.0, "数字藏品": 1.0, "分布式账本": 1.0, "web3": 0.9,
                   "web3.0": 0.9, "非同质化通证": 1.0},
    "chips": {"芯片": 1.0, "gpu": 1.0, "fpga": 1.0, "asic": 1.0, "risc-v": 1.0, "集成电路": 0.9,
              "半导体": 0.8},
    "network": {"5g": 1.0, "6g": 1.0, "巨量通信": 1.0, "千兆光网": 1.0, "通信网络": 0.8,
                "网络基础设施": 0.8, "f5g": 1.0, "5g+": 1.0},
    "os": {"操作系统": 1.0},
}

# Department names that contain a lexicon term (工业和信息化厅 is not industry, 教育局 not
# education). Phrases that contain a term but mean something else within one table (数字人民币
# is no 数字人, 医疗保障 no health scenario) are in that table with weight 0: the longest term
# wins where two overlap, and a 0 counts nothing.
EXCLUDE = ("工业和信息化", "文化和旅游局", "文化和旅游厅",
           "文化和旅游部", "教育局", "教育厅", "教育部", "交通运输局", "交通运输厅", "交通运输部",
           "卫生健康委", "体育局", "金融局", "商务局", "商务厅", "商务部")

FAMILIES = {"scenario": SCENARIOS, "measure": MEASURES, "tech": TECHS}


class Hit(NamedTuple):
    """A lexicon term found in a sentence."""

    term: str
    start: int
    end: int


_WORD_CHAR = "[a-z0-9]"


def _trie_pattern(terms) -> str:
    """One regular expression finding exactly what the alternation of ``terms`` (longest
    first) finds, written as a trie: 数(?:字(?:人|孪生)|...) instead of 数字人|数字孪生|...

    Python's regex engine tries an alternation's branches one by one at every position; with
    hundreds of terms sharing first characters that was most of the classifier's time. In the
    trie only one branch can follow each character, and a term that is a prefix of another is
    tried after it (the empty branch last), so the longest term at the leftmost position wins,
    as before. Latin terms only match as whole words: the check sits where the term ends, the
    character before its start looked at with a lookbehind as wide as the term.
    """
    root: dict = {}
    for term in terms:
        node = root
        for char in term:
            node = node.setdefault(char, {})
        node[""] = term

    def build(node: dict) -> str:
        branches = [re.escape(char) + build(child) for char, child in node.items() if char]
        if "" in node:
            term = node[""]
            end = (rf"(?<!{_WORD_CHAR}[\s\S]{{{len(term)}}})(?!{_WORD_CHAR})" if term.isascii() else "")
            branches.append(end)
        if len(branches) == 1:
            return branches[0]
        return "(?:" + "|".join(branches) + ")"

    return build(root) if root else ""


class Matcher:
    """Finds every term of a terms table in one pass: at each position the longest term,
    scanning left to right (see ``_trie_pattern``)."""

    def __init__(self, terms: dict[str, object]):
        self.terms = terms
        self._excluded = re.compile("|".join(map(re.escape, EXCLUDE)))
        self._pattern = re.compile(_trie_pattern(terms)) if terms else None

    def find(self, form: str) -> list[Hit]:
        if self._pattern is None:
            return []
        hits = [Hit(m.group(), m.start(), m.end()) for m in self._pattern.finditer(form)]
        if not hits:
            return hits
        blocked = [m.span() for m in self._excluded.finditer(form)]
        if not blocked:
            return hits
        return [h for h in hits if not any(b0 <= h.start < b1 for b0, b1 in blocked)]


_NEGATION = re.compile("|".join(map(re.escape, NEGATIONS)))
_REFUSAL = re.compile("|".join(map(re.escape, REFUSALS)))
# The last clause break before a position: a break with no other one after it.
_LAST_CLAUSE_BREAK = re.compile(r"[，,；;。：:][^，,；;。：:]*\Z")


def negated(form: str, hit: Hit) -> bool:
    """Is the term named only to be excluded? Looks back over its own clause (不包括元宇宙),
    and on to the end of the sentence for a refusal (对以元宇宙名义申报的项目，不予支持)."""
    last_break = _LAST_CLAUSE_BREAK.search(form, 0, hit.start)
    clause_start = last_break.start() + 1 if last_break else 0
    if _NEGATION.search(form, clause_start, hit.start) or form.startswith(("除外", "无关"), hit.end):
        return True
    return _REFUSAL.search(form, hit.end) is not None


@lru_cache(maxsize=None)
def matcher(name: str) -> Matcher:
    """The compiled matcher of ``core``, ``related`` or a tag family (``scenario`` ...)."""
    if name == "core":
        return Matcher(CORE)
    if name == "related":
        return Matcher(RELATED)
    table = FAMILIES[name]
    # Term -> {tag: weight}: one term may signal two tags (数字藏品: blockchain, and related).
    terms: dict[str, dict[str, float]] = {}
    for tag, tag_terms in table.items():
        for term, weight in tag_terms.items():
            terms.setdefault(term, {})[tag] = weight
    return Matcher(terms)
