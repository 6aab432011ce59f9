"""The source tutorial's web event protocol, produced from the app's own events.

Used by ``agents-tui run --jsonl`` (and any web back end): one JSON object per event,
each with ``type``, ``data`` and ``timestamp``. Each event type has one small function
below, found through ``ENCODERS`` by the event's type.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from tui.core import events as ev
from tui.core.observe.metrics import TurnMetrics, metrics_of

# The seq of an event id (``TURN-SEQ``) that says how a turn ended when its events are gone
# (a follower that was away): after it, nothing more of that turn. The service sends it, an
# attached terminal reads it (tui.remote), so it is defined here once.
ENDING_SEQ = 999_999_999
STREAM_ERROR = "STREAM_ERROR"  # the tutorial's code for a failed stream; ``kind`` says why

Envelope = dict[str, object]  # a JSON object: ``type``, ``data``, ``timestamp``


def _stamp() -> str:
    return datetime.now(UTC).isoformat()


def envelope(kind: str, data: Mapping[str, object]) -> Envelope:
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
        self.message_id = ""  # the prompt's id, as its client sent it (``user_message``)
        self.cached = False  # the turn is replayed from the response cache

    def _switched(self, name: str, source: str | None = None) -> list[Envelope]:
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

    def encode(self, event: ev.RunEvent) -> list[Envelope]:
        if self._metrics_of is None:
            if isinstance(event, ev.TurnStarted):
                self._own = TurnMetrics(started_ns=event.at_ns)
            if self._own is not None:
                self._own.observe(event)
        encode = ENCODERS.get(type(event))
        return encode(self, event) if encode is not None else []

    def _issues(self) -> list[str]:
        """The tutorial monitor's assessment: TTFT over 2 s, under 10 tokens/s, errors."""
        return _issues_of(self.metrics)


def _turn_started(encoder: ProtocolEncoder, event: ev.TurnStarted) -> list[Envelope]:
    encoder.agent = event.agent
    encoder.cached = False
    session = {
        "session_id": encoder.session_id,
        "message_count": encoder.message_count,
        "agent": event.agent,
    }
    said: list[Envelope] = []
    if not event.resumed:  # a stored turn taken up again was said when it first ran
        # Every follower of the session sees who said what (a table of players).
        message = {"author": event.author, "text": event.prompt}
        said = [envelope("user_message", {**message, "message_id": encoder.message_id})]
        encoder.message_id = ""
    return [
        envelope("session_update", session),
        *said,
        envelope("typing_start", {"message": "Assistant is thinking..."}),
    ]


def _response_cached(encoder: ProtocolEncoder, event: ev.AnsweredFromCache) -> list[Envelope]:
    encoder.cached = True
    return [envelope("response_cached", {"age_s": event.age_s})]


def _text_delta(encoder: ProtocolEncoder, event: ev.TextDelta) -> list[Envelope]:
    # the tutorial's running count: spaces streamed so far
    encoder.words += event.text.count(" ")
    return [envelope("text_delta", {"delta": event.text, "word_count": encoder.words})]


def _tool_start(_encoder: ProtocolEncoder, event: ev.ToolCallIssued) -> list[Envelope]:
    data = {
        "tool_name": event.name,
        "arguments": event.arguments,
        "call_id": event.call_id,
        "source": event.source or "function",
        "message": f"Using {event.name}...",
    }
    return [envelope("tool_start", data)]


def _tool_complete(_encoder: ProtocolEncoder, event: ev.ToolCallFinished) -> list[Envelope]:
    data = {
        "call_id": event.call_id,
        "tool_output": _cut(event.output),
        "full_output": event.output,
        "failed": event.failed,
        "message": "Tool execution failed" if event.failed else "Tool execution completed",
    }
    return [envelope("tool_complete", data)]


def _approval_required(_encoder: ProtocolEncoder, event: ev.ApprovalRequested) -> list[Envelope]:
    data = {
        "call_id": event.call_id,
        "tool_name": event.tool_name,
        "arguments": event.arguments,
        "agent": event.agent,
        "index": event.index,
        "total": event.total,
    }
    return [envelope("approval_required", data)]


