"""One small connection interface (``Db``) over SQLite (``sqlite3``) and PostgreSQL
(``psycopg``), so the store's SQL is written once, with ``?`` placeholders and the upsert
syntax both databases share (``INSERT ... ON CONFLICT``, ``RETURNING``); rows read by key
(``row["reply"]``) or by position (``row[0]``) on either. Also what a URL says: whether it
names a PostgreSQL database (``is_postgres``), its libpq form and its form for messages
(the password left out), and the one error a person sees when the database cannot be used.
"""

from __future__ import annotations

import contextlib
import logging
import re
import sqlite3
import threading
import time
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


# libpq's connection parameters whose value is a secret (``passfile``, ``sslkey`` and the
# other files are paths, not secrets): https://www.postgresql.org/docs/current/libpq-connect.html
SECRET_PARAMS = frozenset({"password", "sslpassword", "oauth_client_secret"})
HIDDEN = "***"
_DB_URL = re.compile(r"postgres(?:ql)?(?:\+psycopg)?://[^\s'\"]*", re.IGNORECASE)
_CONNINFO_SECRET = re.compile(
    r"(?<![\w.])(?P<key>" + "|".join(sorted(SECRET_PARAMS)) + r")(?P<eq>\s*=\s*)"
    r"(?P<value>'(?:[^'\\]|\\.)*'?|[^\s']*)",
    re.IGNORECASE,
)


_PARAM = re.compile(r"(?P<lead>[?&])(?P<key>[^=&?]*)=(?P<value>[^&]*)")


def _parts(url: str) -> tuple[str, str | None, str | None, str]:
    """``(scheme://, user, password, the rest)``. The user-info ends at the first ``@``
    when no ``/`` comes before it (libpq's reading) or no ``?`` does (a password with an
    unencoded ``/``): either way a password is found where any reader would take one."""
    scheme, _, tail = url.partition("://")
    at, slash, query = tail.find("@"), tail.find("/"), tail.find("?")
    if at < 0 or (0 <= slash < at and 0 <= query < at):
        return scheme + "://", None, None, tail
    user, colon, password = tail[:at].partition(":")
    return scheme + "://", user, password if colon else None, tail[at + 1 :]


def _is_secret(key: str) -> bool:
    from urllib.parse import unquote

    return unquote(key).strip().lower() in SECRET_PARAMS


def url_secrets(url: str) -> list[str]:
    """Every secret a database URL (or a ``key=value`` connection string) carries, as
    written and percent-decoded: its password and its secret parameters' values."""
    from urllib.parse import unquote

    found: list[str] = []
    if "://" in url:
        _, _, password, _ = _parts(url)
        found += [password] if password else []
        found += [m["value"] for m in _PARAM.finditer(url) if _is_secret(m["key"]) and m["value"]]
    else:
        found += [m["value"].strip("'") for m in _CONNINFO_SECRET.finditer(url) if m["value"]]
    return [*found, *(unquote(v) for v in found if unquote(v) != v)]


def redacted_url(url: str) -> str:
    """A database URL without its secrets, for messages and logs: the password of its
    user-info (an empty user too: ``postgresql://:pw@host/db``) and the values of its
    secret parameters (``?password=``, ``&sslpassword=``, percent-encoded keys too) become
    ``***``; a ``key=value`` connection string loses its ``password=...`` the same way.
    The one redaction of a database URL: every message that shows one uses it."""
    if "://" not in url:
        return _CONNINFO_SECRET.sub(lambda m: m["key"] + m["eq"] + HIDDEN, url)
    scheme, user, password, rest = _parts(url)
    info = "" if user is None else user + ("" if password is None else ":" + HIDDEN) + "@"
    return _PARAM.sub(
        lambda m: m["lead"] + m["key"] + "=" + HIDDEN if _is_secret(m["key"]) else m[0],
        scheme + info + rest,
    )


def redacted_message(text: str, url: str | None = None) -> str:
    """``text`` (a psycopg error, an argparse error) with every database URL in it shown by
    ``redacted_url`` and the secrets of ``url`` hidden wherever the text quotes them
    (libpq echoes a bad part of a URL: ``invalid percent-encoded token: "pa%zz"``); then
    ``tui.core.secrets.redact`` (the secrets this process knows)."""
    from tui.core.secrets import redact

    if url:
        secrets = sorted(url_secrets(url), key=len, reverse=True)
        text = text.replace(url, redacted_url(url)).replace(plain_url(url), redacted_url(url))
        for quoted in set(re.findall(r'"[^"\n]*"', text)):
            if any(secret in quoted for secret in secrets):
                text = text.replace(quoted, '"' + HIDDEN + '"')
        for secret in secrets:
            if len(secret) >= 4:
                text = text.replace(secret, HIDDEN)
    text = _DB_URL.sub(lambda m: redacted_url(m.group(0)), text)
    return redact(text)


