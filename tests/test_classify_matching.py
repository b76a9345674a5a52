"""The classifier's fast matching gives exactly what the plain forms give: the trie-shaped
lexicon expression against an alternation of the terms (longest first), the n-gram counter
against counting every n-gram, the compiled clause and negation cues against the loops."""

from __future__ import annotations

import random
import re
from collections import Counter

import pytest

from classifiers import lexicon, tags
from classifiers.model import char_ngrams, ngram_counts


def _plain_alternation(terms) -> re.Pattern:
    parts = []
    for term in sorted(terms, key=len, reverse=True):
        piece = re.escape(term)
        if term.isascii():
            piece = rf"(?<![a-z0-9]){piece}(?![a-z0-9])"
        parts.append(piece)
    return re.compile("|".join(parts))


def _texts(terms, rng, count=3000):
    # Terms glued to each other, to their own characters and to Latin letters and digits:
    # overlaps, prefixes of longer terms, Latin terms inside words.
    alphabet = sorted(set("".join(terms))) + list("ab0 .,，、")
    terms = sorted(terms)
    for _ in range(count):
        yield "".join(rng.choice(terms) if rng.random() < 0.5 else rng.choice(alphabet)
                      for _ in range(rng.randint(1, 12)))


@pytest.mark.parametrize("table", ["core", "related", "scenario", "measure", "tech"])
def test_the_trie_expression_finds_what_the_alternation_finds(table):
    matcher = lexicon.matcher(table)
    plain = _plain_alternation(matcher.terms)
    rng = random.Random(table)
    for text in _texts(matcher.terms, rng):
        want = [(m.group(), m.start(), m.end()) for m in plain.finditer(text)]
        got = [(m.group(), m.start(), m.end()) for m in matcher._pattern.finditer(text)]
        assert got == want, text


def test_the_trie_expression_prefers_the_longest_term_and_whole_latin_words():
    matcher = lexicon.Matcher({"数字人": 1.0, "数字人民币": 0.0, "ar": 0.7, "web3": 1.0, "web3.0": 1.0})
    assert [h.term for h in matcher.find("数字人民币和数字人")] == ["数字人民币", "数字人"]
    assert [h.term for h in matcher.find("market ar glasses")] == ["ar"]
    assert [h.term for h in matcher.find("web3.0与web3x")] == ["web3.0"]
    assert lexicon.Matcher({}).find("任何文字") == []


def test_ngram_counts_are_the_counts_of_every_ngram_in_the_same_order():
    rng = random.Random(7)
    for _ in range(2000):
        text = "".join(rng.choice("ab\n元宇宙，。 ") for _ in range(rng.randint(0, 40)))
        for ngrams in ((1, 3), (2, 3), (1, 1), (3, 3), (1, 2)):
            want = Counter(char_ngrams(text, ngrams))
            got = ngram_counts(text, ngrams)
            assert got == want and list(got) == list(want), (text, ngrams)


def _plain_list_items(form, position):
    start = max(form.rfind(c, 0, position) for c in tags._CLAUSE_BREAKS) + 1
    ends = [i for i in (form.find(c, position) for c in tags._CLAUSE_BREAKS) if i >= 0]
    return form[start:min(ends) if ends else len(form)].count("、") + 1


def _plain_negated(form, hit):
    clause_start = max(form.rfind(c, 0, hit.start) for c in "，,；;。：:") + 1
    clause = form[clause_start:hit.start]
    if any(cue in clause for cue in lexicon.NEGATIONS) or form[hit.end:hit.end + 6].startswith(("除外", "无关")):
        return True
    return any(cue in form[hit.end:] for cue in lexicon.REFUSALS)


def test_clause_breaks_and_negation_cues_are_found_as_the_loops_found_them():
    rng = random.Random(11)
    pieces = (list("，,；;。：:！？!?、ab元宇宙") + list(lexicon.NEGATIONS) + list(lexicon.REFUSALS)
              + ["除外", "无关"])
    for _ in range(20000):
        form = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 15)))
        start = rng.randint(0, len(form))
        end = rng.randint(start, len(form))
        assert tags.list_items(form, start) == _plain_list_items(form, start), (form, start)
        hit = lexicon.Hit(form[start:end], start, end)
        assert lexicon.negated(form, hit) == _plain_negated(form, hit), (form, start, end)
