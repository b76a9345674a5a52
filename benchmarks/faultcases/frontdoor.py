"""Fault cases of the front door: damaged, foreign and mismatched corpora, and bad config files.

Each case builds its input in the scratch directory and runs the real ``policywatch`` command
in its own process (``python -m scheduler``, as an operator would); the product must answer
with exit status 1 and exactly one line on stderr naming the file and what is wrong — never a
traceback, never exit 0 — and leave a file that is not its corpus byte-for-byte unchanged.
The builders are shared with tests/test_frontdoor.py.
"""

from __future__ import annotations

import functools
import os
import random
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

from . import FaultCase

REPO = Path(__file__).resolve().parents[2]
UNREACHABLE = "http://127.0.0.1:9"  # the discard port: nothing is fetched before a refusal


# --- corpora ---------------------------------------------------------------------------------
def policywatch_corpus(path: Path, documents: int = 3) -> Path:
    """A small real corpus (current schema) with ``documents`` stored documents, WAL folded in."""
    from crawlers.items import PolicyItem
    from pipelines.runs import start_run
    from pipelines.schema import open_corpus
    from pipelines.storing import store_document

    when = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)
    db = open_corpus(path)
    run = start_run(db, "jx_gov", "crawl", when=when)
    for n in range(1, documents + 1):
        store_document(db, PolicyItem(
            url=f"http://www.jiangxi.gov.cn/zcwj/t2026_{n}.html", site="jx_gov",
            title=f"示例市元宇宙产业第{n}号文件", doc_number=f"示政发〔2026〕{n}号",
            issuer="示例市人民政府", published_date=date(2026, 1 + n % 12, 1 + n % 28), column="政策文件",
            body_text=f"第{n}号文件。加快元宇宙产业发展，建设数字孪生城市。" * 40, fetched_at=when),
            run_id=run)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return path


def random_bytes(path: Path) -> Path:
    """Not SQLite at all: 64 KiB of random bytes."""
    path.write_bytes(random.Random(13).randbytes(65536))
    return path


def truncated(path: Path) -> Path:
    """A real corpus cut at half its size (a copy interrupted, a full disk)."""
    policywatch_corpus(path, documents=40)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def zero_length(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def foreign_sqlite(path: Path) -> Path:
    """Somebody else's SQLite database: one table of theirs, rollback journal."""
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, customer TEXT, total REAL)")
        conn.executemany("INSERT INTO invoices (customer, total) VALUES (?, ?)",
                         [(f"customer {n}", n * 10.5) for n in range(100)])
    conn.close()
    return path


def garbled_pages(path: Path) -> Path:
    """A real corpus whose header is intact but whose pages after the first three are noise
    (a bad disk region): opening it reads the schema and finds the damage."""
    policywatch_corpus(path, documents=40)
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    data[3 * page:] = random.Random(14).randbytes(len(data) - 3 * page)
    path.write_bytes(bytes(data))
    return path


def deep_damage(path: Path) -> Path:
    """A real corpus whose schema reads fine but whose documents' leaf pages are noise: only
    reading the documents finds it."""
    policywatch_corpus(path, documents=40)
    conn = sqlite3.connect(path)
    pages = [n for n, in conn.execute("SELECT pageno FROM dbstat WHERE name = 'documents' "
                                      "AND pagetype = 'leaf'")]
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    noise = random.Random(15)
    with path.open("r+b") as f:
        for n in pages:
            f.seek((n - 1) * page_size)
            f.write(noise.randbytes(page_size))
    return path


def older_schema(path: Path) -> Path:
    """A policywatch corpus as the schema before this code's left it, with one document."""
    import sqlite_utils

    from pipelines.schema import MIGRATIONS

    db = sqlite_utils.Database(path)
    for steps in MIGRATIONS[:-1]:
        for step in steps:
            step(db) if callable(step) else db.conn.execute(step)
    db.conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) - 1}")
    db.conn.execute("INSERT INTO sites (key) VALUES ('jx_gov')")
    db.conn.execute("INSERT INTO documents (site, url, title, body_text, text_hash, first_seen, "
                    "last_seen, last_changed) VALUES ('jx_gov', 'http://www.jiangxi.gov.cn/zcwj/"
                    "t2026_1.html', '示例市元宇宙产业第1号文件', '加快元宇宙产业发展。', 'h', "
                    "'2026-11-20', '2026-11-20', '2026-11-20')")
    db.conn.commit()
    db.close()
    return path


def newer_schema(path: Path) -> Path:
    from pipelines.schema import SCHEMA_VERSION

    policywatch_corpus(path)
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    return path


@dataclass(frozen=True)
class BadCorpus:
    name: str
    build: object  # Path -> Path
    says: str  # what the one line must say
    writers_refuse: bool = True  # a crawl (which may create a corpus) refuses it too


