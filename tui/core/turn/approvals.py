"""Tool approvals (the SDK's human-in-the-loop): what is asked, what is answered, who answers.

A tool built with ``needs_approval`` stops the run with ``result.interruptions``. The
runner turns each pending call into an :class:`ApprovalRequest` and awaits an
:class:`Approver` for it; front ends supply the approver (the TUI's approval bar, the
terminal prompt of ``agents-tui run --approve ask``, the API's approval endpoint), so the
rules below hold for all of them.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, TextIO

from tui.core.events import ApprovalSource

if TYPE_CHECKING:
    from agents.items import ToolApprovalItem

ApproveMode = Literal["ask", "all", "none"]


@dataclass(frozen=True, slots=True)
class ApprovalRequest:
    call_id: str
    tool_name: str
    arguments: str
    agent: str
    index: int = 1  # position among the calls pending at once
    total: int = 1


@dataclass(frozen=True, slots=True)
class ApprovalDecision:
    approved: bool
    always: bool = False  # approve this tool for the rest of the conversation
    by: ApprovalSource = "user"


Approver = Callable[[ApprovalRequest], Awaitable[ApprovalDecision]]


def request_from_item(item: ToolApprovalItem, index: int, total: int) -> ApprovalRequest:
    """Read a ``ToolApprovalItem`` (its raw call an object or a dict: read either way)."""
    raw = getattr(item, "raw_item", None)

    def field(name: str) -> object:
        return raw.get(name) if isinstance(raw, dict) else getattr(raw, name, None)

    return ApprovalRequest(
        call_id=str(field("call_id") or field("id") or ""),
        tool_name=str(getattr(item, "tool_name", None) or field("name") or "tool"),
        arguments=str(field("arguments") or ""),
        agent=str(getattr(getattr(item, "agent", None), "name", "") or ""),
        index=index,
        total=total,
    )


def flag_approver(approve: bool) -> Approver:
    """``--approve all`` / ``--approve none``: every call gets the same answer, by flag."""

    async def decide(_request: ApprovalRequest) -> ApprovalDecision:
        return ApprovalDecision(approve, by="flag")

    return decide


def terminal_approver(ask_in: TextIO | None = None, ask_out: TextIO | None = None) -> Approver:
    """``--approve ask``: one question per call on the terminal (stderr), y / n / a."""

    async def decide(request: ApprovalRequest) -> ApprovalDecision:
        source = ask_in or sys.stdin
        sink = ask_out or sys.stderr
        count = f" ({request.index} of {request.total})" if request.total > 1 else ""
        question = (
            f"agents-tui: {request.agent or 'the agent'} wants to run {request.tool_name}"
            f"{count} with {request.arguments or '{}'}\n  approve? [y]es / [n]o / [a]lways: "
        )
        while True:
            sink.write(question)
            sink.flush()
            line = await asyncio.to_thread(source.readline)
            if not line:  # end of input: nobody can answer, so nothing runs
                sink.write("\n")
                return ApprovalDecision(False, by="user")
            answer = line.strip().lower()
            if answer in ("y", "yes"):
                return ApprovalDecision(True)
            if answer in ("n", "no"):
                return ApprovalDecision(False)
            if answer in ("a", "always"):
                return ApprovalDecision(True, always=True)

    return decide


def approver_for_mode(mode: ApproveMode | None, *, interactive: bool) -> Approver:
    """``--approve``: ``ask`` is the default only when a person is at the terminal."""
    chosen = mode or ("ask" if interactive else "none")
    if chosen == "all":
        return flag_approver(True)
    if chosen == "none":
        return flag_approver(False)
    return terminal_approver()
