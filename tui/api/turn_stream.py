"""One turn of a session streamed to one client (``StreamingService.stream_response``).

The turn is the conversation's stream (``Conversation.turn``); each of its events is
encoded into the protocol's objects (``ProtocolEncoder``), kept for followers (the feed)
and queued for this client, who reads them as SSE. A client that reads nothing past a
byte limit stops the turn (or lets a detached turn go on without it); a client that leaves
cancels the turn, whose partial reply is stored as interrupted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from tui.api.feed import MAX_EVENT_TEXT
from tui.core import events as ev
from tui.core.store import StoreUnavailable
from tui.core.turn.conversation import Queued
from tui.core.turn.protocol import ProtocolEncoder, envelope

if TYPE_CHECKING:
    from tui.api.feed import Feed, TurnLog
    from tui.core.store import Store
    from tui.core.turn.conversation import Conversation

EVENT_OVERHEAD = 160  # an event's bytes besides its text, about
MAX_JOINED = MAX_EVENT_TEXT  # characters of waiting text sent as one event
log = logging.getLogger("agents_tui.api")


class ClientDropped(Exception):
    """The client read nothing past the byte limit: its stream ends here and its
    connection is closed without sending what waits (``tui.api.http_limits``)."""


class _EventQueue:
    """What one stream's client has yet to take, in order; ``None`` ends it."""

    def __init__(self) -> None:
        self._items: deque[tuple[dict[str, Any], int] | None] = deque()
        self._ready = asyncio.Event()

    def put_nowait(self, item: tuple[dict[str, Any], int] | None) -> None:
        self._items.append(item)
        self._ready.set()

    async def get(self) -> tuple[dict[str, Any], int] | None:
        while not self._items:
            self._ready.clear()
            await self._ready.wait()
        return self._items.popleft()

    def clear(self) -> None:
        self._items.clear()

    def join_text(self, first: dict[str, Any], size: int) -> tuple[dict[str, Any], int]:
        """``first`` with the text deltas right behind it, up to ``MAX_JOINED`` characters
        (the last one's running ``word_count``)."""
        items = self._items
        parts = [first["data"]["delta"]]
        last = first["data"]
        last_id = first.get("id")
        length = len(parts[0])
        while items and length < MAX_JOINED:
            following = items[0]
            if following is None or following[0]["type"] != "text_delta":
                break
            items.popleft()
            last = following[0]["data"]
            last_id = following[0].get("id", last_id)
            parts.append(last["delta"])
            length += len(parts[-1])
            size += following[1]
        if len(parts) == 1:
            return first, size
        joined = {**first, "data": {**last, "delta": "".join(parts)}}
        if last_id is not None:
            joined["id"] = last_id  # what the client has seen: up to the last one joined
        return joined, size


