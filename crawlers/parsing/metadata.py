"""The 政府信息公开 metadata block of a detail page (索引号, 发文机关, 文号, 成文日期...) and
its <meta> tags.

Portals write the block as a table, a <dl>, a list or a line of spans; labels are padded with
spaces (``索  引  号:``, ``标　　题：``), colons are full- or half-width, and the value sits in
the same cell after the label or in the next cell. The scanner below handles all of these by
looking for text nodes that *start* with a known label, then taking the value from the rest of
that text, from the label element's tail, or from the next cell.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from crawlers.parsing.text import squash

# label -> (canonical field, rank); a lower rank is more trustworthy. Within one rank the first
# occurrence in document order wins.
LABELS: dict[str, tuple[str, int]] = {
    "索引号": ("index_no", 0), "索取号": ("index_no", 1), "内容索引号": ("index_no", 0),
    "发文机关": ("issuer", 0), "制发机关": ("issuer", 0), "发文单位": ("issuer", 0),
    "发布机构": ("issuer", 1), "发布单位": ("issuer", 1), "发布机关": ("issuer", 1),
    "主办单位": ("issuer", 2), "责任部门": ("issuer", 2), "责任单位": ("issuer", 2),
    "来源": ("source", 0), "信息来源": ("source", 0), "文章来源": ("source", 0),
    "文号": ("doc_number", 0), "发文字号": ("doc_number", 0), "发文文号": ("doc_number", 0),
    "文件编号": ("doc_number", 1),
    "主题分类": ("topic", 0), "信息分类": ("topic", 1), "主题词": ("topic", 2),
    "成文日期": ("written_date", 0), "成文时间": ("written_date", 0),
    "制发日期": ("written_date", 1), "发文日期": ("written_date", 1), "印发日期": ("written_date", 1),
    "生成日期": ("written_date", 2),
    "发布日期": ("published_date", 0), "公开日期": ("published_date", 1),
    "发布时间": ("published_date", 1), "公布日期": ("published_date", 1),
    "日期": ("date_line", 0), "时间": ("date_line", 1), "更新时间": ("date_line", 2),
    "标题": ("title", 0), "公开事项名称": ("title", 0), "文件名称": ("title", 0),
    "信息名称": ("title", 1), "名称": ("title", 2),
    "有效性": ("validity", 0), "时效": ("validity", 0), "时效性": ("validity", 0),
    "效力状态": ("validity", 0), "有效期": ("validity", 1),
}
# Labels read only so that they end the value before them (``... 浏览次数：12``).
STOP_LABELS = (
    "组配分类", "体裁分类", "服务对象", "公开方式", "公开时限", "公开范围", "公开形式", "浏览次数",
    "访问量", "点击数", "阅读次数", "字号", "字体", "分享", "作者", "责任编辑", "编辑", "供稿",
    "所属机构", "文种", "主题", "发布形式", "打印", "关闭",
)
FIELDS = ("index_no", "issuer", "source", "doc_number", "topic", "written_date",
          "published_date", "date_line", "title", "validity")
# Values that mean "none".
EMPTY_VALUES = {"无", "暂无", "-", "--", "—", "/", "空", "null", "none", "无文号"}

_SPACE = r"[\s\u3000\xa0]*"


def _label_pattern(labels) -> str:
    return "|".join(_SPACE.join(map(re.escape, lab)) for lab in sorted(labels, key=len, reverse=True))


_ALL = _label_pattern(list(LABELS) + list(STOP_LABELS))
# A label at the start of a text, then a colon (or nothing but the end of the text).
_START = re.compile(rf"^[\s\u3000\xa0【\[]*(?P<label>{_ALL}){_SPACE}(?:[:：]|$)")
# Later labels inside the same text, after a separator, each followed by a colon.
_NEXT = re.compile(rf"(?:(?<=[\s\u3000\xa0|｜/【\]】\[])|(?<=^))(?P<label>{_ALL}){_SPACE}[:：]")
_SQUASH_LABEL = re.compile(r"[\s\u3000\xa0【\[]")

_SKIP_TAGS = {"script", "style", "noscript", "template", "select", "option", "textarea",
              "iframe", "button", "head", "title"}
_INLINE = {"span", "b", "strong", "font", "em", "i", "label", "a", "u", "small", "sup", "sub"}
_CELLS = {"td", "th", "dt", "dd", "li", "label"}
_CONTAINERS = {"table", "dl", "ul", "ol"}
# Footers and navigation carry 主办单位/来源-like labels about the website, not the document.
FURNITURE_HINT = re.compile(
    r"foot|copyright|banquan|bottom|header|topbar|top_link|nav|menu|breadcrumb|crumb|position"
    r"|location|weizhi|share|bdshare|friend|link_?list|sitemap", re.I)
_HIDDEN = re.compile(r"display\s*:\s*none", re.I)


@dataclass
class Metadata:
    """The block's fields (canonical name -> raw value), which label gave each, and the block
    elements that held two or more fields (removed from the body text when inside it)."""

    fields: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    containers: list = field(default_factory=list)
    _ranks: dict[str, int] = field(default_factory=dict, repr=False)

    def offer(self, name: str, rank: int, label: str, value: str) -> bool:
        if name in self._ranks and self._ranks[name] <= rank:
            return False
        self.fields[name] = value
        self.labels[name] = label
        self._ranks[name] = rank
        return True


def read_metadata(root, content=None) -> dict[str, str]:
    """Canonical field -> raw string from the page's metadata block (see ``find_metadata``)."""
    return find_metadata(root, content).fields


