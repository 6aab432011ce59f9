"""Storage: conversations, turns, paused runs, the kept statistics and the model's memory,
on SQLite (one file) or PostgreSQL (many processes), behind one interface. ``Store`` (in
``base``, with the SQL both run) opens the right backend: ``Store(path)`` the SQLite file
(``sqlite``), ``Store(url=...)`` the PostgreSQL database (``postgres``); each schema is one
list of migrations beside its backend. What the processes sharing a store tell each other
(queue tickets, notifications, approvals asked, the turns' events, partial replies) is
``store.coordination`` (``coordination``: in one process; ``pg_coordination``: across
processes), which process owns a running turn is its lease (``lease``), and the model's
memory is ``store.memory(...)`` (``memory``). ``migrate``, ``transfer`` and ``export``
copy conversations between stores and out to files. Nothing outside this package imports
``psycopg`` or the PostgreSQL side, or asks which backend it has.
"""

from pathlib import Path

from tui.core.store.base import Store, default_db_path, new_conversation_id
from tui.core.store.coordination import Coordination
from tui.core.store.db import (
    DatabaseError,
    StoreUnavailable,
    is_postgres,
    redacted_message,
    redacted_url,
    remember_url,
)
from tui.core.store.memory import open_memory
from tui.core.store.postgres import PostgresStore
from tui.core.store.reads import ConversationRow, TurnRow
from tui.core.store.sqlite import SqliteStore, migrate_sqlite, sweep


def open_store(path: Path | None = None, *, url: str | None = None) -> Store:
    """The store at ``url`` if it names a PostgreSQL database, else the SQLite file at
    ``path`` (default: the data dir's): the same as ``Store(path, url=url)``."""
    return Store(path, url=url)


__all__ = [
    "ConversationRow",
    "Coordination",
    "DatabaseError",
    "PostgresStore",
    "SqliteStore",
    "Store",
    "StoreUnavailable",
    "TurnRow",
    "default_db_path",
    "is_postgres",
    "migrate_sqlite",
    "new_conversation_id",
    "open_memory",
    "open_store",
    "redacted_message",
    "redacted_url",
    "remember_url",
    "sweep",
]
