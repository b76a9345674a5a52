"""Fault cases of the digest (subscriptions, local time, rolling feeds): bad subscription and
feed settings in the config, hostile titles in a digest and its feed, and a day of thousands of
changes — each run through the real code (the ``policywatch digest`` command in its own
process, or the delivery on a real SQLite corpus). The builders are shared with
tests/test_subscriptions.py.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timezone
from pathlib import Path

from . import FaultCase
from .frontdoor import Misbehaved, policywatch, policywatch_corpus, refused_in_one_line

WHEN = [datetime(2026, 11, d, 8, 0, tzinfo=timezone.utc) for d in range(20, 30)]

# --- bad subscription and feed settings ----------------------------------------------------------
BAD_SUBSCRIPTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "misspelt-key": ('[[subscription]]\nname = "east"\nmin_relevence = "mentions"\n',
                     ("[[subscription]] east min_relevence", "did you mean min_relevance?")),
    "relevance-unknown": ('[[subscription]]\nname = "east"\nmin_relevance = "high"\n',
                          ("[[subscription]] east min_relevance", "dedicated, mentions, related, none")),
    "tag-unknown": ('[[subscription]]\nname = "east"\ntags = ["xr", "vr"]\n',
                    ("[[subscription]] east tags", '"vr"')),
    "channel-not-configured": ('[[subscription]]\nname = "east"\nchannels = ["email"]\n',
                               ("[[subscription]] east channels", "[channels.email]")),
    "site-unknown": ('[[subscription]]\nname = "east"\nsites = ["jx_gvo"]\n',
                     ("[[subscription]] east sites", "did you mean jx_gov?")),
    "name-missing": ('[[subscription]]\nmin_relevance = "dedicated"\n',
                     ("[[subscription]] #1 name", "missing")),
    "name-not-ascii": ('[[subscription]]\nname = "元宇宙"\n', ("name", "ASCII")),
    "name-twice": ('[[subscription]]\nname = "a"\n[[subscription]]\nname = "a"\n',
                   ("[[subscription]] a name", "two subscriptions")),
    "not-an-array": ('subscription = "everything"\n', ("[[subscription]]", "expected tables")),
    "keywords-a-string": ('[[subscription]]\nname = "east"\nkeywords = "元宇宙"\n',
                          ("[[subscription]] east keywords", "a list of strings")),
    "level-unknown": ('[[subscription]]\nname = "east"\nlevels = ["city"]\n',
                      ("[[subscription]] east levels", "prefecture")),
    "others-unknown": ('[[subscription]]\nname = "east"\nothers = "all"\n',
                       ("[[subscription]] east others", "summary, none")),
    "feeds-days-zero": ("[feeds]\ndays = 0\n", ("[feeds] days", "from 1 to 3650")),
    "feeds-url-not-http": ('[feeds]\nurl = "ftp://127.0.0.1/feeds"\n', ("[feeds] url", "http(s) URL")),
    "feeds-misspelt": ("[feeds]\nentires = 5\n", ("[feeds] entires", "did you mean entries?")),
}


def bad_subscription_config(scratch: Path, name: str) -> tuple[Path, tuple[str, ...]]:
    """Write the bad config ``name``; returns (its path, what its one-line error must say)."""
    text, says = BAD_SUBSCRIPTIONS[name]
    path = scratch / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path, (path.name, *says)


def _bad_subscription_case(name: str):
    def run(scratch: Path) -> str:
        home = scratch / "home"
        home.mkdir(parents=True, exist_ok=True)
        corpus = policywatch_corpus(scratch / "corpus.db")
        before = corpus.read_bytes()
        config, says = bad_subscription_config(scratch, name)
        line = refused_in_one_line(policywatch(["--config", str(config), "digest", "--db", str(corpus),
                                                "--out", str(scratch / "digests")], home), *says)
        if corpus.read_bytes() != before or (scratch / "digests").exists():
            raise Misbehaved("a refused config still changed the corpus or wrote a digest")
        return "exit 1: " + line.replace(str(scratch) + "/", "")
    return run


# --- corpora with stored changes -----------------------------------------------------------------
def _item(site: str, n: int, title: str, body: str, when: datetime):
    from crawlers.items import PolicyItem

    return PolicyItem(url=f"http://www.{site}.example.gov.cn/zcwj/t2026_{n}.html", site=site,
                      title=title, doc_number=f"示政发〔2026〕{n}号", issuer="示例市人民政府",
                      published_date=date(2026, 11, 1 + n % 28), column="政策文件",
                      body_text=body, fetched_at=when)


def classify(db, url: str, relevance: str, score: float, **columns) -> None:
    """Give a stored document the classifier's columns (lists as JSON)."""
    values = {"relevance": relevance, "relevance_score": score,
              **{k: json.dumps(v, ensure_ascii=False) if isinstance(v, (list, dict)) else v
                 for k, v in columns.items()}}
    sets = ", ".join(f"{k} = ?" for k in values)
    db.execute(f"UPDATE documents SET {sets} WHERE url = ?", [*values.values(), url])
    db.conn.commit()


