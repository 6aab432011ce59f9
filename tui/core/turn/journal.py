"""The journal: each turn's row in the store, written as the turn's events pass (the prompt
when it starts, the partial reply while it streams, its tool calls, a pause for approvals,
and how it ended with its metrics), so a crash mid-turn leaves the turn stored as far as it
got."""

from __future__ import annotations

import time

from tui.core import events as ev
from tui.core.observe.metrics import TurnMetrics
from tui.core.store import Store
from tui.core.tool_calls import ToolCallLog
from tui.core.turn.growing_text import GrowingText

PARTIAL_SAVE_S = 0.25


class TurnJournal:
    """Writes one conversation's turn rows to the store as the turn's events pass."""

    def __init__(self, store: Store | None, conversation_id: str) -> None:
        self.store = store
        self.conversation_id = conversation_id
        self.turn_id: int | None = None
        self.last_turn_id: int | None = None  # the store's id of the turn that ended last
        self._reply = GrowingText()
        self.tools = ToolCallLog()  # this turn's calls (tui.core.tool_calls)
        self._last_save = 0.0
        # Set by the conversation before a stored, paused turn is taken up again.
        self.resume_turn_id: int | None = None

    def _take_up_stored_turn(self) -> None:
        """A resumed turn goes on with the reply text and tool rows it had when it paused."""
        if self.store is None or self.turn_id is None:
            return
        stored = next(
            (t for t in self.store.turns(self.conversation_id) if t.id == self.turn_id), None
        )
        if stored is not None:
            self._reply = GrowingText(stored.reply)
            self.tools = ToolCallLog.from_stored(stored.tools)

    @property
    def reply(self) -> str:
        """The reply so far, as stored."""
        return str(self._reply)

    def write(self, event: ev.RunEvent, metrics: TurnMetrics | None) -> None:
        """What ``event`` changes in the turn's row (``metrics``: the turn's, stored with
        it when it ends)."""
        store = self.store
        if isinstance(event, ev.TurnStarted):
            self._reply = GrowingText()
            self.tools = ToolCallLog()
            if event.resumed and self.resume_turn_id is not None:
                self.turn_id = self.resume_turn_id
                self.resume_turn_id = None
                self._take_up_stored_turn()
            elif store is not None:
                self.turn_id = store.start_turn(self.conversation_id, event.prompt, event.author)
        elif isinstance(event, ev.TextDelta):
            self._reply.append(event.text)
            now = time.monotonic()
            if store is not None and self.turn_id and now - self._last_save > PARTIAL_SAVE_S:
                self._last_save = now
                store.save_partial(self.turn_id, self.reply)
        elif isinstance(event, ev.ApprovalRequested):
            self.tools.apply(event)
            if store is not None and self.turn_id:
                store.save_tools(self.turn_id, self.tools.stored())
        elif isinstance(event, ev.ApprovalResolved):
            call = self.tools.apply(event)
            if event.always and store is not None and call is not None:
                store.approve_always(self.conversation_id, call.name)
        elif isinstance(event, ev.RunPaused) and store is not None and self.turn_id:
            self.tools.pause()  # every call not yet run waits for an answer
            store.pause_turn(self.turn_id, reply=self.reply, state=event.state)
            store.save_tools(self.turn_id, self.tools.stored())
        elif isinstance(event, ev.RunResumed) and store is not None and self.turn_id:
            store.unpause_turn(self.turn_id)
        elif isinstance(event, ev.ToolCallStarted | ev.ToolCallIssued | ev.ToolCallFinished):
            self.tools.apply(event)
        elif isinstance(event, ev.TurnFinished) and store is not None and self.turn_id:
            store.finish_turn(
                self.turn_id,
                reply=event.final_text,
                status=event.status,
                error=event.error,
                tools=self.tools.stored(),
                metrics=metrics.summary(event.at_ns) if metrics else {},
            )
            self.last_turn_id, self.turn_id = self.turn_id, None
