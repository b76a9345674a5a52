"""The shipped relevance model: a logistic regression over character n-grams and the lexicon's
numbers, stored as plain JSON (gzipped) so that using it needs neither scikit-learn nor pickle.

``policywatch train`` (``classifiers.training``) fits it with scikit-learn from the project's
labelled data and writes this file; the file records the SHA-256 of the data it was trained on.
Loading is lazy: the first classification reads it once.
"""

from __future__ import annotations

import gzip
import json
import logging
import math
from collections import Counter
from functools import lru_cache
from itertools import chain
from operator import add, mul
from pathlib import Path
from typing import Any, Iterable, Iterator

logger = logging.getLogger(__name__)

MODEL_PATH = Path(__file__).resolve().parent / "data" / "relevance_model.json.gz"
NGRAMS = (1, 3)


class ModelError(RuntimeError):
    """The model file is missing, unreadable or of another format."""


def char_ngrams(text: str, ngrams: tuple[int, int] = NGRAMS) -> Iterator[str]:
    """Character n-grams of every line (the analyser training and prediction share)."""
    low, high = ngrams
    for line in text.split("\n"):
        size = len(line)
        for n in range(low, high + 1):
            yield from [line[i:i + n] for i in range(size - n + 1)]


def ngram_counts(text: str, ngrams: tuple[int, int] = NGRAMS) -> Counter:
    """``Counter(char_ngrams(text, ngrams))``, counted without a Python step per n-gram: the
    n-grams of a line are its characters joined pairwise by ``map`` (same grams, same order)."""
    lines = text.split("\n")
    return Counter(chain.from_iterable(grams for line in lines for grams in _line_ngrams(line, ngrams)))


def _line_ngrams(line: str, ngrams: tuple[int, int]) -> Iterator[Iterable[str]]:
    low, high = ngrams
    grams: Iterable[str] = line  # the 1-grams
    for n in range(1, high + 1):
        if n > 1:
            grams = list(map(add, grams, line[n - 1:]))
        if n >= low:
            yield grams


class RelevanceModel:
    """Predicts relevance probabilities from a document's model text and lexicon features."""

    FORMAT = "policywatch-relevance-1"

    def __init__(self, data: dict[str, Any]):
        if data.get("format") != self.FORMAT:
            raise ModelError(f"model format {data.get('format')!r} is not {self.FORMAT!r}")
        self.classes: list[str] = data["classes"]
        self.ngrams = tuple(data["ngrams"])
        self.vocabulary: dict[str, int] = data["vocabulary"]
        self.idf: list[float] = data["idf"]
        self.feature_names: list[str] = data["feature_names"]
        self.coef: list[list[float]] = data["coef"]  # classes x (len(vocabulary) + features)
        self.intercept: list[float] = data["intercept"]
        self.training_sha256: str = data["training_sha256"]
        self.meta: dict[str, Any] = data.get("meta", {})

    def probabilities(self, text: str, features: dict[str, float]) -> dict[str, float]:
        vocabulary = self.vocabulary
        counts = ngram_counts(text, self.ngrams)
        # Sublinear tf times idf, L2-normalised: what TfidfVectorizer(sublinear_tf=True) does.
        lookup, idf, log = vocabulary.get, self.idf, math.log
        found = [(index, count) for gram, count in counts.items()
                 if (index := lookup(gram)) is not None]
        indexes = [index for index, _ in found]
        weights = [(1.0 + log(count)) * idf[index] for index, count in found]
        norm = math.sqrt(sum(map(mul, weights, weights))) or 1.0
        offset = len(self.idf)
        scores = []
        for row, bias in zip(self.coef, self.intercept):
            # Summed in the same order as ever: the same floating-point result.
            total = bias + sum(map(mul, map(row.__getitem__, indexes), weights)) / norm
            total += sum(row[offset + j] * features.get(name, 0.0)
                         for j, name in enumerate(self.feature_names))
            scores.append(total)
        top = max(scores)
        exps = [math.exp(s - top) for s in scores]
        mass = sum(exps)
        return {label: e / mass for label, e in zip(self.classes, exps)}


def model_bytes(path: Path = MODEL_PATH) -> bytes | None:
    return path.read_bytes() if path.exists() else None


def read_model(path: Path) -> RelevanceModel:
    try:
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            return RelevanceModel(json.load(handle))
    except FileNotFoundError:
        raise ModelError(f"no relevance model at {path}: run `policywatch train`") from None
    except (OSError, ValueError, KeyError) as exc:
        raise ModelError(f"cannot read the relevance model {path}: {exc}") from None


@lru_cache(maxsize=1)
def shipped_model() -> RelevanceModel | None:
    """The model shipped with the package, or None (the lexicon decides alone) if absent."""
    try:
        return read_model(MODEL_PATH)
    except ModelError as exc:
        logger.warning("%s; relevance falls back to the lexicon's thresholds", exc)
        return None
