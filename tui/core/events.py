"""The app's own typed run events.

The SDK's stream is translated into these once, by :mod:`tui.core.adapter`, and
timestamped once (``at_ns``, ``time.perf_counter_ns()``) when the SDK delivers the
event. Panes, metrics, recordings and the JSONL output all consume these, never the
SDK's objects, so each of them can be tested without a model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

TurnStatus = Literal["completed", "interrupted", "failed"]
ToolStatus = Literal["running", "done", "failed"]


@dataclass(frozen=True, slots=True)
class TurnStarted:
    prompt: str
    agent: str
    at_ns: int


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
class RunFailed:
    """One failure inside a turn: the turn may still recover through a retry."""

    error_kind: str
    message: str
    at_ns: int


@dataclass(frozen=True, slots=True)
class TurnFinished:
    status: TurnStatus
    final_text: str
    at_ns: int
    error_kind: str | None = None
    error: str | None = None


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
    | RunFailed
    | TurnFinished
)