BAD_CORPORA = (
    BadCorpus("random-bytes", random_bytes, "not an SQLite database"),
    BadCorpus("truncated", truncated, "truncated"),
    BadCorpus("zero-length", zero_length, "empty file", writers_refuse=False),
    BadCorpus("foreign-sqlite", foreign_sqlite, "not a policywatch corpus"),
    BadCorpus("garbled-pages", garbled_pages, "malformed"),
    BadCorpus("newer-schema", newer_schema, "is newer than this code"),
    # Found only when the documents are read: by the commands that read them at once (browse
    # serves, and shows the error on the pages that touch the damage); writers find it mid-crawl.
    BadCorpus("deep-damage", deep_damage, "malformed", writers_refuse=False),
)


def reader_commands(scratch: Path, serving: bool = True) -> dict[str, list[str]]:
    """Every command that only reads the corpus, with arguments that make it read (``serving``:
    with browse, which serves until stopped once the corpus opens)."""
    commands = {
        "status": ["status"],
        "search": ["search", "元宇宙"],
        "changes": ["changes"],
        "digest-preview": ["digest", "--no-deliver", "--out", "-", "--format", "json"],
        "digest-lookback": ["digest", "--since", "2026-01-01", "--out", str(scratch / "lookback")],
        "report": ["report", "--no-charts", "--out", str(scratch / "report")],
        "export": ["export"],
        "browse": ["browse", "--port", "0"],
    }
    if not serving:
        del commands["browse"]
    return commands


def writer_commands(scratch: Path) -> dict[str, list[str]]:
    """Commands that write the corpus; the site crawled is the replay portal's, unreachable,
    so a refusal comes before any fetch."""
    return {
        "crawl": ["crawl", "replay_generic", "--replay", UNREACHABLE],
        "backfill": ["backfill", "replay_generic", "--replay", UNREACHABLE],
        "run": ["run", "--no-digest", "--replay", UNREACHABLE],
        "digest-deliver": ["digest", "--deliver", "--out", str(scratch / "digests")],
        "retag": ["retag"],
        "migrate": ["migrate"],
    }


# --- configs -----------------------------------------------------------------------------------
# name -> (file bytes, the "[table] key" its one line must name)
BAD_CONFIGS: dict[str, tuple[bytes, str]] = {
    "db-not-a-string": (b"[paths]\ndb = 5\n", "[paths] db"),
    "timezone-a-number": (b"[schedule]\ntimezone = 5\n", "[schedule] timezone"),
    "timezone-unknown": (b'[schedule]\ntimezone = "Asia/Atlantis"\n', "[schedule] timezone"),
    "email-not-a-table": (b"[channels]\nemail = 5\n", "[channels.email]"),
    "not-utf8": ("[sites]\ncontact = '办公室'\n".encode("gbk"), "not UTF-8"),
    "stagger-a-string": (b'[schedule]\nstagger_seconds = "x"\n', "[schedule] stagger_seconds"),
    "unknown-site": (b'[sites]\nenabled = ["nosuch"]\n', "[sites] enabled"),
    "misspelt-key": (b"[schedule]\nstager_seconds = 3\n", "[schedule] stager_seconds"),
    "misspelt-table": (b'[schedul]\ntime = "06:00"\n', "[schedul]"),
    "time-not-hh-mm": (b'[schedule]\ntime = "7am"\n', "[schedule] time"),
    "max-parallel-zero": (b"[schedule]\nmax_parallel = 0\n", "[schedule] max_parallel"),
    "sweep-days-float": (b"[schedule]\nsweep_days = 1.5\n", "[schedule] sweep_days"),
    "email-port-range": (b'[channels.email]\nhost = "h"\nsender = "s@x"\nrecipients = ["r@x"]\n'
                         b"port = 99999\n", "[channels.email] port"),
    "watch-bad-delay": (b'[[watch]]\nkey = "xian_tzgg"\nissuer = "x"\nname = "y"\n'
                        b'url = "http://www.example-xian.cn/tzgg/"\nfamily = "generic"\n'
                        b'division_code = "429005"\nlevel = "county"\ndelay = "slow"\n',
                        "[[watch]] 'xian_tzgg': delay"),
    "invalid-toml": (b"[schedule]\ntime = \n", "line 2"),
}


def bad_config(scratch: Path, name: str) -> tuple[Path, str]:
    """Write the bad config ``name`` into ``scratch``; returns (its path, what its error names)."""
    data, names = BAD_CONFIGS[name]
    path = scratch / f"{name}.toml"
    path.write_bytes(data)
    return path, names


# --- running the command ------------------------------------------------------------------------
class Misbehaved(AssertionError):
    """The product answered a fault wrongly (a traceback, a wrong exit status, a changed file)."""


