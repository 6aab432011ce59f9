"""The bar above the prompt that asks the person to approve a tool call: y / n / a."""

from __future__ import annotations

import asyncio

from rich.text import Text
from textual.binding import Binding
from textual.widgets import Static

from tui.core.i18n import N_, _
from tui.core.sanitize import safe_text
from tui.core.turn.approvals import ApprovalDecision, ApprovalRequest
from tui.localized import localized

ARGUMENT_PREVIEW = 300


@localized
class ApprovalBar(Static, can_focus=True):
    """Shown only while a call waits; focused so its keys never reach the prompt."""

    DEFAULT_CSS = """
    ApprovalBar { display: none; height: auto; padding: 0 1; border: round $warning; }
    ApprovalBar.-asking { display: block; }
    ApprovalBar:focus { border: round $warning-lighten-2; }
    """
    BINDINGS = [
        Binding("y", "answer(True, False)", N_("approve")),
        Binding("n", "answer(False, False)", N_("reject")),
        Binding("a", "answer(True, True)", N_("always")),
        Binding("Y", "answer_all(True)", N_("approve all")),
        Binding("N", "answer_all(False)", N_("reject all")),
    ]

    def __init__(self, **kwargs: object) -> None:
        super().__init__("", **kwargs)  # type: ignore[arg-type]
        self.request: ApprovalRequest | None = None
        self._answer: asyncio.Future[ApprovalDecision] | None = None
        # "Y" / "N" answer this call and the rest of the calls pending with it.
        self._batch: tuple[ApprovalDecision, int] | None = None

    def ask(self, request: ApprovalRequest, answer: asyncio.Future[ApprovalDecision]) -> bool:
        """Show ``request``; False when a batch answer ("Y" / "N") already covers it."""
        if self._batch is not None and request.index > 1 and request.index <= self._batch[1]:
            answer.set_result(self._batch[0])
            return False
        self._batch = None
        self.request = request
        self._answer = answer
        self.update(self._content(request))
        self.add_class("-asking")
        self.focus()
        return True

    def _content(self, request: ApprovalRequest) -> Text:
        count = (
            " " + _("({index} of {total})").format(index=request.index, total=request.total)
            if request.total > 1
            else ""
        )
        arguments = request.arguments or "{}"
        if len(arguments) > ARGUMENT_PREVIEW:
            arguments = (
                arguments[:ARGUMENT_PREVIEW]
                + "… "
                + _("({n:,} chars)").format(n=len(request.arguments))
            )
        text = Text()
        who = safe_text(request.agent or _("The agent"))
        text.append("⏸ " + _("{agent} wants to run ").format(agent=who), style="bold")
        text.append(safe_text(request.tool_name), style="bold yellow")
        text.append(f"{count}\n")
        text.append(safe_text(arguments) + "\n", style="dim")
        keys = _("y approve · n reject · a always approve this tool")
        if request.total > 1:
            keys += " · " + _("Y approve all {total} · N reject all").format(total=request.total)
        text.append(keys + " · " + _("Esc cancels the turn"))
        return text

    def action_answer(self, approved: bool, always: bool) -> None:
        self._resolve(ApprovalDecision(approved, always=always))

    def action_answer_all(self, approved: bool) -> None:
        if self.request is not None and self.request.total > 1:
            self._batch = (ApprovalDecision(approved), self.request.total)
        self._resolve(ApprovalDecision(approved))

    def _resolve(self, decision: ApprovalDecision) -> None:
        answer, self._answer = self._answer, None
        if answer is not None and not answer.done():
            answer.set_result(decision)
        self.dismiss()

    def dismiss(self) -> None:
        """Hide (answered, or the turn ended while asking)."""
        if self._answer is not None and not self._answer.done():
            self._answer.cancel()
        self._answer = None
        self.request = None
        self.remove_class("-asking")

    @property
    def asking(self) -> bool:
        return self.request is not None