def flood_corpus(path: Path, sites: int = 40, per_site: int = 75, relevant: int = 150,
                 digests: Path | None = None) -> Path:
    """A corpus whose second day brings ``sites * per_site`` changes at once (after each site's
    first crawl, so none is a backfill): ``relevant`` of them dedicated, the rest 不相关. With
    ``digests``, the first day's digest is delivered there before the second day."""
    from pipelines.schema import open_corpus
    from pipelines.runs import start_run
    from pipelines.storing import store_document

    db = open_corpus(path)
    keys = [f"flood_{i:02d}" for i in range(sites)]
    for i, key in enumerate(keys):
        store_document(db, _item(key, 10_000 + i, f"{key}的第一份文件", "首日文件。" * 20, WHEN[0]),
                       run_id=start_run(db, key, "crawl", when=WHEN[0]))
    if digests is not None:
        db.close()
        deliver_files(path, digests, WHEN[1])
        db = open_corpus(path)
    n = 0
    for key in keys:
        run = start_run(db, key, "crawl", when=WHEN[1])
        for _ in range(per_site):
            n += 1
            store_document(db, _item(key, n, f"示例市关于第{n}项工作的通知", f"第{n}项工作。" * 20, WHEN[1]),
                           run_id=run)
    urls = [r[0] for r in db.execute("SELECT url FROM documents WHERE title LIKE '示例市关于%' ORDER BY id")]
    db.execute("UPDATE documents SET relevance = 'none', relevance_score = 0.0")
    for url in urls[:relevant]:
        classify(db, url, "dedicated", 0.9, techs=["xr"])
    db.conn.commit()
    db.close()
    return path


HOSTILE_TITLES = (
    "元宇宙\x00\x07\x1b[31m控制字符\x0b\x0c标题",
    '元宇宙<script>alert("x")</script>]]><![CDATA[标题',
    "元宇宙 \u202e txt.exe 反向文字",
    "元宇宙[点我](javascript:alert(1)) | 表格 | # 标题 *强调*",
    "元宇宙" + "长" * 20_000,
)


def hostile_corpus(path: Path) -> Path:
    """A corpus whose documents (dedicated, so listed in full and in the feed) carry hostile
    titles: control characters XML forbids, markup, a bidi override, Markdown, 20,000 characters.
    The titles are written as an older or damaged corpus might hold them, past the parser."""
    from pipelines.schema import open_corpus
    from pipelines.runs import start_run
    from pipelines.storing import store_document

    db = open_corpus(path)
    first = _item("hostile_gov", 0, "第一份文件", "首日文件。" * 20, WHEN[0])
    store_document(db, first, run_id=start_run(db, "hostile_gov", "crawl", when=WHEN[0]))
    classify(db, first.url, "none", 0.0)
    run = start_run(db, "hostile_gov", "crawl", when=WHEN[1])
    for n, title in enumerate(HOSTILE_TITLES, 1):
        item = _item("hostile_gov", n, f"示例市元宇宙文件{n}", f"加快元宇宙产业发展{n}。" * 20, WHEN[1])
        store_document(db, item, run_id=run)
        db.execute("UPDATE documents SET title = ? WHERE url = ?", [title, item.url])
        classify(db, item.url, "dedicated", 0.9, scenarios=["industry"],
                 evidence={"relevance": title[:200]})
    db.conn.commit()
    db.close()
    return path


# --- the cases -----------------------------------------------------------------------------------
XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def deliver_files(corpus: Path, out: Path, now: datetime):
    """The default subscription's files delivery, as the schedule runs it."""
    from digest.delivery import FilesChannel, deliver
    from pipelines.schema import open_corpus

    db = open_corpus(corpus)
    try:
        return deliver(db, [FilesChannel(out)], now=now)[0]
    finally:
        db.close()


