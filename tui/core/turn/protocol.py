"""The source tutorial's web event protocol, produced from the app's own events.

Used by ``agents-tui run --jsonl`` (and any web back end): one JSON object per event,
each with ``type``, ``data`` and ``timestamp``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from tui.core import events as ev
from tui.core.observe.metrics import TurnMetrics

STREAM_ERROR = "STREAM_ERROR"  # the tutorial's code for a failed stream; ``kind`` says why


def _stamp() -> str:
    return datetime.now(UTC).isoformat()


def envelope(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"type": kind, "data": data, "timestamp": _stamp()}


class ProtocolEncoder:
    """Maps one turn's events to protocol objects. The metrics it reports are the
    conversation's own for the turn (``metrics_of``: the journal measured every event before
    the encoder sees it); an encoder used alone (tests, tools) measures the turn itself."""

    def __init__(
        self,
        session_id: str,
        message_count: int = 1,
        *,
        metrics_of: Callable[[], TurnMetrics | None] | None = None,
    ) -> None:
        self.session_id = session_id
        self.message_count = message_count
        self._metrics_of = metrics_of
        self._own: TurnMetrics | None = None
        self.words = 0
        self.agent = ""  # the agent answering now: ``agent_updated`` only when it changes

    def _switched(self, name: str, source: str | None = None) -> list[dict[str, Any]]:
        """``agent_updated`` with ``from`` when the answering agent changes (a handoff), and
        nothing when the SDK restates the same agent (every run and retry starts with one)."""
        before = self.agent
        if not name or name == before:
            return []
        self.agent = name
        return [envelope("agent_updated", {"agent": name, "from": source or before})]

    @property
    def metrics(self) -> TurnMetrics | None:
        return self._metrics_of() if self._metrics_of is not None else self._own

    def encode(self, event: ev.RunEvent) -> list[dict[str, Any]]:
        if self._metrics_of is None:
            if isinstance(event, ev.TurnStarted):
                self._own = TurnMetrics(started_ns=event.at_ns)
            if self._own is not None:
                self._own.observe(event)
        if isinstance(event, ev.TurnStarted):
            self.agent = event.agent
            return [
                envelope(
                    "session_update",
                    {
                        "session_id": self.session_id,
                        "message_count": self.message_count,
                        "agent": event.agent,
                    },
                ),
                envelope("typing_start", {"message": "Assistant is thinking..."}),
            ]
        if isinstance(event, ev.TextDelta):
            # the tutorial's running count: spaces streamed so far
            self.words += event.text.count(" ")
            return [envelope("text_delta", {"delta": event.text, "word_count": self.words})]
        if isinstance(event, ev.ToolCallIssued):
            return [
                envelope(
                    "tool_start",
                    {
                        "tool_name": event.name,
                        "arguments": event.arguments,
                        "call_id": event.call_id,
                        "source": event.source or "function",
                        "message": f"Using {event.name}...",
                    },
                )
            ]
        if isinstance(event, ev.ToolCallFinished):
            return [
                envelope(
                    "tool_complete",
                    {
                        "call_id": event.call_id,
                        "tool_output": _cut(event.output),
                        "full_output": event.output,
                        "failed": event.failed,
                        "message": "Tool execution failed"
                        if event.failed
                        else "Tool execution completed",
                    },
                )
            ]
        if isinstance(event, ev.ApprovalRequested):
            return [
                envelope(
                    "approval_required",
                    {
                        "call_id": event.call_id,
                        "tool_name": event.tool_name,
                        "arguments": event.arguments,
                        "agent": event.agent,
                        "index": event.index,
                        "total": event.total,
                    },
                )
            ]
        if isinstance(event, ev.ApprovalResolved):
            return [
                envelope(
                    "approval_resolved",
                    {"call_id": event.call_id, "approved": event.approved, "by": event.by},
                )
            ]
        if isinstance(event, ev.GuardrailTripped):
            return [envelope("guardrail_tripped", {"guardrail": event.name, "stage": event.stage})]
        if isinstance(event, ev.NestedActivity):
            return [
                envelope(
                    "nested_activity",
                    {
                        "parent_call_id": event.parent_call_id,
                        "kind": event.kind,
                        "title": event.title,
                        "detail": event.detail,
                    },
                )
            ]
        if isinstance(event, ev.AgentSwitched):
            return self._switched(event.name)
        if isinstance(event, ev.HandoffCompleted):
            return self._switched(event.target, event.source)
        if isinstance(event, ev.RunFailed):
            return [
                envelope(
                    "error",
                    {"message": event.message, "code": STREAM_ERROR, "kind": event.error_kind},
                )
            ]
        if isinstance(event, ev.RetryScheduled):
            return [
                envelope(
                    "retry",
                    {
                        "attempt": event.attempt,
                        "max_attempts": event.max_attempts,
                        "delay_s": event.delay_s,
                        "code": event.error_kind,
                        "message": event.message,
                    },
                )
            ]
        if isinstance(event, ev.ContextFitted) and event.reason:
            return [
                envelope(
                    "context_trimmed",
                    {
                        "reason": event.reason,
                        "sent_tokens": event.sent_tokens,
                        "window": event.window,
                        "sent_messages": event.sent_messages,
                        "dropped_turns": event.dropped_turns,
                        "dropped_messages": event.dropped_messages,
                        "tokens_counted": event.counted,
                    },
                )
            ]
        if isinstance(event, ev.TurnFinished):
            metrics = self.metrics.summary(time.perf_counter_ns()) if self.metrics else {}
            usage = usage_of(self.metrics)
            return [
                envelope(
                    "response_complete",
                    {
                        "status": event.status,
                        "final_response": event.final_text,
                        "word_count": len(event.final_text.split()),
                        "character_count": len(event.final_text),
                        "session_id": self.session_id,
                        "usage": usage,
                        "metrics": metrics,
                        "performance_issues": self._issues(),
                    },
                )
            ]
        return []

    def _issues(self) -> list[str]:
        """The tutorial monitor's assessment: TTFT over 2 s, under 10 tokens/s, errors."""
        return _issues_of(self.metrics)


def _issues_of(metrics: TurnMetrics | None) -> list[str]:
    if metrics is None:
        return []
    from tui.core.observe.metrics import SessionMetrics, assess

    session = SessionMetrics()
    session.add(metrics)
    return assess(metrics, session, metrics.finished_ns or time.perf_counter_ns())


def _cut(text: str, limit: int = 200) -> str:
    """The tutorial's preview: the first 200 characters, then "..."."""
    return text if len(text) <= limit else text[:limit] + "..."


def usage_of(metrics: TurnMetrics | None) -> dict[str, Any]:
    """Token usage as the provider reported it; streamed deltas stand in when it sent none.

    Some OpenAI-compatible servers (llama-cpp-python's, for one) ignore
    ``stream_options.include_usage``; ``source`` says which number the reader gets.
    """
    if metrics is None:
        return {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0, "source": "none"}
    if metrics.output_tokens or metrics.input_tokens:
        out, source = metrics.output_tokens, "provider"
    else:
        out, source = metrics.tokens, "streamed_deltas"
    return {
        "input_tokens": metrics.input_tokens,
        "output_tokens": out,
        "total_tokens": metrics.input_tokens + out,
        "source": source,
    }
