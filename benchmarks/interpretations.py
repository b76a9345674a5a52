"""What linking 政策解读 costs the store: the share of ``store_document``'s time spent in the
interpretation hook, for pages that mention no 解读, pages with a 政策解读 link (most portal
pages: the navigation has one), and 解读s; and the migration's rate over a stored corpus.

Run: python benchmarks/interpretations.py [--documents 600]

Pages are the replay portal's example city (benchmarks/faultcases/interp.py builders), parsed
by the generic family; the corpus is a real SQLite file in a temporary folder. Figures are
ratios measured in one run (the best of three), so they hold on a loaded machine too.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.faultcases.interp import HOST, detail_page  # noqa: E402
from crawlers.pageparse import parse_saved_page  # noqa: E402
from crawlers.replay.portal import REPLAY_SITES  # noqa: E402
from pipelines import interpretations, schema, storing  # noqa: E402

SITE = next(s for s in REPLAY_SITES if s.key == "replay_generic")


def pages(kind: str, count: int):
    """Parsed items: ``plain`` (no 解读 anywhere), ``nav`` (a 政策解读 link), ``interpretation``
    (every tenth page a 解读 naming the page before it)."""
    items = []
    for n in range(count):
        title, body = f"示例市第{n}号专项行动方案", [f"第{n}项工作的具体安排如下。" * 40] * 5
        if kind == "interpretation" and n % 10 == 9:
            title, body = f"《示例市第{n - 1}号专项行动方案》政策解读", [f"现就《示例市第{n - 1}号专项行动方案》解读如下。" * 5]
        links = [] if kind == "plain" else [("", "/zcjd/", "政策解读")]
        items.append(parse_saved_page(detail_page(title, body, links=links), f"{HOST}/zcwj/t{n}.html", {},
                                      site=SITE, fetched_at=datetime.now(timezone.utc)))
    return items


def store_all(items, folder: Path) -> tuple[float, float]:
    """Seconds storing the items, and of those, seconds in the interpretation hook."""
    hook = storing.link_document  # the store hook, as the store module holds it
    spent = [0.0]

    def timed(*args, **kwargs):
        started = time.perf_counter()
        try:
            return hook(*args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - started

    storing.link_document = timed
    try:
        db = schema.open_corpus(folder / "corpus.db")
        started = time.perf_counter()
        for item in items:
            storing.store_document(db, item)
        total = time.perf_counter() - started
        db.close()
    finally:
        storing.link_document = hook
    return total, spent[0]


def migration(items, folder: Path) -> tuple[float, float, int]:
    """Seconds storing without the hook, seconds of the migration step over that corpus, and
    the 解读s it linked."""
    hook = storing.link_document  # the store hook, as the store module holds it
    storing.link_document = lambda *args, **kwargs: []
    try:
        db = schema.open_corpus(folder / "corpus.db")
        started = time.perf_counter()
        for item in items:
            storing.store_document(db, item)
        stored = time.perf_counter() - started
    finally:
        storing.link_document = hook
    started = time.perf_counter()
    with db.atomic():
        interpretations.link_existing_documents(db)
    linked = db.execute("SELECT count(*) FROM interpretations").fetchone()[0]
    db.close()
    return stored, time.perf_counter() - started, linked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=600, help="Pages stored per measurement.")
    count = parser.parse_args().documents
    print(f"{count} documents a run, best of 3")
    for kind in ("plain", "nav", "interpretation"):
        items = pages(kind, count)
        runs = []
        for _ in range(3):
            with tempfile.TemporaryDirectory() as folder:
                runs.append(store_all(items, Path(folder)))
        total, hook = min(runs)
        print(f"{kind:>15}: store {total / count * 1000:.2f} ms a document, of which the 解读 hook "
              f"{hook / count * 1000:.2f} ms ({hook / total:.0%})")
    items = pages("interpretation", count)
    with tempfile.TemporaryDirectory() as folder:
        stored, migrated, linked = migration(items, Path(folder))
    print(f"      migration: {migrated / count * 1000:.2f} ms a document, {migrated / stored:.0%} of "
          f"storing them; {linked} of {count // 10} 解读 linked")


if __name__ == "__main__":
    main()
