"""Tool calls as a pure, typed model: what each call of a turn is, from the run's events.

``ToolCallLog.apply(event)`` moves a call through its life (announced, arguments streaming,
issued, waiting for approval, approved or rejected, finished or failed); the journal stores
``ToolCallLog.stored()`` with the turn, and a stored turn's calls come back through
``ToolCall.from_stored``. No I/O, no widgets: every transition is unit-tested.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypedDict

from tui.core import events as ev

CallStatus = Literal["running", "approval", "rejected", "done", "failed"]
Approval = Literal["pending", "approved", "rejected"]


class StoredToolCall(TypedDict, total=False):
    """A tool call as the store keeps it with its turn (``ToolCall.stored``), as JSON:
    ``TurnRow.tools``, exports and the API's history hold these. Read back leniently
    (``ToolCall.from_stored``): a call stored by an earlier version or imported from a file
    may lack any key; ``approval``, ``approved_by`` and ``agent`` are there only when set."""

    call_id: str
    name: str
    arguments: str
    output: str | None
    failed: bool
    source: str
    approval: Approval
    approved_by: str
    agent: str


@dataclass(slots=True)
class ToolCall:
    call_id: str
    name: str = "tool"
    arguments: str = ""
    output: str | None = None  # None: not run (yet)
    failed: bool = False
    source: str = ""  # "" a function tool, "mcp:SERVER", "agent:NAME"
    issued: bool = False  # the SDK issued it (arguments complete), or asked approval for it
    approval: Approval | None = None
    approved_by: str | None = None
    agent: str = ""  # who asked for it (shown with an approval)
    started_ns: int | None = None
    finished_ns: int | None = None

    @property
    def status(self) -> CallStatus:
        if self.output is not None:
            if self.approval == "rejected":
                return "rejected"  # the output is the SDK's refusal
            return "failed" if self.failed else "done"
        if self.approval == "rejected":
            return "rejected"
        if self.approval == "pending":
            return "approval"
        return "running"

    @property
    def duration_s(self) -> float | None:
        if self.started_ns is None or self.finished_ns is None:
            return None
        return max(0, self.finished_ns - self.started_ns) / 1e9

    def stored(self) -> StoredToolCall:
        """The shape kept with a turn in the store (and read back by ``from_stored``)."""
        out: StoredToolCall = {
            "call_id": self.call_id,
            "name": self.name,
            "arguments": self.arguments,
            "output": self.output,
            "failed": self.failed,
            "source": self.source,
        }
        if self.approval is not None:
            out["approval"] = self.approval
        if self.approved_by is not None:
            out["approved_by"] = self.approved_by
        if self.agent:
            out["agent"] = self.agent
        return out

    @classmethod
    def from_stored(cls, data: StoredToolCall) -> ToolCall:
        approval = data.get("approval")
        output = data.get("output")
        return cls(
            call_id=str(data.get("call_id") or ""),
            name=str(data.get("name") or "tool"),
            arguments=str(data.get("arguments") or ""),
            output=None if output is None else str(output),
            failed=bool(data.get("failed")),
            source=str(data.get("source") or ""),
            issued=True,
            approval=approval if approval in ("pending", "approved", "rejected") else None,
            approved_by=None if data.get("approved_by") is None else str(data["approved_by"]),
            agent=str(data.get("agent") or ""),
        )


class ToolCallLog:
    """The calls of one turn, by ``call_id``, in the order they were first seen."""

    def __init__(self, calls: list[ToolCall] | None = None) -> None:
        self.calls: dict[str, ToolCall] = {call.call_id: call for call in calls or ()}

    def __len__(self) -> int:
        return len(self.calls)

    def get(self, call_id: str) -> ToolCall | None:
        return self.calls.get(call_id)

    def _call(self, call_id: str, name: str = "tool") -> ToolCall:
        call = self.calls.get(call_id)
        if call is None:
            call = self.calls[call_id] = ToolCall(call_id, name)
        return call

    def apply(self, event: ev.RunEvent) -> ToolCall | None:
        """The call this event changed (None for an event about no call)."""
        if isinstance(event, ev.ToolCallStarted):
            call = self._call(event.call_id, event.name)
            call.started_ns = call.started_ns or event.at_ns
            return call
        if isinstance(event, ev.ToolArgumentsDelta):
            call = self._call(event.call_id)
            if not call.issued:
                call.arguments += event.delta
            return call
        if isinstance(event, ev.ToolCallIssued):
            call = self._call(event.call_id, event.name)
            call.name, call.arguments, call.source = event.name, event.arguments, event.source
            call.issued = True
            call.started_ns = event.at_ns  # the tool runs from here; the model streamed before
            return call
        if isinstance(event, ev.ApprovalRequested):
            call = self._call(event.call_id, event.tool_name)
            if not call.issued:
                call.name, call.arguments = event.tool_name, event.arguments
            call.issued = True
            call.approval, call.agent = "pending", event.agent
            return call
        if isinstance(event, ev.ApprovalResolved):
            found = self.calls.get(event.call_id)
            if found is not None:
                found.approval = "approved" if event.approved else "rejected"
                found.approved_by = event.by
                if event.approved and event.at_ns:
                    found.started_ns = (
                        event.at_ns
                    )  # it runs from the answer: the wait is not its time
            return found
        if isinstance(event, ev.ToolCallFinished):
            call = self._call(event.call_id)
            call.issued = True
            call.output, call.failed, call.finished_ns = event.output, event.failed, event.at_ns
            return call
        return None

    def pause(self) -> None:
        """A run paused for approvals: every issued call not yet run waits for an answer."""
        for call in self.calls.values():
            if call.issued and call.output is None and call.approval is None:
                call.approval = "pending"

    def stored(self) -> list[StoredToolCall]:
        """The calls the SDK issued (a call cut off while its arguments streamed is not one)."""
        return [call.stored() for call in self.calls.values() if call.issued]

    @classmethod
    def from_stored(cls, rows: list[StoredToolCall]) -> ToolCallLog:
        return cls([ToolCall.from_stored(row) for row in rows])
