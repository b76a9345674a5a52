"""Training the relevance model from the labelled documents (``policywatch train``).

Deterministic: the same data and code give the same file, byte for byte (sorted vocabulary,
rounded weights, a gzip header without a timestamp). The held-back part of the labelled set is
never read here. Needs scikit-learn; using the model does not.
"""

from __future__ import annotations

import gzip
import json
import logging
from dataclasses import dataclass
from pathlib import Path

from classifiers.labelled import DATA_DIR, LabelledDoc, PageReader, load, split, training_sha256
from classifiers.model import MODEL_PATH, NGRAMS, RelevanceModel, char_ngrams
from classifiers.relevance import FEATURE_NAMES, LABELS, model_text, signals
from classifiers.sentences import prepare

logger = logging.getLogger(__name__)

# Regularisation and vocabulary size: a small corpus, so a modest vocabulary of n-grams seen
# in at least two documents keeps the model small and stops it memorising single documents.
C = 2.0
MIN_DF = 2
MAX_FEATURES = 12_000
DIGITS = 6


@dataclass(frozen=True)
class TrainResult:
    path: Path
    documents: int
    held_back: int
    vocabulary: int
    training_sha256: str
    training_accuracy: float
    size_bytes: int


def inputs(doc: LabelledDoc, root: Path = DATA_DIR,
           read_page: PageReader | None = None) -> tuple[str, dict[str, float]]:
    """The model's inputs for one labelled document: its n-gram text and lexicon features."""
    document = doc.document(root, read_page)
    prepared = prepare(document.title, document.text, tuple(document.attachments))
    return model_text(prepared), signals(prepared).features()


def _analyzer(text: str) -> list[str]:
    return list(char_ngrams(text, NGRAMS))


def fit(docs: list[LabelledDoc], root: Path = DATA_DIR, read_page: PageReader | None = None) -> dict:
    """Fit the model on ``docs``; returns its JSON form."""
    import numpy as np
    from scipy.sparse import csr_matrix, hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    texts, feature_rows, labels = [], [], []
    for doc in docs:
        text, features = inputs(doc, root, read_page)
        texts.append(text)
        feature_rows.append([features[name] for name in FEATURE_NAMES])
        labels.append(doc.expect["relevance"])
    missing = set(LABELS) - set(labels)
    if missing:
        raise ValueError(f"the training data has no document labelled {', '.join(sorted(missing))}")
    vectorizer = TfidfVectorizer(analyzer=_analyzer, sublinear_tf=True, min_df=MIN_DF,
                                 max_features=MAX_FEATURES, norm="l2")
    grams = vectorizer.fit_transform(texts)
    matrix = hstack([grams, csr_matrix(np.array(feature_rows, dtype=float))]).tocsr()
    classifier = LogisticRegression(C=C, class_weight="balanced", max_iter=10_000, tol=1e-8)
    classifier.fit(matrix, labels)
    accuracy = float((classifier.predict(matrix) == np.array(labels)).mean())
    vocabulary = {gram: int(index) for gram, index in sorted(vectorizer.vocabulary_.items())}

    def rounded(values) -> list[float]:
        return [round(float(v), DIGITS) for v in values]

    import sklearn

    return {
        "format": RelevanceModel.FORMAT,
        "classes": [str(c) for c in classifier.classes_],
        "ngrams": list(NGRAMS),
        "vocabulary": vocabulary,
        "idf": rounded(vectorizer.idf_),
        "feature_names": list(FEATURE_NAMES),
        "coef": [rounded(row) for row in classifier.coef_],
        "intercept": rounded(classifier.intercept_),
        "training_sha256": "",
        "meta": {"documents": len(docs), "training_accuracy": round(accuracy, 4), "C": C,
                 "min_df": MIN_DF, "max_features": MAX_FEATURES,
                 "trained_with": f"scikit-learn {sklearn.__version__}"},
    }


def serialise(model: dict) -> bytes:
    """The model file's bytes: canonical JSON, gzipped without a timestamp."""
    text = json.dumps(model, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0)


def train(root: Path = DATA_DIR, out: Path = MODEL_PATH, *,
          read_page: PageReader | None = None) -> TrainResult:
    """Train on the training part of the labelled set and write the model to ``out``."""
    docs = load(root)
    training, held_back = split(docs)
    model = fit(training, root, read_page)
    model["training_sha256"] = training_sha256(training, root)
    data = serialise(model)
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_suffix(".tmp")
    temporary.write_bytes(data)
    temporary.replace(out)  # never leave a half-written model behind
    logger.info("relevance model trained on %d documents: %s", len(training), out)
    return TrainResult(out, len(training), len(held_back), len(model["vocabulary"]),
                       model["training_sha256"], model["meta"]["training_accuracy"], len(data))
