"""How well the classifier does (``policywatch eval``): precision, recall and F1 per label, the
confusion of relevance, accuracy of issuer fields, type and status, on the held-back part of the
labelled set; and on real pages (``../shared/realpages``) when present: its negatives must all
come out ``none``, the real Wuhan metaverse plan ``dedicated``.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from classifiers.classify import Classification, Document, classify
from classifiers.labelled import DATA_DIR, LabelledDoc, PageReader, load, split
from classifiers.lexicon import FAMILIES
from classifiers.relevance import LABELS

logger = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[1]
DEFAULT_REALPAGES = REPO.parent / "shared" / "realpages"
# The done-when figures of issue 4.
TARGETS = {"relevance_macro_f1": 0.95, "level_accuracy": 0.98, "region_accuracy": 0.98}
ISSUER_FIELDS = ("level", "region", "province", "city", "county")
WUHAN = {
    "file": "text/wuhan_wzg_2022_16_final.txt",
    "title": "武汉市人民政府关于印发武汉市促进元宇宙产业创新发展实施方案（2022—2025年）的通知",
    "issuer": "武汉市人民政府",
    "expect": {"relevance": "dedicated", "level": "prefecture", "region": "华中",
               "province": "湖北省", "city": "武汉市"},
}


@dataclass
class Scores:
    """Precision, recall and F1 of one label."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def to_json(self) -> dict[str, Any]:
        return {"precision": round(self.precision, 4), "recall": round(self.recall, 4),
                "f1": round(self.f1, 4), "support": self.tp + self.fn}


@dataclass
class Report:
    part: str
    documents: int = 0
    relevance: dict[str, Scores] = field(default_factory=lambda: {label: Scores() for label in LABELS})
    confusion: dict[str, dict[str, int]] = field(
        default_factory=lambda: {a: {b: 0 for b in LABELS} for a in LABELS})
    fields: dict[str, list[int]] = field(default_factory=dict)  # name -> [right, total]
    tags: dict[str, Scores] = field(default_factory=dict)  # "family:tag" -> scores
    tagged_documents: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    realpages: dict[str, Any] = field(default_factory=dict)

    @property
    def relevance_macro_f1(self) -> float:
        present = [s for s in self.relevance.values() if s.tp + s.fn]
        return sum(s.f1 for s in present) / len(present) if present else 0.0

    def accuracy(self, name: str) -> float | None:
        right, total = self.fields.get(name, (0, 0))
        return right / total if total else None

    def family_scores(self, family: str) -> Scores:
        total = Scores()
        for key, scores in self.tags.items():
            if key.startswith(family + ":"):
                total.tp += scores.tp
                total.fp += scores.fp
                total.fn += scores.fn
        return total

    def missed_targets(self) -> list[str]:
        """The done-when figures this report misses (empty when all are met)."""
        missed = []
        if self.relevance_macro_f1 < TARGETS["relevance_macro_f1"]:
            missed.append(f"relevance macro F1 {self.relevance_macro_f1:.3f} < {TARGETS['relevance_macro_f1']}")
        for name in ("level", "region"):
            value = self.accuracy(name)
            if value is not None and value < TARGETS[f"{name}_accuracy"]:
                missed.append(f"{name} accuracy {value:.3f} < {TARGETS[f'{name}_accuracy']}")
        real = self.realpages
        if real.get("negatives") and real["negatives_none"] < real["negatives"]:
            missed.append(f"{real['negatives'] - real['negatives_none']} real negative(s) not `none`")
        if real.get("positive") and not real["positive"]["ok"]:
            missed.append("the real Wuhan plan is not classified as expected")
        return missed

    def to_json(self) -> dict[str, Any]:
        return {
            "part": self.part,
            "documents": self.documents,
            "relevance": {label: s.to_json() for label, s in self.relevance.items()},
            "relevance_macro_f1": round(self.relevance_macro_f1, 4),
            "relevance_confusion": self.confusion,
            "accuracy": {name: round(self.accuracy(name), 4) for name in self.fields
                         if self.accuracy(name) is not None},
            "tagged_documents": self.tagged_documents,
            "tags": {key: s.to_json() for key, s in sorted(self.tags.items())},
            "tag_families": {family: self.family_scores(family).to_json() for family in FAMILIES},
            "realpages": self.realpages,
            "errors": self.errors,
            "targets_missed": self.missed_targets(),
        }


