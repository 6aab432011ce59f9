"""A turn's end on the chat screen (mixed into ``ChatScreen``): the reply's footer, the
sidebar, the session's averages and the thresholds, all from the turn's own metrics that
its ``TurnFinished`` carries (``ev.TurnFinished.metrics``), never from "the conversation's
current turn".

With a pace (``tui.screens.chat_pacing``) a turn's end can be shown after the core has
stored it: a reply that arrived whole in a burst goes on at the pace for up to
``TAIL_MAX_S`` after its end. A new prompt sent meanwhile does not wait behind that tail:
it shows the tail at once, and its own turn is presented after the old turn's end has been
(``begin_after_tail``), so its reply, footer and metrics never mix with the old one's.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from tui.core import events as ev
from tui.core.i18n import N_, _, ngettext
from tui.core.observe.metrics import metrics_of
from tui.core.sanitize import safe_text
from tui.widgets.assistant_message import AssistantMessage

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Callable

    from tui.command_context import ScreenHost
    from tui.core.observe.metrics import TurnMetrics
    from tui.remote.decode import ServiceMeasured
    from tui.remote.session import RemoteTable
    from tui.screens.chat_pacing import ReplyPacing
    from tui.text_batch import TextBatcher

# How a turn ended, as the status line says it.
ENDED = {"completed": N_("ready"), "interrupted": N_("interrupted"), "failed": N_("failed")}


class ChatTurnEnd:
    """Mixed into ``ChatScreen``."""

    current_reply: AssistantMessage | None
    turn_metrics: TurnMetrics | None  # the running turn's, for live checks while it streams
    _alerted_this_turn: bool
    text: TextBatcher
    call_later: Callable[..., bool]  # the screen's: after the messages posted before it

    @property
    def host(self) -> ScreenHost:
        return self.app  # type: ignore[attr-defined,no-any-return]

    if TYPE_CHECKING:  # the screen's, from ``ChatPacing``, ``RemotePresenting``, ``ChatScreen``

        @property
        def pacing(self) -> ReplyPacing: ...

        @property
        def table(self) -> RemoteTable | None: ...

        def remote_summary(self) -> ServiceMeasured | None: ...

        def start_next_queued(self) -> None: ...

    def begin_after_tail(
        self, turn: AsyncGenerator[object, None], begin: Callable[..., None]
    ) -> None:
        """Present a new turn (``begin(turn)``): now, or, when the last reply's paced tail
        is still held, once that tail and its turn's end have been shown (at once, not at
        the pace: the person has asked something new and waits for it). ``turn`` is the
        conversation's stream, already asked for, so the conversation is busy meanwhile and
        a prompt sent in between queues behind this one."""
        if not self.pacing.tail_held:
            begin(turn)
            return
        self.pacing.release_all()  # the old turn's text and end, posted in order
        self.text.before_event()  # its last text is posted now, not on the batch's timer
        self.call_later(begin, turn)  # handled after what was posted above

    def check_thresholds(self, turn: TurnMetrics | None = None) -> None:
        """The tutorial's thresholds, shown in the status line whatever the layout (the
        sidebar may be hidden or too narrow to show), with one notification per turn.
        ``turn``: a turn that ended (its own metrics); else the running turn's."""
        from tui.core.observe.metrics import assess

        now = time.perf_counter_ns()
        turn = turn or self.turn_metrics
        own_clock = getattr(self.host.runner, "clock", time.perf_counter_ns)
        if own_clock is not time.perf_counter_ns and turn is not None:
            # A run on a clock of its own (tests) is judged at its latest event: the
            # screen's clock would make it look stalled.
            now = turn.finished_ns or turn.last_token_ns or turn.started_ns
        issues = assess(turn, self.host.session_metrics, now)
        self.host.status.set_alert("; ".join(issues))
        if issues and not self._alerted_this_turn:
            self._alerted_this_turn = True
            self.host.app.notify("; ".join(issues), title=_("Performance"), severity="warning")

    def turn_finished(self, event: ev.TurnFinished) -> None:
        host = self.host
        reply = self.current_reply
        if host.approval_bar.asking:
            host.approval_bar.dismiss()
            host.prompt_input.focus()
        metrics = metrics_of(event)  # this turn's, whatever turn runs by now
        summary = metrics.summary(event.at_ns) if metrics is not None else None
        service = self.remote_summary()  # a running service's own figures, when attached
        if service is not None:
            summary = service.metrics or summary
        if reply is not None and (event.structured or self._differs(reply, event)):
            # The agent's structured output replaces the raw JSON it streamed.
            formatted = AssistantMessage.finished(
                event.final_text, event.status, None, summary or {}
            )
            host.chat.mount(formatted, after=reply)
            reply.remove()
        elif reply is not None:
            reply.finish(event.status, event.error, summary)
        if event.status == "failed":
            host.chat.add_note(
                _("The reply failed ({kind})").format(kind=event.error_kind),
                event.error or "",
                kind="error",
            )
        host.timeline.fail_running()
        if metrics is not None:
            host.sidebar.turn = metrics
            host.session_metrics.add(metrics)
            self.check_thresholds(metrics)
            if event.status == "completed" and metrics.retries:
                retries = metrics.retries
                host.timeline.note(
                    "done",
                    ngettext(
                        "recovered after {n} retry", "recovered after {n} retries", retries
                    ).format(n=retries),
                )
        host.sidebar.live = False
        host.sidebar.render_now()
        host.heap.turn(False)
        self.current_reply = None
        host.status.show(_(ENDED.get(event.status, event.status)), busy=False)
        host.status.set_whose("")
        self.start_next_queued()

    def _differs(self, reply: AssistantMessage, event: ev.TurnFinished) -> bool:
        """A remote turn whose stored text is not what arrived here (a service that
        restarted mid-reply keeps what it had saved): the stored one is shown."""
        shown = reply.source  # made safe as it streamed: compared with the same made safe
        return (
            self.table is not None
            and bool(event.final_text)
            and (shown != safe_text(event.final_text))
        )
