"""Translate the SDK's stream events into the app's own :mod:`tui.core.events`.

Told apart by the events' ``type`` strings, so that this module imports the SDK only for
the type checker: the app can draw its first frame before ``import agents`` (about 2 s)
has finished.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from tui.core import events as ev

if TYPE_CHECKING:
    from agents.items import RunItem, TResponseStreamEvent
    from agents.stream_events import StreamEvent

# The SDK's default failure_error_function and ours both start with one of these.
_TOOL_FAILURE_PREFIXES = ("An error occurred while running the tool", "Tool failed:")


def _field(obj: object, name: str, default: object = None) -> object:
    """Read ``name`` from a pydantic model or a plain dict (raw items can be either)."""
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def message_text(raw_message: object) -> str:
    """The concatenated output text of a ``ResponseOutputMessage`` (object or dict)."""
    parts = []
    content = _field(raw_message, "content", None)
    for part in content if isinstance(content, Iterable) else ():
        if _field(part, "type") == "output_text":
            parts.append(str(_field(part, "text", "")))
    return "".join(parts)


def tool_output_failed(output: str) -> bool:
    return output.startswith(_TOOL_FAILURE_PREFIXES)


def tool_source(item: RunItem) -> str:
    """Where a tool came from, from the SDK's ``tool_origin`` (absent on older items)."""
    origin = getattr(item, "tool_origin", None)
    kind = str(getattr(getattr(origin, "type", None), "value", "") or "")
    if kind == "mcp":
        return f"mcp:{getattr(origin, 'mcp_server_name', None) or '?'}"
    if kind == "agent_as_tool":
        return f"agent:{getattr(origin, 'agent_name', None) or '?'}"
    return ""


class StreamAdapter:
    """Stateful per-turn translator.

    Argument deltas carry only the ``output_index`` of their function call within the
    current model response, so the adapter remembers which ``call_id`` each index had.
    """

    def __init__(self) -> None:
        self._call_by_output_index: dict[int, str] = {}
        self._announced: set[str] = set()

    def convert(self, sdk_event: StreamEvent, at_ns: int) -> list[ev.RunEvent]:
        if sdk_event.type == "raw_response_event":
            return self._raw(sdk_event.data, at_ns)
        if sdk_event.type == "run_item_stream_event":
            return self._item(sdk_event.name, sdk_event.item, at_ns)
        if sdk_event.type == "agent_updated_stream_event":
            return [ev.AgentSwitched(str(getattr(sdk_event.new_agent, "name", "?")), at_ns)]
        return []

    def _raw(self, data: TResponseStreamEvent, at_ns: int) -> list[ev.RunEvent]:
        if data.type == "response.output_text.delta":
            return [ev.TextDelta(data.delta, at_ns)] if data.delta else []
        if data.type == "response.function_call_arguments.delta":
            call_id = self._call_by_output_index.get(data.output_index)
            if call_id is None or not data.delta:
                return []
            return [ev.ToolArgumentsDelta(call_id, data.delta, at_ns)]
        if (
            data.type == "response.reasoning_summary_text.delta"
            or data.type == "response.reasoning_text.delta"
        ):
            return [ev.ReasoningDelta(data.delta, at_ns)] if data.delta else []
        if data.type == "response.output_item.added":
            item = data.item
            if _field(item, "type") != "function_call":
                return []
            call_id = str(_field(item, "call_id") or _field(item, "id") or "")
            self._call_by_output_index[data.output_index] = call_id
            self._announced.add(call_id)
            out: list[ev.RunEvent] = [ev.ToolCallStarted(call_id, str(_field(item, "name")), at_ns)]
            early_args = str(_field(item, "arguments") or "")
            if early_args:
                out.append(ev.ToolArgumentsDelta(call_id, early_args, at_ns))
            return out
        if data.type == "response.created":
            self._call_by_output_index.clear()
            return [ev.ModelCallStarted(at_ns)]
        if data.type == "response.completed":
            usage = getattr(data.response, "usage", None)
            if usage is None:
                return []
            return [
                ev.UsageReported(
                    int(usage.input_tokens or 0),
                    int(usage.output_tokens or 0),
                    int(usage.total_tokens or 0),
                    at_ns,
                )
            ]
        return []

    def _item(self, name: str, item: RunItem, at_ns: int) -> list[ev.RunEvent]:
        raw = getattr(item, "raw_item", None)
        if name == "tool_called":
            call_id = str(_field(raw, "call_id") or _field(raw, "id") or "")
            tool_name = str(_field(raw, "name") or getattr(item, "tool_name", None) or "tool")
            arguments = str(_field(raw, "arguments") or "")
            out: list[ev.RunEvent] = []
            if call_id not in self._announced:
                self._announced.add(call_id)
                out.append(ev.ToolCallStarted(call_id, tool_name, at_ns))
            out.append(ev.ToolCallIssued(call_id, tool_name, arguments, at_ns, tool_source(item)))
            return out
        if name == "tool_output":
            call_id = str(getattr(item, "call_id", None) or _field(raw, "call_id") or "")
            output = str(getattr(item, "output", ""))
            return [ev.ToolCallFinished(call_id, output, tool_output_failed(output), at_ns)]
        if name == "handoff_requested":
            call_id = str(_field(raw, "call_id") or "")
            return [ev.HandoffRequested(call_id, str(_field(raw, "name") or "handoff"), at_ns)]
        if name == "handoff_occured":
            source = getattr(getattr(item, "source_agent", None), "name", "?")
            target = getattr(getattr(item, "target_agent", None), "name", "?")
            return [ev.HandoffCompleted(str(source), str(target), at_ns)]
        if name == "message_output_created":
            return [ev.MessageCompleted(message_text(raw), at_ns)]
        return []