class TurnStream:
    """The protocol objects of one turn for one client, in order (``events()``)."""

    def __init__(
        self,
        conversation: Conversation,
        message: str,
        *,
        feed: Feed,
        store: Store,
        max_buffered: int,
        release: Callable[[], None],
        detach: bool = False,
        author: str = "",
        message_id: str = "",
        interrupt: Callable[[], object] | None = None,
    ) -> None:
        self.conversation = conversation
        # ``"interrupt": true``: cancels the running turn once this prompt is queued first
        self.interrupt = interrupt
        self.feed = feed
        self.store = store
        self.max_buffered = max_buffered
        self.session_id = session_id = conversation.id
        self.message = message
        self.author = author  # who typed it, at a table of players
        self.release = release
        self.detach = detach
        self.queue = _EventQueue()
        self.started = asyncio.Event()  # the prompt left the queue: its turn runs
        self.buffered = 0  # bytes of events waiting for the client (about)
        self.dropped = False
        self.encoder = ProtocolEncoder(
            session_id,
            message_count=0,  # counted when the turn leaves the queue
            metrics_of=lambda: conversation.metrics,  # the conversation's, not a copy
        )
        self.encoder.message_id = message_id  # said in this prompt's ``user_message``
        self.turn_log: TurnLog | None = None  # this turn's events for followers
        self.task: asyncio.Task[None] | None = None  # the turn, once the client reads
        self.withdrawn = False  # taken out of the queue before it ran (``withdraw``)

    def put(self, obj: dict[str, Any]) -> None:
        """An object for the client, unless it stopped reading."""
        if self.dropped:
            return
        size = EVENT_OVERHEAD + len(str(obj.get("data", {}).get("delta", "")))
        self.buffered += size
        self.queue.put_nowait((obj, size))
        if self.buffered > self.max_buffered:
            # The client reads nothing: stop the turn as if it had gone (interrupted,
            # the partial reply kept), and let go of what waited for it.
            self.dropped = True
            log.warning(
                "session %s: the client stopped reading (%d bytes waiting); its turn "
                "is stopped and its events dropped",
                self.session_id,
                self.buffered,
            )
            self.queue.clear()
            self.queue.put_nowait(None)  # the client's stream ends at once (ClientDropped)
            self.buffered = 0
            if not self.detach:  # a detached turn goes on; its client may follow it later
                self.conversation.cancel()

    def show(self, event: ev.RunEvent) -> None:
        """One event of the turn: encoded, kept for followers, queued for the client."""
        feed = self.feed
        turn_id = self.conversation.journal.turn_id
        if isinstance(event, ev.TurnStarted) and turn_id is not None:
            self.turn_log = feed.begin(self.session_id, turn_id)
        for obj in self.encoder.encode(event):
            if self.turn_log is not None:
                feed.record(self.turn_log, obj)
            self.put(obj)
        if isinstance(event, ev.TurnFinished) and self.turn_log is not None:
            feed.end(self.turn_log)

    def leaves_the_queue(self, first: ev.RunEvent) -> None:
        self.started.set()
        # this prompt's place in the session: its turn is stored once it started (a
        # paused turn taken up first is stored already, this prompt's not yet)
        new_turn_stored = isinstance(first, ev.TurnStarted) and not first.resumed
        count = self.store.turn_count(self.session_id)
        self.encoder.message_count = count + (not new_turn_stored)

    async def run(self) -> None:
        """The turn: the conversation's one queue (across processes on PostgreSQL), a turn
        stored while waiting for approvals taken up first, then this prompt's."""
        try:
            first = self.interrupt is not None
            async with contextlib.aclosing(
                self.conversation.turn(self.message, self.author, first=first)
            ) as events:
                async for event in events:
                    if isinstance(event, Queued) and self.interrupt is not None:
                        # queued first now: the turn it waits for is stopped (Esc's way)
                        self.interrupt()
                        self.interrupt = None
                    if isinstance(event, Queued):
                        queued = {"position": event.position, "session_id": self.session_id}
                        self.put(envelope("queued", queued))
                        continue
                    if not self.started.is_set():
                        self.leaves_the_queue(event)
                    self.show(event)
        except asyncio.CancelledError:
            if self.withdrawn:  # a client still reading is told why its stream ends
                message = "cancelled while it waited its turn: it never ran"
                self.put(envelope("error", {"code": "CANCELLED", "message": message}))
            raise
        except StoreUnavailable:
            # The database went away as the turn began (PostgreSQL restarting): the turn is
            # as a failed one, told to the client, never a 500 nor a traceback.
            log.warning("session %s: the store's database does not answer", self.session_id)
            data = {"code": "STORE_UNAVAILABLE", "message": "the store's database does not answer"}
            for obj in (
                envelope("error", data),
                envelope(
                    "response_complete",
                    {
                        "status": "failed",
                        "final_response": "",
                        "word_count": 0,
                        "character_count": 0,
                        "session_id": self.session_id,
                    },
                ),
            ):
                if self.turn_log is not None:
                    self.feed.record(self.turn_log, obj)
                self.put(obj)
        except Exception as problem:  # the runner never raises; the store or disk might
            request_id = uuid.uuid4().hex[:12]
            log.error("turn %s in session %s failed", request_id, self.session_id, exc_info=problem)
            failure = envelope(
                "error",
                {
                    "code": "INTERNAL_ERROR",
                    "message": f"the server failed on this turn (request id {request_id})",
                },
            )
            if self.turn_log is not None:
                self.feed.record(self.turn_log, failure)
            self.put(failure)
        finally:
            if self.turn_log is not None:
                self.feed.end(self.turn_log)
            self.queue.put_nowait(None)

    def release_unstarted(self) -> None:
        """The stream's place let go of if its turn never started (a response that never
        started its body); a started one lets go of it when its turn ends."""
        if self.task is None:
            self.release()

    def withdraw(self) -> bool:
        """This prompt out of the session's queue if it still waits there (``POST
        .../cancel`` empties the detached ones at once); whether it did."""
        if self.started.is_set() or self.task is None or self.task.done():
            return False
        self.withdrawn = True
        self.task.cancel()
        return True

    async def events(self) -> AsyncIterator[dict[str, Any]]:
        """What the client reads; closing it early cancels the turn unless detached. The
        stream's place (``release``) is held until the turn ends, the client's or not: a
        detached turn whose client left still runs a model call and holds its files."""
        task = self.task = asyncio.create_task(self.run())
        task.add_done_callback(lambda _task: self.release())
        finished = False
        try:
            while True:
                item = await self.queue.get()
                if item is None:
                    if self.dropped:
                        raise ClientDropped(self.session_id)
                    finished = True
                    break
                obj, size = item
                if obj["type"] == "text_delta":
                    # A client that fell behind gets the waiting text in one event
                    # (the text is the same; per-event costs no longer pile up).
                    obj, size = self.queue.join_text(obj, size)
                self.buffered -= size
                yield obj
        finally:
            if not finished and not self.detach:
                if self.started.is_set():
                    self.conversation.cancel()  # drains, stores the partial reply
                else:
                    task.cancel()  # still queued: it never started