def is_furniture(el) -> bool:
    """Does the element's class or id say it is page furniture (footer, nav, breadcrumb, share)?"""
    hint = f"{el.get('class', '')} {el.get('id', '')}"
    return bool(hint.strip()) and bool(FURNITURE_HINT.search(hint))


def find_metadata(root, content=None) -> Metadata:
    """Scan the tree for label/value pairs. Footers, navigation, hidden elements and scripts are
    skipped; inside ``content`` (the document body) only table/list cells count, so that a
    body paragraph starting with 来源：/日期： is not taken for metadata."""
    meta = Metadata()
    owners: list[tuple[object, str]] = []
    stack = [(root, False, False)]
    while stack:
        el, in_content, in_cell = stack.pop()
        tag = el.tag if isinstance(el.tag, str) else None
        if tag is None or tag.lower() in _SKIP_TAGS:
            continue
        tag = tag.lower()
        if el is not root and (is_furniture(el) or _HIDDEN.search(el.get("style", ""))):
            continue
        if el is content:
            in_content = True
        if tag in _CELLS:
            in_cell = True
        if not in_content or in_cell:
            for name in _scan_element(el, meta):
                owners.append((el, name))
        for child in reversed(el):
            stack.append((child, in_content, in_cell))
    meta.containers = _containers(owners)
    return meta


def _scan_element(el, meta: Metadata) -> list[str]:
    """Offer the label/value pairs whose label starts ``el.text`` or a child's tail."""
    found = []
    if len(el) and el.tag in _INLINE | _CELLS:
        # 索<span></span>引<span></span>号： — a label split by padding elements.
        whole = squash(_text(el))
        m = _START.match(whole) if len(whole) <= 12 else None
        if m and not whole[m.end():].strip():
            name = _offer(meta, m.group("label"), _value_after(el, from_tail=True))
            return [name] if name else []
    texts = [(el.text, None)] + [(child.tail, child) for child in el]
    for text, after in texts:
        if not text or not text.strip():
            continue
        m = _START.match(text)
        if not m:
            continue
        if after is None and m.end() == len(text) and not text.rstrip().endswith((":", "：")):
            # A colon-less label is a label only when it is the whole cell: <th>发文机关</th>.
            if el.tag not in ("td", "th", "dt", "label", "span", "b", "strong", "font") or len(el):
                continue
        for label, value in _segments(text, m):
            if value is None:
                value = _value_after(el if after is None else after, from_tail=after is not None)
            name = _offer(meta, label, value)
            if name:
                found.append(name)
    return found


def _segments(text: str, first: re.Match) -> list[tuple[str, str | None]]:
    """The (label, value) pairs of one text node; a trailing label without a value gets None
    (its value is in the next element)."""
    starts = [(first.group("label"), first.end())]
    marks = [m for m in _NEXT.finditer(text, first.end())]
    out = []
    cursor_label, cursor_pos = starts[0]
    for m in marks:
        out.append((cursor_label, text[cursor_pos:m.start()]))
        cursor_label, cursor_pos = m.group("label"), m.end()
    out.append((cursor_label, text[cursor_pos:]))
    result: list[tuple[str, str | None]] = []
    for i, (label, value) in enumerate(out):
        value = squash(value).strip(" |｜")
        if not value and i == len(out) - 1 and len(out) == 1:
            # A lone label whose value is elsewhere; in "日期：… 来源：" an empty last
            # value is simply empty.
            result.append((label, None))
        else:
            result.append((label, value))
    return result


