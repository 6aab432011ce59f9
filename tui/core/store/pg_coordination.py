"""The store's coordination on PostgreSQL (``tui.core.store.coordination``'s interface),
shared by any number of processes on any machines: the queue of prompts per session is the
``turn_queue`` table (a prompt takes a ticket when it arrives and runs when its ticket is
the session's oldest, whatever process holds it); ``NOTIFY agents_tui`` carries cancels,
approval answers, queue moves and new events to every process within milliseconds
(``Listener``, on its own connection and thread); ``pending_approvals`` says which process
asked; ``turn_events`` keeps every turn's protocol events with their ids, so a client can
follow a turn another process runs and resume after a reconnect (``Last-Event-ID``); and
the ``Writer`` thread writes those events and the partial replies of running turns off the
event loop, every 0.1 s.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable

from tui.core.store.coordination import (
    Coordination,
    EventRow,
    Followed,
    Handler,
    JsonObject,
    Listening,
)
from tui.core.store.db import (
    CONNECT_TIMEOUT_S,
    Db,
    PostgresDb,
    StoreUnavailable,
    connect_postgres,
    conninfo,
    redacted_message,
)

CHANNEL = "agents_tui"
END = ""  # the body of the row that says a turn's events are complete
POLL_S = 0.2  # how often a follower of another process's turn reads them
STALE_S = 1.0  # a turn ended in the store with no end row for this long: ended anyway

log = logging.getLogger("agents_tui.postgres")


def notify(db: Db, payload: JsonObject) -> None:
    db.execute("SELECT pg_notify(?, ?)", (CHANNEL, json.dumps(payload)))


class Listener:
    """``LISTEN agents_tui`` on its own connection and thread; each notification's JSON is
    handed to ``handle`` on the event loop that started the listener."""

    def __init__(self, url: str, handle: Handler) -> None:
        self.url = url
        self.handle = handle
        self.loop = asyncio.get_running_loop()
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="agents-tui-listen", daemon=True)
        self._thread.start()
        self._ready.wait(10)

    def _run(self) -> None:
        import psycopg

        away_since: float | None = None  # said once an outage, and when it is back
        while not self._stop.is_set():
            try:
                with psycopg.connect(
                    conninfo(self.url),
                    autocommit=True,
                    application_name="agents-tui listen",
                    connect_timeout=CONNECT_TIMEOUT_S,
                ) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self._ready.set()
                    if away_since is not None:
                        log.warning(
                            "listening for notifications again (away %.1f s)",
                            time.monotonic() - away_since,
                        )
                        away_since = None
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=0.5):
                            try:
                                payload = json.loads(note.payload)
                            except ValueError:
                                continue
                            self.loop.call_soon_threadsafe(self._deliver, payload)
            except Exception as problem:
                if self._stop.is_set():
                    return
                if away_since is None:
                    away_since = time.monotonic()
                    log.warning(
                        "listening for notifications failed: %s; trying again every 0.5 s",
                        redacted_message((str(problem).strip().splitlines() or [""])[0], self.url),
                    )
                self._ready.set()
                time.sleep(0.5)

    def _deliver(self, payload: JsonObject) -> None:
        try:
            self.handle(payload)
        except Exception:
            log.exception("a notification could not be handled")

    def close(self) -> None:
        self._stop.set()


WRITE_S = 0.1  # how often the writer thread writes what waits
MAX_KEPT_EVENTS = 200_000  # events kept for followers while the database is away


class Writer:
    """What can wait a moment, written by its own thread and connection every ``WRITE_S``:
    the turns' events for followers (one COPY) and the partial replies of running turns
    (one UPDATE for all of them), so that the event loop never waits on these round trips
    (a partial save a stream every 0.25 s was 800 blocking UPDATEs a second at 200
    streams). A partial reply is written only while its turn still runs: the turn's end,
    written on the loop, is never overwritten by a late one.

    While the database is away nothing is lost: the events and partial replies wait (up
    to ``MAX_KEPT_EVENTS`` events), and so do the writes the store could not make
    (``later``: a turn's end, the model's memory, a queue ticket let go of), which are
    made in the order they came once the database is back. While any waits, the store's
    next such writes join them (``behind``), so that a queue ticket is never let go of
    before its turn's reply is stored."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._lock = threading.Lock()
        self._events: list[EventRow] = []
        self._partials: dict[int, str] = {}
        self._later: deque[tuple[str, Callable[[], None]]] = deque()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._db: PostgresDb | None = None
        self._away_since: float | None = None  # the first failed write of an outage

    def events(self, rows: list[EventRow]) -> None:
        """``(turn_id, seq, session_id, object or None for the end)`` rows."""
        with self._lock:
            self._events.extend(rows)
        self._running()

    def partial(self, turn_id: int, reply: str) -> None:
        with self._lock:
            self._partials[turn_id] = reply
        self._running()

    def forget(self, turn_id: int) -> None:
        with self._lock:
            self._partials.pop(turn_id, None)

    def later(self, what: str, write: Callable[[], None]) -> None:
        """``write`` (a store write that met ``StoreUnavailable``) made once the database
        is back, after every write that waits before it."""
        with self._lock:
            self._later.append((what, write))
        self._running()

    @property
    def behind(self) -> bool:
        """Writes wait for the database: the store's next ones join them."""
        return bool(self._later)

    def now_or_later(self, what: str, write: Callable[[], None]) -> None:
        """``write`` now, or (the database away, or writes waiting for it) ``later``."""
        if not self.behind:
            try:
                write()
                return
            except StoreUnavailable:
                pass
        self.later(what, write)

    def _running(self) -> None:
        if self._thread is None and not self._stop.is_set():
            self._thread = threading.Thread(target=self._run, name="agents-tui-writer", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(WRITE_S):
            self.flush()

    def flush(self) -> None:
        with self._lock:
            events, self._events = self._events, []
            partials, self._partials = self._partials, {}
        if events or partials:
            try:
                self._write(events, partials)
            except Exception as problem:  # the turns go on; their rows wait for the database
                self._keep(events, partials)
                self._away(problem)
                return
        self._catch_up()

    def _write(self, events: list[EventRow], partials: dict[int, str]) -> None:
        if self._db is None:
            self._db = connect_postgres(self.url, application_name="agents-tui writer")
        db = self._db
        with db.tx():
            conn = db.conn
            if partials:
                conn.execute(
                    "UPDATE turns SET reply = v.reply FROM (SELECT unnest(%s::bigint[]) AS id,"
                    " unnest(%s::text[]) AS reply) v WHERE turns.id = v.id"
                    " AND turns.status = 'running'",
                    (list(partials), list(partials.values())),
                )
            if events:
                copying = "COPY turn_events (turn_id, seq, session_id, body) FROM STDIN"
                with conn.cursor() as cursor, cursor.copy(copying) as copy:
                    for turn_id, seq, session_id, obj in events:
                        body = "" if obj is None else json.dumps(obj, ensure_ascii=False)
                        copy.write_row((turn_id, seq, session_id, body))

    def _keep(self, events: list[EventRow], partials: dict[int, str]) -> None:
        """What failed to be written waits for the next attempt, before what came since (a
        newer partial reply of a turn wins)."""
        with self._lock:
            self._events[:0] = events
            excess = len(self._events) - MAX_KEPT_EVENTS
            if excess > 0:
                del self._events[:excess]  # the oldest: followers of them read the stored end
            for turn_id, reply in partials.items():
                self._partials.setdefault(turn_id, reply)

    def _catch_up(self) -> None:
        """The writes that waited for the database, in order, while it takes them."""
        while True:
            with self._lock:
                if not self._later:
                    break
                what, write = self._later[0]
            try:
                write()
            except StoreUnavailable as problem:
                self._away(problem)
                return
            except Exception as problem:  # refused for good (the row is gone): not retried
                log.warning(
                    "a kept write (%s) was refused: %s",
                    what,
                    redacted_message((str(problem).strip().splitlines() or [""])[0], self.url),
                )
            with self._lock:
                self._later.popleft()
        if self._away_since is not None:
            log.warning(
                "the database is back after %.1f s: what waited for it is written",
                time.monotonic() - self._away_since,
            )
            self._away_since = None

    def _away(self, problem: Exception) -> None:
        """Said once an outage: what waits and why."""
        if self._away_since is not None:
            return
        self._away_since = time.monotonic()
        log.warning(
            "the database does not take writes (%s): %d events, %d partial replies and %d "
            "other writes wait for it",
            redacted_message((str(problem).strip().splitlines() or [""])[0], self.url),
            len(self._events),
            len(self._partials),
            len(self._later),
        )

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        self.flush()
        if self._later:
            log.warning(
                "%d writes kept while the database was away are lost: it is still away",
                len(self._later),
            )
        if self._db is not None:
            self._db.close()


class PostgresCoordination(Coordination):
    """The coordination of every process on one PostgreSQL database (see the module's
    docstring). Used on the event loop's thread, on the store's main connection; the
    lease says which process this is (``instance_id``)."""

    cross_process = True
    follow_poll_s = POLL_S

    def __init__(self, db: PostgresDb, instance_id: str) -> None:
        self.db = db
        self.instance_id = instance_id
        self.writer = Writer(db.url)

    # the queue: a ticket per prompt, the oldest ticket of a session runs
    def enqueue(self, session_id: str) -> tuple[int, int]:
        """A ticket for a prompt of ``session_id`` and how many wait ahead of it (one round
        trip: the rows before the new one are what the count sees)."""
        row = self.db.execute(
            "WITH t AS (INSERT INTO turn_queue(session_id, owner, enqueued_at)"
            " VALUES (?, ?, ?) RETURNING id)"
            " SELECT t.id, (SELECT count(*) FROM turn_queue q WHERE q.session_id = ?"
            " AND q.id < t.id) FROM t",
            (session_id, self.instance_id, time.time(), session_id),
        ).fetchone()
        return int(row[0]), int(row[1])

    def ahead(self, session_id: str, ticket: int) -> int:
        """While the database is away a waiting prompt keeps waiting (at least one ahead:
        the turn before it cannot let go of its ticket either)."""
        try:
            row = self.db.execute(
                "SELECT count(*) FROM turn_queue WHERE session_id = ? AND id < ?",
                (session_id, ticket),
            ).fetchone()
        except StoreUnavailable:
            return 1
        return int(row[0])

    def waiting(self, session_id: str) -> int:
        row = self.db.execute(
            "SELECT count(*) FROM turn_queue WHERE session_id = ?", (session_id,)
        ).fetchone()
        return int(row[0])

    def dequeue(self, session_id: str, ticket: int) -> None:
        """The ticket gone and every process told the queue moved (one round trip); once
        the database is back if it is away, after the writes of its turn that wait."""
        self.writer.now_or_later(
            "a queue ticket", functools.partial(self._dequeue, session_id, ticket)
        )

    def _dequeue(self, session_id: str, ticket: int) -> None:
        self.db.execute(
            "WITH d AS (DELETE FROM turn_queue WHERE id = ?) SELECT pg_notify(?, ?)",
            (ticket, CHANNEL, json.dumps({"op": "queue", "session": session_id})),
        )

    # approvals asked by the process running a turn, answered through any process (while
    # the database is away, once it is back)
    def ask(self, session_id: str, call_id: str) -> None:
        self.writer.now_or_later(
            "an approval asked", functools.partial(self._ask, session_id, call_id, time.time())
        )

    def _ask(self, session_id: str, call_id: str, at: float) -> None:
        self.db.execute(
            "INSERT INTO pending_approvals(session_id, call_id, owner, asked_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (session_id, call_id) DO UPDATE"
            " SET owner = excluded.owner, asked_at = excluded.asked_at",
            (session_id, call_id, self.instance_id, at),
        )

    def answered(self, session_id: str, call_id: str) -> None:
        self.writer.now_or_later(
            "an approval answered", functools.partial(self._answered, session_id, call_id)
        )

    def _answered(self, session_id: str, call_id: str) -> None:
        self.db.execute(
            "DELETE FROM pending_approvals WHERE session_id = ? AND call_id = ?",
            (session_id, call_id),
        )

    def asked(self, session_id: str, call_id: str) -> bool:
        row = self.db.execute(
            "SELECT 1 FROM pending_approvals WHERE session_id = ? AND call_id = ?",
            (session_id, call_id),
        ).fetchone()
        return row is not None

    def pending_approvals(self, session_id: str) -> int:
        row = self.db.execute(
            "SELECT count(*) FROM pending_approvals WHERE session_id = ?", (session_id,)
        ).fetchone()
        return int(row[0])

    def notify(self, payload: JsonObject) -> None:
        notify(self.db, payload)

    def listen(self, handle: Handler) -> Listening:
        return Listener(self.db.url, handle)

    # turns and their events
    def turn_started(self, session_id: str, turn_id: int) -> None:
        """Nothing to keep: the turn's row says it runs, to every process."""

    def save_partial(self, turn_id: int, reply: str) -> None:
        self.writer.partial(turn_id, reply)  # with the others, by the writer's thread

    def turn_ended(self, turn_id: int) -> None:
        self.writer.forget(turn_id)

    def record_events(self, rows: list[EventRow]) -> None:
        self.writer.events(rows)

    def close(self) -> None:
        self.writer.close()

    def running_turn(self, session_id: str) -> int | None:
        """The session's turn that runs (or waits for approval) now, in any process."""
        row = self.db.execute(
            "SELECT id FROM turns WHERE conversation_id = ?"
            " AND status IN ('running', 'awaiting_approval') ORDER BY id DESC LIMIT 1",
            (session_id,),
        ).fetchone()
        return int(row[0]) if row else None

    def _turn(self, session_id: str, turn_id: int) -> tuple[str, str] | None:
        """A turn's status and reply, if it is this session's."""
        row = self.db.execute(
            "SELECT status, reply FROM turns WHERE id = ? AND conversation_id = ?",
            (turn_id, session_id),
        ).fetchone()
        return (str(row[0]), str(row[1])) if row else None

    def next_turn(self, session_id: str, after: int) -> int | None:
        row = self.db.execute(
            "SELECT min(id) FROM turns WHERE conversation_id = ? AND id > ?", (session_id, after)
        ).fetchone()
        return int(row[0]) if row and row[0] is not None else None

    def _read_events(self, session_id: str, turn_id: int, after: int) -> list[tuple[int, str]]:
        """A turn's events after ``after``, if the turn is ``session_id``'s (an id naming
        another session's turn reads nothing)."""
        rows = self.db.execute(
            "SELECT seq, body FROM turn_events WHERE turn_id = ? AND session_id = ?"
            " AND seq > ? ORDER BY seq",
            (turn_id, session_id, after),
        ).fetchall()
        return [(int(seq), str(body)) for seq, body in rows]

    def follow_turn(
        self, session_id: str, turn_id: int, after: int, quiet_since: float | None
    ) -> Followed:
        """What the turn's process wrote to ``turn_events``; a turn that ended in the store
        and wrote nothing more for ``STALE_S`` (its process went away, or the end row is
        late) is told as it ended."""
        out: list[JsonObject] = []
        for _seq, body in self._read_events(session_id, turn_id, after):
            if body == END:
                return Followed(out, ended=True)
            out.append(json.loads(body))
        if out:
            return Followed(out)
        status = self._turn(session_id, turn_id)
        if status is None:
            return Followed(ended=True)
        if status[0] in ("running", "awaiting_approval"):
            return Followed()
        if quiet_since is None or time.monotonic() - quiet_since < STALE_S:
            return Followed()
        return Followed(ended=True, outcome=status)
