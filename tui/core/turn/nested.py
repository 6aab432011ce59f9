"""Rows for what an agent used as a tool does inside its own run, from the SDK's tracing.

A nested run (``Agent.as_tool``) is not part of the parent's event stream, but the SDK
reports its agent, model-call and function spans to every trace processor. This local
processor (nothing is uploaded: for non-OpenAI backends it is the only processor) maps
each nested span to the parent's tool call and emits :class:`NestedActivity` events, so
the timeline can show the sub-agent's model calls and tool calls under the parent row.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from tui.core import events as ev

if TYPE_CHECKING:
    from agents.tracing import Span, SpanData, Trace

Sink = Callable[[ev.RunEvent], None]

_INSTALLED: NestedTracer | None = None


class NestedTracer:
    """A duck-typed ``agents.tracing.TracingProcessor`` (the core does not import the SDK)."""

    def __init__(self) -> None:
        self.sink: Sink | None = None
        self._issued: list[tuple[str, str, str]] = []  # (call_id, tool name, arguments)
        self._parent: dict[str, str | None] = {}
        self._kind: dict[str, str] = {}
        self._call_of_span: dict[str, str] = {}  # top-level function span -> call_id
        # Top-level calls whose span began before the stream announced them, and what their
        # nested runs did meanwhile: the SDK runs tools ahead of its event queue.
        self._unmatched: dict[str, tuple[str, str]] = {}
        self._held: dict[str, list[tuple[str, str, str, int]]] = {}

    # --- fed by the runner ------------------------------------------------------------------
    def begin(self, sink: Sink) -> None:
        self.sink = sink
        self._issued.clear()
        self._parent.clear()
        self._kind.clear()
        self._call_of_span.clear()
        self._unmatched.clear()
        self._held.clear()

    def end(self) -> None:
        self.sink = None

    def issued(self, call_id: str, name: str, arguments: str) -> None:
        self._issued.append((call_id, name, arguments))
        for span_id, (span_name, span_input) in list(self._unmatched.items()):
            if span_name == name and (
                span_input in ("", "None") or _same_json(arguments, span_input)
            ):
                del self._unmatched[span_id]
                self._call_of_span[span_id] = call_id
                for kind, title, detail, at_ns in self._held.pop(span_id, []):
                    self._send(call_id, kind, title, detail, at_ns)
                return

    # --- the TracingProcessor interface -------------------------------------------------------
    def on_trace_start(self, trace: Trace) -> None:
        return None

    def on_trace_end(self, trace: Trace) -> None:
        return None

    def shutdown(self) -> None:
        return None

    def force_flush(self) -> None:
        return None

    def on_span_start(self, span: Span[SpanData]) -> None:
        if self.sink is None:
            return
        data = span.span_data
        kind = str(getattr(data, "type", ""))
        self._parent[span.span_id] = span.parent_id
        self._kind[span.span_id] = kind
        owner = self._owner(span.parent_id)
        if kind == "function" and owner is None and self._outside_any_call(span.parent_id):
            name, arguments = str(getattr(data, "name", "")), str(getattr(data, "input", ""))
            call_id = self._match(name, arguments)
            if call_id:
                self._call_of_span[span.span_id] = call_id
            else:
                self._unmatched[span.span_id] = (name, arguments)
            return
        if owner is not None and kind == "agent":
            self._emit(owner, "agent", f"agent: {getattr(data, 'name', '?')}", "")

    def on_span_end(self, span: Span[SpanData]) -> None:
        if self.sink is None:
            return
        owner = self._owner(span.parent_id)
        if owner is None:
            return
        data = span.span_data
        kind = str(getattr(data, "type", ""))
        if kind == "function":
            output = getattr(data, "output", None)
            detail = f"{getattr(data, 'input', '') or ''}\n→ {'' if output is None else output}"
            self._emit(owner, "tool", f"tool: {getattr(data, 'name', '?')}", detail)
        elif kind in ("generation", "response"):
            tokens_in, tokens_out = _usage_of(data)
            detail = f"{tokens_in} tokens in, {tokens_out} out" if tokens_in or tokens_out else ""
            self._emit(owner, "model", "model call", detail)

    # --- helpers ------------------------------------------------------------------------------
    def _outside_any_call(self, span_id: str | None) -> bool:
        """True for the parent run's own spans (task > agent > turn), not a tool's run."""
        seen = 0
        while span_id is not None and seen < 64:
            if self._kind.get(span_id) == "function":
                return False
            span_id = self._parent.get(span_id)
            seen += 1
        return True

    def _owner(self, span_id: str | None) -> str | None:
        """The top-level tool call's span when ``span_id`` lies inside one."""
        seen = 0
        while span_id is not None and seen < 64:
            if span_id in self._call_of_span or span_id in self._unmatched:
                return span_id
            span_id = self._parent.get(span_id)
            seen += 1
        return None

    def _match(self, name: str, arguments: str) -> str | None:
        taken = set(self._call_of_span.values())
        candidates = [c for c in self._issued if c[1] == name and c[0] not in taken]
        exact = [c for c in candidates if arguments in ("", "None") or _same_json(c[2], arguments)]
        return exact[0][0] if exact else None

    def _emit(self, owner_span: str, kind: str, title: str, detail: str) -> None:
        at_ns = time.perf_counter_ns()
        call_id = self._call_of_span.get(owner_span)
        if call_id is None:
            self._held.setdefault(owner_span, []).append((kind, title, detail, at_ns))
        else:
            self._send(call_id, kind, title, detail, at_ns)

    def _send(self, call_id: str, kind: str, title: str, detail: str, at_ns: int) -> None:
        if self.sink is not None:
            self.sink(ev.NestedActivity(call_id, kind, title, detail, at_ns))


def _same_json(a: str, b: str) -> bool:
    try:
        return bool(json.loads(a) == json.loads(b))
    except ValueError:
        return a == b


def _usage_of(data: SpanData) -> tuple[int, int]:
    usage = getattr(data, "usage", None)
    if usage is None:
        usage = getattr(getattr(data, "response", None), "usage", None)
    if usage is None:
        return 0, 0
    if isinstance(usage, dict):
        inp, out = usage.get("input_tokens", 0), usage.get("output_tokens", 0)
    else:
        inp, out = getattr(usage, "input_tokens", 0), getattr(usage, "output_tokens", 0)
    return int(inp or 0), int(out or 0)


def install(*, keep_upload: bool) -> NestedTracer:
    """Register the one local processor; without ``keep_upload`` it replaces the uploader."""
    global _INSTALLED
    if _INSTALLED is None:
        from agents import set_tracing_disabled
        from agents.tracing import add_trace_processor, set_trace_processors

        _INSTALLED = NestedTracer()
        if keep_upload:
            add_trace_processor(_INSTALLED)  # type: ignore[arg-type]
        else:
            # Ours is the only processor, so turning tracing on uploads nothing.
            set_trace_processors([_INSTALLED])  # type: ignore[list-item]
            set_tracing_disabled(False)
    return _INSTALLED
