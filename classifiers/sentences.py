"""A document as the classifiers read it: sentences, each with its place (title, heading, body,
attachment) and a matching form.

Only the title, the extracted body and attachment texts are read. The parsers already strip page
furniture; lines that still look like it (相关链接 boxes, 版权所有 footers, 浏览次数 counters)
are dropped here too, because a 元宇宙 link in a related-links box must never count. Text from
PDFs breaks lines inside words and sentences (元宇宙产\\n业), so hard-wrapped text is re-joined
before it is split into sentences.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Longer texts are read up to here: a 100 MB upload must not stall the pipeline, and the
# relevance of a policy shows long before its 120,000th character (the 2022 Wuhan plan has 9,000).
MAX_CHARS = 120_000
MAX_SENTENCE = 400

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
# str.translate looks every character up in the table: searched first, it is rarely needed.
_ANY_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_CJK = r"\u2e80-\u2fff\u3001-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff01-\uff60"
_SPACE_BY_CJK = re.compile(rf"[ \t\u3000\xa0]+(?=[{_CJK}])|(?<=[{_CJK}])[ \t\u3000\xa0]+")
_SPACES = re.compile(r"[ \t\u3000\xa0]+")
_FURNITURE = re.compile(
    r"相关链接|相关文章|相关阅读|相关新闻|相关稿件|相关解读|相关文件|推荐阅读|热点专题|专题专栏|"
    r"上一篇|下一篇|网站地图|版权所有|主办单位|承办单位|主办：|承办：|网站标识码|ICP备|公网安备|"
    r"扫一扫|分享到|浏览次数|访问量|您现在的位置|当前位置|打印本页|关闭窗口|【打印】|【关闭】|"
    r"字号：|责任编辑|技术支持："
)
# A heading that opens a box of links: what follows it, while short, is links.
_LINK_BOX = re.compile(r"^\s*[【\[]?(?:相关链接|相关文章|相关阅读|相关新闻|推荐阅读|热点专题|专题专栏|友情链接)")
_TERMINAL = "。！？；!?;：:"
_SENTENCE_END = re.compile(r"(?<=[。！？!?；;])")
_HEADING = re.compile(
    r"^(?:[一二三四五六七八九十]+、|（[一二三四五六七八九十]+）|\([一二三四五六七八九十]+\)|"
    r"第[一二三四五六七八九十百]+[章节条部分]|\d+[.、．]\s*\S)"
)


@dataclass(frozen=True)
class Sentence:
    """One sentence: ``text`` as written (for evidence), ``form`` for matching."""

    text: str
    form: str
    place: str  # title, heading, body, attachment


@dataclass(frozen=True)
class Prepared:
    sentences: tuple[Sentence, ...]
    chars: int  # characters read
    truncated: bool  # the text was longer than MAX_CHARS

    @property
    def body(self) -> tuple[Sentence, ...]:
        return tuple(s for s in self.sentences if s.place != "title")


def match_form(text: str) -> str:
    """NFKC-folded (ＶＲ → VR, full-width digits), lower-cased, no spaces next to Chinese."""
    if _ANY_INVISIBLE.search(text):
        text = text.translate(_INVISIBLE)
    folded = unicodedata.normalize("NFKC", text).lower()
    return _SPACES.sub(" ", _SPACE_BY_CJK.sub("", folded)).strip()


def drop_furniture(lines: list[str]) -> list[str]:
    """Lines that are not page furniture; a links box after its heading goes with it."""
    kept: list[str] = []
    in_box = False
    for line in lines:
        stripped = line.strip()
        if _LINK_BOX.match(stripped):
            in_box = True
            continue
        if in_box:
            if stripped and len(stripped) <= 40 and stripped[-1] not in _TERMINAL:
                continue
            in_box = False
        if stripped and _FURNITURE.search(stripped) and len(stripped) <= 80:
            continue
        kept.append(line)
    return kept


def _hard_wrapped(lines: list[str]) -> bool:
    """Text whose lines break mid-sentence (PDF extraction): most full lines end unpunctuated."""
    full = [line for line in lines if len(line) >= 12]
    if len(full) < 4:
        return False
    open_ended = sum(1 for line in full if line[-1] not in _TERMINAL + "”）)")
    return open_ended / len(full) > 0.5


def _paragraphs(text: str) -> list[str]:
    lines = [line.strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    lines = drop_furniture(lines)
    if not _hard_wrapped([line for line in lines if line]):
        return [line for line in lines if line]
    # Re-join: a line continues the previous one unless that one closed a sentence or the
    # line opens a numbered heading.
    paragraphs: list[str] = []
    for line in lines:
        if not line:
            continue
        if paragraphs and paragraphs[-1][-1] not in _TERMINAL and not _HEADING.match(line):
            paragraphs[-1] += line
        else:
            paragraphs.append(line)
    return paragraphs


def _split(paragraph: str) -> list[str]:
    out = []
    for piece in _SENTENCE_END.split(paragraph):
        piece = piece.strip()
        while len(piece) > MAX_SENTENCE:  # tables and run-on lists: cut at a comma
            cut = max(piece.rfind("，", 0, MAX_SENTENCE), piece.rfind(",", 0, MAX_SENTENCE))
            cut = cut + 1 if cut > MAX_SENTENCE // 4 else MAX_SENTENCE
            out.append(piece[:cut])
            piece = piece[cut:].strip()
        if piece:
            out.append(piece)
    return out


def _is_heading(paragraph: str) -> bool:
    return bool(_HEADING.match(paragraph)) and len(paragraph) <= 40 or (
        len(paragraph) <= 30 and paragraph[-1] not in _TERMINAL + "，,、"
    )


def prepare(title: str | None, text: str | None, attachments: tuple[str, ...] = (),
            max_chars: int = MAX_CHARS) -> Prepared:
    """Split a document into sentences; reads at most ``max_chars`` of text in all."""
    sentences: list[Sentence] = []
    title = " ".join((title or "").split())
    if title:
        sentences.append(Sentence(title, match_form(title), "title"))
    budget = max_chars
    truncated = False
    read = 0
    seen_texts: set[str] = set()
    for place, chunk in [("body", text or "")] + [("attachment", a or "") for a in attachments]:
        key = match_form(chunk[:2000])
        if not chunk or chunk.isspace() or key in seen_texts:  # a body that is the attachment's text
            continue
        seen_texts.add(key)
        if len(chunk) > budget:
            chunk, truncated = chunk[:budget], True
        budget -= len(chunk)
        read += len(chunk)
        for paragraph in _paragraphs(chunk):
            heading = place == "body" and _is_heading(paragraph)
            for piece in _split(paragraph):
                sentences.append(Sentence(piece, match_form(piece), "heading" if heading else place))
        if budget <= 0:
            truncated = truncated or place == "body" and bool(attachments)
            break
    return Prepared(tuple(sentences), read, truncated)