def remember_url(url: str | None) -> None:
    """The secrets of a database URL, kept by ``tui.core.secrets`` so that every log line
    (``RedactingFilter``) and message hides them."""
    from tui.core.secrets import remember

    if url:
        remember(*url_secrets(url))


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


class StoreUnavailable(DatabaseError):
    """The database does not answer now (stopped, restarting, out of reach): nothing was
    done, try again shortly. The connection is reopened by the next use that finds the
    database back. Its message names no address or error detail (a client may read it)."""

    def __init__(self, message: str = "the store's database does not answer") -> None:
        super().__init__(message)


RECONNECT_S = 0.5  # a lost connection is tried again this often until it reopens
CONNECT_TIMEOUT_S = 3  # one attempt to reach the server waits at most this long
# A server gone silent (a cut network: no reset, no goodbye) is found within ~15 s, not the
# kernel's minutes: TCP keepalives on an idle connection, a bound on unacknowledged sends.
KEEPALIVES = (
    "keepalives=1 keepalives_idle=5 keepalives_interval=2 keepalives_count=3 tcp_user_timeout=15000"
)


def conninfo(url: str) -> str:
    """The libpq connection string of ``url`` with ``KEEPALIVES`` (a URL's own settings
    of them win)."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    given = conninfo_to_dict(plain_url(url))
    extra = dict(pair.split("=") for pair in KEEPALIVES.split())
    return make_conninfo("", **{**extra, **given})


log = logging.getLogger("agents_tui.postgres")


def unreachable(problem: BaseException) -> bool:
    """Whether an error (psycopg's, or SQLAlchemy's around one) says the server is out of
    reach (it cannot be connected to, it shut down, the connection was lost), not that a
    statement was wrong."""
    import psycopg

    if isinstance(problem, StoreUnavailable) or getattr(problem, "connection_invalidated", False):
        return True
    cause = getattr(problem, "orig", None) or problem
    if isinstance(cause, psycopg.InterfaceError | OSError):
        return True
    if isinstance(cause, psycopg.OperationalError):
        state = cause.sqlstate or ""
        return not state or state.startswith(("08", "57P"))  # connection, shutdown
    return False


class PostgresDb:
    """A psycopg connection in autocommit mode: each statement stands alone unless it runs
    inside ``tx()`` (an idle connection never holds a transaction open). Thread-safe the
    way the store uses it: one thread at a time, guarded by ``lock``.

    It survives the server: a connection the server closed (a restart, ``pg_ctl stop``)
    is seen before the next statement (its socket readable while idle) and opened again;
    while the server is away every use raises ``StoreUnavailable`` at once, so that callers
    answer "try again", and a thread reconnects as soon as the server is back (``usable``).
    ``generation`` counts the connections opened (a lease names its backend anew). A
    connection only worker threads use (``attempt_on_use``: the model's memory) is also
    tried again by a use that finds it down, so its first use after the server is back
    works; one such attempt at a time, the other uses meanwhile answer ``StoreUnavailable``
    at once (a server out of reach holds no more than one thread)."""

    dialect = "postgresql"

    def __init__(
        self, url: str, *, application_name: str = "agents-tui", attempt_on_use: bool = False
    ) -> None:
        self.url = url
        self.application_name = application_name
        self.attempt_on_use = attempt_on_use
        self.lock = threading.RLock()
        self._sql: dict[str, str] = {}
        self.down_since: float | None = None  # when the connection was lost, if it is
        self._reopening: threading.Thread | None = None  # trying to reconnect
        self._closed = False
        self._attempting = threading.Lock()  # a use of an ``attempt_on_use`` one reconnects
        self.conn: psycopg.Connection[Row] = self._open()
        self.generation = 1

    def _open(self) -> psycopg.Connection[Row]:
        import psycopg

        conn = psycopg.connect(
            conninfo(self.url),
            autocommit=True,
            application_name=self.application_name,
            row_factory=_row_factory,
            connect_timeout=CONNECT_TIMEOUT_S,
        )
        return conn

    def _dropped(self, conn: psycopg.Connection[Row]) -> bool:
        """The connection is closed, broken, or its socket is readable while it is idle
        and holds no transaction: the server said goodbye (``terminating connection``) or
        hung up. Checked without a round trip."""
        import select

        from psycopg.pq import TransactionStatus

        if conn.closed or conn.broken:
            return True
        if conn.info.transaction_status != TransactionStatus.IDLE:
            return False
        try:
            readable, _, _ = select.select([conn.pgconn.socket], [], [], 0)
        except Exception:  # no socket: closed meanwhile
            return True
        return bool(readable)

    def usable(self) -> psycopg.Connection[Row]:
        """The connection, opened again if the server dropped it; ``StoreUnavailable``
        while the server is away. Call it holding ``lock``. Only the first use that finds
        the connection dropped tries to open it again at once (most often the server
        restarted and is back); after that a thread of its own tries every
        ``RECONNECT_S`` (``_reopen_soon``): no caller, the event loop among them, waits on
        an attempt (a server out of reach makes each one wait ``CONNECT_TIMEOUT_S``)."""
        conn = self.conn
        if self.down_since is None and not self._dropped(conn):
            return conn
        if self.down_since is None:
            self._lose(None)
            with contextlib.suppress(Exception):
                return self._install(self._open())
        self._reopen_soon()
        raise StoreUnavailable()

    def _install(self, conn: psycopg.Connection[Row]) -> psycopg.Connection[Row]:
        """A new connection in place of the lost one (holding ``lock``)."""
        away = time.monotonic() - (self.down_since or time.monotonic())
        self.conn, self.down_since = conn, None
        self.generation += 1
        log.warning("%s reconnected to the database (away %.1f s)", self.application_name, away)
        return conn

    def _reopen_soon(self) -> None:
        if self._reopening is None or not self._reopening.is_alive():
            self._reopening = threading.Thread(
                target=self._reopen, name="agents-tui-reconnect", daemon=True
            )
            self._reopening.start()

    def _reopen(self) -> None:
        while not self._closed:
            try:
                conn = self._open()
            except Exception:
                time.sleep(RECONNECT_S)
                continue
            with self.lock:
                if self._closed or self.down_since is None:
                    conn.close()
                else:
                    self._install(conn)
            return

    def reachable(self) -> bool:
        """The connection works or could be opened again now (no round trip when it is
        up)."""
        with self.lock:
            try:
                self.usable()
            except StoreUnavailable:
                return False
            return True

    def _lose(self, problem: BaseException | None) -> StoreUnavailable:
        """The connection is gone: closed, logged once (until it is back)."""
        if self.down_since is None:
            self.down_since = time.monotonic()
            detail = str(problem).strip().splitlines()[0] if problem and str(problem) else ""
            log.warning(
                "%s lost its database connection%s; it reconnects when the database is back",
                self.application_name,
                f" ({redacted_message(detail, self.url)})" if detail else "",
            )
        with contextlib.suppress(Exception):
            self.conn.close()
        return StoreUnavailable()

    def _attempt(self) -> None:
        """An attempt to reopen the lost connection now, unless another is under way."""
        if not self._attempting.acquire(blocking=False):
            return
        try:
            conn = self._open()
        except Exception:
            return
        finally:
            self._attempting.release()
        with self.lock:
            if self._closed or self.down_since is None:
                conn.close()
            else:
                self._install(conn)

    def execute(self, sql: str, args: Sequence[Param] = ()) -> Cursor:
        if self.attempt_on_use and self.down_since is not None:
            self._attempt()
        text = self._sql.get(sql)
        if text is None:
            text = self._sql[sql] = to_pyformat(sql)
        with self.lock:
            conn = self.usable()
            try:
                cursor: Cursor = conn.execute(text, tuple(args), prepare=False)
            except Exception as problem:
                if conn.broken or conn.closed or unreachable(problem):
                    raise self._lose(problem) from None
                raise
            return cursor

    def executescript(self, sql: str) -> None:
        self.execute_raw(sql.encode())

    def execute_raw(self, sql: bytes) -> None:
        with self.lock:
            conn = self.usable()
            try:
                conn.execute(sql)
            except Exception as problem:
                if conn.broken or conn.closed or unreachable(problem):
                    raise self._lose(problem) from None
                raise

    @contextmanager
    def tx(self) -> Iterator[PostgresDb]:
        with self.lock:
            conn = self.usable()
            try:
                with conn.transaction():
                    yield self
            except StoreUnavailable:
                raise
            except Exception as problem:
                if conn.broken or conn.closed or unreachable(problem):
                    raise self._lose(problem) from None
                raise

    def has_table(self, name: str) -> bool:
        row = self.execute("SELECT to_regclass(?) IS NOT NULL", (name,)).fetchone()
        return bool(row[0])

    def close(self) -> None:
        self._closed = True
        with contextlib.suppress(Exception):
            self.conn.close()


def connect_postgres(
    url: str, *, application_name: str = "agents-tui", attempt_on_use: bool = False
) -> PostgresDb:
    """A connection to the PostgreSQL database at ``url`` (which reconnects by itself once
    open: ``PostgresDb``), or one clear line saying why not."""
    import psycopg

    remember_url(url)
    try:
        return PostgresDb(url, application_name=application_name, attempt_on_use=attempt_on_use)
    except psycopg.Error as problem:
        text = str(problem).strip()
        first = redacted_message(text.splitlines()[0], url) if text else type(problem).__name__
        raise DatabaseError(f"cannot reach {redacted_url(url)}: {first}") from None
