"""What the processes sharing a store tell each other, behind one interface
(``store.coordination``, never None): the queue of prompts per session (a ticket each, the
oldest runs), notifications (cancel, an approval's answer, a queue that moved) and a
listener for them, the approvals asked, the turn running now, the log of each turn's
events that a follower reads, and the partial replies written while a turn streams.
``InProcessCoordination`` is the one-process form a SQLite store uses: the same answers
from this process's own memory (a notification reaches this process's listeners; a partial
reply is written at once). ``tui.core.store.pg_coordination`` is PostgreSQL's, shared by
every process on the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from tui.core.store.db import Db

# A notification, or a turn's event for a follower: one JSON object ({"op": "queue",
# "session": ...}; the API's protocol objects), read by whoever sent it.
JsonObject = dict[str, object]
Handler = Callable[[JsonObject], None]
# (turn_id, seq, session_id, the event's object, or None for the row that ends the turn)
EventRow = tuple[int, int, str, JsonObject | None]
TurnOutcome = Callable[[str, int], tuple[str, str] | None]  # (session, turn) -> status, reply

log = logging.getLogger("agents_tui.store")


class Listening(Protocol):
    """A listener's handle: ``close()`` stops it."""

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Followed:
    """What a follower reads of a turn whose events this process does not hold: the events
    after the last one it saw, whether the turn's events are complete, and, for a turn
    that ended with no events left to read, how it ended (status, reply) to be told."""

    events: list[JsonObject] = field(default_factory=list)
    ended: bool = False
    outcome: tuple[str, str] | None = None


class Coordination(ABC):
    """The cross-process parts of a store (see the module's docstring)."""

    cross_process: bool  # other processes share it (PostgreSQL)
    follow_poll_s: float  # how often a follower waiting for a turn looks again

    # --- the queue: a ticket per prompt, the oldest ticket of a session runs -------------------
    @abstractmethod
    def enqueue(self, session_id: str) -> tuple[int, int]:
        """A ticket for a prompt of ``session_id`` and how many wait ahead of it."""

    @abstractmethod
    def ahead(self, session_id: str, ticket: int) -> int:
        """How many tickets of the session come before ``ticket``."""

    @abstractmethod
    def waiting(self, session_id: str) -> int:
        """The session's tickets (the running prompt's included)."""

    @abstractmethod
    def dequeue(self, session_id: str, ticket: int) -> None:
        """The ticket gone, and every listener told the session's queue moved."""

    # --- notifications -----------------------------------------------------------------------
    @abstractmethod
    def notify(self, payload: JsonObject) -> None:
        """``payload`` (JSON) to every listener, this process's included."""

    @abstractmethod
    def listen(self, handle: Handler) -> Listening:
        """``handle`` is called on the running event loop with each notification."""

    # --- approvals asked by the process running a turn, answered through any --------------
    @abstractmethod
    def ask(self, session_id: str, call_id: str) -> None: ...

    @abstractmethod
    def answered(self, session_id: str, call_id: str) -> None: ...

    @abstractmethod
    def asked(self, session_id: str, call_id: str) -> bool: ...

    @abstractmethod
    def pending_approvals(self, session_id: str) -> int: ...

    # --- turns, as the store writes them --------------------------------------------------------
    @abstractmethod
    def turn_started(self, session_id: str, turn_id: int) -> None:
        """The store started (or took up again) ``turn_id`` in this process."""

    @abstractmethod
    def save_partial(self, turn_id: int, reply: str) -> None:
        """The running turn's reply so far (never written over the turn's end)."""

    @abstractmethod
    def turn_ended(self, turn_id: int) -> None:
        """The turn ended or paused: no partial reply of it is written any more."""

    @abstractmethod
    def running_turn(self, session_id: str) -> int | None:
        """The session's turn running now (in any process that shares the store)."""

    @abstractmethod
    def next_turn(self, session_id: str, after: int) -> int | None:
        """The session's first turn after ``after`` that another process started."""

    # --- the turns' events, for followers ---------------------------------------------------
    @abstractmethod
    def record_events(self, rows: list[EventRow]) -> None:
        """A turn's events, kept for followers in other processes."""

    @abstractmethod
    def follow_turn(
        self, session_id: str, turn_id: int, after: int, quiet_since: float | None
    ) -> Followed:
        """The events of a turn this process does not hold, after ``after``;
        ``quiet_since``: since when (``time.monotonic()``) the follower read nothing."""

    @abstractmethod
    def close(self) -> None:
        """Write what waits and let go of what is held."""


