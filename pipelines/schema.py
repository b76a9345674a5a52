"""The corpus schema: its migrations, and opening a corpus file — for writing (creating or
migrating it) or for reading (read-only, never changed).

``PRAGMA application_id`` marks a policywatch corpus; ``PRAGMA user_version`` holds the schema
version; ``MIGRATIONS[i]`` takes a corpus from version
i to i + 1, all in one transaction. A step is an SQL statement or a function of the database
(for what SQL alone cannot compute, like the search form of stored text).
"""

from __future__ import annotations

import logging
import sqlite3
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Union

import sqlite_utils

from pipelines.interpretations import link_existing_documents
from pipelines.lineage import key_existing_documents
from pipelines.repeals import record_existing_decisions
from pipelines.search import reindex

logger = logging.getLogger(__name__)

Step = Union[str, Callable[[sqlite_utils.Database], None]]

_RUN_STATUS_CHECK = "CHECK (status IN ('running', 'ok', 'partial', 'failed', 'blocked'))"


def _allow_killed_runs(db: sqlite_utils.Database) -> None:
    """Widen the runs' status CHECK by 'killed'. SQLite cannot alter a CHECK, and rebuilding
    ``runs`` would break the foreign keys of versions, changes and absences; widening a
    constraint changes nothing on disk, so it is done as SQLite documents for such changes
    (https://sqlite.org/lang_altertable.html#otheralter): the stored CREATE statement is
    edited and the schema version bumped, within the migration's transaction."""
    sql = db.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'runs'").fetchone()[0]
    if "'killed'" in sql:
        return
    if _RUN_STATUS_CHECK not in sql:
        raise CorpusError("the runs table's status constraint is not the one this migration widens")
    widened = sql.replace(_RUN_STATUS_CHECK, _RUN_STATUS_CHECK[:-2] + ", 'killed'))")
    version = db.execute("PRAGMA schema_version").fetchone()[0]
    db.execute("PRAGMA writable_schema = ON")
    try:
        db.execute("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'runs'", [widened])
        db.execute(f"PRAGMA schema_version = {version + 1}")
    finally:
        db.execute("PRAGMA writable_schema = OFF")


def _record_run_owners(db: sqlite_utils.Database) -> None:
    """runs: 'killed', and the pid, host and heartbeat of the process running each run. Each
    part is skipped where it is there already, so the step may meet a half-old corpus."""
    _allow_killed_runs(db)
    columns = {row[1] for row in db.execute("PRAGMA table_info(runs)")}
    for column, kind in (("pid", "INTEGER"), ("host", "TEXT"), ("heartbeat_at", "TEXT")):
        if column not in columns:
            db.execute(f"ALTER TABLE runs ADD COLUMN {column} {kind}")
    db.execute("CREATE INDEX IF NOT EXISTS runs_running ON runs(status) WHERE status = 'running'")


def _give_corpus_id(db: sqlite_utils.Database) -> None:
    """corpus_meta: ``id`` (a random UUID) and ``created`` (today, UTC), unless already set."""
    today = datetime.now(timezone.utc).date().isoformat()
    for key, value in (("id", str(uuid.uuid4())), ("created", today)):
        db.execute("INSERT OR IGNORE INTO corpus_meta (key, value) VALUES (?, ?)", [key, value])


