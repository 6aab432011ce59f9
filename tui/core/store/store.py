"""Durable conversations: one SQLite file (WAL) under the XDG data dir, or PostgreSQL for
many API processes (``Store(url=...)``; the SQL below is shared through ``tui.core.store.db``,
what only PostgreSQL does is in ``tui.core.store.postgres``).

The model's memory is the SDK's own ``SQLiteSession`` (tables ``agent_sessions`` /
``agent_messages``) in the same file; beside it this store keeps what the app shows:
conversations with titles, and per-turn rows with the prompt, the reply, the tool calls
and the metrics. A turn row is written when the turn starts and its partial reply is
saved as it streams, so a crash or ``kill -9`` leaves it behind as ``running``; the next
open marks it ``interrupted`` and puts its partial text into the model's memory.
API keys never reach this file: only prompts, replies, tool calls and numbers do.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tui.core.store.db import Db, SqliteDb
from tui.core.observe.metrics import Thresholds
from tui.core.observe.stats import COUNTERS, Totals, contribution

SCHEMA = """
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
"""

# The search index holds a turn's prompt, and its reply once the turn is no longer running:
# the partial reply is saved every 0.25 s while it streams, and re-indexing it each time
# cost time in proportion to its length (6.5 ms a save at 1 MB, quadratic over the reply).
# Every trigger indexes a row by the same rule, so a delete always names what was indexed.
INDEXED_REPLY = "CASE WHEN {row}.status = 'running' THEN '' ELSE {row}.reply END"
SEARCH_TRIGGERS = f"""
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
"""
SEARCH_VERSION = 2  # PRAGMA user_version once the triggers above are in place

# Statistics kept as they happen (tui.core.observe.stats.Totals): one row for the whole store
# (scope '') and one per conversation, changed in the transaction that ends a turn.
# ``/v1/stats`` used to read every stored turn on the event loop (0.2-0.35 s at 10,000).
TOTALS_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS turn_totals (scope TEXT PRIMARY KEY, "
    + ", ".join(f"{name} REAL NOT NULL DEFAULT 0" for name in COUNTERS)
    + ");"
    """
