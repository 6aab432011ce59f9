"""Which process owns a running turn: an instance id with a heartbeat, never a PID. A turn
row names the *instance* that runs it (a random id made when the process first opens the
store), alive while, on this machine, it holds an exclusive ``flock`` on its lock file
beside the store (the kernel drops the lock the moment the process dies, whatever its PID:
a container's PID 1 killed and restarted as PID 1 again), or, anywhere (another machine on
a shared PostgreSQL; a lock file not visible here), while its row in ``leases`` was renewed
less than ``ttl_s`` ago; the old rule ("the owner PID is dead") never fired in a container.
``Lease`` is the SQLite store's; ``PgLease`` the PostgreSQL store's, whose row also names
its database connection (``pg_stat_activity``: a process killed with ``kill -9`` loses its
connection at once, so survivors see it gone on their next sweep, not only when the TTL
runs out) and whose sweep also lets go of what a gone process held (queue tickets,
approvals asked, old events). It is renewed only while the process's store reaches the
database (a process that cannot stops claiming its turns), and a server that restarted,
knowing none of the old connections, counts every lease alive for one TTL while its
process reconnects (``ALIVE``).
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import inspect
import logging
import os
import socket
import sqlite3
import threading
import time
import uuid
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from tui.core.store.db import Db, StoreUnavailable, connect_postgres, redacted_message
from tui.core.store.pg_coordination import notify

if TYPE_CHECKING:
    from tui.core.store.reads import TurnRow

LEASE_TTL_S = 30.0  # a lease not renewed for this long has expired
HEARTBEAT_S = 5.0  # how often a live instance renews it
PG_LEASE_TTL_S = 10.0  # on PostgreSQL (the bound: 15)
EVENTS_KEPT_S = 3600.0  # a finished turn's events stay this long for late followers
# (db, alive) -> the turns recovered (tui.core.store.base.recover_crashed_turns)
Recover = Callable[[Db, Callable[[Db, str | None], bool]], list["TurnRow"]]

log = logging.getLogger("agents_tui.postgres")

LEASE_SCHEMA = """
CREATE TABLE IF NOT EXISTS leases (
    instance_id TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    started_at REAL NOT NULL,
    heartbeat_at REAL NOT NULL
);
"""


def lock_dir(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".owners")


class Lease:
    """This process's claim on the turns it runs, renewed by a daemon thread."""

    def __init__(
        self,
        db_path: Path,
        *,
        ttl_s: float = LEASE_TTL_S,
        heartbeat_s: float = HEARTBEAT_S,
        on_beat: Callable[[], None] | None = None,
    ) -> None:
        self.db_path = db_path
        self.instance_id = uuid.uuid4().hex
        self.ttl_s = ttl_s
        self.heartbeat_s = heartbeat_s
        self.on_beat = on_beat  # the store's sweep for turns whose owner has gone
        self.pid = os.getpid()
        folder = lock_dir(db_path)
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.lock_path = folder / f"{self.instance_id}.lock"
        self._lock = self.lock_path.open("w")
        fcntl.flock(self._lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._stop = threading.Event()
        self._users: weakref.WeakSet[object] = weakref.WeakSet()  # the stores that use it
        self._write(renew=False)
        self.renewed_at = time.monotonic()
        self._thread = threading.Thread(target=self._beat, name="agents-tui-lease", daemon=True)
        self._thread.start()

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.db_path, timeout=10)
        db.execute("PRAGMA journal_mode=WAL")
        return db

    def _write(self, *, renew: bool) -> None:
        now = time.time()
        with contextlib.closing(self._connect()) as db, db:
            if renew:
                db.execute(
                    "UPDATE leases SET heartbeat_at = ? WHERE instance_id = ?",
                    (now, self.instance_id),
                )
            else:
                db.executescript(LEASE_SCHEMA)
                db.execute(
                    "INSERT OR REPLACE INTO leases(instance_id, host, pid, started_at,"
                    " heartbeat_at) VALUES (?, ?, ?, ?, ?)",
                    (self.instance_id, socket.gethostname(), self.pid, now, now),
                )

    def attach(self, user: object) -> None:
        self._users.add(user)

    def detach(self, user: object) -> None:
        self._users.discard(user)

    def alive(self, db: Db, owner: str | None) -> bool:
        """Whether the instance ``owner`` still runs (see the module's rule)."""
        return alive(db, self.db_path, owner, self.ttl_s)

    def _beat(self) -> None:
        while not self._stop.wait(self.heartbeat_s):
            with _GUARD:
                unused = not self._users  # every store on this file was closed or dropped
                if unused and _LEASES.get(self.db_path) is self:
                    del _LEASES[self.db_path]
            if unused:
                self.release()
                return
            try:
                self._write(renew=True)
                self.renewed_at = time.monotonic()
                if self.on_beat is not None:
                    self.on_beat()
            except sqlite3.Error:
                continue  # busy or briefly unavailable: the next beat tries again

    def held(self) -> bool:
        """Renewed less than its time to live ago, and not released (``/readyz``)."""
        return not self._stop.is_set() and time.monotonic() - self.renewed_at < self.ttl_s

    def release(self) -> None:
        """A clean exit: the lease row and the lock file go."""
        self._stop.set()
        with contextlib.suppress(sqlite3.Error), contextlib.closing(self._connect()) as db, db:
            db.execute("DELETE FROM leases WHERE instance_id = ?", (self.instance_id,))
        with contextlib.suppress(OSError):
            self.lock_path.unlink()
            self._lock.close()


