"""Relevance (TAXONOMY.md §1): dedicated, mentions, related or none, with a score and evidence.

Two parts decide it together:
- the weighted lexicon says which labels the text can support at all: without 元宇宙 in the
  title, text or attachments a document cannot be ``dedicated`` or ``mentions``; without it or
  a core-technology term (虚拟现实, 数字人, 数字孪生, NFT...) it is ``none``; with 元宇宙 in the
  title, or in most sentences of the body, it is ``dedicated``; named in one sentence only, it
  is ``mentions``; a body mostly about a core technology is ``related``. Negated terms (不涉及元宇宙) do not count.
- the trained model (``classifiers.model``: character n-grams plus the lexicon's numbers)
  chooses among those labels: a plan that is mostly about the metaverse against one that names
  it in a list; a VR industry plan against a tourism notice that mentions VR once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from classifiers.lexicon import matcher, negated
from classifiers.sentences import Prepared, Sentence

LABELS = ("dedicated", "mentions", "related", "none")
# How central each label is: the score is the model's probabilities weighed by these.
CENTRALITY = {"dedicated": 1.0, "mentions": 0.6, "related": 0.3, "none": 0.0}
MODEL_CHARS = 20_000  # characters of a document the n-gram model reads
EVIDENCE_SENTENCES = 2
# "The body is mostly about it": at least this share of its sentences name 元宇宙.
MOSTLY = 0.5


@dataclass
class Signals:
    """What the lexicon found in a document."""

    title_core: bool = False
    title_related: float = 0.0
    core_sentences: list[Sentence] = field(default_factory=list)
    core_headings: int = 0
    core_hits: int = 0
    negated_core: int = 0
    related_sentences: list[tuple[float, Sentence]] = field(default_factory=list)
    related_weight: float = 0.0
    body_sentences: int = 0
    chars: int = 0

    def features(self) -> dict[str, float]:
        """The numbers the model reads beside the n-grams, each roughly within 0..1."""
        body = max(self.body_sentences, 1)
        return {
            "lex_title_core": float(self.title_core),
            "lex_title_related": min(self.title_related, 1.0),
            "lex_core_share": len(self.core_sentences) / body,
            "lex_core_count": math.log1p(self.core_hits) / 3,
            "lex_core_heading": min(self.core_headings, 3) / 3,
            "lex_related_share": min(len(self.related_sentences) / body, 1.0),
            "lex_related_weight": math.log1p(self.related_weight) / 3,
            "lex_length": math.log10(self.chars + 10) / 6,
        }


FEATURE_NAMES = tuple(Signals().features())


def signals(doc: Prepared) -> Signals:
    core, related = matcher("core"), matcher("related")
    out = Signals(chars=doc.chars)
    for sentence in doc.sentences:
        core_hits = [h for h in core.find(sentence.form)]
        live = [h for h in core_hits if not negated(sentence.form, h)]
        out.negated_core += len(core_hits) - len(live)
        rel = sum(related.terms[h.term] for h in related.find(sentence.form)
                  if not negated(sentence.form, h))
        if sentence.place == "title":
            out.title_core = bool(live)
            out.title_related = rel
            continue
        out.body_sentences += 1
        if live:
            out.core_sentences.append(sentence)
            out.core_hits += len(live)
            out.core_headings += sentence.place == "heading"
        if rel:
            out.related_sentences.append((rel, sentence))
            out.related_weight += rel
    return out


def admissible(sig: Signals) -> tuple[str, ...]:
    """The labels the lexicon's evidence allows."""
    if sig.title_core:
        return ("dedicated",)
    if sig.core_sentences:
        share = len(sig.core_sentences) / max(sig.body_sentences, 1)
        if len(sig.core_sentences) >= 2 and share >= MOSTLY:
            return ("dedicated",)  # the body is mostly about it
        if len(sig.core_sentences) == 1:
            return ("mentions",)  # one sentence is a mention, whatever else the text says
        return ("dedicated", "mentions")
    if sig.title_related or sig.related_sentences:
        strong = [w for w, _ in sig.related_sentences if w >= 0.8]
        if len(strong) >= 2 and len(strong) / max(sig.body_sentences, 1) >= MOSTLY:
            return ("related",)  # the body is mostly about XR, 数字人, 数字孪生...
        return ("related", "none")
    return ("none",)


@dataclass(frozen=True)
class Relevance:
    label: str
    score: float  # 0..1, see CENTRALITY
    probabilities: dict[str, float]
    evidence: str  # the sentences that decided it ('' when nothing did)


def decide(sig: Signals, title: str, model_probs: dict[str, float] | None) -> Relevance:
    """The label among the admissible ones the model finds likeliest (the first without a model)."""
    allowed = admissible(sig)
    if model_probs:
        mass = sum(model_probs.get(label, 0.0) for label in allowed)
        probs = {label: (model_probs.get(label, 0.0) / mass if mass else 1 / len(allowed))
                 for label in allowed}
    else:
        probs = _rule_probabilities(sig, allowed)
    label = max(allowed, key=lambda name: (probs[name], -LABELS.index(name)))
    score = sum(CENTRALITY[name] * p for name, p in probs.items())
    return Relevance(label, round(score, 3), {k: round(v, 3) for k, v in probs.items()},
                     _evidence(sig, title, label))


def _rule_probabilities(sig: Signals, allowed: tuple[str, ...]) -> dict[str, float]:
    # Without a trained model: the lexicon's own thresholds.
    if len(allowed) == 1:
        return {allowed[0]: 1.0}
    features = sig.features()
    if "dedicated" in allowed:
        central = features["lex_core_share"] >= 0.25 or sig.core_headings > 0
        return {"dedicated": 0.7, "mentions": 0.3} if central else {"dedicated": 0.3, "mentions": 0.7}
    focused = sig.title_related >= 0.8 or features["lex_related_share"] >= 0.3
    return {"related": 0.7, "none": 0.3} if focused else {"related": 0.3, "none": 0.7}


def _evidence(sig: Signals, title: str, label: str) -> str:
    if label == "dedicated" and sig.title_core:
        return title
    if label in ("dedicated", "mentions"):
        ranked = sorted(sig.core_sentences, key=lambda s: (s.place != "heading", -len(s.text)))
        return " … ".join(s.text for s in ranked[:EVIDENCE_SENTENCES])
    if sig.title_related and label == "related":
        return title
    ranked_related = sorted(sig.related_sentences, key=lambda pair: -pair[0])
    return " … ".join(s.text for _, s in ranked_related[:EVIDENCE_SENTENCES])


def model_text(doc: Prepared) -> str:
    """The text the n-gram model reads: title and sentences in their matching form."""
    out: list[str] = []
    size = 0
    for sentence in doc.sentences:
        out.append(sentence.form)
        size += len(sentence.form) + 1
        if size >= MODEL_CHARS:
            break
    return "\n".join(out)[:MODEL_CHARS]