def _value_after(el, from_tail: bool) -> str:
    """The value of a label that ends its text: the rest of the element, its tail, or the next
    element, climbing out of inline wrappers and label cells (``<td><b>文号：</b></td><td>…``)."""
    if not from_tail:
        rest = squash(" ".join(t for child in el for t in [_text(child), child.tail or ""]))
        if rest:
            return rest
    node = el
    for _ in range(4):
        tag = node.tag.lower() if isinstance(node.tag, str) else ""
        if tag not in _INLINE and tag not in _CELLS:
            return ""  # a block (p, div) ending with a label has no value
        if node.tail and node.tail.strip():
            return squash(node.tail)
        nxt = node.getnext()
        while nxt is not None and not isinstance(nxt.tag, str):
            nxt = nxt.getnext()
        if nxt is not None:
            if is_furniture(nxt):
                return ""
            value = squash(_text(nxt))
            return "" if _START.match(value) else value
        parent = node.getparent()
        if parent is None:
            break
        ptag = parent.tag.lower() if isinstance(parent.tag, str) else ""
        if ptag not in _INLINE and ptag not in _CELLS:
            break
        node = parent
    return ""


def _text(el) -> str:
    if not isinstance(el.tag, str) or el.tag in _SKIP_TAGS:
        return ""
    return "".join(el.itertext())


def _offer(meta: Metadata, label: str, value: str) -> str | None:
    key = _SQUASH_LABEL.sub("", label)
    spec = LABELS.get(key)
    if spec is None:
        return None  # a stop label
    name, rank = spec
    value = _cut_at_label(value)
    if not value or len(value) > 300:
        return None
    return name if meta.offer(name, rank, key, value) else None


def _cut_at_label(value: str) -> str:
    """A value read from the next element may run into the following label: cut it there."""
    m = _NEXT.search(value)
    if m and m.start() > 0:
        value = value[: m.start()]
    return value.strip(" |｜")


def _containers(owners) -> list:
    """Table/dl/ul elements holding two or more of the fields found."""
    counts: dict[object, set[str]] = {}
    for el, name in owners:
        node = el
        while node is not None:
            if isinstance(node.tag, str) and node.tag.lower() in _CONTAINERS:
                counts.setdefault(node, set()).add(name)
                break
            node = node.getparent()
    return [el for el, names in counts.items() if len(names) >= 2]


# --- <meta> tags -------------------------------------------------------------------------

def read_meta_tags(root) -> dict[str, str]:
    """``<meta name|property=... content=...>`` as a dict keyed by the lower-cased name; the
    first non-empty value wins (Hanweb and Ucap pages repeat some tags)."""
    out: dict[str, str] = {}
    for el in root.iter("meta"):
        key = (el.get("name") or el.get("property") or "").strip().lower()
        value = squash(el.get("content"))
        if key and value and key not in out:
            out[key] = value
    return out


def is_empty_value(value: str | None) -> bool:
    """Does a metadata value mean "none" (无, 暂无, -)?"""
    return not value or value.strip().lower() in EMPTY_VALUES




# --- 文号 ----------------------------------------------------------------------------------

# <机关代字>〔2022〕16号, with the year in 〔〕 [] 【】 () （） ［］ or 〈〉 brackets.
_DOC_NUMBER = re.compile(
    r"(?P<org>[\u4e00-\u9fffA-Za-z]{1,20}?)\s*[〔\[【(（［〈<{｛]\s*(?P<year>(?:19|20)\d{2})\s*"
    r"[〕\]】)）］〉>}｝]\s*(?P<num>第?\s*\d{1,5}\s*号)"
)


def normalize_doc_number(value: str | None) -> str | None:
    """A 文号 in its standard form (brackets 〔〕, half-width digits, no spaces), or the value
    squashed when it does not have the standard shape; None for empty or 无."""
    if is_empty_value(value):
        return None
    text = squash(value)
    # Full-width digits and brackets to half-width, but keep 〔〕 (NFKC leaves them alone).
    text = unicodedata.normalize("NFKC", text)
    m = _DOC_NUMBER.search(text)
    if not m:
        return text.replace(" ", "")
    num = m.group("num").replace(" ", "")
    return f"{m.group('org')}〔{m.group('year')}〕{num}"


def find_doc_number(body_text: str, max_lines: int = 6) -> str | None:
    """The document's own 文号 from the first lines of its body: a line that is nothing but a
    number of the standard form, before the addressee line (…：). Numbers cited inside
    sentences (根据《…》（国办发〔2019〕29号）) are other documents' and are not taken."""
    for line in body_text.split("\n")[:max_lines]:
        line = unicodedata.normalize("NFKC", line).strip()
        m = _DOC_NUMBER.fullmatch(line.replace(" ", ""))
        if m:
            return normalize_doc_number(line)
        if line.endswith((":", "：")):
            break
    return None


__all__ = ["FIELDS", "LABELS", "Metadata", "find_doc_number", "find_metadata", "is_empty_value",
           "is_furniture", "normalize_doc_number", "read_meta_tags", "read_metadata"]
