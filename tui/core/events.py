"""The app's own typed run events.

The SDK's stream is translated into these once, by :mod:`tui.core.turn.adapter`, and
timestamped once (``at_ns``, ``time.perf_counter_ns()``) when the SDK delivers the
event. Panes, metrics, recordings and the JSONL output all consume these, never the
SDK's objects, so each of them can be tested without a model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

TurnStatus = Literal["completed", "interrupted", "failed"]
ApprovalSource = Literal["user", "flag", "always", "expired"]  # expired: nobody answered in time
ToolStatus = Literal["running", "done", "failed"]


@dataclass(frozen=True, slots=True)
class TurnStarted:
    prompt: str
    agent: str
    at_ns: int
    resumed: bool = False  # a turn stored while awaiting approval, taken up again
    author: str = ""  # who typed the prompt, at a table of players ("" when one person chats)


@dataclass(frozen=True, slots=True)
class ModelCallStarted:
    """The model began one response (``response.created``)."""

    at_ns: int


@dataclass(frozen=True, slots=True)
class TextDelta:
    text: str
    at_ns: int


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    text: str
    at_ns: int


@dataclass(frozen=True, slots=True)
class ToolCallStarted:
    """A function call was announced by the model, before its arguments exist."""

    call_id: str
    name: str
    at_ns: int


@dataclass(frozen=True, slots=True)
class ToolArgumentsDelta:
    call_id: str
    delta: str
    at_ns: int


@dataclass(frozen=True, slots=True)
class ToolCallIssued:
    """The SDK is about to run the tool; ``arguments`` is complete."""

    call_id: str
    name: str
    arguments: str
    at_ns: int
    source: str = ""  # "" for a function tool, "mcp:SERVER", or "agent:NAME" (agent as tool)


@dataclass(frozen=True, slots=True)
class ToolCallFinished:
    call_id: str
    output: str
    failed: bool
    at_ns: int


@dataclass(frozen=True, slots=True)
class AgentSwitched:
    name: str
    at_ns: int


@dataclass(frozen=True, slots=True)
class HandoffRequested:
    call_id: str
    name: str
    at_ns: int


@dataclass(frozen=True, slots=True)
class HandoffCompleted:
    source: str
    target: str
    at_ns: int


@dataclass(frozen=True, slots=True)
class MessageCompleted:
    text: str
    at_ns: int


@dataclass(frozen=True, slots=True)
class UsageReported:
    input_tokens: int
    output_tokens: int
    total_tokens: int
    at_ns: int


@dataclass(frozen=True, slots=True)
class RetryScheduled:
    attempt: int
    max_attempts: int
    delay_s: float
    error_kind: str
    message: str
    at_ns: int


@dataclass(frozen=True, slots=True)
class ContextFitted:
    """What of the conversation one request carries (see ``tui.core.turn.budget``).

    ``reason`` is "" when everything was sent, "window" or "history" when older turns
    were left out, "overflow" when the model refused the request as too long and the
    turn trims and tries again by itself (not a failure)."""

    sent_tokens: int
    window: int | None
    sent_messages: int
    dropped_turns: int
    dropped_messages: int
    reason: str
    counted: bool
    at_ns: int


@dataclass(frozen=True, slots=True)
class RunFailed:
    """One failure inside a turn: the turn may still recover through a retry."""

    error_kind: str
    message: str
    at_ns: int


@dataclass(frozen=True, slots=True)
class RunPaused:
    """The run stopped on tool calls that need a person's approval.

    ``state`` is the SDK's ``RunState.to_json()`` as a JSON string: stored, it lets the
    turn be approved and finished after a restart.
    """

    state: str
    pending: int
    at_ns: int


@dataclass(frozen=True, slots=True)
class ApprovalRequested:
    call_id: str
    tool_name: str
    arguments: str
    agent: str
    index: int  # 1-based position among the calls pending at once
    total: int
    at_ns: int


@dataclass(frozen=True, slots=True)
class ApprovalResolved:
    call_id: str
    approved: bool
    by: ApprovalSource
    at_ns: int
    always: bool = False  # the person approved this tool for the rest of the conversation


@dataclass(frozen=True, slots=True)
class RunResumed:
    """Every pending call has an answer; the same turn goes on."""

    waited_s: float
    at_ns: int


@dataclass(frozen=True, slots=True)
class NestedActivity:
    """Something an agent used as a tool did inside its own run (a model call, a tool call)."""

    parent_call_id: str
    kind: str  # "agent" | "model" | "tool"
    title: str
    detail: str
    at_ns: int


@dataclass(frozen=True, slots=True)
class GuardrailTripped:
    name: str
    stage: str  # "input" | "output"
    at_ns: int


@dataclass(frozen=True, slots=True)
class AnsweredFromCache:
    """The turn's reply is replayed from the response cache (``tui.core.turn.cache``): no
    model is asked; ``age_s`` is how old the kept reply is."""

    age_s: float
    at_ns: int


@dataclass(frozen=True, slots=True)
class TurnFinished:
    """The turn's end. ``metrics`` is that turn's own ``TurnMetrics``, set by the stream that
    measured it (the conversation's measuring stage, a playback, a running service's
    session) as it yields this event; the producer (a runner, the cache's replay) leaves it
    None. Once its end is measured a turn's figures no longer change, so the object is the
    turn's snapshot: every surface that shows the end of a turn (the reply's footer, the
    sidebar, the session's averages, ``response_complete``) reads it here, never "the
    conversation's current turn", which is the next one by the time a paced reply's end is
    shown. Not part of the event's value (equality, recordings). Typed ``object`` because
    the vocabulary imports nothing of the project: read it with
    ``tui.core.observe.metrics.metrics_of``."""

    status: TurnStatus
    final_text: str
    at_ns: int
    error_kind: str | None = None
    error: str | None = None
    structured: bool = False  # final_text is the agent's structured output, as JSON
    metrics: object = field(default=None, compare=False, repr=False)


RunEvent = (
    TurnStarted
    | ModelCallStarted
    | TextDelta
    | ReasoningDelta
    | ToolCallStarted
    | ToolArgumentsDelta
    | ToolCallIssued
    | ToolCallFinished
    | AgentSwitched
    | HandoffRequested
    | HandoffCompleted
    | MessageCompleted
    | UsageReported
    | RetryScheduled
    | ContextFitted
    | RunFailed
    | RunPaused
    | ApprovalRequested
    | ApprovalResolved
    | RunResumed
    | NestedActivity
    | GuardrailTripped
    | AnsweredFromCache
    | TurnFinished
)
