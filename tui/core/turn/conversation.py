"""One stored conversation, for every front end: the TUI, ``agents-tui run`` and the API.

A ``Conversation`` opens (or creates) its row in the store, gives the runner the model's
memory (the SDK's ``SQLiteSession``) and the approvals remembered for it, journals every
turn (the store's turn rows and the recording) and runs turns, including a turn stored
while it waited for approvals. Front ends keep only presentation: what a behaviour does
to the store or the model's memory is decided here, once.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from tui.core import events as ev
from tui.core.turn.journal import Recorder, TurnJournal, open_memory, recorder_path
from tui.core.observe.metrics import TurnMetrics
from tui.core.store import ConversationRow, Store, TurnRow, new_conversation_id

Emit = Callable[[ev.RunEvent], None]
QUEUE_POLL_S = 0.5  # a waiting prompt looks at a shared queue this often, notified or not


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
    """A conversation bound to a runner (``TurnRunner`` or ``ReplayRunner``)."""

    def __init__(
        self,
        store: Store,
        runner: Any,
        conversation_id: str | None = None,
        *,
        model_label: str = "",
        title: str = "",
        record: bool = True,
        telemetry: Any = None,
        memory_per_call: bool = False,
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
        runner.session = open_memory(store, self.id, per_call=memory_per_call)
        if hasattr(runner, "reset"):
            runner.reset()
        runner.always_approved = store.always_approved(self.id)
        self.journal = TurnJournal(
            store, self.id, Recorder(recorder_path(self.id)) if record else None
        )
        self.created_monotonic = time.monotonic()
        # The one queue of this conversation's prompts, for every front end: turns never
        # overlap and run in the order the prompts came (an asyncio lock is first come,
        # first served).
        self._turn_slot = asyncio.Lock()
        self.waiting = 0  # prompts waiting behind the running turn (in this process)
        self._moved = asyncio.Event()  # the shared queue moved (a notification)

    # --- turns ------------------------------------------------------------------------------
    def wrap(self, emit: Emit) -> Emit:
        """``emit`` with the journal in front: every event is stored before it is shown,
        then reported (metrics, traces, log lines) when telemetry is on."""
        journaled = self.journal.wrap(emit)
        telemetry = self.telemetry
        if telemetry is None:
            return journaled

        def reported(event: ev.RunEvent) -> None:
            journaled(event)
            telemetry.observe(self, event)

        return reported

    def paused(self) -> PausedTurn | None:
        found = self.store.paused_turn(self.id)
        return PausedTurn(*found) if found is not None else None

    async def run(self, prompt: str, emit: Emit) -> Any:
        """One turn; never raises (the runner's promise). A turn of this conversation
        left running by a process that has gone is closed first (its partial reply joins
        the model's memory), so the model never sees two user messages in a row."""
        self.store.recover(self.id)
        return await self.runner.run(prompt, self.wrap(emit))

    @property
    def busy(self) -> bool:
        """A turn runs (or is about to): a new prompt waits its turn."""
        return self._turn_slot.locked()

    async def submit(
        self,
        prompt: str,
        emit: Emit,
        *,
        started: Callable[[], None] | None = None,
        queued: Callable[[int], None] | None = None,
    ) -> Any:
        """Queue ``prompt`` behind this conversation's running turn, then run it (a turn
        stored while it waited for approvals is taken up first). ``queued`` is told the
        prompt's place when it must wait; ``started`` is called when it leaves the queue;
        a prompt cancelled while it waits never runs.

        On a store shared by many processes (PostgreSQL) the queue is the store's: a
        prompt takes a ticket when it arrives and runs when its ticket is the session's
        oldest, whichever process holds it."""
        shared = self.store.shared
        ticket, ahead = shared.enqueue(self.id) if shared is not None else (None, 0)
        self.waiting += 1
        waiting = True
        try:
            if ticket is not None:
                told = False
                while ahead or self._turn_slot.locked():
                    if queued is not None and not told:
                        queued(max(ahead, 1))
                        told = True
                    self._moved.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._moved.wait(), QUEUE_POLL_S)
                    ahead = shared.ahead(self.id, ticket)
            elif self._turn_slot.locked() and queued is not None:
                queued(self.waiting)
            async with self._turn_slot:
                self.waiting -= 1
                waiting = False
                try:
                    if started is not None:
                        started()
                    paused = self.paused()
                    if paused is not None:
                        await self.resume(paused, emit)
                    return await self.run(prompt, emit)
                finally:
                    if ticket is not None:
                        shared.dequeue(self.id, ticket)
                        ticket = None
        finally:
            if waiting:
                self.waiting -= 1
            if ticket is not None:  # cancelled while it waited
                shared.dequeue(self.id, ticket)
            self._moved.set()  # a prompt of this process behind it goes on at once

    def queue_moved(self) -> None:
        """Another process's turn of this conversation ended: look at the queue again."""
        self._moved.set()

    async def resume(self, paused: PausedTurn, emit: Emit) -> Any:
        """Take up a turn stored while it waited for approvals (after a restart)."""
        self.journal.resume_turn_id = paused.turn.id
        return await self.runner.resume(
            paused.state, paused.turn.prompt, paused.turn.reply, self.wrap(emit)
        )

    def cancel(self) -> None:
        self.runner.cancel()

    @property
    def running(self) -> bool:
        return bool(getattr(self.runner, "running", False))

    @property
    def metrics(self) -> TurnMetrics | None:
        """The running (or last) turn's metrics: the one object every reader shares."""
        return self.journal.metrics

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
        memory = getattr(self.runner, "session", None)
        if memory is not None and hasattr(memory, "close"):
            memory.close()
        if self.journal.recorder is not None:
            self.journal.recorder.close()
            self.journal.recorder = None


class Playback:
    """A recording played back (``agents-tui replay``): turns run as a conversation's do,
    through the core, and nothing is stored or journaled (the recording is the record)."""

    def __init__(self, runner: Any) -> None:
        self.runner = runner
        self.metrics: TurnMetrics | None = None
        self._messages: list[Message] = []

    async def run(self, prompt: str, emit: Emit) -> Any:
        def measured(event: ev.RunEvent) -> None:
            if isinstance(event, ev.TurnStarted):
                self.metrics = TurnMetrics(started_ns=event.at_ns)
                self._messages.append(Message(datetime.now(), "user", prompt))
            if self.metrics is not None:
                self.metrics.observe(event)
            if isinstance(event, ev.TurnFinished):
                self._messages.append(
                    Message(datetime.now(), "assistant", event.final_text, event.status)
                )
            emit(event)

        return await self.runner.run(prompt, measured)

    def cancel(self) -> None:
        self.runner.cancel()

    @property
    def running(self) -> bool:
        return bool(getattr(self.runner, "running", False))

    def history(self) -> list[Message]:
        return list(self._messages)


_NO_ROW = ConversationRow("", "", "", "", 0.0, 0.0)
