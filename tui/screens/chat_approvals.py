"""The chat screen's tool approvals (mixed into ``ChatScreen``): the runner's approver,
answered through the approval bar with a future (Toad's way), and a stored turn's pending
calls asked from the moment they are shown, before its run is restored."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from tui.core.i18n import _
from tui.core.turn.approvals import ApprovalDecision, ApprovalRequest
from tui.messages import ApprovalAsked

if TYPE_CHECKING:
    from collections.abc import Callable

    from textual.message import Message

    from tui.command_context import ScreenHost
    from tui.core.tool_calls import StoredToolCall


class ChatApprovals:
    """Mixed into ``ChatScreen``."""

    _early_answers: dict[str, asyncio.Future[ApprovalDecision]]
    post_message: Callable[[Message], bool]  # the screen's

    @property
    def host(self) -> ScreenHost:
        return self.app  # type: ignore[attr-defined,no-any-return]

    # --- approvals ------------------------------------------------------------------------
    async def ask_person(self, request: ApprovalRequest) -> ApprovalDecision:
        """The runner's approver: the approval bar answers through a future (already
        asked, for a stored turn, from the moment its pending calls were shown)."""
        early = self._early_answers.pop(request.call_id, None)
        if early is not None and not early.cancelled():
            return await early
        answer: asyncio.Future[ApprovalDecision] = asyncio.get_running_loop().create_future()
        self.post_message(ApprovalAsked(request, answer))
        return await answer

    def approval_asked(self, message: ApprovalAsked) -> None:
        """The bar asks (the screen routes ``ApprovalAsked`` here)."""
        if self.host.approval_bar.ask(message.request, message.answer):
            self.host.status.show(_("waiting for your approval (y / n / a)…"))

    def _ask_stored(self, tools: list[StoredToolCall]) -> None:
        """The bar takes the keys as soon as a stored turn's pending calls are on screen,
        not once the model is loaded and the run restored: a ``y`` typed then is an answer,
        kept until the resumed run asks for it."""
        requests = [
            ApprovalRequest(
                str(tool.get("call_id", "")),
                str(tool.get("name", "")),
                str(tool.get("arguments") or ""),
                str(tool.get("agent") or ""),
                index,
                len(tools),
            )
            for index, tool in enumerate(tools, 1)
        ]
        loop = asyncio.get_running_loop()
        self._early_answers = {request.call_id: loop.create_future() for request in requests}
        for request in requests:
            answer = self._early_answers[request.call_id]
            answer.add_done_callback(lambda _answer: self._ask_next_stored(requests))
        self._ask_next_stored(requests)

    def _ask_next_stored(self, requests: list[ApprovalRequest]) -> None:
        if any(answer.cancelled() for answer in self._early_answers.values()):
            self._early_answers = {}  # the turn ended (Esc, quit): ask nothing more
            return
        bar = self.host.approval_bar
        if bar.asking:
            return
        for request in requests:
            answer = self._early_answers.get(request.call_id)
            if answer is not None and not answer.done() and bar.ask(request, answer):
                self.host.status.show(_("waiting for your approval (y / n / a)…"))
                return
        if not bar.asking:
            self.host.prompt_input.focus()
