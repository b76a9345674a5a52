"""The project's labelled documents (``classifiers/data/labelled/*.txt``) and their split into
a training part and a held-back part that training never sees.

A file holds records like this (``#`` lines outside records are comments)::

    === ded-sh-action
    title: 上海市…行动方案
    issuer: 上海市人民政府办公厅
    site: 310000 province
    expect: relevance=dedicated level=province region=华东 province=上海市 city=上海市 doc_type=action_plan status=final
    tags: scenario=industry,commerce measure=funding tech=xr
    ---
    the body text, as many lines as it takes

``site`` is the publishing site's GB/T 2260 code and level. In ``expect`` an empty value
(``city=``) expects no value. ``tags`` is optional: records with it are scored on tags too
(a family left out expects no tag of it). Instead of a body, ``page:`` names a saved HTML page
(relative to the data folder) and ``url:`` its address: it goes through the project's detail
parser first, furniture and all.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from classifiers.classify import Document
from classifiers.doctype import STATUSES, TYPES
from classifiers.issuer import LEVELS
from classifiers.lexicon import FAMILIES
from classifiers.relevance import LABELS

DATA_DIR = Path(__file__).resolve().parent / "data" / "labelled"
HELD_BACK_PERCENT = 30
_HEADER_KEYS = {"title", "issuer", "site", "expect", "tags", "page", "url"}
_EXPECT_KEYS = {"relevance", "level", "region", "province", "city", "county", "doc_type", "status"}
_REGIONS = {"华东", "华南", "华北", "华中", "西南", "西北", "东北"}
# The modules whose change changes the model's inputs: a model trained before is stale.
FEATURE_SOURCES = ("lexicon.py", "sentences.py", "relevance.py", "model.py", "training.py")


# A saved page's bytes and URL -> the document on it; raises ValueError for a page that is not one.
PageReader = Callable[[bytes, str], Document]


class LabelledDataError(ValueError):
    """A labelled file that cannot be read; the message names the file and the line."""


@dataclass
class LabelledDoc:
    id: str
    source: str  # file:line
    title: str = ""
    issuer: str | None = None
    site_division: str | None = None
    site_level: str | None = None
    text: str = ""
    page: str | None = None
    url: str | None = None
    expect: dict[str, str | None] = field(default_factory=dict)
    tags: dict[str, list[str]] | None = None

    @property
    def held_back(self) -> bool:
        """Kept out of training: a fixed share of ids, chosen by their hash."""
        digest = hashlib.sha256(self.id.encode("utf-8")).hexdigest()
        return int(digest[:8], 16) % 100 < HELD_BACK_PERCENT

    def document(self, root: Path = DATA_DIR, read_page: PageReader | None = None) -> Document:
        """The document to classify; a saved page is read by ``read_page`` (the crawlers' parser,
        which the front door passes in: the classifiers import nothing of the project)."""
        if self.page:
            if read_page is None:
                raise LabelledDataError(f"{self.id}: its saved page {self.page} needs a page reader")
            read = read_page((root / self.page).read_bytes(), self.url or "")
            return Document(title=read.title, text=read.text, issuer=read.issuer,
                            site_division=self.site_division, site_level=self.site_level)
        return Document(title=self.title, text=self.text, issuer=self.issuer,
                        site_division=self.site_division, site_level=self.site_level)


def _parse_expect(value: str, where: str) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for pair in value.split():
        key, sep, val = pair.partition("=")
        if not sep or key not in _EXPECT_KEYS:
            raise LabelledDataError(f"{where}: expect: {pair!r} is not one of "
                                    f"{', '.join(sorted(_EXPECT_KEYS))}=VALUE")
        out[key] = val or None
    allowed = {"relevance": LABELS, "level": LEVELS, "doc_type": TYPES, "status": STATUSES,
               "region": tuple(_REGIONS)}
    for key, values in allowed.items():
        if out.get(key) is not None and out[key] not in values:
            raise LabelledDataError(f"{where}: expect: {key}={out[key]!r} is not one of {', '.join(values)}")
    if "relevance" not in out:
        raise LabelledDataError(f"{where}: expect: relevance is required")
    return out


def _parse_tags(value: str, where: str) -> dict[str, list[str]]:
    tags: dict[str, list[str]] = {family: [] for family in FAMILIES}
    for pair in value.split():
        family, sep, names = pair.partition("=")
        if not sep or family not in FAMILIES:
            raise LabelledDataError(f"{where}: tags: {pair!r} is not FAMILY=tag,tag "
                                    f"(families: {', '.join(FAMILIES)})")
        for name in filter(None, names.split(",")):
            if name not in FAMILIES[family]:
                raise LabelledDataError(f"{where}: tags: {family}:{name} is not in TAXONOMY.md")
            tags[family].append(name)
    return tags


def parse_file(path: Path) -> list[LabelledDoc]:
    docs: list[LabelledDoc] = []
    current: LabelledDoc | None = None
    in_body = False
    body: list[str] = []

    def close() -> None:
        if current is None:
            return
        current.text = "\n".join(body).strip()
        where = current.source
        if not current.expect:
            raise LabelledDataError(f"{where}: no expect: line")
        if not current.page and not (current.title or current.text):
            raise LabelledDataError(f"{where}: neither a title and text nor a page")
        if current.page and not current.url:
            raise LabelledDataError(f"{where}: a page needs its url:")
        docs.append(current)

    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        where = f"{path.name}:{number}"
        if line.startswith("=== "):
            close()
            current, in_body, body = LabelledDoc(id=line[4:].strip(), source=where), False, []
            continue
        if current is None or (not in_body and (not line.strip() or line.startswith("#"))):
            if line.strip() and not line.startswith("#"):
                raise LabelledDataError(f"{where}: text outside a record (records start with '=== id')")
            continue
        if in_body:
            body.append(line)
            continue
        if line.strip() == "---":
            in_body = True
            continue
        key, sep, value = line.partition(":")
        key, value = key.strip(), value.strip()
        if not sep or key not in _HEADER_KEYS:
            raise LabelledDataError(f"{where}: {line!r} is not one of {', '.join(sorted(_HEADER_KEYS))}: VALUE")
        if key == "site":
            parts = value.split()
            if len(parts) != 2 or parts[1] not in LEVELS:
                raise LabelledDataError(f"{where}: site: expected 'CODE LEVEL', got {value!r}")
            current.site_division, current.site_level = parts
        elif key == "expect":
            current.expect = _parse_expect(value, where)
        elif key == "tags":
            current.tags = _parse_tags(value, where)
        else:
            setattr(current, key, value or None)
    close()
    return docs


def load(root: Path = DATA_DIR) -> list[LabelledDoc]:
    """Every labelled document, in file and record order; ids must be unique."""
    docs: list[LabelledDoc] = []
    for path in sorted(root.glob("*.txt")):
        docs.extend(parse_file(path))
    seen: dict[str, str] = {}
    for doc in docs:
        if doc.id in seen:
            raise LabelledDataError(f"{doc.source}: id {doc.id!r} is used twice (first at {seen[doc.id]})")
        seen[doc.id] = doc.source
    if not docs:
        raise LabelledDataError(f"no labelled documents in {root}")
    return docs


def split(docs: Iterable[LabelledDoc]) -> tuple[list[LabelledDoc], list[LabelledDoc]]:
    """(training, held back)."""
    docs = list(docs)
    return [d for d in docs if not d.held_back], [d for d in docs if d.held_back]


def training_sha256(docs: Iterable[LabelledDoc], root: Path = DATA_DIR) -> str:
    """SHA-256 of what a model is trained from: the training documents (with the bytes of their
    pages) and the code that turns a document into the model's inputs."""
    digest = hashlib.sha256()
    for doc in sorted(docs, key=lambda d: d.id):
        record: dict[str, Any] = {"id": doc.id, "title": doc.title, "issuer": doc.issuer,
                                  "text": doc.text, "relevance": doc.expect.get("relevance"),
                                  "page": doc.page, "url": doc.url}
        digest.update(json.dumps(record, ensure_ascii=False, sort_keys=True).encode("utf-8"))
        if doc.page:
            digest.update((root / doc.page).read_bytes())
    here = Path(__file__).resolve().parent
    for name in FEATURE_SOURCES:
        digest.update((here / name).read_bytes())
    return digest.hexdigest()