def _count_field(report: Report, name: str, expected: Any, got: Any) -> bool:
    right_total = report.fields.setdefault(name, [0, 0])
    right_total[1] += 1
    if expected == got:
        right_total[0] += 1
        return True
    return False


def score(report: Report, doc: LabelledDoc, result: Classification) -> None:
    """Add one labelled document's classification to the report."""
    report.documents += 1
    wrong: dict[str, Any] = {}
    expected = doc.expect["relevance"]
    got = result.relevance
    report.confusion[expected][got] += 1
    for label in LABELS:
        scores = report.relevance[label]
        if got == label and expected == label:
            scores.tp += 1
        elif got == label:
            scores.fp += 1
        elif expected == label:
            scores.fn += 1
    if expected != got:
        wrong["relevance"] = [expected, got]
    for name in ISSUER_FIELDS + ("doc_type", "status"):
        if name in doc.expect and not _count_field(report, name, doc.expect[name], getattr(result, name)):
            wrong[name] = [doc.expect[name], getattr(result, name)]
    if doc.tags is not None:
        report.tagged_documents += 1
        got_tags = {"scenario": result.scenarios, "measure": result.measures, "tech": result.techs}
        for family, names in FAMILIES.items():
            want, have = set(doc.tags[family]), set(got_tags[family])
            for tag in names:
                key = f"{family}:{tag}"
                scores = report.tags.setdefault(key, Scores())
                scores.tp += tag in want and tag in have
                scores.fp += tag in have and tag not in want
                scores.fn += tag in want and tag not in have
            if want != have:
                wrong.setdefault("tags", {})[family] = {"missing": sorted(want - have),
                                                        "extra": sorted(have - want)}
    if wrong:
        report.errors.append({"id": doc.id, "source": doc.source, "wrong": wrong})


def evaluate_labelled(docs: Iterable[LabelledDoc], part: str, root: Path = DATA_DIR,
                      read_page: PageReader | None = None) -> Report:
    report = Report(part)
    for doc in docs:
        score(report, doc, classify(doc.document(root, read_page)))
    return report


# --- real pages --------------------------------------------------------------------------------


def _page_text(html: bytes) -> tuple[str, str]:
    """Title and whole visible text of a page that is not a detail page (a list)."""
    import lxml.html

    root = lxml.html.fromstring(html)
    for bad in root.xpath("//script|//style"):
        bad.getparent().remove(bad)
    title = (root.findtext(".//title") or "").strip()
    return title, root.text_content()


def _urls(realpages: Path) -> dict[str, str]:
    sources = realpages / "SOURCES.tsv"
    if not sources.exists():
        return {}
    with sources.open(encoding="utf-8") as handle:
        return {row["file"]: row["original_url"] for row in csv.DictReader(handle, delimiter="\t")
                if row.get("original_url", "").startswith("http")}


def real_negatives(realpages: Path, read_page: PageReader) -> Iterable[tuple[str, Document]]:
    """(name, document) for every real page, feed entry and crawled record: none mention 元宇宙."""

    urls = _urls(realpages)
    for path in sorted((realpages / "html").glob("*.html")):
        host = path.name.split("_", 1)[0]
        url = urls.get(path.name) or f"http://{host}/{path.stem}.html"
        body = path.read_bytes()
        try:
            yield path.name, read_page(body, url)
        except ValueError:
            title, text = _page_text(body)  # a list page: all of it, furniture included
            yield path.name, Document(title=title, text=text)
    for path in sorted((realpages / "data").glob("*.json")):
        import lxml.html

        for n, record in enumerate(json.loads(path.read_text(encoding="utf-8"))):
            html = record.get("body_html") or "<p></p>"
            text = lxml.html.fromstring(html).text_content()
            yield f"{path.name}#{n}", Document(title=record.get("title", ""), text=text,
                                               issuer=record.get("author"))
    for path in sorted((realpages / "data").glob("*.xml")):
        raw = path.read_text(encoding="utf-8", errors="replace")
        for n, title in enumerate(re.findall(r'title="([^"]+)"', raw)):
            yield f"{path.name}#{n}", Document(title=title)


