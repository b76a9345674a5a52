"""Content tags (TAXONOMY.md §2): scenarios, measures and technologies, each with its evidence.

A tag's score adds up over the sentences that name it, weighed by place and density:
- a sentence counts its strongest term of a tag (weak words like 研发 or 消费 need a second
  sentence); a term in the title counts three times, in a heading one and a half;
- a scenario or measure named in a long enumeration (工业、农业、交通、医疗、教育、文旅等领域:
  more than ``LIST_MAX`` items in its clause) is boilerplate and counts nothing; a short list
  (文旅、工业、教育和城市管理) is a plan and counts. Technologies count wherever they are named;
- a negated term (不涉及文旅项目) counts nothing.
A tag is given when its score reaches ``THRESHOLD``; its evidence is its best sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from classifiers.lexicon import FAMILIES, matcher, negated
from classifiers.sentences import Prepared

PLACE_WEIGHT = {"title": 3.0, "heading": 1.5, "body": 1.0, "attachment": 1.0}
# The longest enumeration whose items still count, per family (None: no limit).
LIST_MAX = {"scenario": 4, "measure": 4, "tech": None}
THRESHOLD = {"scenario": 0.6, "measure": 0.7, "tech": 0.5}
_CLAUSE_BREAKS = "，,；;。：:！？!?"


@dataclass(frozen=True)
class TagResult:
    """Tags of each family (TAXONOMY names, no prefix), their scores and evidence sentences."""

    tags: dict[str, list[str]]  # family -> tags, best first
    scores: dict[str, float]  # "family:tag" -> score
    evidence: dict[str, str]  # "family:tag" -> sentence


_CLAUSE_BREAK = re.compile(f"[{_CLAUSE_BREAKS}]")
_LAST_CLAUSE_BREAK = re.compile(f"[{_CLAUSE_BREAKS}][^{_CLAUSE_BREAKS}]*\\Z")


def list_items(form: str, position: int) -> int:
    """How many items the enumeration around ``position`` has (1 when it is in none)."""
    last_break = _LAST_CLAUSE_BREAK.search(form, 0, position)
    start = last_break.start() + 1 if last_break else 0
    next_break = _CLAUSE_BREAK.search(form, position)
    return form.count("、", start, next_break.start() if next_break else len(form)) + 1


def tag_document(doc: Prepared) -> TagResult:
    scores: dict[str, float] = {}
    best: dict[str, tuple[float, str]] = {}
    for family in FAMILIES:
        m = matcher(family)
        for sentence in doc.sentences:
            per_tag: dict[str, float] = {}
            limit = LIST_MAX[family]
            for hit in m.find(sentence.form):
                if negated(sentence.form, hit):
                    continue
                if limit is not None and list_items(sentence.form, hit.start) > limit:
                    continue
                for tag, weight in m.terms[hit.term].items():
                    per_tag[tag] = max(per_tag.get(tag, 0.0), weight)
            place = PLACE_WEIGHT[sentence.place]
            for tag, weight in per_tag.items():
                if weight <= 0:
                    continue
                value = weight * place
                key = f"{family}:{tag}"
                scores[key] = scores.get(key, 0.0) + value
                if value > best.get(key, (0.0, ""))[0]:
                    best[key] = (value, sentence.text)
    tags: dict[str, list[str]] = {family: [] for family in FAMILIES}
    evidence: dict[str, str] = {}
    for key, score in sorted(scores.items(), key=lambda kv: (-kv[1], kv[0])):
        family, tag = key.split(":", 1)
        if score >= THRESHOLD[family]:
            tags[family].append(tag)
            evidence[key] = best[key][1]
    return TagResult(tags, {k: round(v, 3) for k, v in scores.items()}, evidence)
