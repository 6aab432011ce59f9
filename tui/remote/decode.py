"""The event protocol read back into the app's own events (``tui.core.events``).

The service encodes each turn's events (``tui.core.turn.protocol``); a terminal attached
to it decodes them here, so the panes that present a local turn present a remote one with
the same code. Each protocol type has one small function in ``DECODERS``; what only a
remote session has (who said what, the service's own figures, the link's state) are the
dataclasses below. Events are timestamped when they arrive: the client's clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tui.core import events as ev
from tui.core.observe.metrics import MetricsSummary


@dataclass(frozen=True, slots=True)
class Said:
    """A prompt, from any player of the table, as its turn starts."""

    author: str
    text: str
    message_id: str


@dataclass(frozen=True, slots=True)
class Link:
    """The connection to the service: ``connected``, ``reconnecting`` (with why), or
    ``failed`` (a refusal that retrying will not change: a wrong token, no such session)."""

    state: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class ServiceMeasured:
    """The service's own figures for the turn (``response_complete``), and what this client
    measured itself: how long after the turn's first event its first token arrived here."""

    metrics: MetricsSummary
    usage: dict[str, Any]
    issues: list[str]


@dataclass(frozen=True, slots=True)
class Cancelled:
    """Someone at the table asked the running turn to stop."""

    by: str


RemoteItem = ev.RunEvent | Said | Link | ServiceMeasured | Cancelled


@dataclass
class Decoder:
    """One session's protocol objects, in order, as app events (state kept across
    reconnections: the agent answering, the prompt of the turn that starts)."""

    clock: Callable[[], int] = time.perf_counter_ns
    agent: str = ""
    said: Said | None = None
    resumed: bool = False
    _pending: list[RemoteItem] = field(default_factory=list)

    def decode(self, obj: dict[str, Any]) -> list[RemoteItem]:
        data = obj.get("data")
        decode = DECODERS.get(str(obj.get("type", "")))
        if decode is None or not isinstance(data, dict):
            return []  # a type this client does not know (a newer service): skipped
        try:
            return decode(self, data, self.clock())
        except (KeyError, TypeError, ValueError):
            return []  # a malformed object is skipped, never a crash


def _session_update(d: Decoder, data: dict[str, Any], _at: int) -> list[RemoteItem]:
    d.agent = str(data.get("agent") or d.agent)
    d.said = None
    d.resumed = True  # until a user_message says this turn is a new prompt's
    return []


def _user_message(d: Decoder, data: dict[str, Any], _at: int) -> list[RemoteItem]:
    said = Said(str(data.get("author", "")), str(data["text"]), str(data.get("message_id", "")))
    d.said, d.resumed = said, False
    return [said]


def _typing_start(d: Decoder, _data: dict[str, Any], at: int) -> list[RemoteItem]:
    said = d.said
    prompt, author = (said.text, said.author) if said is not None else ("", "")
    return [ev.TurnStarted(prompt, d.agent, at, resumed=d.resumed, author=author)]


def _response_cached(_d: Decoder, data: dict[str, Any], at: int) -> list[RemoteItem]:
    return [ev.AnsweredFromCache(float(data["age_s"]), at)]


def _turn_cancelled(_d: Decoder, data: dict[str, Any], _at: int) -> list[RemoteItem]:
    return [Cancelled(str(data.get("by", "")))]


def _text_delta(_d: Decoder, data: dict[str, Any], at: int) -> list[RemoteItem]:
    return [ev.TextDelta(str(data["delta"]), at)]


def _tool_start(_d: Decoder, data: dict[str, Any], at: int) -> list[RemoteItem]:
    source = str(data.get("source") or "function")
    return [
        ev.ToolCallIssued(
            str(data["call_id"]),
            str(data["tool_name"]),
            str(data.get("arguments", "")),
            at,
            "" if source == "function" else source,
        )
    ]


def _tool_complete(_d: Decoder, data: dict[str, Any], at: int) -> list[RemoteItem]:
    output = data.get("full_output", data.get("tool_output", ""))
    return [ev.ToolCallFinished(str(data["call_id"]), str(output), bool(data["failed"]), at)]