def evaluate_realpages(realpages: Path, read_page: PageReader) -> dict[str, Any]:
    """The real pages' verdicts: negatives (must be `none`) and the Wuhan positive."""
    out: dict[str, Any] = {"path": str(realpages), "negatives": 0, "negatives_none": 0,
                           "not_none": []}
    for name, document in real_negatives(realpages, read_page):
        result = classify(document)
        out["negatives"] += 1
        if result.relevance == "none":
            out["negatives_none"] += 1
        else:
            out["not_none"].append({"name": name, "title": document.title,
                                    "relevance": result.relevance,
                                    "evidence": result.evidence.get("relevance", "")})
    wuhan = realpages / WUHAN["file"]
    if wuhan.exists():
        result = classify(Document(title=WUHAN["title"], issuer=WUHAN["issuer"],
                                   text=wuhan.read_text(encoding="utf-8")))
        got = {name: getattr(result, name) for name in WUHAN["expect"]}
        out["positive"] = {"name": WUHAN["file"], "expected": WUHAN["expect"], "got": got,
                           "ok": got == WUHAN["expect"], "scenarios": result.scenarios,
                           "measures": result.measures, "techs": result.techs}
    return out


def realpages_path(explicit: str | Path | None = None) -> Path:
    return Path(explicit or os.environ.get("POLICYWATCH_REALPAGES") or DEFAULT_REALPAGES)


def evaluate(part: str = "held-back", realpages: Path | None = None,
             root: Path = DATA_DIR, *, read_page: PageReader) -> Report:
    """Evaluate on ``part`` (held-back, training or all) and on the real pages if given;
    ``read_page`` reads a saved page into a document (the crawlers' parser)."""
    docs = load(root)
    training, held_back = split(docs)
    chosen = {"held-back": held_back, "training": training, "all": docs}[part]
    report = evaluate_labelled(chosen, part, root, read_page)
    if realpages is not None and realpages.is_dir():
        report.realpages = evaluate_realpages(realpages, read_page)
    return report


def format_report(report: Report) -> str:
    """The report as a person reads it."""
    data = report.to_json()
    lines = [f"labelled documents ({report.part}): {report.documents}", "",
             "relevance        precision  recall     F1  support"]
    for label, s in data["relevance"].items():
        lines.append(f"  {label:14} {s['precision']:9.3f} {s['recall']:7.3f} {s['f1']:6.3f} {s['support']:8d}")
    lines.append(f"  macro F1 {data['relevance_macro_f1']:.3f}")
    lines += ["", "confusion (rows expected, columns predicted)",
              "  " + " " * 10 + "".join(f"{label[:9]:>10}" for label in LABELS)]
    for expected in LABELS:
        row = "".join(f"{report.confusion[expected][got]:>10d}" for got in LABELS)
        lines.append(f"  {expected:10}{row}")
    lines += ["", "accuracy"]
    for name, value in data["accuracy"].items():
        right, total = report.fields[name]
        lines.append(f"  {name:10} {value:.3f}  ({right}/{total})")
    lines += ["", f"content tags ({report.tagged_documents} documents with expected tags)",
              "  tag                         precision  recall     F1  support"]
    for family in FAMILIES:
        s = data["tag_families"][family]
        lines.append(f"  {family + ' (all)':27} {s['precision']:9.3f} {s['recall']:7.3f} {s['f1']:6.3f} {s['support']:8d}")
    for key, s in data["tags"].items():
        if s["support"] or s["precision"] < 1:
            lines.append(f"  {key:27} {s['precision']:9.3f} {s['recall']:7.3f} {s['f1']:6.3f} {s['support']:8d}")
    real = report.realpages
    if real:
        lines += ["", f"real pages ({real['path']})",
                  f"  negatives classified none: {real['negatives_none']}/{real['negatives']}"]
        for miss in real["not_none"]:
            lines.append(f"    NOT none: {miss['name']} ({miss['relevance']}): {miss['title']}")
        if "positive" in real:
            p = real["positive"]
            lines.append(f"  real positive {p['name']}: {'ok' if p['ok'] else 'WRONG'} {p['got']}")
    else:
        lines += ["", "real pages: not present (skipped)"]
    if report.errors:
        lines += ["", "misclassified"]
        for error in report.errors:
            lines.append(f"  {error['id']} ({error['source']}): {json.dumps(error['wrong'], ensure_ascii=False)}")
    missed = report.missed_targets()
    lines += ["", "targets: " + ("all met" if not missed else "MISSED: " + "; ".join(missed))]
    return "\n".join(lines)
