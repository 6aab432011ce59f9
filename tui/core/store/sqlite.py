"""The store in one SQLite file (WAL) under the XDG data dir: ``SqliteStore``, its schema as
one ordered list of migration steps (``MIGRATIONS``, the number of steps run kept in
``PRAGMA user_version``, so a store of any earlier version upgrades in place, keeping what
it holds), full-text search with FTS5, the model's memory (the SDK's ``SQLiteSession``,
tables ``agent_sessions`` / ``agent_messages``) in the same file, and the lease thread's
sweep of turns whose owner has gone. One process at a time coordinates through it
(``InProcessCoordination``), though several may open it.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from tui.core.observe.stats import COUNTERS
from tui.core.store import totals as kept
from tui.core.store.base import Store, default_db_path, recover_crashed_turns
from tui.core.store.coordination import InProcessCoordination
from tui.core.store.db import Db, Param, SqliteDb

if TYPE_CHECKING:
    from agents.memory import Session

# The search index holds a turn's prompt, and its reply once the turn is no longer running:
# the partial reply is saved every 0.25 s while it streams, and re-indexing it each time
# cost time in proportion to its length (6.5 ms a save at 1 MB, quadratic over the reply).
# Every trigger indexes a row by the same rule, so a delete always names what was indexed.
INDEXED_REPLY = "CASE WHEN {row}.status = 'running' THEN '' ELSE {row}.reply END"


def _script(sql: str) -> Callable[[Db], None]:
    """A step that runs ``sql``, statement by statement (inside the migration's
    transaction: ``executescript`` would commit it)."""

    def run(db: Db) -> None:
        statement = ""
        for line in sql.splitlines(keepends=True):
            statement += line
            if sqlite3.complete_statement(statement):
                db.execute(statement)
                statement = ""
        assert not statement.strip(), f"an unfinished statement: {statement!r}"

    return run


def _add_columns(table: str, columns: dict[str, str]) -> Callable[[Db], None]:
    """A step that adds the columns ``table`` lacks (stores of the same version made at
    different times may hold some of them already)."""

    def run(db: Db) -> None:
        have = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        for name, kind in columns.items():
            if name not in have:
                db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")

    return run


def _steps(*steps: Callable[[Db], None]) -> Callable[[Db], None]:
    def run(db: Db) -> None:
        for step in steps:
            step(db)

    return run


# Step ``n`` (1-based) brings a store at ``user_version`` n - 1 to n. A released step is
# never changed: what the schema needs next is a new step at the end.
MIGRATIONS: list[Callable[[Db], None]] = [
    # 1: conversations, turns, runs paused on approvals, tools approved for good, search
    _script("""
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL DEFAULT '',
    agent TEXT NOT NULL DEFAULT '',
    model TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS turns (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    started_at REAL NOT NULL,
    finished_at REAL,
    prompt TEXT NOT NULL,
    reply TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'running',
    error TEXT,
    tools TEXT NOT NULL DEFAULT '[]',
    metrics TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS pending_runs (
    turn_id INTEGER PRIMARY KEY REFERENCES turns(id) ON DELETE CASCADE,
    state TEXT NOT NULL,
    saved_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS always_approved (
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    tool TEXT NOT NULL,
    PRIMARY KEY (conversation_id, tool)
);
CREATE INDEX IF NOT EXISTS turns_by_conversation ON turns(conversation_id, id);
CREATE VIRTUAL TABLE IF NOT EXISTS turns_fts USING fts5(
    prompt, reply, content='turns', content_rowid='id'
);
"""),
    # 2: a running turn's reply indexed once it ends (older stores indexed every partial
    # save): new triggers, the index rebuilt
    _script(f"""
DROP TRIGGER IF EXISTS turns_ai;
DROP TRIGGER IF EXISTS turns_ad;
DROP TRIGGER IF EXISTS turns_au;
CREATE TRIGGER turns_ai AFTER INSERT ON turns BEGIN
    INSERT INTO turns_fts(rowid, prompt, reply)
    VALUES (new.id, new.prompt, {INDEXED_REPLY.format(row="new")});
END;
CREATE TRIGGER turns_ad AFTER DELETE ON turns BEGIN
    INSERT INTO turns_fts(turns_fts, rowid, prompt, reply)
    VALUES ('delete', old.id, old.prompt, {INDEXED_REPLY.format(row="old")});
END;
CREATE TRIGGER turns_au AFTER UPDATE OF prompt, reply, status ON turns
WHEN NOT (old.status = 'running' AND new.status = 'running' AND old.prompt IS new.prompt)
BEGIN
    INSERT INTO turns_fts(turns_fts, rowid, prompt, reply)
    VALUES ('delete', old.id, old.prompt, {INDEXED_REPLY.format(row="old")});
    INSERT INTO turns_fts(rowid, prompt, reply)
    VALUES (new.id, new.prompt, {INDEXED_REPLY.format(row="new")});
END;
INSERT INTO turns_fts(turns_fts) VALUES ('delete-all');
INSERT INTO turns_fts(rowid, prompt, reply)
SELECT id, prompt, {INDEXED_REPLY.format(row="turns")} FROM turns;
"""),
    # 3: the instance running a turn (tui.core.store.lease), what an API session was made
    # with, and statistics kept as they happen (tui.core.store.totals), read by index
    _steps(
        _add_columns(
            "turns", {"owner_pid": "INTEGER", "owner": "TEXT", "ttft_s": "REAL", "rate": "REAL"}
        ),
        _add_columns(
            "conversations",
            {"user_context": "TEXT NOT NULL DEFAULT '{}'", "agent_key": "TEXT NOT NULL DEFAULT ''"},
        ),
        _script("""
CREATE TABLE IF NOT EXISTS turn_totals (scope TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS turn_error_kinds (
    scope TEXT NOT NULL, kind TEXT NOT NULL, count INTEGER NOT NULL,
    PRIMARY KEY (scope, kind)
);
CREATE INDEX IF NOT EXISTS turns_by_ttft ON turns(ttft_s) WHERE ttft_s IS NOT NULL;
CREATE INDEX IF NOT EXISTS turns_by_rate ON turns(rate) WHERE rate IS NOT NULL;
CREATE INDEX IF NOT EXISTS turns_by_conversation_ttft ON turns(conversation_id, ttft_s);
CREATE INDEX IF NOT EXISTS turns_by_conversation_rate ON turns(conversation_id, rate);
"""),
    ),
    # 4: every counter the totals keep (both token rates: the tutorial's and the model's),
    # and the totals counted from every stored turn
    _steps(
        _add_columns("turn_totals", {name: "REAL NOT NULL DEFAULT 0" for name in COUNTERS}),
        kept.rebuild,
    ),
    # 5: who typed each prompt, at a table of players (a session shared through the API)
    _add_columns("turns", {"author": "TEXT NOT NULL DEFAULT ''"}),
]
SCHEMA_VERSION = len(MIGRATIONS)


def migrate_sqlite(conn: sqlite3.Connection) -> int:
    """Bring a SQLite store of any earlier version to this one's schema, in place, in one
    transaction (a second process opening it meanwhile waits, then finds it done); returns
    the version it had."""
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA synchronous=NORMAL")
    had = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if had >= SCHEMA_VERSION:
        return had
    factory = conn.row_factory
    db = SqliteDb(conn)  # rows by name, as the steps read them
    conn.execute("BEGIN IMMEDIATE")
    try:
        had = int(conn.execute("PRAGMA user_version").fetchone()[0])
        for step in MIGRATIONS[had:]:
            step(db)
        conn.execute(f"PRAGMA user_version = {max(had, SCHEMA_VERSION)}")
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    finally:
        conn.row_factory = factory
    return had


class SqliteStore(Store, dialect="sqlite"):
    """The store in one SQLite file; ``Store(path)`` opens it."""

    def __init__(self, path: Path | None = None, *, url: str | None = None) -> None:
        """The SQLite file at ``path`` (default: the data dir's); ``url`` names no
        PostgreSQL database here (``Store(url=...)`` takes either)."""
        from tui.core.store.lease import lease_for

        self.path = path = path or default_db_path()
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fresh = not path.exists()
        conn = sqlite3.connect(path, timeout=10, check_same_thread=False)
        migrate_sqlite(conn)
        db = SqliteDb(conn)
        reader = SqliteDb(sqlite3.connect(path, timeout=10, check_same_thread=False))
        if fresh:
            os.chmod(path, 0o600)
        lease = lease_for(path, self, on_beat=functools.partial(sweep, path))
        self._opened(db, reader, lease, InProcessCoordination(db, self.turn_outcome))

    @property
    def where(self) -> str:
        return str(self.path)

    def memory(self, conversation_id: str, *, per_call: bool = False) -> Session:
        from tui.core.store.memory import sqlite_memory

        assert self.path is not None
        return sqlite_memory(self.path, conversation_id, per_call=per_call)

    def _search(self, search: str) -> tuple[str, tuple[Param, ...]]:
        query = " ".join(f'"{word}"*' for word in search.replace('"', " ").split())
        return (
            "WHERE c.id IN (SELECT t.conversation_id FROM turns t JOIN turns_fts f"
            " ON f.rowid = t.id WHERE turns_fts MATCH ?) OR c.title LIKE ?",
            (query, f"%{search}%"),
        )


def sweep(path: Path) -> None:
    """The lease thread's round: recover turns whose owner's lease expired meanwhile."""
    from tui.core.store.lease import sqlite_alive

    with contextlib.closing(sqlite3.connect(path, timeout=10)) as conn:
        recover_crashed_turns(SqliteDb(conn), functools.partial(sqlite_alive, path))
