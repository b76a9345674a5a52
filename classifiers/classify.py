"""One call that tags a document with everything of TAXONOMY.md: ``classify(Document(...))``.

Pure: no database, no network. The pipeline stage, ``policywatch classify`` and ``policywatch
retag`` all come through here.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence

from classifiers import model as model_module
from classifiers.doctype import classify_type
from classifiers.gazetteer import data_version
from classifiers.issuer import resolve_issuer
from classifiers.relevance import decide, model_text, signals
from classifiers.sentences import MAX_CHARS, prepare
from classifiers.tags import tag_document

VERSION_PREFIX = "1"
# The sources whose change changes what the classifier says (with the model and the gazetteer).
_VERSIONED = ("lexicon.py", "relevance.py", "tags.py", "issuer.py", "doctype.py",
              "sentences.py", "gazetteer.py", "model.py", "classify.py")


class ClassifyError(ValueError):
    """A document that cannot be classified at all (nothing to read)."""


@dataclass
class Document:
    """What the classifier reads: the title, the extracted body text, attachment texts, the
    issuer's name, and the publishing site's jurisdiction (GB/T 2260 code and level)."""

    title: str = ""
    text: str = ""
    issuer: str | None = None
    attachments: Sequence[str] = ()
    published_date: date | str | None = None
    site: str | None = None  # the site key, for the record
    site_division: str | None = None
    site_level: str | None = None
    validity: str | None = None  # 有效性 as the page states it (有效, 失效, 已废止...)


@dataclass
class Classification:
    """The tags of one document; ``evidence`` maps each label to the sentence behind it."""

    relevance: str
    relevance_score: float
    scenarios: list[str]
    measures: list[str]
    techs: list[str]
    level: str | None
    region: str | None
    province: str | None
    city: str | None
    county: str | None
    city_tier: str | None
    division_code: str | None
    doc_type: str
    status: str
    evidence: dict[str, str]
    classifier_version: str
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The JSON `policywatch classify` prints (``score`` is ``relevance_score``)."""
        data = asdict(self)
        data["score"] = data.pop("relevance_score")
        order = ("relevance", "score", "scenarios", "measures", "techs", "level", "region",
                 "province", "city", "county", "city_tier", "division_code", "doc_type",
                 "status", "evidence", "classifier_version", "notes")
        return {key: data[key] for key in order}

    def columns(self) -> dict[str, Any]:
        """The ``documents`` columns this fills (lists and evidence as JSON text)."""
        import json

        def dump(value: Any) -> str:
            return json.dumps(value, ensure_ascii=False)

        return {
            "relevance": self.relevance,
            "relevance_score": self.relevance_score,
            "scenarios": dump(self.scenarios),
            "measures": dump(self.measures),
            "techs": dump(self.techs),
            "level": self.level,
            "region": self.region,
            "province": self.province,
            "city": self.city,
            "county": self.county,
            "city_tier": self.city_tier,
            "division_code": self.division_code,
            "doc_type": self.doc_type,
            "status": self.status,
            "evidence": dump(self.evidence),
            "classifier_version": self.classifier_version,
        }


def classify(doc: Document, use_model: bool = True) -> Classification:
    """Tag a document. Raises ``ClassifyError`` only when it has neither title nor text."""
    title = " ".join((doc.title or "").split())
    text = doc.text or ""
    attachments = tuple(a for a in (doc.attachments or ()) if a and not a.isspace())
    if not title and (not text or text.isspace()) and not attachments:
        raise ClassifyError("nothing to classify: the title and the text are both empty")
    notes: list[str] = []
    prepared = prepare(title, text, attachments)
    if prepared.truncated:
        notes.append(f"text longer than {MAX_CHARS} characters: classified on the first {MAX_CHARS}")
    if not prepared.body:
        notes.append("no body text: classified on the title alone")

    sig = signals(prepared)
    probs = None
    model = model_module.shipped_model() if use_model else None
    if model is not None:
        probs = model.probabilities(model_text(prepared), sig.features())
    elif use_model:
        notes.append("no relevance model: the lexicon's thresholds decided")
    relevance = decide(sig, title, probs)
    tags = tag_document(prepared)
    issuer = resolve_issuer(doc.issuer, title, doc.site_division, doc.site_level)
    notes.extend(issuer.notes)
    kind = classify_type(title, text, doc.validity)

    evidence: dict[str, str] = {}
    if relevance.evidence:
        evidence["relevance"] = relevance.evidence
    evidence.update(tags.evidence)
    if issuer.evidence and issuer.level:
        evidence["issuer"] = f"{issuer.source}: {issuer.evidence}"
    if kind.type_evidence:
        evidence["doc_type"] = kind.type_evidence
    if kind.status_evidence:
        evidence["status"] = kind.status_evidence
    return Classification(
        relevance=relevance.label,
        relevance_score=relevance.score,
        scenarios=tags.tags["scenario"],
        measures=tags.tags["measure"],
        techs=tags.tags["tech"],
        level=issuer.level,
        region=issuer.region,
        province=issuer.province,
        city=issuer.city,
        county=issuer.county,
        city_tier=issuer.city_tier,
        division_code=issuer.division_code,
        doc_type=kind.doc_type,
        status=kind.status,
        evidence=evidence,
        classifier_version=classifier_version(),
        notes=notes,
    )


@lru_cache(maxsize=1)
def classifier_version() -> str:
    """``1-<hash>``: changes whenever the lexicon, the rules, the model or the gazetteer do,
    so that `policywatch retag` knows which stored documents are out of date."""
    digest = hashlib.sha256()
    here = Path(__file__).resolve().parent
    for name in _VERSIONED:
        digest.update((here / name).read_bytes())
    digest.update(model_module.model_bytes() or b"no-model")
    digest.update(data_version().encode())
    return f"{VERSION_PREFIX}-{digest.hexdigest()[:12]}"