def _approval_required(_d: Decoder, data: dict[str, Any], at: int) -> list[RemoteItem]:
    return [
        ev.ApprovalRequested(
            str(data["call_id"]),
            str(data["tool_name"]),
            str(data.get("arguments", "")),
            str(data.get("agent", "")),
            int(data.get("index", 1)),
            int(data.get("total", 1)),
            at,
        )
    ]


def _approval_resolved(_d: Decoder, data: dict[str, Any], at: int) -> list[RemoteItem]:
    by = str(data.get("by", "user"))
    source: ev.ApprovalSource = by if by in ("user", "flag", "always") else "user"  # type: ignore[assignment]
    return [ev.ApprovalResolved(str(data["call_id"]), bool(data["approved"]), source, at)]


def _agent_updated(d: Decoder, data: dict[str, Any], at: int) -> list[RemoteItem]:
    d.agent = str(data["agent"])
    return [ev.AgentSwitched(d.agent, at)]


def _nested(_d: Decoder, data: dict[str, Any], at: int) -> list[RemoteItem]:
    return [
        ev.NestedActivity(
            str(data["parent_call_id"]),
            str(data["kind"]),
            str(data.get("title", "")),
            str(data.get("detail", "")),
            at,
        )
    ]


def _guardrail(_d: Decoder, data: dict[str, Any], at: int) -> list[RemoteItem]:
    return [ev.GuardrailTripped(str(data["guardrail"]), str(data.get("stage", "")), at)]


def _retry(_d: Decoder, data: dict[str, Any], at: int) -> list[RemoteItem]:
    return [
        ev.RetryScheduled(
            int(data["attempt"]),
            int(data["max_attempts"]),
            float(data.get("delay_s", 0.0)),
            str(data.get("code", "")),
            str(data.get("message", "")),
            at,
        )
    ]


def _error(_d: Decoder, data: dict[str, Any], at: int) -> list[RemoteItem]:
    kind = str(data.get("kind") or data.get("code") or "server")
    return [ev.RunFailed(kind, str(data.get("message", "")), at)]


def _context_trimmed(_d: Decoder, data: dict[str, Any], at: int) -> list[RemoteItem]:
    return [
        ev.ContextFitted(
            int(data.get("sent_tokens", 0)),
            data.get("window"),
            int(data.get("sent_messages", 0)),
            int(data.get("dropped_turns", 0)),
            int(data.get("dropped_messages", 0)),
            str(data.get("reason", "")),
            bool(data.get("tokens_counted", False)),
            at,
        )
    ]


def _response_complete(_d: Decoder, data: dict[str, Any], at: int) -> list[RemoteItem]:
    status = str(data.get("status", "completed"))
    ended: ev.TurnStatus = status if status in ("completed", "interrupted") else "failed"  # type: ignore[assignment]
    metrics = data.get("metrics") if isinstance(data.get("metrics"), dict) else {}
    usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
    issues = [str(i) for i in data.get("performance_issues") or []]
    out: list[RemoteItem] = []
    if usage and usage.get("source") == "provider":
        out.append(
            ev.UsageReported(
                int(usage.get("input_tokens", 0)),
                int(usage.get("output_tokens", 0)),
                int(usage.get("total_tokens", 0)),
                at,
            )
        )
    out.append(ServiceMeasured(metrics, usage, issues))  # type: ignore[arg-type]
    error = None if ended == "completed" else status
    out.append(ev.TurnFinished(ended, str(data.get("final_response", "")), at, None, error))
    return out


DECODERS: dict[str, Callable[[Decoder, dict[str, Any], int], list[RemoteItem]]] = {
    "session_update": _session_update,
    "user_message": _user_message,
    "typing_start": _typing_start,
    "response_cached": _response_cached,
    "text_delta": _text_delta,
    "turn_cancelled": _turn_cancelled,
    "tool_start": _tool_start,
    "tool_complete": _tool_complete,
    "approval_required": _approval_required,
    "approval_resolved": _approval_resolved,
    "agent_updated": _agent_updated,
    "nested_activity": _nested,
    "guardrail_tripped": _guardrail,
    "retry": _retry,
    "error": _error,
    "context_trimmed": _context_trimmed,
    "response_complete": _response_complete,
}
