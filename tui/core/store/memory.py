"""The model's memory, kept in the store's own database: on SQLite the SDK's
``SQLiteSession`` in the store's file (``ShortLivedMemory`` opens one per call, for a
server with thousands of conversations), on PostgreSQL the SDK's ``SQLAlchemySession``
through psycopg's async driver, one engine per process and event loop. Callers ask the
store (``store.memory(conversation_id, per_call=...)``, or ``open_memory``) and never
which database it is.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agents import SQLiteSession
    from agents.items import TResponseInputItem
    from agents.memory import Session, SessionSettings
    from sqlalchemy.ext.asyncio import AsyncEngine

    from tui.core.store.base import Store


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


_ENGINES: dict[tuple[str, int], AsyncEngine] = {}


def postgres_memory(url: str, session_id: str) -> Session:
    """The SDK's ``SQLAlchemySession`` for ``session_id``, on one async engine per process
    and event loop (psycopg's async driver)."""
    from agents.extensions.memory import SQLAlchemySession
    from sqlalchemy.ext.asyncio import create_async_engine

    try:
        key = (url, id(asyncio.get_running_loop()))
    except RuntimeError:
        key = (url, 0)
    engine = _ENGINES.get(key)
    if engine is None:
        async_url = re.sub(r"^postgres(ql)?(\+psycopg)?://", "postgresql+psycopg://", url)
        # a connection the server dropped (a restart) is found and replaced when taken
        engine = create_async_engine(
            async_url,
            pool_size=10,
            max_overflow=20,
            pool_pre_ping=True,
            connect_args={"connect_timeout": 3},
        )
        _ENGINES[key] = engine
    return SQLAlchemySession(session_id, engine=engine, create_tables=False)