CREATE TABLE IF NOT EXISTS turn_error_kinds (
    scope TEXT NOT NULL, kind TEXT NOT NULL, count INTEGER NOT NULL,
    PRIMARY KEY (scope, kind)
);
"""
)
TOTALS_INDEXES = """
CREATE INDEX IF NOT EXISTS turns_by_ttft ON turns(ttft_s) WHERE ttft_s IS NOT NULL;
CREATE INDEX IF NOT EXISTS turns_by_rate ON turns(rate) WHERE rate IS NOT NULL;
CREATE INDEX IF NOT EXISTS turns_by_conversation_ttft ON turns(conversation_id, ttft_s);
CREATE INDEX IF NOT EXISTS turns_by_conversation_rate ON turns(conversation_id, rate);
"""
# PRAGMA user_version once the totals hold every finished turn; 4: the tutorial's rate
# (over the whole request) and streamed tokens kept, the ``rate`` index holds its rate.
TOTALS_VERSION = 4


def migrate_sqlite(db: sqlite3.Connection) -> None:
    """Bring a SQLite store of any earlier version to this one's schema, in place (every
    step keeps what is stored; ``PRAGMA user_version`` says which steps ran)."""
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA foreign_keys=ON")
    db.execute("PRAGMA synchronous=NORMAL")
    db.executescript(SCHEMA)
    if db.execute("PRAGMA user_version").fetchone()[0] < SEARCH_VERSION:
        # Older stores indexed every partial save: new triggers, the index rebuilt.
        db.executescript(
            f"BEGIN IMMEDIATE; {SEARCH_TRIGGERS}PRAGMA user_version = {SEARCH_VERSION}; COMMIT;"
        )
    columns = {row[1] for row in db.execute("PRAGMA table_info(turns)")}
    if "owner_pid" not in columns:  # stores made by earlier versions
        db.execute("ALTER TABLE turns ADD COLUMN owner_pid INTEGER")
    if "owner" not in columns:  # the lease instance running the turn (tui.core.store.lease)
        db.execute("ALTER TABLE turns ADD COLUMN owner TEXT")
    turn_columns = columns
    columns = {row[1] for row in db.execute("PRAGMA table_info(conversations)")}
    if "user_context" not in columns:  # what an API session was created with
        db.execute("ALTER TABLE conversations ADD COLUMN user_context TEXT NOT NULL DEFAULT '{}'")
        db.execute("ALTER TABLE conversations ADD COLUMN agent_key TEXT NOT NULL DEFAULT ''")
    if "ttft_s" not in turn_columns:  # indexed: the median and threshold counts
        db.execute("ALTER TABLE turns ADD COLUMN ttft_s REAL")
        db.execute("ALTER TABLE turns ADD COLUMN rate REAL")
    db.executescript(TOTALS_SCHEMA + TOTALS_INDEXES)
    kept = {r[1] for r in db.execute("PRAGMA table_info(turn_totals)")}
    for name in COUNTERS:  # a counter added since the store was made (rebuilt after)
        if name not in kept:
            db.execute(f"ALTER TABLE turn_totals ADD COLUMN {name} REAL NOT NULL DEFAULT 0")
    db.commit()


@dataclass(slots=True)
class ConversationRow:
    id: str
    title: str
    agent: str
    model: str
    created_at: float
    updated_at: float
    turns: int = 0


@dataclass(slots=True)
class TurnRow:
    id: int
    conversation_id: str
    started_at: float
    finished_at: float | None
    prompt: str
    reply: str
    status: str
    error: str | None
    tools: list[dict[str, Any]] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)


def default_db_path() -> Path:
    from tui.core.config import data_dir

    return data_dir() / "agents-tui.db"


def new_conversation_id() -> str:
    """Time-ordered and unguessable: 64 random bits (6 hex digits collided within 10,000
    API sessions made in a few seconds, and two clients shared one conversation)."""
    return time.strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(8)


class Store:
    """Everything the app keeps between runs. Safe to open from several processes."""

    def __init__(self, path: Path | None = None, *, url: str | None = None) -> None:
        """The SQLite file at ``path`` (default: the data dir's), or the PostgreSQL
        database at ``url`` (``postgresql://USER@HOST:PORT/DB``): many processes share it."""
        from tui.core.store.db import is_postgres

        self.url = url if is_postgres(url) else None
        self.path: Path | None = None
        # What many processes share (PostgreSQL only): queue, approvals, events, notices.
        self.shared: Any = None
        self._db: Db
        self._reader: Db
        self.lease: Any  # tui.core.store.lease.Lease (SQLite) or tui.core.store.postgres.PgLease
        self._reader_lock = threading.Lock()
        if self.url is not None:
            from tui.core.store import postgres

            self._db, self._reader, self.lease, self.shared = postgres.open_store(
                self, self.url, recover_crashed_turns
            )
            self.recovered = self._recover_crashed_turns()
            return
        self.path = path = path or default_db_path()
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fresh = not path.exists()
        conn = sqlite3.connect(path, timeout=10, check_same_thread=False)
        self._db = SqliteDb(conn)
        migrate_sqlite(conn)
        if conn.execute("PRAGMA user_version").fetchone()[0] < TOTALS_VERSION:
            self._build_totals()
        # Statistics are read on their own connection, from worker threads.
        self._reader = SqliteDb(sqlite3.connect(path, timeout=10, check_same_thread=False))
        if fresh:
            os.chmod(path, 0o600)
        from tui.core.store.lease import lease_for

        self.lease = lease_for(path, self, on_beat=functools.partial(sweep, path))
        self.recovered = self._recover_crashed_turns()

    @property
    def dialect(self) -> str:
        return self._db.dialect

    def close(self) -> None:
        if self.shared is not None:
            self.shared.writer.close()
        self._db.close()
        self._reader.close()
        self.lease.detach(self)

    # --- statistics, kept -------------------------------------------------------------------
    def _build_totals(self) -> None:
        """Once, for a store made before totals were kept: every finished turn counted."""
        with self._tx() as db:
            db.execute("DELETE FROM turn_totals")
            db.execute("DELETE FROM turn_error_kinds")
            rows = db.execute(
                "SELECT id, conversation_id, status, reply, metrics FROM turns"
            ).fetchall()
            for r in rows:
                metrics = json.loads(r["metrics"])
                share = contribution(r["status"], r["reply"], metrics)
                _account(db, r["conversation_id"], share)
                _index_values(db, r["id"], share)
            if db.dialect == "sqlite":
                db.execute(f"PRAGMA user_version = {TOTALS_VERSION}")

    def totals(
        self, conversation_id: str | None = None, limits: Thresholds | None = None
    ) -> Totals:
        """The statistics' totals for one conversation or the whole store, read from the
        kept rows and three index lookups: safe to call from a worker thread."""
        limits = limits or Thresholds()
        scope = conversation_id or ""
        # one read transaction: the totals and the index agree
        with self._reader_lock, self._reader.tx() as db:
            row = db.execute(
                f"SELECT {', '.join(COUNTERS)} FROM turn_totals WHERE scope = ?", (scope,)
            ).fetchone()
            out = Totals()
            if row is not None:
                for name, value in zip(COUNTERS, row, strict=True):
                    setattr(out, name, type(getattr(out, name))(value))
            out.errors_by_kind = {
                str(kind): int(count)
                for kind, count in db.execute(
                    "SELECT kind, count FROM turn_error_kinds WHERE scope = ? AND count != 0",
                    (scope,),
                )
            }
            where = " AND conversation_id = ?" if conversation_id else ""
            args: tuple[Any, ...] = (conversation_id,) if conversation_id else ()
            n = out.ttft_n
            if n:
                middle = db.execute(
                    f"SELECT ttft_s FROM turns WHERE ttft_s IS NOT NULL{where}"
                    " ORDER BY ttft_s LIMIT ? OFFSET ?",
                    (*args, 2 - n % 2, (n - 1) // 2),
                ).fetchall()
                if middle:
                    out.median_ttft = sum(float(v[0]) for v in middle) / len(middle)
            out.slow = db.execute(
                f"SELECT COUNT(*) FROM turns WHERE ttft_s > ?{where}",
                (limits.max_ttft_s, *args),
            ).fetchone()[0]
            out.sluggish = db.execute(
                f"SELECT COUNT(*) FROM turns WHERE rate < ?{where}",
                (limits.min_tokens_per_s, *args),
            ).fetchone()[0]
        return out

    @contextmanager
    def _tx(self) -> Iterator[Db]:
        with self._db.tx() as db:
            yield db

    # --- conversations -----------------------------------------------------------------------
    def ensure_conversation(
        self, conversation_id: str, *, agent: str = "", model: str = ""
    ) -> None:
        now = time.time()
        with self._tx() as db:
            db.execute(
                "INSERT INTO conversations(id, agent, model, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (conversation_id, agent, model, now, now),
            )
            if agent or model:
                db.execute(
                    "UPDATE conversations SET agent = COALESCE(NULLIF(?, ''), agent),"
                    " model = COALESCE(NULLIF(?, ''), model) WHERE id = ?",
                    (agent, model, conversation_id),
                )

    def conversation(self, conversation_id: str) -> ConversationRow | None:
        rows = self._conversations("WHERE c.id = ?", (conversation_id,))
        return rows[0] if rows else None

    def conversations(self, search: str = "") -> list[ConversationRow]:
        if not search.strip():
            return self._conversations("", ())
        if self.dialect == "postgresql":
            from tui.core.store.postgres import search_clause

            return self._conversations(*search_clause(search))
        query = " ".join(f'"{word}"*' for word in search.replace('"', " ").split())
        return self._conversations(
            "WHERE c.id IN (SELECT t.conversation_id FROM turns t JOIN turns_fts f"
            " ON f.rowid = t.id WHERE turns_fts MATCH ?) OR c.title LIKE ?",
            (query, f"%{search}%"),
        )

    def _conversations(self, where: str, args: tuple[Any, ...]) -> list[ConversationRow]:
        rows = self._db.execute(
            "SELECT c.*, (SELECT COUNT(*) FROM turns t WHERE t.conversation_id = c.id) AS n"
            f" FROM conversations c {where} ORDER BY c.updated_at DESC",
            args,
        ).fetchall()
        return [
            ConversationRow(
                r["id"],
                r["title"],
                r["agent"],
                r["model"],
                r["created_at"],
                r["updated_at"],
                r["n"],
            )
            for r in rows
        ]

    def latest_conversation(self) -> str | None:
        row = self._db.execute(
            "SELECT id FROM conversations ORDER BY updated_at DESC LIMIT 1"
        ).fetchone()
        return str(row["id"]) if row else None

    def api_info(self, conversation_id: str) -> tuple[str, dict[str, Any]]:
        """What an API session was created with: the agent asked for and its user_context
        (a session let go of while idle is rebuilt from these)."""
        row = self._db.execute(
            "SELECT agent_key, user_context FROM conversations WHERE id = ?", (conversation_id,)
        ).fetchone()
        if row is None:
            return "", {}
        context = json.loads(row["user_context"])
        return str(row["agent_key"]), context if isinstance(context, dict) else {}

    def set_api_info(
        self, conversation_id: str, *, agent_key: str, user_context: dict[str, Any]
    ) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE conversations SET agent_key = ?, user_context = ? WHERE id = ?",
                (agent_key, json.dumps(user_context, ensure_ascii=False), conversation_id),
            )

    def rename(self, conversation_id: str, title: str) -> None:
        with self._tx() as db:
            db.execute("UPDATE conversations SET title = ? WHERE id = ?", (title, conversation_id))

    def delete(self, conversation_id: str) -> None:
        with self._tx() as db:
            # The whole store's totals lose what this conversation's held.
            sets = ", ".join(
                f"{name} = {name} - COALESCE((SELECT t.{name} FROM turn_totals t"
                " WHERE t.scope = ?), 0)"
                for name in COUNTERS
            )
            db.execute(
                f"UPDATE turn_totals SET {sets} WHERE scope = ''",
                (conversation_id,) * len(COUNTERS),
            )
            db.execute(
                "UPDATE turn_error_kinds SET count = count - COALESCE((SELECT k.count FROM"
                " turn_error_kinds k WHERE k.scope = ? AND k.kind = turn_error_kinds.kind), 0)"
                " WHERE scope = ''",
                (conversation_id,),
            )
            db.execute("DELETE FROM turn_totals WHERE scope = ?", (conversation_id,))
            db.execute("DELETE FROM turn_error_kinds WHERE scope = ?", (conversation_id,))
            db.execute(
                "DELETE FROM pending_runs WHERE turn_id IN"
                " (SELECT id FROM turns WHERE conversation_id = ?)",
                (conversation_id,),
            )
            db.execute("DELETE FROM always_approved WHERE conversation_id = ?", (conversation_id,))
            db.execute("DELETE FROM turns WHERE conversation_id = ?", (conversation_id,))
            db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))
            for table in ("agent_messages", "agent_sessions"):  # the SDK's memory tables
                if db.has_table(table):
                    db.execute(f"DELETE FROM {table} WHERE session_id = ?", (conversation_id,))

    # --- turns -----------------------------------------------------------------------------
    def start_turn(self, conversation_id: str, prompt: str) -> int:
        now = time.time()
        with self._tx() as db:
            cursor = db.execute(
                "INSERT INTO turns(conversation_id, started_at, prompt, owner_pid, owner)"
                " VALUES (?, ?, ?, ?, ?) RETURNING id",
                (conversation_id, now, prompt, os.getpid(), self.lease.instance_id),
            )
            turn_id = int(cursor.fetchone()[0])
            db.execute(
                "UPDATE conversations SET updated_at = ?,"
                " title = CASE WHEN title = '' THEN ? ELSE title END WHERE id = ?",
                (now, _title_from(prompt), conversation_id),
            )
        return turn_id

    def import_turn(
        self,
        conversation_id: str,
        *,
        started_at: float,
        prompt: str,
        reply: str,
        status: str,
        error: str | None,
        tools: list[dict[str, Any]],
        metrics: dict[str, Any],
    ) -> int:
        """A finished turn from an imported file (never "running": no process owns it)."""
        if status in ("running", "awaiting_approval"):
            status = "interrupted"
        with self._tx() as db:
            cursor = db.execute(
                "INSERT INTO turns(conversation_id, started_at, finished_at, prompt, reply,"
                " status, error, tools, metrics) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (
                    conversation_id,
                    started_at,
                    started_at + float(metrics.get("elapsed_s") or 0.0),
                    prompt,
                    reply,
                    status,
                    error,
                    json.dumps(tools),
                    json.dumps(metrics),
                ),
            )
            turn_id = int(cursor.fetchone()[0])
            share = contribution(status, reply, metrics)
            _account(db, conversation_id, share)
            _index_values(db, turn_id, share)
        return turn_id

    def set_times(self, conversation_id: str, *, created_at: float, updated_at: float) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE conversations SET created_at = ?, updated_at = ? WHERE id = ?",
                (created_at, updated_at, conversation_id),
            )

    def save_partial(self, turn_id: int, reply: str) -> None:
        if self.shared is not None:  # PostgreSQL: written with the others by a thread
            self.shared.writer.partial(turn_id, reply)
            return
        with self._tx() as db:
            db.execute("UPDATE turns SET reply = ? WHERE id = ?", (reply, turn_id))

    def finish_turn(
        self,
        turn_id: int,
        *,
        reply: str,
        status: str,
        error: str | None,
        tools: list[dict[str, Any]],
        metrics: dict[str, Any],
    ) -> None:
        if self.shared is not None:
            self.shared.writer.forget(turn_id)
        with self._tx() as db:
            before = db.execute(
                "SELECT conversation_id, status, reply, metrics FROM turns WHERE id = ?",
                (turn_id,),
            ).fetchone()
            db.execute(
                "UPDATE turns SET reply = ?, status = ?, error = ?, tools = ?, metrics = ?,"
                " finished_at = ? WHERE id = ?",
                (
                    reply,
                    status,
                    error,
                    json.dumps(tools),
                    json.dumps(metrics),
                    time.time(),
                    turn_id,
                ),
            )
            db.execute("DELETE FROM pending_runs WHERE turn_id = ?", (turn_id,))
            if before is not None:
                # A turn ends once; if it was counted already (closed as interrupted while
                # its owner was thought gone), its earlier share is taken back first.
                earlier = contribution(
                    before["status"], before["reply"], json.loads(before["metrics"])
                )
                share = contribution(status, reply, metrics)
                _account(db, before["conversation_id"], share, earlier)
                _index_values(db, turn_id, share)

    # --- approvals: a run paused on tool calls survives the process -------------------------
    def pause_turn(self, turn_id: int, *, reply: str, state: str) -> None:
        """The turn waits for a person: keep the SDK's RunState so a restart can finish it."""
        if self.shared is not None:
            self.shared.writer.forget(turn_id)
        with self._tx() as db:
            db.execute(
                "UPDATE turns SET reply = ?, status = 'awaiting_approval' WHERE id = ?",
                (reply, turn_id),
            )
            db.execute(
                "INSERT INTO pending_runs(turn_id, state, saved_at) VALUES (?, ?, ?)"
                " ON CONFLICT(turn_id) DO UPDATE SET state = excluded.state,"
                " saved_at = excluded.saved_at",
                (turn_id, state, time.time()),
            )

    def unpause_turn(self, turn_id: int) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM pending_runs WHERE turn_id = ?", (turn_id,))
            db.execute(
                "UPDATE turns SET status = 'running', owner = ? WHERE id = ?"
                " AND status = 'awaiting_approval'",
                (self.lease.instance_id, turn_id),
            )

    def save_tools(self, turn_id: int, tools: list[dict[str, Any]]) -> None:
        with self._tx() as db:
            db.execute("UPDATE turns SET tools = ? WHERE id = ?", (json.dumps(tools), turn_id))

    def paused_turn(self, conversation_id: str) -> tuple[TurnRow, str] | None:
        """The conversation's turn still awaiting approval, with its stored RunState."""
        row = self._db.execute(
            "SELECT t.id, p.state FROM turns t JOIN pending_runs p ON p.turn_id = t.id"
            " WHERE t.conversation_id = ? AND t.status = 'awaiting_approval'"
            " ORDER BY t.id DESC LIMIT 1",
            (conversation_id,),
        ).fetchone()
        if row is None:
            return None
        turn = next((t for t in self.turns(conversation_id) if t.id == row["id"]), None)
        return (turn, str(row["state"])) if turn is not None else None

    def always_approved(self, conversation_id: str) -> set[str]:
        rows = self._db.execute(
            "SELECT tool FROM always_approved WHERE conversation_id = ?", (conversation_id,)
        ).fetchall()
        return {str(r["tool"]) for r in rows}

    def approve_always(self, conversation_id: str, tool: str) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO always_approved(conversation_id, tool) VALUES (?, ?)"
                " ON CONFLICT DO NOTHING",
                (conversation_id, tool),
            )

    def turns(self, conversation_id: str | None = None) -> list[TurnRow]:
        where, args = (
            ("WHERE conversation_id = ?", (conversation_id,)) if conversation_id else ("", ())
        )
        rows = self._db.execute(f"SELECT * FROM turns {where} ORDER BY id", args).fetchall()
        return [_turn(r) for r in rows]

    def _recover_crashed_turns(self) -> list[TurnRow]:
        return recover_crashed_turns(self._db, self.lease.alive)

    def recover(self, conversation_id: str | None = None) -> list[TurnRow]:
        """Mark the turns whose owner has gone ``interrupted`` now (before a new turn of a
        conversation, so the model never sees two user messages in a row)."""
        found = recover_crashed_turns(self._db, self.lease.alive, conversation_id)
        self.recovered.extend(found)
        return found

    def global_stats(self) -> dict[str, float | int]:
        """The tutorial's global statistics, from the kept totals."""
        t = self.totals()
        with self._reader_lock:
            sessions, with_issues = self._reader.execute(
                "SELECT COUNT(*), COALESCE(SUM(CASE WHEN with_errors > 0 OR completed < turns"
                " THEN 1 ELSE 0 END), 0)"
                " FROM turn_totals WHERE scope != '' AND turns > 0"
            ).fetchone()
        return {
            "total_sessions": int(sessions),
            "total_turns": t.turns,
            "average_time_to_first_token": t.ttft_sum / t.ttft_n if t.ttft_n else 0.0,
            "median_time_to_first_token": t.median_ttft or 0.0,
            "average_total_time": t.elapsed_sum / t.elapsed_n if t.elapsed_n else 0.0,
            # the tutorial's (tokens over the whole request), then the model's decode rate
            "average_tokens_per_second": t.e2e_rate_sum / t.e2e_rate_n if t.e2e_rate_n else 0.0,
            "average_decode_tokens_per_second": t.rate_sum / t.rate_n if t.rate_n else 0.0,
            "total_tokens_processed": t.streamed,
            "total_tokens_with_input": t.tokens,
            "total_errors": t.errors,
            "recovery_successes": t.recovered,
            "recovery_rate": t.recovered / t.errors if t.errors else 0.0,
            "sessions_with_issues": int(with_issues),
        }

    def recent_metrics(self, conversation_id: str, limit: int = 100) -> list[dict[str, Any]]:
        """The last ``limit`` turns' metrics, oldest first."""
        with self._reader_lock:
            rows = self._reader.execute(
                "SELECT metrics FROM turns WHERE conversation_id = ? ORDER BY id DESC LIMIT ?",
                (conversation_id, limit),
            ).fetchall()
        return [json.loads(r[0]) for r in reversed(rows)]

    def read_turns(self, conversation_id: str) -> list[TurnRow]:
        """``turns(conversation_id)`` on the reading connection: safe from a worker thread
        (the API reads a long conversation's history off the event loop)."""
        with self._reader_lock:
            rows = self._reader.execute(
                "SELECT * FROM turns WHERE conversation_id = ? ORDER BY id", (conversation_id,)
            ).fetchall()
        return [_turn(r) for r in rows]

    def latest_turn_id(self, conversation_id: str) -> int:
        row = self._db.execute(
            "SELECT COALESCE(MAX(id), 0) FROM turns WHERE conversation_id = ?", (conversation_id,)
        ).fetchone()
        return int(row[0])

    def turn_count(self, conversation_id: str) -> int:
        return int(
            self._db.execute(
                "SELECT COUNT(*) FROM turns WHERE conversation_id = ?", (conversation_id,)
            ).fetchone()[0]
        )

    def unfinished(self, conversation_id: str) -> int:
        """Turns of the conversation running or waiting for approval now."""
        with self._reader_lock:
            return int(
                self._reader.execute(
                    "SELECT COUNT(*) FROM turns WHERE conversation_id = ?"
                    " AND status IN ('running', 'awaiting_approval')",
                    (conversation_id,),
                ).fetchone()[0]
            )