def policywatch(args: list[str], home: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``policywatch ARGS`` in its own process with $POLICYWATCH_HOME at ``home``."""
    env = {k: v for k, v in os.environ.items() if k != "POLICYWATCH_CONFIG"}
    env["POLICYWATCH_HOME"] = str(home)
    return subprocess.run([sys.executable, "-m", "scheduler", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=timeout)


def refused_in_one_line(result, *must_say: str) -> str:
    """The refusal's one stderr line, or ``Misbehaved`` saying what was wrong with the answer."""
    lines = result.stderr.strip().splitlines()
    if "Traceback" in result.stderr:
        raise Misbehaved(f"a traceback: {result.stderr[-600:]}")
    if result.returncode != 1:
        raise Misbehaved(f"exit {result.returncode}, not 1: {(result.stdout + result.stderr)[-600:]}")
    if len(lines) != 1:
        raise Misbehaved(f"{len(lines)} lines on stderr, not one: {result.stderr[-600:]}")
    missing = [s for s in must_say if s not in lines[0]]
    if missing:
        raise Misbehaved(f"the line does not name {missing}: {lines[0]}")
    return lines[0]


def _corpus_case(bad: BadCorpus, commands_of):
    def run(scratch: Path) -> str:
        home = scratch / "home"
        home.mkdir(parents=True, exist_ok=True)
        path = bad.build(scratch / f"{bad.name}.db")
        before = path.read_bytes()
        commands = commands_of(scratch)
        for command, args in commands.items():
            result = policywatch(["--db", str(path), *args], home)
            try:
                refused_in_one_line(result, str(path), bad.says)
            except Misbehaved as exc:
                raise Misbehaved(f"{command}: {exc}") from None
            if path.read_bytes() != before:
                raise Misbehaved(f"{command} changed {path.name}")
        if (home / "corpus.db").exists():
            raise Misbehaved("a corpus appeared in $POLICYWATCH_HOME")
        return f"refused by {', '.join(commands)} in one line each ({bad.says}); file unchanged"

    return run


def _config_case(name: str):
    def run(scratch: Path) -> str:
        home = scratch / "home"
        home.mkdir(parents=True, exist_ok=True)
        path, names = bad_config(scratch, name)
        # `run` reads every part of the config; nothing may start before the refusal.
        result = policywatch(["--config", str(path), "run", "--replay", UNREACHABLE], home)
        line = refused_in_one_line(result, str(path), names)
        if (home / "corpus.db").exists():
            raise Misbehaved("a corpus was created before the config was refused")
        return f"exit 1: {line.split(': ', 2)[-1][:80]}"

    return run


def _broken_config_spares_parse(scratch: Path) -> str:
    """A command that needs no config (parse) works beside a broken one."""
    home = scratch / "home"
    home.mkdir(parents=True, exist_ok=True)
    (home / "policywatch.toml").write_bytes(BAD_CONFIGS["stagger-a-string"][0])
    page = scratch / "page.html"
    page.write_text("<html><head><title>示例市元宇宙产业发展行动计划</title></head><body><h1>示例市"
                    "元宇宙产业发展行动计划</h1><p>发布日期：2026-11-20</p><div id='zoom'><p>"
                    + "加快元宇宙产业发展。" * 30 + "</p></div></body></html>", encoding="utf-8")
    parsed = policywatch(["parse", str(page), "--url", "http://www.example.gov.cn/a/t1.html"], home)
    if parsed.returncode != 0:
        raise Misbehaved(f"parse failed beside a broken config: {parsed.stderr[-400:]}")
    refused_in_one_line(policywatch(["status"], home), "policywatch.toml", "stagger_seconds")
    return "parse exit 0; status refused in one line"


def _home_is_a_file(scratch: Path) -> str:
    """$POLICYWATCH_HOME names a file: a crawl cannot create the corpus there, and says so."""
    home = scratch / "home"
    home.write_text("not a folder\n", encoding="utf-8")
    result = policywatch(["crawl", "replay_generic", "--replay", UNREACHABLE], home)
    line = refused_in_one_line(result, str(home / "corpus.db"), "cannot open or create")
    if home.read_text(encoding="utf-8") != "not a folder\n":
        raise Misbehaved("the file standing for the home was changed")
    return f"exit 1: {line.split(': ', 2)[-1][:100]}"


CASES: list[FaultCase] = [
    *(FaultCase(f"corpus-{bad.name}", f"--db names a {bad.name.replace('-', ' ')} file; every read "
                "command run on it", _corpus_case(bad, functools.partial(
                    reader_commands, serving=bad.name != "deep-damage"))) for bad in BAD_CORPORA),
    *(FaultCase(f"corpus-{bad.name}-writers", f"--db names a {bad.name.replace('-', ' ')} file; crawl, "
                "backfill, run, digest delivery, retag and migrate run on it",
                _corpus_case(bad, writer_commands)) for bad in BAD_CORPORA if bad.writers_refuse),
    *(FaultCase(f"config-{name}", f"policywatch run with a config whose {names} is bad ({name})",
                _config_case(name)) for name, (_, names) in BAD_CONFIGS.items()),
    FaultCase("corpus-home-not-a-directory", "$POLICYWATCH_HOME is a file; crawl", _home_is_a_file),
    FaultCase("config-broken-parse-works", "a broken config in $POLICYWATCH_HOME: parse still works, "
              "status refuses", _broken_config_spares_parse),
]