def sqlite_alive(db_path: Path, db: Db, owner: str | None) -> bool:
    """``alive`` with the TTL in force (the lease thread's sweep)."""
    return alive(db, db_path, owner, float(os.environ.get("AGENTS_TUI_LEASE_TTL", LEASE_TTL_S)))


def alive(db: Db, db_path: Path, owner: str | None, ttl_s: float) -> bool:
    """Whether the instance ``owner`` still runs (see the module's rule)."""
    if not owner:
        return False  # a turn from before leases (it named a PID): its owner is gone
    mine = _LEASES.get(db_path.resolve())
    if mine is not None and mine.instance_id == owner and mine.pid == os.getpid():
        return True
    lock_path = lock_dir(db_path) / f"{owner}.lock"
    try:
        handle = lock_path.open("r")
    except FileNotFoundError:
        handle = None
    if handle is not None:
        with handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True  # held: the process lives
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        with contextlib.suppress(OSError):
            lock_path.unlink()
        return False  # the kernel let go of it: the process is gone
    row = db.execute("SELECT heartbeat_at FROM leases WHERE instance_id = ?", (owner,)).fetchone()
    return row is not None and time.time() - float(row[0]) < ttl_s


_LEASES: dict[Path, Lease] = {}
_GUARD = threading.Lock()


def lease_for(db_path: Path, user: object, on_beat: Callable[[], None] | None = None) -> Lease:
    """One lease per process and store file (a forked child makes its own), held while
    ``user`` (a store) is open."""
    key = db_path.resolve()
    with _GUARD:
        lease = _LEASES.get(key)
        if lease is None or lease.pid != os.getpid():
            ttl = float(os.environ.get("AGENTS_TUI_LEASE_TTL", LEASE_TTL_S))
            lease = Lease(key, ttl_s=ttl, heartbeat_s=min(HEARTBEAT_S, ttl / 3), on_beat=on_beat)
            if not _LEASES:
                atexit.register(release_all)
            _LEASES[key] = lease
        lease.attach(user)
        return lease


def release_all() -> None:
    with _GUARD:
        for lease in _LEASES.values():
            if lease.pid == os.getpid():
                lease.release()
        _LEASES.clear()