def _hostile_titles(scratch: Path) -> str:
    import feedparser

    corpus = hostile_corpus(scratch / "corpus.db")
    report = deliver_files(corpus, scratch / "digests", WHEN[2])
    if report.status != "sent":
        raise Misbehaved(f"the delivery failed: {report.error}")
    feed_path = scratch / "digests" / "feeds" / "default.atom"
    for path in [feed_path, *(Path(p) for p in report.delivered if p.endswith(".atom"))]:
        raw = path.read_bytes()
        feed = feedparser.parse(raw)
        if feed.bozo or XML_FORBIDDEN.search(raw.decode("utf-8")):
            raise Misbehaved(f"{path.name} is not well-formed XML: {feed.get('bozo_exception')}")
        if len(feed.entries) != len(HOSTILE_TITLES):
            raise Misbehaved(f"{path.name}: {len(feed.entries)} entries, not {len(HOSTILE_TITLES)}")
    html = next(Path(p) for p in report.delivered if p.endswith(".html")).read_text(encoding="utf-8")
    if "<script" in html or 'href="javascript:' in html:
        raise Misbehaved("markup from a title reached the HTML e-mail")
    md = next(Path(p) for p in report.delivered if p.endswith(".md")).read_text(encoding="utf-8")
    if re.search(r"(?<!\\)\]\(javascript:", md):
        raise Misbehaved("a title made a Markdown link")
    return f"{len(HOSTILE_TITLES)} hostile titles: feed and digest well-formed, markup inert"


# What a day's digest may weigh, however many changes the day brings.
MAX_DIGEST_BYTES = 1_500_000


def _flood(scratch: Path) -> str:
    from digest.build import MAX_LISTED_PER_KIND, REST_TITLES_PER_SITE

    corpus = flood_corpus(scratch / "corpus.db", digests=scratch / "digests")
    report = deliver_files(corpus, scratch / "digests", WHEN[2])
    if report.status != "sent" or report.changes != 3000:
        raise Misbehaved(f"delivery {report.status}, {report.changes} changes (3000 stored)")
    files = {Path(p).suffix: Path(p) for p in report.delivered}
    data = json.loads(files[".json"].read_text(encoding="utf-8"))
    listed, omitted = len(data["changes"]), sum(data["omitted"].values())
    titles = sum(len(s["titles"]) for s in data["others"])
    if listed > MAX_LISTED_PER_KIND or listed + omitted != 150:
        raise Misbehaved(f"{listed} listed and {omitted} counted of 150 relevant changes")
    if titles > REST_TITLES_PER_SITE * len(data["others"]) or sum(data["counts"].values()) != 3000:
        raise Misbehaved(f"{titles} titles in the short section; counts {data['counts']}")
    sizes = {suffix: path.stat().st_size for suffix, path in files.items()}
    if max(sizes.values()) > MAX_DIGEST_BYTES:
        raise Misbehaved(f"a digest file grew past {MAX_DIGEST_BYTES} bytes: {sizes}")
    return (f"3000 changes in a day: {listed} listed, {omitted} counted, {titles} titles; "
            f"largest file {max(sizes.values()) // 1024} KiB")


def _unknown_feed(scratch: Path) -> str:
    import asyncio

    from digest.browse import make_datasette

    corpus = policywatch_corpus(scratch / "corpus.db")
    ds = make_datasette(corpus)

    async def fetch(path: str):
        await ds.invoke_startup()
        return await ds.client.get(path, follow_redirects=True)

    for path in ("/-/feeds/nosuch.atom", "/-/feeds/..%2F..%2Fetc%2Fpasswd.atom", "/-/feeds/default.atom%00"):
        response = asyncio.run(fetch(path))
        if response.status_code != 404:
            raise Misbehaved(f"{path}: HTTP {response.status_code} (after redirects), not 404")
    ok = asyncio.run(fetch("/-/feeds/default.atom"))
    if ok.status_code != 200 or "<feed" not in ok.text:
        raise Misbehaved(f"the default feed: HTTP {ok.status_code}")
    return "unknown or crafted feed names: 404; the default feed: 200"


CASES: list[FaultCase] = [
    *(FaultCase(f"subscription-{name}", f"digest with a config whose [[subscription]]/[feeds] is bad ({name})",
                _bad_subscription_case(name)) for name in BAD_SUBSCRIPTIONS),
    FaultCase("digest-hostile-titles", "titles with control characters, markup, bidi override, "
              "Markdown links, 20,000 characters: digest files and rolling feed", _hostile_titles),
    FaultCase("digest-3000-changes-a-day", "3,000 changes in one day on 40 sites (150 relevant): "
              "the default subscription's digest", _flood),
    FaultCase("feed-unknown-name", "browse's feed route asked for unknown and crafted names", _unknown_feed),
]