# Each entry migrates the schema from version i to i + 1; append, never edit a shipped one.
MIGRATIONS: tuple[tuple[Step, ...], ...] = (
    (
        """CREATE TABLE sites (
            key TEXT PRIMARY KEY,
            name TEXT,
            division_code TEXT,
            level TEXT,
            family TEXT,
            domains TEXT,  -- JSON list
            enabled INTEGER NOT NULL DEFAULT 1,
            last_success TEXT,
            last_failure TEXT,
            last_failure_reason TEXT
        )""",
        """CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            site TEXT REFERENCES sites(key),
            kind TEXT NOT NULL CHECK (kind IN ('crawl', 'backfill', 'demo')),
            started_at TEXT NOT NULL,
            finished_at TEXT,
            status TEXT NOT NULL DEFAULT 'running'
                CHECK (status IN ('running', 'ok', 'partial', 'failed', 'blocked')),
            counts TEXT,  -- JSON object
            errors TEXT,  -- JSON list of {reason, url?, message?, count?}
            blocked INTEGER NOT NULL DEFAULT 0
        )""",
        """CREATE TABLE documents (
            id INTEGER PRIMARY KEY,
            site TEXT NOT NULL REFERENCES sites(key),
            url TEXT NOT NULL UNIQUE,  -- canonical, see canonical_url()
            title TEXT NOT NULL,
            doc_number TEXT,
            issuer TEXT,
            index_no TEXT,
            topic TEXT,
            written_date TEXT,  -- YYYY-MM-DD
            published_date TEXT,  -- YYYY-MM-DD
            body_text TEXT NOT NULL DEFAULT '',
            text_hash TEXT NOT NULL,
            "column" TEXT,
            first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            last_changed TEXT NOT NULL,
            current_version_id INTEGER REFERENCES versions(id),
            -- filled by later stages (classifiers)
            doc_type TEXT,
            status TEXT,
            relevance REAL,
            tags TEXT  -- JSON
        )""",
        "CREATE INDEX documents_site ON documents(site)",
        "CREATE INDEX documents_published ON documents(published_date)",
        "CREATE INDEX documents_doc_number ON documents(doc_number)",
        """CREATE TABLE versions (
            id INTEGER PRIMARY KEY,
            document_id INTEGER NOT NULL REFERENCES documents(id),
            run_id INTEGER REFERENCES runs(id),
            fetched_at TEXT NOT NULL,
            text_hash TEXT NOT NULL,  -- of the normalised text (textnorm.hash_form)
            fields_hash TEXT NOT NULL,  -- of the normalised KEY_FIELDS
            body_text TEXT NOT NULL,
            text_source TEXT,
            fields TEXT NOT NULL,  -- JSON object of VERSION_FIELDS
            raw BLOB,  -- the response bytes, zlib-compressed
            raw_encoding TEXT,
            http_status INTEGER,
            headers TEXT,  -- JSON object
            attachment_hashes TEXT NOT NULL  -- JSON object: url -> sha256 or null
        )""",
        "CREATE INDEX versions_document ON versions(document_id)",
        """CREATE TABLE attachments (
            id INTEGER PRIMARY KEY,
            document_id INTEGER NOT NULL REFERENCES documents(id),
            version_id INTEGER NOT NULL REFERENCES versions(id),
            url TEXT NOT NULL,
            name TEXT,
            sha256 TEXT,
            size INTEGER CHECK (size IS NULL OR size >= 0),
            content_type TEXT,
            text TEXT,
            error TEXT,
            UNIQUE (version_id, url)
        )""",
        "CREATE INDEX attachments_document ON attachments(document_id)",
        "CREATE INDEX attachments_sha256 ON attachments(sha256)",
        """CREATE TABLE changes (
            id INTEGER PRIMARY KEY,
            document_id INTEGER NOT NULL REFERENCES documents(id),
            version_id INTEGER REFERENCES versions(id),
            kind TEXT NOT NULL
                CHECK (kind IN ('new', 'revised', 'withdrawn', 'finalised', 'repealed')),
            detected_at TEXT NOT NULL,
            summary TEXT,
            diff TEXT  -- JSON
        )""",
        "CREATE INDEX changes_document ON changes(document_id)",
        # Full text over title and body; trigram so that Chinese terms of 3+ characters match
        # anywhere (search() falls back to LIKE for shorter ones).
        """CREATE VIRTUAL TABLE documents_fts USING fts5(
            title, body_text, content='documents', content_rowid='id', tokenize='trigram'
        )""",
        """CREATE TRIGGER documents_fts_insert AFTER INSERT ON documents BEGIN
            INSERT INTO documents_fts (rowid, title, body_text)
            VALUES (new.id, new.title, new.body_text);
        END""",
        """CREATE TRIGGER documents_fts_delete AFTER DELETE ON documents BEGIN
            INSERT INTO documents_fts (documents_fts, rowid, title, body_text)
            VALUES ('delete', old.id, old.title, old.body_text);
        END""",
        # Only on the indexed columns: bumping last_seen must not re-index the text.
        """CREATE TRIGGER documents_fts_update AFTER UPDATE OF title, body_text ON documents BEGIN
            INSERT INTO documents_fts (documents_fts, rowid, title, body_text)
            VALUES ('delete', old.id, old.title, old.body_text);
            INSERT INTO documents_fts (rowid, title, body_text)
            VALUES (new.id, new.title, new.body_text);
        END""",
        # Versions are history: refuse to rewrite or delete them.
        """CREATE TRIGGER versions_immutable_update BEFORE UPDATE ON versions BEGIN
            SELECT RAISE(ABORT, 'versions are never updated');
        END""",
        """CREATE TRIGGER versions_immutable_delete BEFORE DELETE ON versions BEGIN
            SELECT RAISE(ABORT, 'versions are never deleted');
        END""",
    ),
    # 2: the search index holds the search form of the text (search.search_form), kept by the
    # writer, instead of the raw text kept by triggers: text extracted from PDFs breaks lines
    # inside words (元宇宙产\n业), which a trigram index of the raw text cannot match.
    (
        "DROP TRIGGER documents_fts_insert",
        "DROP TRIGGER documents_fts_update",
        "DROP TRIGGER documents_fts_delete",
        "DROP TABLE documents_fts",
        """CREATE VIRTUAL TABLE documents_fts USING fts5(title, body_text, tokenize='trigram')""",
        """CREATE TRIGGER documents_fts_delete AFTER DELETE ON documents BEGIN
            DELETE FROM documents_fts WHERE rowid = old.id;
        END""",
        reindex,
    ),
    # Incremental crawling: when each document was last checked and is next due a revisit, and
    # the list pages a backfill has discovered and finished (its checkpoint).
    (
        "ALTER TABLE documents ADD COLUMN last_checked TEXT",
        "ALTER TABLE documents ADD COLUMN next_check_at TEXT",
        "CREATE INDEX documents_revisit ON documents(site, next_check_at)",
        """CREATE TABLE backfill_pages (
            id INTEGER PRIMARY KEY,
            site TEXT NOT NULL,
            "column" TEXT NOT NULL,
            url TEXT NOT NULL,
            method TEXT NOT NULL DEFAULT 'GET',
            formdata TEXT NOT NULL DEFAULT '{}',  -- JSON object
            page INTEGER NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done')),
            entries INTEGER,
            discovered_at TEXT NOT NULL,
            done_at TEXT,
            UNIQUE (site, "column", url, formdata)
        )""",
    ),
    # Change detection: every document belongs to a policy (a draft and its final, reposts and
    # moved copies share one) with the links that say why; withdrawal needs absences on two
    # check days; repeal and withdrawal times; each change knows its run; the delivery outbox
    # (a change is marked sent on a channel only after the channel accepted it) and the digests.
    (
        "ALTER TABLE documents ADD COLUMN policy_id INTEGER",
        "ALTER TABLE documents ADD COLUMN withdrawn_at TEXT",
        "ALTER TABLE documents ADD COLUMN repealed_at TEXT",
        "ALTER TABLE documents ADD COLUMN present_on TEXT",  # the last check day it was seen
        "ALTER TABLE documents ADD COLUMN doc_number_key TEXT",  # lineage.doc_number_key
        "ALTER TABLE documents ADD COLUMN title_key TEXT",  # textnorm.hash_form(title)
        "CREATE INDEX documents_policy ON documents(policy_id)",
        "CREATE INDEX documents_doc_number_key ON documents(doc_number_key)",
        "CREATE INDEX documents_title_key ON documents(title_key)",
        "ALTER TABLE changes ADD COLUMN run_id INTEGER REFERENCES runs(id)",
        "CREATE INDEX changes_detected ON changes(detected_at)",
        """CREATE TABLE lineage (
            id INTEGER PRIMARY KEY,
            document_id INTEGER NOT NULL REFERENCES documents(id),
            related_id INTEGER NOT NULL REFERENCES documents(id),
            relation TEXT NOT NULL CHECK (relation IN ('copy', 'finalises')),
            score REAL,
            evidence TEXT,  -- JSON object: why they match
            detected_at TEXT NOT NULL,
            UNIQUE (document_id, related_id, relation)
        )""",
        "CREATE INDEX lineage_related ON lineage(related_id)",
        """CREATE TABLE absences (
            id INTEGER PRIMARY KEY,
            document_id INTEGER NOT NULL REFERENCES documents(id),
            run_id INTEGER REFERENCES runs(id),
            day TEXT NOT NULL,  -- the check day, YYYY-MM-DD
            observed_at TEXT NOT NULL,
            reason TEXT NOT NULL,  -- http_404 / http_410 / unlisted
            UNIQUE (document_id, day)
        )""",
        """CREATE TABLE deliveries (
            id INTEGER PRIMARY KEY,
            change_id INTEGER NOT NULL REFERENCES changes(id),
            channel TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('sending', 'sent')),
            attempts INTEGER NOT NULL DEFAULT 1,
            attempted_at TEXT NOT NULL,
            sent_at TEXT,
            message_id TEXT,
            UNIQUE (channel, change_id)
        )""",
        """CREATE TABLE digests (
            id INTEGER PRIMARY KEY,
            created_at TEXT NOT NULL,
            since TEXT,
            until TEXT,
            last_change_id INTEGER,
            changes INTEGER NOT NULL,
            files TEXT  -- JSON list of the files written
        )""",
        key_existing_documents,
    ),
    # Classification (classifiers/): relevance becomes a label with its score beside it (the
    # REAL placeholder was never written); content tags, the issuer's jurisdiction, evidence
    # and the classifier version that wrote them (`policywatch retag` rewrites stale ones).
    (
        "ALTER TABLE documents DROP COLUMN relevance",
        """ALTER TABLE documents ADD COLUMN relevance TEXT CHECK (relevance IS NULL OR
            relevance IN ('dedicated', 'mentions', 'related', 'none'))""",
        "ALTER TABLE documents ADD COLUMN relevance_score REAL",
        "ALTER TABLE documents ADD COLUMN scenarios TEXT",  # JSON list of TAXONOMY.md tags
        "ALTER TABLE documents ADD COLUMN measures TEXT",  # JSON list
        "ALTER TABLE documents ADD COLUMN techs TEXT",  # JSON list
        """ALTER TABLE documents ADD COLUMN level TEXT CHECK (level IS NULL OR
            level IN ('national', 'province', 'prefecture', 'county'))""",
        "ALTER TABLE documents ADD COLUMN region TEXT",
        "ALTER TABLE documents ADD COLUMN province TEXT",
        "ALTER TABLE documents ADD COLUMN city TEXT",
        "ALTER TABLE documents ADD COLUMN county TEXT",
        "ALTER TABLE documents ADD COLUMN city_tier TEXT",
        "ALTER TABLE documents ADD COLUMN division_code TEXT",  # GB/T 2260 of the issuer
        "ALTER TABLE documents ADD COLUMN evidence TEXT",  # JSON object: label -> sentence
        "ALTER TABLE documents ADD COLUMN classifier_version TEXT",
        "CREATE INDEX documents_relevance ON documents(relevance)",
        "CREATE INDEX documents_level_region ON documents(level, region)",
        "CREATE INDEX documents_classifier_version ON documents(classifier_version)",
    ),
    (
        # The documents whose title says draft: storing a document looks for the drafts it may
        # finalise (corpus._draft_candidates), and without this index that scanned every
        # document, every time — a backfill slowed down as the corpus grew (18 ms a document
        # at 2,000 documents, 58 ms at 12,000). The terms match that query's exactly, so
        # SQLite uses the index for it.
        "CREATE INDEX documents_drafts ON documents(id) WHERE "
        "(title LIKE '%征求意见%' OR title LIKE '%草案%' OR title LIKE '%送审稿%')",
    ),
    # The 文号s each repeal decision repeals, with the sentence that says so, known or not yet
    # stored (pipelines.repeals): a document stored after its decision is repealed from its
    # first sight. Recorded for the decisions already stored, whose later targets are marked.
    (
        """CREATE TABLE repeal_targets (
            decision_id INTEGER NOT NULL REFERENCES documents(id),
            doc_number_key TEXT NOT NULL,
            evidence TEXT,
            recorded_at TEXT NOT NULL,
            PRIMARY KEY (decision_id, doc_number_key)
        )""",
        "CREATE INDEX repeal_targets_key ON repeal_targets(doc_number_key)",
        record_existing_decisions,
    ),
    # The messages of distributed crawls the writer could not store (pipelines.ingest): each
    # is kept whole in Redis's dead-letter list; here, what `policywatch status` counts.
    (
        # IF NOT EXISTS: safe to run again on a corpus whose version was set back a step or two.
        """CREATE TABLE IF NOT EXISTS dead_letters (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            reason TEXT NOT NULL,
            run TEXT,  -- the crawler's run key the message named, if it named one
            size INTEGER NOT NULL,  -- bytes
            head TEXT  -- its first characters (invalid UTF-8 escaped)
        )""",
    ),
    # Sightings: a fetch of a known document whose only differences are volatile (the same
    # text in new attachment bytes, a download-date watermark, a changed ?t=, a reordered
    # list) is no version and no alert, but what it brought is kept — add-only, like versions.
    # The query parameters each site was seen to change on every sighting of the same link.
    (
        """CREATE TABLE sightings (
            id INTEGER PRIMARY KEY,
            document_id INTEGER NOT NULL REFERENCES documents(id),
            version_id INTEGER NOT NULL REFERENCES versions(id),  -- the version it matched
            run_id INTEGER REFERENCES runs(id),
            seen_at TEXT NOT NULL,
            differs TEXT NOT NULL,  -- JSON list: text, attachment_bytes/_links/_order
            text_hash TEXT NOT NULL,
            body_text TEXT,  -- when it differs from the version's
            raw BLOB,  -- the response, zlib-compressed, when the text differs
            attachments TEXT NOT NULL  -- JSON list as fetched: url, name, sha256, size, text...
        )""",
        "CREATE INDEX sightings_document ON sightings(document_id)",
        """CREATE TRIGGER sightings_immutable_update BEFORE UPDATE ON sightings BEGIN
            SELECT RAISE(ABORT, 'sightings are never updated');
        END""",
        """CREATE TRIGGER sightings_immutable_delete BEFORE DELETE ON sightings BEGIN
            SELECT RAISE(ABORT, 'sightings are never deleted');
        END""",
        """CREATE TABLE volatile_params (
            site TEXT NOT NULL,
            name TEXT NOT NULL,  -- lower-cased query parameter name
            changes INTEGER NOT NULL DEFAULT 0,  -- sightings in a row on which it changed
            first_seen TEXT NOT NULL,
            learned_at TEXT,  -- set once it is known to be volatile
            PRIMARY KEY (site, name)
        )""",
    ),
    # Who runs a run: its process and host, and its heartbeat, so that a run still 'running'
    # whose process is gone is told from a live one and recorded 'killed'
    # (pipelines.runs.reap_dead_runs).
    (_record_run_owners,),
    # The corpus's own identity (digest.feeds): a random id given once, at creation or at this
    # migration, so that feed entry ids (tag URIs) are unique across corpora and never change.
    (
        """CREATE TABLE IF NOT EXISTS corpus_meta (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        )""",
        _give_corpus_id,
    ),
    # 政策解读: what each page names or links (kept before the page it points to is stored),
    # every document's core title, and each 解读's link to the policy it explains
    # (pipelines.interpretations); the documents already stored are linked. IF NOT EXISTS: safe
    # to run again on a corpus whose version was set back.
    (
        """CREATE TABLE IF NOT EXISTS title_cores (
            document_id INTEGER PRIMARY KEY REFERENCES documents(id),
            core TEXT NOT NULL  -- lineage.core_title of its current title
        )""",
        "CREATE INDEX IF NOT EXISTS title_cores_core ON title_cores(core)",
        """CREATE TABLE IF NOT EXISTS interpretation_refs (
            document_id INTEGER NOT NULL REFERENCES documents(id),
            kind TEXT NOT NULL
                CHECK (kind IN ('title', 'doc_number', 'link', 'interpretation_link')),
            place TEXT NOT NULL CHECK (place IN ('title', 'text', 'page')),
            key TEXT NOT NULL,  -- a core title, a 文号 key or a canonical URL
            evidence TEXT,  -- what the page says
            PRIMARY KEY (document_id, kind, key)
        )""",
        "CREATE INDEX IF NOT EXISTS interpretation_refs_key ON interpretation_refs(kind, key)",
        """CREATE TABLE IF NOT EXISTS interpretations (
            document_id INTEGER PRIMARY KEY REFERENCES documents(id),  -- the 解读
            explains_id INTEGER NOT NULL REFERENCES documents(id),  -- the policy it explains
            by TEXT NOT NULL,  -- interpretations.BY: how the link was found
            evidence TEXT,
            linked_at TEXT NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS interpretations_explains ON interpretations(explains_id)",
        link_existing_documents,
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)


class CorpusError(RuntimeError):
    """The corpus file cannot be used (missing, not SQLite, damaged, somebody else's database,
    written by a newer schema); the message names the file and what is wrong, in one line."""


# PRAGMA application_id of a policywatch corpus ("PWco"): the mark that tells our file from any
# other SQLite database. Corpora from before it was set are known by their tables.
APPLICATION_ID = 0x5057636F
CORE_TABLES = frozenset({"sites", "runs", "documents", "versions", "changes"})


def _check_file(path: Path, *, empty_ok: bool) -> None:
    """Refuse a directory, or an empty file where no corpus may be created. Only ``stat``: never
    open the file ourselves — closing any descriptor of it drops the POSIX locks the process'
    SQLite connections hold on it, and another connection may then take the WAL for its own."""
    if path.is_dir():
        raise CorpusError(f"{path}: is a directory, not a corpus file")
    if path.stat().st_size == 0 and not empty_ok:
        raise CorpusError(f"{path}: empty file (0 bytes), not a policywatch corpus")


def _unreadable(path: Path, exc: sqlite3.DatabaseError) -> str:
    """Why SQLite could not read ``path``, from its 100-byte header where that says more. Read
    only once SQLite failed on it: then no connection of this process holds locks on it."""
    with path.open("rb") as f:
        header = f.read(100)
    if len(header) < 100 or not header.startswith(b"SQLite format 3\x00"):
        return "not an SQLite database, so not a policywatch corpus"
    page_size = int.from_bytes(header[16:18], "big")
    expected = (65536 if page_size == 1 else page_size) * int.from_bytes(header[28:32], "big")
    size = path.stat().st_size
    # The header's page count is kept only when its "valid for" counter matches the change counter.
    if header[24:28] == header[92:96] and expected > size:
        return f"truncated: its header says {expected} bytes, the file holds {size}; restore it from a backup"
    return f"cannot be read as a corpus: {exc}"


def corpus_version(conn: sqlite3.Connection, path: Path) -> int:
    """The schema version of the corpus on ``conn`` (0: an empty database, no corpus yet), or
    ``CorpusError`` for a file that is not SQLite, is truncated, is not a policywatch corpus or
    is newer than this code."""
    try:
        # Pages still in a -wal file may lie beyond the main file's end; otherwise a header
        # counting more pages than the file holds is a file cut short.
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        wal = path.with_name(path.name + "-wal")
        if pages * page_size > path.stat().st_size and not (wal.exists() and wal.stat().st_size):
            raise sqlite3.DatabaseError("database disk image is malformed")
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise CorpusError(f"{path}: {_unreadable(path, exc)}") from None
    if not tables and version == 0 and app_id in (0, APPLICATION_ID):
        return 0
    ours = app_id == APPLICATION_ID or (app_id == 0 and version >= 1 and CORE_TABLES <= tables)
    if not ours:
        shown = ", ".join(sorted(tables)[:5]) + (", …" if len(tables) > 5 else "")
        raise CorpusError(f"{path}: an SQLite database but not a policywatch corpus (tables: "
                          f"{shown or 'none'}); refusing to touch it")
    if version > SCHEMA_VERSION:
        raise CorpusError(f"{path}: corpus schema version {version} is newer than this code's "
                          f"{SCHEMA_VERSION}; upgrade policywatch")
    return version


def open_corpus(path: str | Path, *, create: bool = True) -> sqlite_utils.Database:
    """Open the corpus at ``path`` for writing: created where no file is (unless ``create`` is
    false), migrated in one transaction if older; WAL mode (synchronous NORMAL), foreign keys
    on. ``CorpusError`` (one line, naming the file) for a file that is not SQLite, is damaged,
    is somebody else's database (never given our tables) or is newer than this code.

    Idempotent: opening an up-to-date corpus changes nothing.
    """
    return _open_for_writing(Path(path), create)[0]


def migrate_corpus(path: str | Path) -> int:
    """Migrate the existing corpus at ``path`` to ``SCHEMA_VERSION``; returns the version it had."""
    db, found = _open_for_writing(Path(path), create=False)
    db.close()
    return found


def _open_for_writing(path: Path, create: bool) -> tuple[sqlite_utils.Database, int]:
    if path.exists():
        # An empty file holds nothing to lose: where a corpus may be created, SQLite starts one
        # there (two crawls creating a new corpus at once meet such a file).
        _check_file(path, empty_ok=create)
    elif not create:
        raise CorpusError(f"no corpus at {path}: crawl something first (or pass --db)")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite_utils.Database(path)
    except (OSError, sqlite3.DatabaseError) as exc:
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        raise CorpusError(f"{path}: cannot open or create the corpus: {where}"
                          f"{getattr(exc, 'strerror', None) or exc}") from None
    try:
        db.conn.execute("PRAGMA foreign_keys = ON")
        db.conn.execute("PRAGMA busy_timeout = 10000")
        corpus_version(db.conn, path)  # before anything is written to it
        db.enable_wal()
        # In WAL mode NORMAL syncs at checkpoints, not at every commit: a power cut can lose the
        # last transactions but never leaves a half-written one, and a backfill's checkpoint
        # lives in the same file, so what was lost is fetched again. FULL cost a disk flush per
        # document.
        db.conn.execute("PRAGMA synchronous = NORMAL")
        found = migrate(db)
    except sqlite3.DatabaseError as exc:
        db.close()
        raise CorpusError(f"{path}: cannot be used as a corpus: {exc}") from None
    except BaseException:
        db.close()
        raise
    return db, found


def read_corpus(path: str | Path) -> sqlite_utils.Database:
    """Open the corpus at ``path`` read-only (``mode=ro``): never created, never migrated,
    nothing written. ``CorpusError`` (one line, naming the file) for a missing file, one that
    is not SQLite, is damaged, is not a policywatch corpus, or has another schema version
    (an older one is migrated by ``policywatch migrate`` or the next crawl)."""
    path = Path(path)
    if not path.exists():
        raise CorpusError(f"no corpus at {path}: crawl something first (or pass --db)")
    _check_file(path, empty_ok=False)
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        conn.execute("PRAGMA busy_timeout = 10000")
        version = corpus_version(conn, path)
    except BaseException:
        conn.close()
        raise
    if version < SCHEMA_VERSION:
        conn.close()
        if version == 0:
            raise CorpusError(f"{path}: an empty SQLite database, not a policywatch corpus yet")
        raise CorpusError(f"{path}: corpus schema version {version} is older than this code's "
                          f"{SCHEMA_VERSION}; run `policywatch migrate --db {path}` (or a crawl) first")
    return sqlite_utils.Database(conn)


def schema_version(db: sqlite_utils.Database) -> int:
    return db.conn.execute("PRAGMA user_version").fetchone()[0]


def migrate(db: sqlite_utils.Database) -> int:
    """Bring the schema to ``SCHEMA_VERSION``; returns the version found before."""
    found = schema_version(db)
    if found > SCHEMA_VERSION:
        raise CorpusError(
            f"corpus schema version {found} is newer than this code's {SCHEMA_VERSION}; "
            "upgrade policywatch"
        )
    if found == SCHEMA_VERSION and db.conn.execute("PRAGMA application_id").fetchone()[0]:
        return found
    # IMMEDIATE takes the write lock first, so two processes opening a new corpus at once
    # cannot both run the same migration.
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        current = schema_version(db)
        for version in range(current, SCHEMA_VERSION):
            for step in MIGRATIONS[version]:
                if callable(step):
                    step(db)
                else:
                    db.conn.execute(step)
            logger.debug("corpus schema: step %d done", version + 1)
        db.conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        db.conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        db.conn.execute("COMMIT")
    except BaseException:
        db.conn.execute("ROLLBACK")
        raise
    if current:  # a new corpus is created, not migrated: nothing to say
        logger.info("corpus migrated from schema version %d to %d", current, SCHEMA_VERSION)
    return found