def recover_crashed_turns(
    db: Db, alive: Callable[[Db, str | None], bool], conversation_id: str | None = None
) -> list[TurnRow]:
    """Turns left ``running`` by an instance that has gone (``alive``: the lease's rule)
    become ``interrupted``, their partial reply joining the model's memory in the same
    transaction. A turn another live process runs (the TUI while ``agents-tui run`` opens
    the store; another API process) is left alone."""
    where = "status = 'running'" + (" AND conversation_id = ?" if conversation_id else "")
    args: tuple[Any, ...] = (conversation_id,) if conversation_id else ()
    rows = db.execute(
        f"SELECT id, conversation_id, reply, owner, metrics FROM turns WHERE {where}", args
    ).fetchall()
    owners: dict[str | None, bool] = {}
    crashed = []
    for turn_id, conversation, reply, owner, metrics in rows:
        if owner not in owners:
            owners[owner] = alive(db, owner)
        if not owners[owner]:
            crashed.append((int(turn_id), str(conversation), str(reply), str(metrics)))
    if not crashed:
        return []
    memory = all(db.has_table(t) for t in ("agent_messages", "agent_sessions"))
    done = []
    with db.tx():
        for turn_id, conversation, reply, metrics in crashed:
            updated = db.execute(
                "UPDATE turns SET status = 'interrupted', error = ?, finished_at = ?"
                " WHERE id = ? AND status = 'running'",
                ("the app stopped during this turn", time.time(), turn_id),
            ).rowcount
            if not updated:
                continue  # another process recovered it first
            done.append(turn_id)
            share = contribution("interrupted", reply, json.loads(metrics))
            _account(db, conversation, share)
            _index_values(db, turn_id, share)
            if memory and reply:
                # The prompt reached the model's memory when the turn started; its partial
                # reply joins it.
                db.execute(
                    "INSERT INTO agent_sessions(session_id) VALUES (?) ON CONFLICT DO NOTHING",
                    (conversation,),
                )
                db.execute(
                    "INSERT INTO agent_messages(session_id, message_data) VALUES (?, ?)",
                    (conversation, json.dumps({"role": "assistant", "content": reply})),
                )
    return [_turn(r) for r in _rows(db, done)]


