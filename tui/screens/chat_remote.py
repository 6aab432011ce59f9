"""What the chat screen does beyond presenting events when it is attached to a running
service (``agents-tui --connect``): prompts go to the service and come back as ``Said``
(with their author, from every player of the table), the link's state reads in the status
line, approvals are answered through the service (the first terminal to answer wins), and
the service's own figures for a turn are shown beside what this client measured.

The turns themselves are presented by ``ChatScreen`` with the code that presents a local
turn: the remote session's stream (``tui.remote.session.RemoteTable.follow``) yields the
same app events.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from tui.core import events as ev
from tui.core.i18n import _
from tui.core.turn.approvals import ApprovalDecision, ApprovalRequest
from tui.messages import ApprovalAsked
from tui.remote.decode import Cancelled, Link, Said, ServiceMeasured

if TYPE_CHECKING:
    from collections.abc import Callable

    from textual.message import Message

    from tui.command_context import ScreenHost
    from tui.remote.session import RemoteTable
    from tui.widgets.assistant_message import AssistantMessage
    from tui.widgets.user_message import UserMessage


class RemotePresenting:
    """Mixed into ``ChatScreen``: the remote table's own items."""

    current_reply: AssistantMessage | None
    post_message: Callable[[Message], bool]  # the screen's

    @property
    def host(self) -> ScreenHost:
        return self.app  # type: ignore[attr-defined,no-any-return]

    def remote_setup(self) -> None:
        self.own_bubbles: dict[str, UserMessage] = {}
        self.measured: ServiceMeasured | None = None
        self.asked_remotely: set[str] = set()

    @property
    def table(self) -> RemoteTable | None:
        return getattr(self.host, "remote", None)

    def send_remote(self, table: RemoteTable, prompt: str, *, interrupt: bool = False) -> None:
        """A prompt typed here: shown at once (queued), sent when the link is up; with
        ``interrupt`` (Ctrl+Enter) the service stops the running turn and runs it next."""
        bubble = self.host.chat.add_user(prompt, queued=True, author=table.author)
        self.own_bubbles[table.send(prompt, interrupt=interrupt)] = bubble
        if interrupt and self.host.turn_running:
            self.host.timeline.note("rejected", _("interrupted by a new prompt"))

    def present_remote(self, item: object) -> None:
        match item:
            case Said():
                self._said(item)
            case Link():
                self._link(item)
            case Cancelled():
                who = item.by or _("someone")
                self.host.timeline.note("rejected", _("cancelled by {name}").format(name=who))
                self.host.status.show(_("cancelling… ({name})").format(name=who))
            case ServiceMeasured():
                self.measured = item
                figures = item.metrics
                ttft = figures.get("time_to_first_token_s")
                self.host.timeline.note(
                    "message",
                    _("measured by the service: TTFT {ttft} · {rate:.1f} tokens/s").format(
                        ttft=f"{ttft * 1000:.0f} ms" if ttft is not None else "—",
                        rate=figures.get("end_to_end_tokens_per_second", 0.0),
                    ),
                )

    def _said(self, said: Said) -> None:
        host = self.host
        bubble = self.own_bubbles.pop(said.message_id, None)
        table = self.table
        if bubble is None:
            bubble = host.chat.add_user(said.text, author=said.author)
        elif table is not None and said.message_id in table.sent_at:
            waited = (time.perf_counter_ns() - table.sent_at.pop(said.message_id)) / 1e9
            host.timeline.note(
                "message",
                _("network: first event {ms:.0f} ms after sending").format(ms=waited * 1000),
                _("measured here: the service's queue and the network, not the model"),
            )
        bubble.mark_sent()
        self.current_reply = host.chat.start_assistant(host.agent_name, bubble)
        host.status.set_whose(said.author or _("someone"))
        host.status.show(_("thinking…"))

    def _link(self, link: Link) -> None:
        host = self.host
        table = self.table
        where = table.client.shown if table is not None else ""
        if link.state == "connected":
            host.status.show(_("connected to {url}").format(url=where), busy=host.turn_running)
        elif link.state == "reconnecting":
            host.status.show(_("reconnecting… ({why})").format(why=link.detail))
        elif link.state == "busy":
            host.status.show(link.detail)
        else:  # failed, refused: retrying would not change it
            host.status.show(link.detail, busy=False)
            host.chat.add_note(_("The service refused"), link.detail, kind="error")

    def ask_remotely(self, event: ev.ApprovalRequested) -> None:
        """An approval the service asks every follower: answered here or elsewhere."""
        table = self.table
        if table is None or event.call_id in self.asked_remotely:
            return
        connect = getattr(self.host, "connect", None)
        if connect is not None and connect.watch and not connect.approve:
            return  # a watcher sees the call in the timeline; --approve lets it answer
        self.asked_remotely.add(event.call_id)
        request = ApprovalRequest(
            event.call_id, event.tool_name, event.arguments, event.agent, event.index, event.total
        )
        answer: asyncio.Future[ApprovalDecision] = asyncio.get_running_loop().create_future()

        def answered(future: asyncio.Future[ApprovalDecision]) -> None:
            if not future.cancelled():
                table.answer(event.call_id, future.result().approved)

        answer.add_done_callback(answered)
        self.post_message(ApprovalAsked(request, answer))

    def answered_elsewhere(self, event: ev.ApprovalResolved) -> None:
        bar = self.host.approval_bar
        if bar.request is not None and bar.request.call_id == event.call_id:
            bar.dismiss()  # another terminal answered first
            self.host.prompt_input.focus()

    def remote_summary(self) -> ServiceMeasured | None:
        """The service's figures for the turn that ends (and its asked calls forgotten: a
        model may use the same call ids in a later turn)."""
        measured, self.measured = self.measured, None
        self.asked_remotely.clear()
        return measured

    @property
    def read_only(self) -> bool:
        """A watcher (``--watch``): it types nothing and cancels nothing."""
        connect = getattr(self.host, "connect", None)
        return connect is not None and bool(connect.watch)
