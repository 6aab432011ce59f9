"""A session of a running ``agents-tui api`` as one stream of events (``--connect``).

``RemoteTable.follow()`` is the remote twin of ``Conversation.turn()``: an async stream of
the app's events that the same panes present, fed by the service's SSE
(``GET /v1/sessions/{id}/events``) and carrying every turn of the session, whoever typed
its prompt (``Said`` first). It reconnects by itself with backoff and resumes with
``Last-Event-ID``: nothing is lost or shown twice (an event id not after the last one
presented is dropped). Prompts go through ``send``: each has an id of its own and waits
while the link is down, then is sent once (a resend the service saw already answers
``409 DUPLICATE_MESSAGE``: delivered).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

from tui.core import events as ev
from tui.core.observe.metrics import TurnMetrics, with_metrics
from tui.core.turn.conversation import Message, PausedTurn
from tui.core.turn.protocol import ENDING_SEQ
from tui.remote.client import ServiceClient, ServiceProblem, Unreachable
from tui.remote.decode import Decoder, Link, RemoteItem, Said, ServiceMeasured

BACKOFF_S = (0.25, 0.5, 1.0, 2.0, 3.0)  # waits between reconnections, then the last again
_ID = re.compile(r"(\d{1,18})-(\d{1,9})")


def _event_id(text: object) -> tuple[int, int] | None:
    match = _ID.fullmatch(str(text or ""))
    return (int(match[1]), int(match[2])) if match else None


class RemoteTable:
    """One session of a service, shared with whoever else follows it."""

    def __init__(self, client: ServiceClient, session_id: str, author: str) -> None:
        self.client = client
        self.id = session_id
        self.author = author
        self.agent = ""  # the session's agent, as the service lists it
        self.metrics: TurnMetrics | None = None  # this client's measure of the turn
        self.decoder = Decoder()
        self.last_event_id: str | None = None
        self._last: tuple[int, int] | None = None
        self._running = False  # a turn of the session runs (seen from its events)
        self.seen_turns: set[int] = set()  # turns whose events (or stored text) are shown
        self.missed: int | None = None  # a turn that ran while the link was down
        self.connected = asyncio.Event()
        self.closed = False
        self._outbox: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        self.sent_at: dict[str, int] = {}  # own prompts' ids: when they were handed over
        self.mine: set[str] = set()
        self.interrupting: set[str] = set()  # own prompts sent with ``"interrupt": true``
        # What ``follow`` yields: the session's events and what the link and sender met.
        self.items: asyncio.Queue[RemoteItem | None] = asyncio.Queue()
        self._messages: list[Message] = []
        self._sender: asyncio.Task[None] | None = None

    # --- the conversation's face, as the screen reads it ------------------------------------
    @property
    def busy(self) -> bool:
        """A turn of the session runs (anyone's): the screen shows it, and Esc cancels it."""
        return self._running

    def paused(self) -> PausedTurn | None:
        return None  # an approval is asked through the event that asks it

    def history(self) -> list[Message]:
        return list(self._messages)

    def export(self, fmt: str, path: Path | None = None) -> Path:
        """The session as this terminal has it (``/export``), written as a stored
        conversation's export is."""
        from tui.core.store import ConversationRow, TurnRow
        from tui.core.store.export import export

        turns: list[TurnRow] = []
        for message in self._messages:
            at = message.at.timestamp()
            if message.role == "user":
                turns.append(TurnRow(len(turns) + 1, self.id, at, None, message.text, "", "", None))
            elif turns:
                last = turns[-1]
                last.reply, last.status, last.finished_at = message.text, message.status, at
        started = turns[0].started_at if turns else time.time()
        row = ConversationRow(self.id, self.id, self.agent, self.client.shown, started, time.time())
        return export(row, turns, fmt, path)

    # --- what this terminal does -------------------------------------------------------------
    def send(self, text: str, *, interrupt: bool = False) -> str:
        """Hand a prompt over; it is sent once the link is up (never twice). Its id.
        ``interrupt`` (Ctrl+Enter): the service stops the running turn and runs it next."""
        message_id = uuid.uuid4().hex[:16]
        self.mine.add(message_id)
        if interrupt:
            self.interrupting.add(message_id)
        self.sent_at[message_id] = time.perf_counter_ns()
        self._outbox.put_nowait((message_id, text))
        if self._sender is None or self._sender.done():
            self._sender = asyncio.create_task(self._send_all())
        return message_id

    async def _send_all(self) -> None:
        while not self._outbox.empty() and not self.closed:
            message_id, text = await self._outbox.get()
            await self._deliver(message_id, text)

    async def _deliver(self, message_id: str, text: str) -> None:
        tries = 0
        while not self.closed:
            await self.connected.wait()
            try:
                interrupt = message_id in self.interrupting
                await self.client.post_message(
                    self.id, text, self.author, message_id, interrupt=interrupt
                )
                return
            except ServiceProblem as problem:
                if problem.code == "DUPLICATE_MESSAGE":
                    return  # it arrived before the link broke
                if not problem.passing:
                    self.items.put_nowait(Link("refused", problem.line()))
                    return
                self.items.put_nowait(Link("busy", problem.line()))
                wait = problem.retry_after or BACKOFF_S[min(tries, len(BACKOFF_S) - 1)]
            except Unreachable:
                wait = BACKOFF_S[min(tries, len(BACKOFF_S) - 1)]
            tries += 1
            await asyncio.sleep(wait)

    def cancel(self) -> None:
        """Esc: stop the session's running turn, whoever started it."""
        self._spawn(self.client.cancel(self.id, self.author))

    def answer(self, call_id: str, approved: bool) -> None:
        """An approval answered here (the first terminal to answer wins; 409 otherwise)."""
        self._spawn(self.client.approve(self.id, call_id, approved))

    def _spawn(self, call: object) -> None:
        async def quietly() -> None:
            try:
                await call  # type: ignore[misc]
            except ServiceProblem as problem:
                if problem.code == "APPROVAL_NOT_PENDING":  # another player answered first
                    self.items.put_nowait(Link("busy", "answered in another terminal first"))
                else:
                    self.items.put_nowait(Link("refused", problem.line()))
            except Unreachable as problem:
                self.items.put_nowait(Link("refused", str(problem)))

        asyncio.get_running_loop().create_task(quietly())

    async def close(self) -> None:
        self.closed = True
        if self._sender is not None:
            self._sender.cancel()
        await self.client.close()

    # --- the session's events ----------------------------------------------------------------
    async def stored(self) -> list[dict[str, object]]:
        """The session's stored turns as messages (``GET .../messages``), the turn that runs
        now left out: its events come from its start."""
        messages = await self.client.messages(self.id)
        if messages and messages[-1].get("status") in ("running", "awaiting_approval"):
            messages = messages[:-2]
        ended = [t for m in messages if isinstance(t := m.get("turn_id"), int)]
        if ended and self.last_event_id is None:
            # Follow from after the last stored turn: a turn that ends while the link is
            # down is then told (and replayed here), never skipped.
            self._last = (max(ended), ENDING_SEQ)
            self.last_event_id = f"{self._last[0]}-{ENDING_SEQ}"
            self.seen_turns.update(ended)
        for m in messages:
            at = datetime.fromtimestamp(float(str(m.get("at") or time.time())))
            self._messages.append(
                Message(at, str(m["role"]), str(m.get("text", "")), str(m.get("status", "")))
            )
        return messages

    async def follow(self) -> AsyncIterator[RemoteItem]:
        """Every event of the session from now on, across reconnections, in order, once,
        with what the link and the sender met (``Link``) between them."""
        reader = asyncio.create_task(self._read())
        try:
            while True:
                item = await self.items.get()
                if item is None:
                    return
                yield item
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader

    async def _read(self) -> None:
        put = self.items.put_nowait
        tries = 0
        down = True  # said "connected" once, then again only after the link was down
        try:
            while not self.closed:
                try:
                    async with self.client.events(self.id, self.last_event_id) as stream:
                        self.connected.set()
                        if down:
                            put(Link("connected"))
                            down = False
                        got = False
                        async for obj in stream:
                            got = True
                            for item in self._take(obj):
                                put(item)
                            if self.missed is not None:
                                for item in await self._replayed(self.missed):
                                    put(item)
                                self.missed = None
                    # The service ended the stream (a turn's end): follow again at once; a
                    # stream that ends with nothing in it waits longer each time.
                    tries = 0 if got else tries + 1
                    wait = BACKOFF_S[min(tries, len(BACKOFF_S) - 1)]
                except ServiceProblem as problem:
                    self.connected.clear()
                    down = True
                    if not problem.passing:
                        put(Link("failed", problem.line()))
                        return
                    put(Link("reconnecting", problem.line()))
                    wait = problem.retry_after or BACKOFF_S[-1]
                except Unreachable as problem:
                    self.connected.clear()
                    down = True
                    put(Link("reconnecting", str(problem)))
                    wait = BACKOFF_S[min(tries, len(BACKOFF_S) - 1)]
                    tries += 1
                if down:
                    self.connected.clear()
                await asyncio.sleep(wait)
        finally:
            put(None)

    def _take(self, obj: dict[str, Any]) -> list[RemoteItem]:
        """One protocol object: dropped if already presented, else decoded and measured."""
        seen = _event_id(obj.get("id"))
        if seen is not None:
            # A turn starting with an id below those seen: a service restarted on another
            # store numbers its turns afresh, and its turns are new (shown, not dropped).
            restarted = (
                obj.get("type") == "session_update"
                and self._last is not None
                and seen[0] < self._last[0]
            )
            if self._last is not None and seen <= self._last and not restarted:
                return []  # shown already (a resume that overlapped)
            if restarted:
                self.seen_turns.clear()
            self._last = seen
            self.last_event_id = str(obj["id"])
        if obj.get("type") == "response_complete" and not self._running:
            # How a turn ended, told by a service that no longer holds its events: one this
            # client saw end (shown once only), or one that ran while the link was down
            # (replayed from the store: ``missed``).
            if seen is not None and seen[0] not in self.seen_turns:
                self.missed = seen[0]
            return []
        if seen is not None:
            self.seen_turns.add(seen[0])
        return [self._observe(item) for item in self.decoder.decode(obj)]

    async def _replayed(self, turn_id: int) -> list[RemoteItem]:
        """A turn that ran while this client was away, as the events of a turn (its prompt,
        its whole text, its end), read from the store."""
        self.seen_turns.add(turn_id)
        found = [m for m in await self.client.messages(self.id) if m.get("turn_id") == turn_id]
        prompt = next((m for m in found if m.get("role") == "user"), {})
        reply = next((m for m in found if m.get("role") == "assistant"), {})
        text, author = str(reply.get("text") or ""), str(prompt.get("author") or "")
        status = str(reply.get("status") or "interrupted")
        ended: ev.TurnStatus = status if status in ("completed", "interrupted") else "failed"  # type: ignore[assignment]
        now = time.perf_counter_ns()
        items: list[RemoteItem] = [
            Said(author, str(prompt.get("text") or ""), ""),
            ev.TurnStarted(str(prompt.get("text") or ""), self.decoder.agent, now, author=author),
        ]
        if text:
            items.append(ev.TextDelta(text, now))
        metrics = reply.get("metrics")
        items.append(ServiceMeasured(metrics if isinstance(metrics, dict) else {}, {}, []))  # type: ignore[arg-type]
        error = reply.get("error")
        items.append(ev.TurnFinished(ended, text, now, None, str(error) if error else None))
        return [self._observe(item) for item in items]

    def _observe(self, item: RemoteItem) -> RemoteItem:
        """This client's measure of the turn; the item as presented (a turn's end carries
        that turn's metrics: ``ev.TurnFinished.metrics``)."""
        if isinstance(item, Said):
            self._messages.append(Message(datetime.now(), "user", item.text))
        if isinstance(item, ev.TurnStarted):
            self._running = True
            self.metrics = TurnMetrics(started_ns=item.at_ns)
        if isinstance(item, ev.TurnFinished):
            self._running = False
            self._messages.append(
                Message(datetime.now(), "assistant", item.final_text, item.status)
            )
        if self.metrics is not None and isinstance(item, ev.RunEvent):
            self.metrics.observe(item)
            return with_metrics(item, self.metrics)
        return item