class _LocalListener:
    def __init__(self, owner: InProcessCoordination, handle: Handler) -> None:
        self.owner = owner
        self.handle = handle
        try:
            self.loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:  # made outside a loop: told on the notifier's, or at once
            self.loop = None

    def tell(self, payload: JsonObject) -> None:
        loop = self.loop
        if loop is None:
            with contextlib.suppress(RuntimeError):
                loop = asyncio.get_running_loop()
        if loop is None:
            self.deliver(payload)
        else:
            loop.call_soon_threadsafe(self.deliver, payload)

    def deliver(self, payload: JsonObject) -> None:
        try:
            self.handle(payload)
        except Exception:
            log.exception("a notification could not be handled")

    def close(self) -> None:
        self.owner.listeners.discard(self)


class InProcessCoordination(Coordination):
    """One process has the store to itself: the queue, the approvals asked and the running
    turns are this process's, kept in memory; a notification reaches this process's
    listeners (on their event loop, as PostgreSQL's do); a partial reply is written at once
    on the store's connection; a turn's events are the API's own memory, so nothing else is
    kept, and a turn it does not hold is read from the store as it ended."""

    cross_process = False
    follow_poll_s = 15.0  # nothing to poll: this process wakes its followers itself

    def __init__(self, db: Db, outcome: TurnOutcome) -> None:
        self.db = db
        self.outcome = outcome
        self.listeners: set[_LocalListener] = set()
        self._tickets = itertools.count(1)
        self._queues: dict[str, list[int]] = {}
        self._asked: dict[str, set[str]] = {}
        self._running: dict[int, str] = {}  # turn id -> session id

    def enqueue(self, session_id: str) -> tuple[int, int]:
        ticket = next(self._tickets)
        queue = self._queues.setdefault(session_id, [])
        queue.append(ticket)
        return ticket, len(queue) - 1

    def ahead(self, session_id: str, ticket: int) -> int:
        return sum(1 for t in self._queues.get(session_id, ()) if t < ticket)

    def waiting(self, session_id: str) -> int:
        return len(self._queues.get(session_id, ()))

    def dequeue(self, session_id: str, ticket: int) -> None:
        queue = self._queues.get(session_id, [])
        if ticket in queue:
            queue.remove(ticket)
        if not queue:
            self._queues.pop(session_id, None)
        self.notify({"op": "queue", "session": session_id})

    def notify(self, payload: JsonObject) -> None:
        for listener in list(self.listeners):
            listener.tell(payload)

    def listen(self, handle: Handler) -> Listening:
        listener = _LocalListener(self, handle)
        self.listeners.add(listener)
        return listener

    def ask(self, session_id: str, call_id: str) -> None:
        self._asked.setdefault(session_id, set()).add(call_id)

    def answered(self, session_id: str, call_id: str) -> None:
        calls = self._asked.get(session_id)
        if calls is not None:
            calls.discard(call_id)
            if not calls:
                del self._asked[session_id]

    def asked(self, session_id: str, call_id: str) -> bool:
        return call_id in self._asked.get(session_id, ())

    def pending_approvals(self, session_id: str) -> int:
        return len(self._asked.get(session_id, ()))

    def turn_started(self, session_id: str, turn_id: int) -> None:
        self._running[turn_id] = session_id

    def save_partial(self, turn_id: int, reply: str) -> None:
        with self.db.tx() as db:
            db.execute("UPDATE turns SET reply = ? WHERE id = ?", (reply, turn_id))

    def turn_ended(self, turn_id: int) -> None:
        self._running.pop(turn_id, None)

    def running_turn(self, session_id: str) -> int | None:
        mine = [turn for turn, session in self._running.items() if session == session_id]
        return max(mine) if mine else None

    def next_turn(self, session_id: str, after: int) -> int | None:
        """The session's first stored turn after ``after``: the one running here, or one
        that ended while a follower was away (it is told how that one ended)."""
        row = self.db.execute(
            "SELECT min(id) FROM turns WHERE conversation_id = ? AND id > ?", (session_id, after)
        ).fetchone()
        return int(row[0]) if row is not None and row[0] is not None else None

    def record_events(self, rows: list[EventRow]) -> None:
        """Nothing to keep: no other process follows."""

    def follow_turn(
        self, session_id: str, turn_id: int, after: int, quiet_since: float | None
    ) -> Followed:
        """A turn this process does not hold (run before it started, or by another process
        on the same file): how it ended, or nothing more if it runs (or is not there)."""
        found = self.outcome(session_id, turn_id)
        if found is None or found[0] in ("running", "awaiting_approval"):
            return Followed(ended=True)
        return Followed(ended=True, outcome=found)

    def close(self) -> None:
        self.listeners.clear()
