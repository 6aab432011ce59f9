"""One small connection interface (``Db``) over SQLite (``sqlite3``) and PostgreSQL
(``psycopg``), so the store's SQL is written once, with ``?`` placeholders and the upsert
syntax both databases share (``INSERT ... ON CONFLICT``, ``RETURNING``); rows read by key
(``row["reply"]``) or by position (``row[0]``) on either. Also what a URL says: whether it
names a PostgreSQL database (``is_postgres``), its libpq form and its form for messages
(the password left out), and the one error a person sees when the database cannot be used.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any, Protocol, SupportsIndex

if TYPE_CHECKING:
    import psycopg

POSTGRES_SCHEMES = ("postgresql://", "postgres://", "postgresql+psycopg://")


def is_postgres(url: str | None) -> bool:
    return bool(url) and str(url).startswith(POSTGRES_SCHEMES)


def plain_url(url: str) -> str:
    """The libpq form of a URL (``postgresql+psycopg://`` is SQLAlchemy's)."""
    return re.sub(r"^postgres(ql)?(\+psycopg)?://", "postgresql://", url)


def redacted_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", url)


class DatabaseError(Exception):
    """The database cannot be used: a message for a person, the password left out."""


# What a statement's ``?`` takes: the values both databases store as they are.
Param = str | int | float | bytes | None


class DbRow(Protocol):
    """A row: ``sqlite3.Row``, or ``Row`` on PostgreSQL. A column's value is whatever the
    schema says it holds: the SQL types it, not Python."""

    def __getitem__(self, key: int | str, /) -> Any: ...
    def __iter__(self) -> Iterator[Any]: ...
    def __len__(self) -> int: ...


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    # A row, or None when there is none (untyped, as ``sqlite3`` has it: a query that
    # always answers, ``COUNT(*)``, is read as ``fetchone()[0]``).
    def fetchone(self) -> Any: ...
    def fetchall(self) -> Sequence[DbRow]: ...
    def __iter__(self) -> Iterator[DbRow]: ...


class Db(Protocol):
    """What the store needs from a connection."""

    dialect: str

    def execute(self, sql: str, args: Sequence[Param] = ()) -> Cursor: ...
    def executescript(self, sql: str) -> None: ...
    def tx(self) -> AbstractContextManager[Db]: ...
    def has_table(self, name: str) -> bool: ...
    def close(self) -> None: ...


class SqliteDb:
    dialect = "sqlite"

    def __init__(self, conn: sqlite3.Connection) -> None:
        conn.row_factory = sqlite3.Row
        self.conn = conn

    def execute(self, sql: str, args: Sequence[Param] = ()) -> Cursor:
        return self.conn.execute(sql, tuple(args))

    def executescript(self, sql: str) -> None:
        self.conn.executescript(sql)

    @contextmanager
    def tx(self) -> Iterator[SqliteDb]:
        with self.conn:
            yield self

    def has_table(self, name: str) -> bool:
        row = self.conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (name,)
        ).fetchone()
        return row is not None

    def close(self) -> None:
        self.conn.close()


class Row(tuple):  # type: ignore[type-arg]
    """A PostgreSQL row read as ``sqlite3.Row`` is: by position or by column name."""

    names: dict[str, int]

    def __getitem__(self, key: SupportsIndex | slice | str) -> Any:
        if isinstance(key, str):
            return tuple.__getitem__(self, self.names[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self.names)


def _row_factory(cursor: psycopg.Cursor[Row]) -> psycopg.rows.RowMaker[Row]:
    names = {d.name: i for i, d in enumerate(cursor.description or ())}
    kind = type("Row", (Row,), {"names": names, "__slots__": ()})

    def make(values: Sequence[object]) -> Row:
        row: Row = kind(values)
        return row

    return make


_PLACEHOLDER = re.compile(r"\?")


def to_pyformat(sql: str) -> str:
    """``?`` placeholders as psycopg's ``%s`` (a literal ``%`` doubled first)."""
    return _PLACEHOLDER.sub("%s", sql.replace("%", "%%"))


class PostgresDb:
    """A psycopg connection in autocommit mode: each statement stands alone unless it runs
    inside ``tx()`` (an idle connection never holds a transaction open). Thread-safe the
    way the store uses it: one thread at a time, guarded by ``lock``."""

    dialect = "postgresql"

    def __init__(self, url: str, *, application_name: str = "agents-tui") -> None:
        import psycopg

        self.url = url
        self.conn: psycopg.Connection[Row] = psycopg.connect(
            plain_url(url),
            autocommit=True,
            application_name=application_name,
            row_factory=_row_factory,
        )
        self.lock = threading.RLock()
        self._sql: dict[str, str] = {}

    def execute(self, sql: str, args: Sequence[Param] = ()) -> Cursor:
        text = self._sql.get(sql)
        if text is None:
            text = self._sql[sql] = to_pyformat(sql)
        with self.lock:
            cursor: Cursor = self.conn.execute(text, tuple(args), prepare=False)
            return cursor

    def executescript(self, sql: str) -> None:
        with self.lock:
            self.conn.execute(sql.encode())

    @contextmanager
    def tx(self) -> Iterator[PostgresDb]:
        with self.lock, self.conn.transaction():
            yield self

    def has_table(self, name: str) -> bool:
        row = self.execute("SELECT to_regclass(?) IS NOT NULL", (name,)).fetchone()
        return bool(row[0])

    def close(self) -> None:
        self.conn.close()


def connect_postgres(url: str, *, application_name: str = "agents-tui") -> PostgresDb:
    """A connection to the PostgreSQL database at ``url``, or one clear line saying why not."""
    import psycopg

    try:
        return PostgresDb(url, application_name=application_name)
    except psycopg.Error as problem:
        first = str(problem).strip().splitlines()[0] if str(problem).strip() else type(problem)
        raise DatabaseError(f"cannot reach {redacted_url(url)}: {first}") from None
