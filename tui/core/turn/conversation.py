"""One stored conversation, for every front end: the TUI, ``agents-tui run`` and the API.

A turn is a stream you iterate::

    async for event in conversation.turn(prompt):
        ...  # present it

``Conversation.turn`` is the one way to run, queue, resume and cancel a turn. Read it top
to bottom to follow every event: it waits for the conversation's earlier turns (``Queued``
while it waits), takes up a turn stored while it waited for approvals first, then lets the
runner produce the turn's events (``TurnRunner.events``: the SDK stream, retries,
approvals) and passes each one through the stages named in ``_stages``, in order, before
the front end sees it: recorded (the JSONL recording), measured (the turn's
``TurnMetrics``), stored (the journal's turn row), cached (a clean first turn kept for the
next fresh conversation, ``tui.core.turn.cache``) and reported (metrics, traces and log
lines). With a response cache, the first prompt of a fresh conversation may be answered
from it instead of the runner (``_answer``); its events pass the same stages. Front ends
only present what it yields; what a turn does to the store or the model's memory is
decided here, once.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from tui.core import events as ev
from tui.core.observe.metrics import TurnMetrics, with_metrics
from tui.core.store import ConversationRow, Store, TurnRow, new_conversation_id
from tui.core.turn.cache import NOT_CACHING, ResponseCache, TurnCaching, cache_key, replay
from tui.core.turn.journal import TurnJournal
from tui.core.turn.recording import Recorder, recorder_path
from tui.core.turn.stream import RunningTurn

if TYPE_CHECKING:
    from tui.core.observe.telemetry import Telemetry
    from tui.core.turn.approvals import Approver
    from tui.core.turn.recording import ReplayRunner
    from tui.core.turn.runner import TurnRunner

QUEUE_POLL_S = 0.5  # a waiting prompt looks at a shared queue this often, notified or not


@dataclass(frozen=True, slots=True)
class Queued:
    """The prompt waits behind ``position`` turns of its conversation (not a run event:
    nothing records or stores it; the API sends it as ``queued``)."""

    position: int


TurnEvent = ev.RunEvent | Queued


@dataclass(frozen=True, slots=True)
class PausedTurn:
    turn: TurnRow
    state: str


@dataclass(frozen=True, slots=True)
class Message:
    """One message of a conversation's history (``/history``, ``/retry``, copying a reply):
    the prompt, or the reply with how its turn ended."""

    at: datetime
    role: str  # "user" or "assistant"
    text: str
    status: str = "completed"


def messages_of(turns: list[TurnRow]) -> list[Message]:
    out = []
    for turn in turns:
        out.append(Message(datetime.fromtimestamp(turn.started_at), "user", turn.prompt))
        if turn.finished_at is not None or turn.reply:
            at = datetime.fromtimestamp(turn.finished_at or turn.started_at)
            out.append(Message(at, "assistant", turn.reply, turn.status))
    return out


class Conversation:
    """A conversation bound to a runner (``TurnRunner``)."""

    def __init__(
        self,
        store: Store,
        runner: TurnRunner,
        conversation_id: str | None = None,
        *,
        model_label: str = "",
        title: str = "",
        record: bool = True,
        telemetry: Telemetry | None = None,
        memory_per_call: bool = False,
        approver: Approver | None = None,
        cache: ResponseCache | None = None,
    ) -> None:
        from tui.core.observe.telemetry import default_telemetry

        self.store = store
        self.runner = runner
        self.model_label = model_label
        # Metrics, traces and log lines (tui.core.observe.telemetry): the API passes its own.
        self.telemetry = telemetry if telemetry is not None else default_telemetry()
        self.id = conversation_id or new_conversation_id()
        store.ensure_conversation(self.id, agent=runner.agent_name, model=model_label)
        if title and not (store.conversation(self.id) or _NO_ROW).title:
            store.rename(self.id, title)
        # The API keeps thousands of conversations: their memory opens a connection per call
        # (``ShortLivedMemory``); one conversation on screen keeps its SQLiteSession.
        runner.begin_conversation(
            store.memory(self.id, per_call=memory_per_call),
            always_approved=store.always_approved(self.id),
            approver=approver,
        )
        self.journal = TurnJournal(store, self.id)
        self.recorder = Recorder(recorder_path(self.id)) if record else None
        self.metrics: TurnMetrics | None = None  # the running (or last) turn's: one object
        self.cache = cache  # --cache-ttl: first prompts answered again (None: off)
        self._caching: TurnCaching = NOT_CACHING  # the running turn's part in the cache
        self.created_monotonic = time.monotonic()
        # The one queue of this conversation's prompts, for every front end: turns never
        # overlap and run in the order the prompts came (an asyncio lock is first come,
        # first served).
        self._turn_slot = asyncio.Lock()
        self._claimed = 0  # turns asked for and not yet over (waiting or running)
        self.waiting = 0  # prompts waiting behind the running turn (in this process)
        self._tickets: set[int] = set()  # this process's tickets in the shared queue
        self._jumping = 0  # prompts sent ``first`` that have not started yet
        self._moved = asyncio.Event()  # the shared queue moved (a notification)

    def ask_with(self, approver: Approver | None) -> None:
        """Who answers this conversation's tool approvals from now on."""
        self.runner.approver = approver

    # --- turns ------------------------------------------------------------------------------
    def turn(
        self, prompt: str | None, author: str = "", *, first: bool = False
    ) -> AsyncGenerator[TurnEvent, None]:
        """One prompt's turn as a stream of events (``None``: only a turn stored while it
        waited for approvals, if there is one). The conversation is busy from this call on,
        so a prompt sent meanwhile queues behind this one. Iterate it to its end; a reader
        that stops early cancels the turn, which is still stored whole (interrupted, or
        paused if it was waiting for an approval). ``author``: who typed the prompt, at a
        table of players sharing the conversation (the model reads ``NAME: text``).
        ``first``: the prompt goes ahead of the prompts waiting in this process (a smart
        interruption: the running turn is cancelled and this one is next); prompts of other
        processes that came before it still go first."""
        self._claimed += 1
        return self._turn(prompt, author, first)

    def _must_wait(self, ticket: int, ahead: int, first: bool) -> bool:
        if self._turn_slot.locked():
            return True
        if first:  # only the tickets of other processes count
            return ahead > sum(1 for mine in self._tickets if mine < ticket)
        return bool(ahead) or self._jumping > 0

    async def _turn(
        self, prompt: str | None, author: str, first: bool = False
    ) -> AsyncGenerator[TurnEvent, None]:
        queue = self.store.coordination
        ticket: int | None = None
        self.waiting += 1
        self._jumping += first  # until it starts: the prompts waiting here let it pass
        waiting = True
        try:
            # 1. Wait for this conversation's earlier turns, in the order the prompts came:
            # a ticket each (the oldest runs, in whichever process holds it when the store
            # is shared), and this process's turn slot; a prompt sent ``first`` passes the
            # ones waiting here.
            ticket, ahead = queue.enqueue(self.id)
            self._tickets.add(ticket)
            told = False
            while self._must_wait(ticket, ahead, first):
                if not told:
                    yield Queued(1 if first else max(ahead, 1))
                    told = True
                self._moved.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._moved.wait(), QUEUE_POLL_S)
                ahead = queue.ahead(self.id, ticket)
            async with self._turn_slot:
                self.waiting -= 1
                waiting = False
                if first:
                    self._jumping -= 1
                    first = False
                try:
                    # 2. A turn stored while it waited for approvals is finished first.
                    paused = self.paused()
                    if paused is not None:
                        self.journal.resume_turn_id = paused.turn.id
                        async for event in self._stages(self.runner.resumed(paused)):
                            yield event
                    # 3. This prompt's turn. A turn of this conversation left running by a
                    # process that has gone is closed first (its partial reply joins the
                    # model's memory), so the model never sees two user messages in a row.
                    if prompt is not None:
                        self.store.recover(self.id)
                        async for event in self._stages(self._answer(prompt, author)):
                            yield event
                finally:
                    self._tickets.discard(ticket)
                    queue.dequeue(self.id, ticket)
                    ticket = None
        finally:
            self._claimed -= 1
            if waiting:
                self.waiting -= 1
            if first:  # withdrawn before it started
                self._jumping -= 1
            if ticket is not None:  # cancelled while it waited
                self._tickets.discard(ticket)
                queue.dequeue(self.id, ticket)
            self._moved.set()  # a prompt of this process behind it goes on at once

    def _answer(self, prompt: str, author: str) -> RunningTurn:
        """This prompt's turn: the runner's, or, when the response cache has the reply to
        this first prompt of a fresh conversation, the cache's replay of it."""
        self._caching = NOT_CACHING
        if self.cache is not None and self.store.turn_count(self.id) == 0:
            key = cache_key(self.runner.agent, self.model_label, prompt, author)
            self._caching = self.cache.begin(key)
        hit = self._caching.hit
        if hit is None:
            return self.runner.events(prompt, author)
        age_s = self._caching.age_s
        return RunningTurn(lambda emit: replay(hit, age_s, prompt, author, self.runner, emit))

    async def _stages(self, events: RunningTurn) -> AsyncIterator[ev.RunEvent]:
        """Every event of a running turn passes these stages, in this order, and then goes
        to the front end. Events made after a reader stopped (the end of a cancelled turn)
        pass them too."""
        try:
            async for event in events:
                yield self._observe(event)
        finally:
            for event in await events.stop():
                self._observe(event)

    def _observe(self, event: ev.RunEvent) -> ev.RunEvent:
        """The stages, in order; the event as front ends get it (a turn's end carries the
        turn's own metrics: ``ev.TurnFinished.metrics``)."""
        if self.recorder is not None:
            self.recorder.write(event)  # recorded: one JSONL line, its time offset
        self._measure(event)  # measured: the turn's TurnMetrics
        self.journal.write(event, self.metrics)  # stored: the turn's row, partial reply
        self._caching.observe(event)  # cached: a clean first turn kept for the next session
        if self.telemetry is not None:
            self.telemetry.observe(self, event)  # reported: Prometheus, traces, log lines
        return with_metrics(event, self.metrics)

    def _measure(self, event: ev.RunEvent) -> None:
        if isinstance(event, ev.TurnStarted):
            self.metrics = TurnMetrics(started_ns=event.at_ns)
        if self.metrics is not None:
            self.metrics.observe(event)

    def paused(self) -> PausedTurn | None:
        found = self.store.paused_turn(self.id)
        return PausedTurn(*found) if found is not None else None

    @property
    def busy(self) -> bool:
        """A turn runs, or was asked for and waits: a new prompt waits its turn. The one
        busy state every front end reads."""
        return self._claimed > 0 or self._turn_slot.locked()

    @property
    def running(self) -> bool:
        """A turn of this conversation runs in this process now (past the queue)."""
        return self._turn_slot.locked()

    def queue_moved(self) -> None:
        """Another process's turn of this conversation ended: look at the queue again."""
        self._moved.set()

    def cancel(self) -> None:
        """Stop the running turn: its stream goes on to the turn's end (interrupted, its
        partial reply kept)."""
        self.runner.cancel()

    # --- what is stored -----------------------------------------------------------------------
    def row(self) -> ConversationRow | None:
        return self.store.conversation(self.id)

    def turns(self) -> list[TurnRow]:
        return self.store.turns(self.id)

    def history(self) -> list[Message]:
        """Every prompt and reply, as stored (the running turn's prompt included)."""
        return messages_of(self.turns())

    def export(self, fmt: str, path: Path | None = None) -> Path:
        from tui.core.store.export import export

        row = self.row()
        if row is None:
            raise ValueError(f"conversation {self.id} is not stored (deleted?)")
        return export(row, self.turns(), fmt, path)

    def close(self) -> None:
        self.runner.end_conversation()
        if self.recorder is not None:
            self.recorder.close()
            self.recorder = None


