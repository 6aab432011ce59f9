"""Storage: conversations, turns, paused runs and the model's memory, on SQLite or PostgreSQL.

``Store`` is the one face the rest of the program sees (``store.py``); the SQL is written
once against a small connection interface (``db.py``) and what differs on PostgreSQL lives
in ``postgres.py`` and ``lease.py`` (queue tickets, notifications, leases between
processes). ``migrate``, ``transfer`` and ``export`` copy conversations between stores and
out to files. Nothing outside this package imports ``psycopg`` or the PostgreSQL side.
"""

from tui.core.store.store import (
    ConversationRow,
    Store,
    TurnRow,
    default_db_path,
    migrate_sqlite,
    new_conversation_id,
    sweep,
)

__all__ = [
    "ConversationRow",
    "Store",
    "TurnRow",
    "default_db_path",
    "migrate_sqlite",
    "new_conversation_id",
    "sweep",
]
