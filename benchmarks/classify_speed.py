"""How fast the classifier stage is, against the detail parsing it follows in the pipeline.

Run: python benchmarks/classify_speed.py [--rounds N]

Prints documents per second for classify() on three sets, each measured in this run:
- the project's labelled documents (short policy texts, 100-600 characters);
- the fixture portal's detail pages, parsed first (what a crawl of the fixtures classifies);
- the real 2022 Wuhan metaverse plan (9,000 characters of PDF text), when ../shared/realpages
  is present;
and, for the same fixture pages, parse_saved_page() per second: the ratio says how many times
faster classifying is than the parsing every document goes through anyway. Also the time of
one classify() call on a 100 MB text (read up to its limit).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from classifiers.classify import Document, classify  # noqa: E402
from classifiers.evaluation import WUHAN, realpages_path  # noqa: E402
from classifiers.labelled import load  # noqa: E402
from crawlers.pageparse import read_document  # noqa: E402


def rate(fn, items, rounds: int) -> float:
    """Items per second: the median of ``rounds`` timed passes over ``items``."""
    speeds = []
    for _ in range(rounds):
        start = time.perf_counter()
        for item in items:
            fn(item)
        speeds.append(len(items) / (time.perf_counter() - start))
    return statistics.median(speeds)


def fixture_pages():
    from crawlers.tools.fixtures import all_fixture_sites, load_site_fixtures

    pages = []
    for key in all_fixture_sites():
        for page in load_site_fixtures(key):
            if page.kind == "detail" and page.path.suffix in (".html", ".htm", ".shtml"):
                pages.append((page.body, page.url, key))
    return pages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="timed passes per figure (median)")
    args = parser.parse_args()

    from crawlers.pageparse import parse_saved_page
    from crawlers.sites import get_site

    classify(Document(title="预热", text="加载模型与地名库。"))  # load the model and gazetteer once

    labelled = [d.document(read_page=read_document) for d in load()]
    pages = fixture_pages()
    parsed = []
    for body, url, key in pages:
        item = parse_saved_page(body, url, site_key=key)
        site = get_site(key)
        parsed.append(Document(title=item.title, text=item.body_text, issuer=item.issuer,
                               site_division=site.division_code, site_level=site.level))

    print(f"classify, labelled set ({len(labelled)} docs, "
          f"{statistics.mean(len(d.text) for d in labelled):.0f} chars avg): "
          f"{rate(classify, labelled, args.rounds):8.1f} docs/s")
    classify_rate = rate(classify, parsed, args.rounds)
    parse_rate = rate(lambda p: parse_saved_page(p[0], p[1], site_key=p[2]), pages, args.rounds)
    print(f"classify, fixture detail pages ({len(parsed)} docs):        {classify_rate:8.1f} docs/s")
    print(f"parse_saved_page, the same pages:                    {parse_rate:8.1f} docs/s")
    print(f"classify / parse speed ratio:                        {classify_rate / parse_rate:8.2f}")
    wuhan = realpages_path() / WUHAN["file"]
    if wuhan.exists():
        doc = Document(title=WUHAN["title"], issuer=WUHAN["issuer"], text=wuhan.read_text(encoding="utf-8"))
        print(f"classify, the real Wuhan plan ({len(doc.text)} chars):      "
              f"{rate(classify, [doc], args.rounds):8.1f} docs/s")
    huge = Document(title="超长文本", text=("农田水利设施建设和维护。" * 40 + "\n") * 73_000)
    start = time.perf_counter()
    classify(huge)
    print(f"classify, one {len(huge.text.encode('utf-8')) / 2**20:.0f} MB text:                       "
          f"{time.perf_counter() - start:8.2f} s")


if __name__ == "__main__":
    main()