class Playback:
    """A recording played back (``agents-tui replay``): turns run as a conversation's do,
    through the core, measured, and nothing is stored or journaled (the recording is the
    record)."""

    def __init__(self, runner: ReplayRunner) -> None:
        self.runner = runner
        self.metrics: TurnMetrics | None = None
        self._messages: list[Message] = []
        self._claimed = 0

    def turn(self, prompt: str | None, author: str = "") -> AsyncGenerator[TurnEvent, None]:
        self._claimed += 1
        return self._turn(prompt)

    async def _turn(self, prompt: str | None) -> AsyncGenerator[TurnEvent, None]:
        try:
            if prompt is None:
                return
            async for event in RunningTurn(lambda emit: self.runner.run(prompt, emit)):
                if isinstance(event, ev.TurnStarted):
                    self.metrics = TurnMetrics(started_ns=event.at_ns)
                    self._messages.append(Message(datetime.now(), "user", prompt))
                if self.metrics is not None:
                    self.metrics.observe(event)
                if isinstance(event, ev.TurnFinished):
                    self._messages.append(
                        Message(datetime.now(), "assistant", event.final_text, event.status)
                    )
                yield with_metrics(event, self.metrics)
        finally:
            self._claimed -= 1

    @property
    def busy(self) -> bool:
        return self._claimed > 0

    def cancel(self) -> None:
        self.runner.cancel()

    def paused(self) -> PausedTurn | None:
        return None

    def history(self) -> list[Message]:
        return list(self._messages)


_NO_ROW = ConversationRow("", "", "", "", 0.0, 0.0)