# --- PostgreSQL -----------------------------------------------------------------------
# An instance is alive while its lease was renewed less than ``ttl`` ago over a connection
# that still exists (a process killed with ``kill -9`` loses its connection at once). A
# server that started less than ``ttl`` ago holds no connection of before: every lease
# then counts as alive for that long, the time its process takes to reconnect and renew
# it (after a restart, no survivor takes over turns whose process is alive and only lost
# the database for a while).
ALIVE = (
    "EXISTS (SELECT 1 FROM leases l WHERE l.instance_id = {owner}"
    " AND (extract(epoch FROM clock_timestamp() - pg_postmaster_start_time()) < {ttl}"
    " OR (l.heartbeat_at > extract(epoch FROM clock_timestamp()) - {ttl}"
    " AND (l.backend_pid IS NULL OR EXISTS"
    " (SELECT 1 FROM pg_stat_activity a WHERE a.pid = l.backend_pid)))))"
)


def alive_sql(owner: str, ttl_s: float) -> str:
    """``ALIVE`` for the owner expression ``owner`` (``?``, or a column) and a lease's time
    to live (a number: written into the SQL, as ``%r`` of a float)."""
    return ALIVE.format(owner=owner, ttl=repr(float(ttl_s)))


class PgLease:
    """This process's claim on what it runs (turns, queue tickets, approvals asked),
    renewed by a daemon thread every ``ttl_s / 5`` on its own connection (which reconnects
    by itself: ``PostgresDb``) only while the stores that hold it reach the database: a
    process that cannot reach it stops renewing its lease, so that a survivor takes over
    its turns."""

    def __init__(self, url: str, *, ttl_s: float, recover: Recover) -> None:
        self.url = url
        self.recover = recover
        self.ttl_s = ttl_s
        self.heartbeat_s = max(0.2, ttl_s / 5)
        self.instance_id = uuid.uuid4().hex
        self.pid = os.getpid()
        # id(store) -> its ``reachable`` (weakly: a store dropped unclosed counts no more)
        self._users: dict[int, Callable[[], Callable[[], bool] | None]] = {}
        self._stop = threading.Event()
        self._db = connect_postgres(
            url, application_name=f"agents-tui lease {self.instance_id[:8]}"
        )
        self._generation = 0
        self._unrenewed_since: float | None = None  # said once, until renewed again
        self._renew()
        self._thread = threading.Thread(target=self._beat, name="agents-tui-pg-lease", daemon=True)
        self._thread.start()

    def attach(self, user: object) -> None:
        reachable = getattr(user, "reachable", None)
        if inspect.ismethod(reachable):
            self._users[id(user)] = weakref.WeakMethod(reachable)
        else:
            self._users[id(user)] = lambda: reachable if callable(reachable) else None

    def _reached(self) -> bool:
        """Every store holding the lease reaches the database (each may reconnect)."""
        for method in list(self._users.values()):
            reachable = method()
            if reachable is not None and not reachable():
                return False
        return True

    def detach(self, user: object) -> None:
        self._users.pop(id(user), None)
        if not self._users:
            self.release()

    def alive(self, db: Db, owner: str | None) -> bool:
        if not owner:
            return False
        if owner == self.instance_id and self.pid == os.getpid():
            return True
        row = db.execute(f"SELECT {alive_sql('?', self.ttl_s)}", (owner,)).fetchone()
        return bool(row[0])

    def _renew(self) -> None:
        """The lease's row written (again, if a survivor deleted it meanwhile), naming this
        connection's backend whenever the connection is new."""
        db = self._db
        with db.lock:
            db.usable()  # reconnected first if need be: ``generation`` says which
            if db.generation == self._generation:
                updated = db.execute(
                    "UPDATE leases SET heartbeat_at = extract(epoch FROM clock_timestamp())"
                    " WHERE instance_id = ?",
                    (self.instance_id,),
                ).rowcount
                if updated:
                    self.renewed_at = time.monotonic()
                    return
            generation = db.generation
            db.execute(
                "INSERT INTO leases(instance_id, host, pid, backend_pid, started_at,"
                " heartbeat_at) VALUES (?, ?, ?, pg_backend_pid(),"
                " extract(epoch FROM clock_timestamp()), extract(epoch FROM clock_timestamp()))"
                " ON CONFLICT (instance_id) DO UPDATE SET backend_pid = excluded.backend_pid,"
                " heartbeat_at = excluded.heartbeat_at",
                (self.instance_id, socket.gethostname(), self.pid),
            )
            self._generation = generation
            self.renewed_at = time.monotonic()

    def _beat(self) -> None:
        while not self._stop.wait(self.heartbeat_s):
            try:
                if not self._reached():
                    raise StoreUnavailable("the store's connection does not reach the database")
                self._renew()
                self.sweep()
            except Exception as problem:  # the next beat tries again
                if self._unrenewed_since is None:
                    self._unrenewed_since = time.monotonic()
                    log.warning(
                        "the lease is not renewed: %s",
                        redacted_message((str(problem).strip().splitlines() or [""])[0], self.url),
                    )
                continue
            if self._unrenewed_since is not None:
                log.warning(
                    "the lease is renewed again (after %.1f s)",
                    time.monotonic() - self._unrenewed_since,
                )
                self._unrenewed_since = None

    def held(self) -> bool:
        """Renewed less than its time to live ago, and not released (``/readyz``): a
        process whose lease lapsed may see its turns taken over by another."""
        return not self._stop.is_set() and time.monotonic() - self.renewed_at < self.ttl_s

    def sweep(self) -> list[TurnRow]:
        """What a process that has gone left behind: its running turns become
        ``interrupted`` (their partial reply joins the memory), its queue tickets and
        approvals asked are let go of, its lease row deleted. Old turns' events go."""
        db = self._db
        found = self.recover(db, self.alive)
        gone = alive_sql("{table}.owner", self.ttl_s)
        for table in ("turn_queue", "pending_approvals"):
            removed = db.execute(
                f"DELETE FROM {table} WHERE NOT {gone.format(table=table)}"
                f" AND {table}.owner != ? RETURNING session_id",
                (self.instance_id,),
            ).fetchall()
            for (session_id,) in removed:
                notify(db, {"op": "queue", "session": session_id})
        db.execute(
            "DELETE FROM leases WHERE heartbeat_at < extract(epoch FROM clock_timestamp()) - ?"
            " AND extract(epoch FROM clock_timestamp() - pg_postmaster_start_time()) >= ?",
            (max(self.ttl_s * 6, 60.0), self.ttl_s),
        )
        db.execute(
            "DELETE FROM turn_events WHERE turn_id IN (SELECT id FROM turns WHERE"
            " finished_at IS NOT NULL AND finished_at < extract(epoch FROM now()) - ?)",
            (EVENTS_KEPT_S,),
        )
        for turn in found:
            notify(db, {"op": "ended", "session": turn.conversation_id, "turn": turn.id})
        return found

    def release(self) -> None:
        if self._stop.is_set():
            return
        self._stop.set()
        with contextlib.suppress(Exception):
            self._db.execute("DELETE FROM turn_queue WHERE owner = ?", (self.instance_id,))
            self._db.execute("DELETE FROM leases WHERE instance_id = ?", (self.instance_id,))
        self._db.close()


_PG_LEASES: dict[str, PgLease] = {}


def pg_lease_for(url: str, user: object, recover: Recover) -> PgLease:
    """One lease per process and database, held while ``user`` (a store) is open."""
    with _GUARD:
        lease = _PG_LEASES.get(url)
        if lease is None or lease.pid != os.getpid() or lease._stop.is_set():
            ttl = float(os.environ.get("AGENTS_TUI_LEASE_TTL", PG_LEASE_TTL_S))
            lease = PgLease(url, ttl_s=ttl, recover=recover)
            _PG_LEASES[url] = lease
        lease.attach(user)
        return lease