def _approval_resolved(_encoder: ProtocolEncoder, event: ev.ApprovalResolved) -> list[Envelope]:
    data = {"call_id": event.call_id, "approved": event.approved, "by": event.by}
    return [envelope("approval_resolved", data)]


def _guardrail_tripped(_encoder: ProtocolEncoder, event: ev.GuardrailTripped) -> list[Envelope]:
    return [envelope("guardrail_tripped", {"guardrail": event.name, "stage": event.stage})]


def _nested_activity(_encoder: ProtocolEncoder, event: ev.NestedActivity) -> list[Envelope]:
    data = {
        "parent_call_id": event.parent_call_id,
        "kind": event.kind,
        "title": event.title,
        "detail": event.detail,
    }
    return [envelope("nested_activity", data)]


def _agent_switched(encoder: ProtocolEncoder, event: ev.AgentSwitched) -> list[Envelope]:
    return encoder._switched(event.name)


def _handoff_completed(encoder: ProtocolEncoder, event: ev.HandoffCompleted) -> list[Envelope]:
    return encoder._switched(event.target, event.source)


def _run_failed(_encoder: ProtocolEncoder, event: ev.RunFailed) -> list[Envelope]:
    data = {"message": event.message, "code": STREAM_ERROR, "kind": event.error_kind}
    return [envelope("error", data)]


def _retry(_encoder: ProtocolEncoder, event: ev.RetryScheduled) -> list[Envelope]:
    data = {
        "attempt": event.attempt,
        "max_attempts": event.max_attempts,
        "delay_s": event.delay_s,
        "code": event.error_kind,
        "message": event.message,
    }
    return [envelope("retry", data)]


def _context_trimmed(_encoder: ProtocolEncoder, event: ev.ContextFitted) -> list[Envelope]:
    if not event.reason:  # everything was sent: nothing to say
        return []
    data = {
        "reason": event.reason,
        "sent_tokens": event.sent_tokens,
        "window": event.window,
        "sent_messages": event.sent_messages,
        "dropped_turns": event.dropped_turns,
        "dropped_messages": event.dropped_messages,
        "tokens_counted": event.counted,
    }
    return [envelope("context_trimmed", data)]


def _response_complete(encoder: ProtocolEncoder, event: ev.TurnFinished) -> list[Envelope]:
    # the turn's own metrics, carried by its end (``ev.TurnFinished.metrics``), when the
    # stream that measured it set them; else the encoder's measure of the turn
    measured = metrics_of(event) or encoder.metrics
    summary = measured.summary(time.perf_counter_ns()) if measured else {}
    data = {
        "status": event.status,
        "final_response": event.final_text,
        "word_count": len(event.final_text.split()),
        "character_count": len(event.final_text),
        "session_id": encoder.session_id,
        "usage": usage_of(measured),
        "metrics": summary,
        "performance_issues": _issues_of(measured),
        "cached": encoder.cached,
    }
    return [envelope("response_complete", data)]


# Each function takes the event type it is listed under (hence ``Any``); an event type not
# listed here (a reasoning delta, a usage report...) has no protocol object.
ENCODERS: dict[type, Callable[[ProtocolEncoder, Any], list[Envelope]]] = {
    ev.TurnStarted: _turn_started,
    ev.AnsweredFromCache: _response_cached,
    ev.TextDelta: _text_delta,
    ev.ToolCallIssued: _tool_start,
    ev.ToolCallFinished: _tool_complete,
    ev.ApprovalRequested: _approval_required,
    ev.ApprovalResolved: _approval_resolved,
    ev.GuardrailTripped: _guardrail_tripped,
    ev.NestedActivity: _nested_activity,
    ev.AgentSwitched: _agent_switched,
    ev.HandoffCompleted: _handoff_completed,
    ev.RunFailed: _run_failed,
    ev.RetryScheduled: _retry,
    ev.ContextFitted: _context_trimmed,
    ev.TurnFinished: _response_complete,
}


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


def usage_of(metrics: TurnMetrics | None) -> dict[str, int | str]:
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
