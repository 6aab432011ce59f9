"""The model's memory, kept in the store's own database: on SQLite the SDK's
``SQLiteSession`` in the store's file (``ShortLivedMemory`` opens one per call, for a
server with thousands of conversations), on PostgreSQL ``PostgresMemory``: the rows of
the SDK's ``SQLAlchemySession``, one statement a call on a connection of the store's.
Callers ask the store (``store.memory(conversation_id, per_call=...)``, or
``open_memory``) and never which database it is.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agents import SQLiteSession
    from agents.items import TResponseInputItem
    from agents.memory import Session, SessionSettings

    from tui.core.store.base import Store
    from tui.core.store.db import PostgresDb


def open_memory(store: Store, conversation_id: str, *, per_call: bool = False) -> Session:
    """The model's memory of ``conversation_id`` in ``store``; with ``per_call`` held only
    for each call (a server with thousands of conversations)."""
    return store.memory(conversation_id, per_call=per_call)


def sqlite_memory(path: Path, conversation_id: str, *, per_call: bool = False) -> Session:
    """The SDK's own SQLiteSession, in the store's database file; with ``per_call``
    opened for each call."""
    if per_call:
        return ShortLivedMemory(conversation_id, path)
    from agents import SQLiteSession

    return SQLiteSession(conversation_id, db_path=path)


class ShortLivedMemory:
    """The SDK's ``SQLiteSession``, opened for each call and closed after it.

    A ``SQLiteSession`` keeps a connection (the database and its WAL: two files) for every
    worker thread that used it until it is closed, so a server with many conversations
    ran out of open files. The memory is read once and written twice a turn, so one
    short-lived session per call costs little (a connection each) and holds nothing
    between calls. Same tables, same rows: anything that reads SQLiteSession reads this.
    """

    def __init__(self, session_id: str, path: Path) -> None:
        self.session_id = session_id
        self.path = path
        self.session_settings: SessionSettings | None = None

    def _open(self) -> SQLiteSession:
        from agents import SQLiteSession

        return SQLiteSession(self.session_id, db_path=self.path)

    async def get_items(self, limit: int | None = None) -> list[TResponseInputItem]:
        with contextlib.closing(self._open()) as memory:
            return list(await memory.get_items(limit))

    async def add_items(self, items: list[TResponseInputItem]) -> None:
        with contextlib.closing(self._open()) as memory:
            await memory.add_items(items)

    async def pop_item(self) -> TResponseInputItem | None:
        with contextlib.closing(self._open()) as memory:
            return await memory.pop_item()

    async def clear_session(self) -> None:
        with contextlib.closing(self._open()) as memory:
            await memory.clear_session()

    def close(self) -> None:
        """Nothing is held between calls."""


# The SDK's SQLAlchemySession's statements, one round trip each: its rows, its JSON (compact,
# ASCII), its order (created_at, then id). Written this way because on a server with 200
# streams the SDK's session (three transactions a turn, each locking the session's row,
# through SQLAlchemy's ORM and greenlets) was a quarter of the event loop's time.
_ADD = (
    "WITH s AS (INSERT INTO agent_sessions(session_id) VALUES (?) ON CONFLICT (session_id)"
    " DO UPDATE SET updated_at = CURRENT_TIMESTAMP)"
    " INSERT INTO agent_messages(session_id, message_data)"
    " SELECT ?, u.item FROM json_array_elements_text(?::json) WITH ORDINALITY AS u(item, n)"
    " ORDER BY u.n"
)
_ALL = "SELECT message_data FROM agent_messages WHERE session_id = ? ORDER BY created_at, id"
_LATEST = (
    "SELECT message_data FROM agent_messages WHERE session_id = ?"
    " ORDER BY created_at DESC, id DESC LIMIT ?"
)
_POP = (
    "DELETE FROM agent_messages WHERE id = (SELECT id FROM agent_messages WHERE session_id = ?"
    " ORDER BY created_at DESC, id DESC LIMIT 1) RETURNING message_data"
)
_CLEAR = (
    "WITH m AS (DELETE FROM agent_messages WHERE session_id = ?)"
    " DELETE FROM agent_sessions WHERE session_id = ?"
)


def memory_rows(items: list[TResponseInputItem]) -> str:
    """``items`` as the SDK's session stores them (compact ASCII JSON), as one JSON array
    of those texts: what ``_ADD`` takes."""
    return json.dumps([json.dumps(item, separators=(",", ":")) for item in items])


def add_memory(db: PostgresDb, session_id: str, items: list[TResponseInputItem]) -> None:
    """``items`` appended to the memory of ``session_id`` (one statement: its session row
    made or touched, its messages in order)."""
    if items:
        db.execute(_ADD, (session_id, session_id, memory_rows(items)))


def _decoded(rows: list[str]) -> list[TResponseInputItem]:
    items: list[TResponseInputItem] = []
    for raw in rows:
        with contextlib.suppress(json.JSONDecodeError):  # a corrupted row is skipped
            items.append(json.loads(raw))
    return items


class PostgresMemory:
    """The model's memory of one conversation on PostgreSQL, in the tables and rows of the
    SDK's ``SQLAlchemySession`` (``agent_sessions``, ``agent_messages``: what it stored
    reads here and the other way round), one statement a call on one connection of the
    store's (``PostgresDb``: it reopens by itself after an outage), run by a worker thread
    so that the event loop never waits on the database."""

    def __init__(self, session_id: str, db: PostgresDb) -> None:
        self.session_id = session_id
        self.db = db
        self.session_settings: SessionSettings | None = None

    def _rows(self, sql: str, args: tuple[str | int, ...]) -> list[str]:
        return [str(row[0]) for row in self.db.execute(sql, args).fetchall()]

    def _get(self, limit: int | None) -> list[TResponseInputItem]:
        if limit is None:
            return _decoded(self._rows(_ALL, (self.session_id,)))
        if limit <= 0:
            return []
        window = limit
        while True:  # corrupted rows among the newest: read further back, as the SDK does
            rows = self._rows(_LATEST, (self.session_id, window))
            items = _decoded(rows[::-1])
            if len(items) >= limit or len(rows) < window:
                return items[-limit:]
            window *= 2

    async def get_items(self, limit: int | None = None) -> list[TResponseInputItem]:
        from agents.memory.session_settings import resolve_session_limit

        return await asyncio.to_thread(
            self._get, resolve_session_limit(limit, self.session_settings)
        )

    async def add_items(self, items: list[TResponseInputItem]) -> None:
        if items:
            await asyncio.to_thread(add_memory, self.db, self.session_id, list(items))

    def _pop(self) -> TResponseInputItem | None:
        while True:
            row = self.db.execute(_POP, (self.session_id,)).fetchone()
            if row is None:
                return None
            with contextlib.suppress(json.JSONDecodeError):  # a corrupted row: the next
                item: TResponseInputItem = json.loads(str(row[0]))
                return item

    async def pop_item(self) -> TResponseInputItem | None:
        return await asyncio.to_thread(self._pop)

    async def clear_session(self) -> None:
        await asyncio.to_thread(self.db.execute, _CLEAR, (self.session_id, self.session_id))