def _account(db: Db, conversation_id: str, share: Totals, earlier: Totals | None = None) -> None:
    """Add a turn's share (less what it held before) to its conversation and the store."""
    delta = {
        name: getattr(share, name) - (getattr(earlier, name) if earlier else 0) for name in COUNTERS
    }
    kinds = dict(share.errors_by_kind)
    for kind, count in (earlier.errors_by_kind if earlier else {}).items():
        kinds[kind] = kinds.get(kind, 0) - count
    if not any(delta.values()) and not any(kinds.values()):
        return
    names = ", ".join(COUNTERS)
    marks = ", ".join("?" * len(COUNTERS))
    updates = ", ".join(f"{name} = turn_totals.{name} + excluded.{name}" for name in COUNTERS)
    for scope in ("", conversation_id):
        db.execute(
            f"INSERT INTO turn_totals(scope, {names}) VALUES (?, {marks})"
            f" ON CONFLICT(scope) DO UPDATE SET {updates}",
            (scope, *delta.values()),
        )
        for kind, count in kinds.items():
            if count:
                db.execute(
                    "INSERT INTO turn_error_kinds(scope, kind, count) VALUES (?, ?, ?)"
                    " ON CONFLICT(scope, kind) DO UPDATE SET count = turn_error_kinds.count"
                    " + excluded.count",
                    (scope, kind, count),
                )


