"""The main screen: the chat, the timeline and the sidebar, with its search and the keys that
scroll the chat from wherever focus is (``tui.screens.chat_reading``). It composes its panes,
laid out by ``chat.tcss`` beside it (the app installs it as its one mode, so Textual
loads that sheet as it does a pushed screen's), and presents the conversation: its past turns
when it opens, and every event of a running turn, routed to the pane that draws it. The turns
themselves run in the core (``tui.core.turn.conversation``); this screen queues prompts, starts
turns there and shows what they yield. Its compositor comes from ``tui.textual_patches``
(the row-cropping one when the patches are installed, Textual's own otherwise).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncGenerator, Callable
from typing import TYPE_CHECKING, TypeVar

from textual import on, work
from textual.message import Message
from textual.worker import Worker, WorkerState

from tui import textual_patches
from tui.core import events as ev
from tui.core.i18n import _
from tui.core.observe.metrics import TurnMetrics
from tui.core.turn.approvals import ApprovalDecision
from tui.core.turn.conversation import Queued, TurnEvent
from tui.localized import localized
from tui.messages import (
    ApprovalAsked,
    ConversationOpened,
    RemoteItemPosted,
    RunEventPosted,
    TextArrived,
    TurnEnded,
)
from tui.remote.decode import Cancelled, Link, Said, ServiceMeasured
from tui.screens.chat_approvals import ChatApprovals
from tui.screens.chat_interrupt import ChatInterrupting
from tui.screens.chat_pacing import ChatPacing
from tui.screens.chat_reading import ChatReading, Completions
from tui.screens.chat_remote import RemotePresenting
from tui.screens.chat_turn_end import ChatTurnEnd
from tui.text_batch import TextBatcher
from tui.widgets.assistant_message import AssistantMessage
from tui.widgets.record import Record

if TYPE_CHECKING:
    from tui.command_context import ScreenHost
    from tui.core.observe.metrics import SessionMetrics
    from tui.core.store import TurnRow
    from tui.remote.session import RemoteTable
    from tui.widgets.user_message import UserMessage

M = TypeVar("M", bound=Message)  # a message of the turn, handled while on screen
RemoteOnly = (
    Said | Link | ServiceMeasured | Cancelled
)  # what only a running service's session yields


@localized
class ChatScreen(
    ChatApprovals, ChatInterrupting, ChatPacing, ChatTurnEnd, RemotePresenting, ChatReading
):
    """The app's main screen: the turns presented in the panes its base composes."""

    def __init__(self, session_metrics: SessionMetrics, completions: Completions) -> None:
        super().__init__(session_metrics, completions)
        textual_patches.use_row_crop(self)
        self.text = TextBatcher(lambda parts: self.post_message(TextArrived(parts)))
        self.queue: deque[tuple[str, UserMessage]] = deque()
        self.current_reply: AssistantMessage | None = None
        self.turn_metrics: TurnMetrics | None = None  # the conversation's, for this turn
        self.agent_shown = ""  # the agent the header names; a switch is noted once
        # A stored turn that waits for approvals, taken up once the model is ready, and the
        # answers typed for it before the restored run asks.
        self._paused: tuple[TurnRow, str, UserMessage] | None = None
        self._early_answers: dict[str, asyncio.Future[ApprovalDecision]] = {}
        self._rate_checked = False
        self._alerted_this_turn = False
        self.remote_setup()

    @property
    def host(self) -> ScreenHost:
        """The app, as far as this screen uses it (``tui.command_context.ScreenHost``)."""
        return self.app  # type: ignore[return-value]

    # --- the conversation as it opens -------------------------------------------------------
    @on(ConversationOpened)
    def _conversation_opened(self, message: ConversationOpened) -> None:
        host = self.host
        if message.replace:
            # finished replies become records first: a widget that clear() is still removing
            # was folded back into the fresh chat by its next mount (the last reply, shown
            # again under "Fresh conversation")
            host.chat.fold()
            host.chat.clear()
            host.timeline.clear_rows()
            host.status.set_alert("")  # the old turns' warnings (a paced tail's end, too)
            host.update_header()
        conversation = host.conversation
        paused = conversation.paused() if conversation is not None else None
        past = [t for t in message.turns if paused is None or t.id != paused.turn.id]
        if past:
            host.chat.show_past([r for turn in past for r in self._past_turn_records(turn)])
        if paused is not None:
            self._show_paused(paused.turn, paused.state)
        recovered = host.store.recovered if host.store is not None else []
        if any(t.conversation_id == message.conversation_id for t in recovered):
            self.app.notify(
                _("The last turn was cut off when the app stopped; its partial reply is kept."),
                severity="warning",
            )
        if message.turns:
            self.app.notify(
                _("Reopened a conversation with {n} turns.").format(n=len(message.turns))
            )
        if message.note is not None:
            host.chat.add_note(*message.note)
        if message.replace:  # its newest turn, even if a paced reply had the pane scroll itself
            host.chat.follow_again()

    def _past_turn_records(self, turn: TurnRow) -> list[Record]:
        status = turn.status if turn.status in ("completed", "interrupted") else "failed"
        for tool in turn.tools:
            self.host.timeline.past_tool(tool)
        return [
            Record("user", turn.prompt),
            Record("assistant", turn.reply, status, turn.error, turn.metrics),
        ]

    def _show_paused(self, turn: TurnRow, state: str) -> None:
        """A turn stored while it waited for approvals: shown live, asked again."""
        bubble = self.host.chat.add_user(turn.prompt, queued=True)
        self._paused = (turn, state, bubble)
        pending = []
        for tool in turn.tools:
            self.host.timeline.past_tool(tool)  # a call still pending shows it
            if tool.get("approval") == "pending":
                pending.append(tool)
        self.app.notify(
            _("A turn is waiting for your approval; it is asked again."), severity="warning"
        )
        self._ask_stored(pending)
        self.start_next_queued()

    # --- running turns --------------------------------------------------------------------
    def submit(self, prompt: str, *, interrupt: bool = False) -> None:
        """A prompt from the person: sent now, or queued behind the running turn (or the
        model still loading), shown at once either way; with ``interrupt`` (Ctrl+Enter) the
        running turn stops and this prompt goes next (``tui.screens.chat_interrupt``)."""
        host = self.host
        if self.table is not None:  # a running service's session: the service queues it
            self.send_remote(self.table, prompt, interrupt=interrupt)
            return
        if interrupt and self.interrupt_with(prompt):
            return
        if host.turn_running or not host.model_ready:
            self.queue_prompt(prompt)
            return
        self._start_turn(prompt, host.chat.add_user(prompt))

    def queue_prompt(self, prompt: str) -> None:
        self.queue.append((prompt, self.host.chat.add_user(prompt, queued=True)))

    def _start_turn(self, prompt: str, bubble: UserMessage) -> None:
        turns = self.host.conversation or self.host.playback
        if turns is None:
            return

        def begin(turn: AsyncGenerator[TurnEvent, None]) -> None:
            bubble.mark_sent()
            self.current_reply = self.host.chat.start_assistant(self.host.agent_name, bubble)
            self.host.status.show(_("thinking…"))
            self._present(turn)

        # the conversation is busy from here on; shown after the last reply's paced tail
        self.begin_after_tail(turns.turn(prompt), begin)

    def start_next_queued(self) -> None:
        host = self.host
        if host.turn_running or not host.model_ready or host.runner is None:
            return
        if self._paused is not None and host.conversation is not None:
            turn, _state, bubble = self._paused
            self._paused = None

            def begin(stream: AsyncGenerator[TurnEvent, None]) -> None:
                bubble.mark_sent()
                self.current_reply = host.chat.start_assistant(host.agent_name, bubble)
                if turn.reply:
                    self.current_reply.append(turn.reply)
                self._present(stream)

            self.begin_after_tail(host.conversation.turn(None), begin)  # the stored turn
            return
        if self.queue:
            prompt, bubble = self.queue.popleft()
            self._start_turn(prompt, bubble)

    # The conversation (tui.core.turn.conversation) runs the turn for every front end: it
    # records, measures and stores each event, then yields it here to be presented. A
    # running service's session (tui.remote.session) yields every turn of the session, the
    # same events, with who said what and the link's state between them.
    @work(exclusive=True, group="run", exit_on_error=False)
    async def _present(self, turn: AsyncGenerator[TurnEvent | RemoteOnly, None]) -> None:
        self.host.heap.turn(True)  # full collections wait for the turn's end
        async with contextlib.aclosing(turn) as events:
            async for event in events:
                if not isinstance(event, Queued):  # the screen sends one prompt at a time
                    self.emit(event)
        self.post_message(TurnEnded())

    def follow_remote(self, table: RemoteTable) -> None:
        """Present the session of a running service, every turn of it, until the app ends."""
        self._present(table.follow())

    @on(RemoteItemPosted)
    def _remote_item(self, message: RemoteItemPosted) -> None:
        self._while_on_screen(lambda m: self.present_remote(m.item), message)

    @on(ApprovalAsked)
    def _approval_asked(self, message: ApprovalAsked) -> None:
        self.approval_asked(message)

    @on(TurnEnded)
    def _turn_ended(self, _message: TurnEnded) -> None:
        self.start_next_queued()

    def emit(self, event: ev.RunEvent | RemoteOnly) -> None:
        """Every event of the turn, already recorded, measured and stored by the core, in
        delivery order, on the app's loop (and a running service's items between them)."""
        if self.pacing.holds(event):
            return  # shown at the reader's pace, in order (``tui.screens.chat_pacing``)
        if isinstance(event, (Said, Link, ServiceMeasured, Cancelled)):
            self.text.before_event()
            self.post_message(RemoteItemPosted(event))
            return
        if isinstance(event, ev.TurnStarted):
            # the conversation's own metrics for this turn: nothing here counts them again
            turns = self.host.turns
            self.turn_metrics = turns.metrics if turns is not None else None
            self._rate_checked = False
            self.host.heap.turn(True)  # a session's every turn (one stream when attached)
        if isinstance(event, ev.TextDelta):
            self.text.add(event.text)
            return
        self.text.before_event()
        self.post_message(RunEventPosted(event))

    def _while_on_screen(self, handle: Callable[[M], None], message: M) -> None:
        """Runs a handler of the turn's messages; once the app is quitting its screen and
        widgets go before the turn's last messages arrive, and there is nothing left to draw
        them on (``run_test`` and ``q`` mid-turn both get here)."""
        from textual.app import ScreenStackError
        from textual.css.query import NoMatches

        try:
            handle(message)
        except (NoMatches, ScreenStackError):
            app = self.app  # the screen's parent is the app: not active once it closes
            if app.is_running and app.return_code is None and self.is_parent_active:
                raise

    @on(TextArrived)
    def _text_arrived(self, message: TextArrived) -> None:
        self._while_on_screen(self._show_text, message)

    def _show_text(self, message: TextArrived) -> None:
        self.text.drawn(message.parts)
        if not message.parts:
            return  # taken by the reply it belonged to (see ``_worker_changed``)
        reply = self.current_reply
        if reply is not None:
            reply.append("".join(message.parts))
        self.host.status.show(_("writing…"))
        tokens = self.turn_metrics.tokens if self.turn_metrics is not None else 0
        if tokens == len(message.parts) or (tokens >= 40 and not self._rate_checked):
            self._rate_checked = tokens >= 40
            self.check_thresholds()  # at the first token (TTFT), and once the rate is real

    @on(RunEventPosted)
    def _route(self, message: RunEventPosted) -> None:
        self._while_on_screen(self._route_event, message)

    def _route_event(self, message: RunEventPosted) -> None:
        """Each pane draws the events it shows; the screen keeps what concerns the reply,
        the prompt's focus and the header."""
        event = message.event
        host = self.host
        host.timeline.show(event)
        host.status.show_event(event)
        reply = self.current_reply
        match event:
            case ev.ReasoningDelta() if reply is not None:
                reply.append_reasoning(event.text)
            case ev.ApprovalRequested():
                if reply is not None:
                    reply.pause()
                self.ask_remotely(event)  # a running service's: asked here as everywhere
            case ev.ApprovalResolved():
                self.answered_elsewhere(event)
                if not host.approval_bar.asking:
                    host.prompt_input.focus()
            case ev.AgentSwitched() if event.name != self.agent_shown:
                host.timeline.note("agent", _("agent: {name}").format(name=event.name))
                self.agent_shown = event.name
                host.update_header()
            case ev.RetryScheduled():
                self.app.notify(
                    _("Retrying after {kind}: attempt {attempt}").format(
                        kind=event.error_kind, attempt=event.attempt
                    ),
                    severity="warning",
                )
            case ev.TurnStarted():
                # bound here, in the panes' order: after an earlier turn's end is shown
                host.sidebar.turn = self.turn_metrics
                host.sidebar.live = True
                self._alerted_this_turn = False
                if reply is None and self.table is not None:  # joined mid-turn, or resumed
                    self.current_reply = host.chat.start_assistant(event.agent or host.agent_name)
            case ev.TurnFinished():
                self.turn_finished(event)  # ``tui.screens.chat_turn_end``
            case _:
                pass

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        """A turn's worker that failed (a bug: the core never raises): a message, never a
        traceback, and the text already streamed is kept."""
        if event.state != WorkerState.ERROR or event.worker.group != "run":
            return
        event.stop()
        error = event.worker.error
        pending = self.text.take() + self.pacing.drop_text()
        if self.current_reply is not None:
            if pending:
                self.current_reply.append(pending)  # its message would find no reply
            self.current_reply.finish("failed", str(error))
        self.host.heap.turn(False)
        self.current_reply = None
        self.host.status.show(_("failed"), busy=False)
        self.host.chat.add_note(
            _("Internal error"), f"{type(error).__name__}: {error}", kind="error"
        )

    def cancel_turn(self) -> None:
        if self.read_only:
            self.app.notify(_("Watching: read-only (--watch); Esc cancels nothing."))
            return
        self.pacing.release_all()  # Esc: what arrived is shown now, not at the pace
        turns = self.host.turns
        if self.host.turn_running and turns is not None:
            turns.cancel()
            self.host.status.show(_("cancelling…"))