def _index_values(db: Db, turn_id: int, share: Totals) -> None:
    """The values the median and the threshold counts are read from, by index."""
    db.execute(
        "UPDATE turns SET ttft_s = ?, rate = ? WHERE id = ?",
        (
            share.ttft_sum if share.ttft_n else None,
            share.e2e_rate_sum if share.e2e_rate_n else None,
            turn_id,
        ),
    )


def _rows(db: Db, ids: list[int]) -> list[Any]:
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    return db.execute(f"SELECT * FROM turns WHERE id IN ({marks}) ORDER BY id", ids).fetchall()


def _turn(r: Any) -> TurnRow:
    return TurnRow(
        r["id"],
        r["conversation_id"],
        r["started_at"],
        r["finished_at"],
        r["prompt"],
        r["reply"],
        r["status"],
        r["error"],
        json.loads(r["tools"]),
        json.loads(r["metrics"]),
    )


def sweep(path: Path) -> None:
    """The lease thread's round: recover turns whose owner's lease expired meanwhile."""
    from tui.core.store.lease import sqlite_alive

    with contextlib.closing(sqlite3.connect(path, timeout=10)) as conn:
        recover_crashed_turns(SqliteDb(conn), functools.partial(sqlite_alive, path))


def _title_from(prompt: str) -> str:
    words = " ".join(prompt.split())
    return words if len(words) <= 60 else words[:59] + "…"
