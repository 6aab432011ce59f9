"""StreamAdapter, event by event, with the SDK's own event objects."""

from agents import Agent
from agents.items import HandoffOutputItem, MessageOutputItem, ToolCallItem, ToolCallOutputItem
from agents.stream_events import (
    AgentUpdatedStreamEvent,
    RawResponsesStreamEvent,
    RunItemStreamEvent,
)
from openai.types.responses import (
    ResponseFunctionToolCall,
    ResponseOutputMessage,
    ResponseOutputText,
)

from tui.core import events as ev
from tui.core.turn.adapter import StreamAdapter
from tui.testing.scripted import Call, Text, response_events

AGENT = Agent(name="Game Master")


def convert(adapter: StreamAdapter, sdk_events: list) -> list[ev.RunEvent]:
    out: list[ev.RunEvent] = []
    for at, event in enumerate(sdk_events):
        out += adapter.convert(event, at)
    return out


def raw(parts, **kw) -> list:
    return [RawResponsesStreamEvent(data=e) for e in response_events(parts, **kw)]


def test_a_streamed_reply_is_a_model_call_its_deltas_in_order_and_its_usage():
    events = convert(StreamAdapter(), raw([Text(["Once ", "upon ", "a time"])], input_tokens=12))
    assert isinstance(events[0], ev.ModelCallStarted)
    assert [e.text for e in events if isinstance(e, ev.TextDelta)] == ["Once ", "upon ", "a time"]
    [usage] = [e for e in events if isinstance(e, ev.UsageReported)]
    assert usage.input_tokens == 12 and usage.output_tokens == 3
    assert [e.at_ns for e in events] == sorted(e.at_ns for e in events)


def test_a_tool_call_is_announced_once_and_its_arguments_stream_under_its_call_id():
    adapter = StreamAdapter()
    parts = [
        Call("roll_dice", "call_a", ['{"sid', 'es": 20}']),
        Call("flip_coin", "call_b", ["{}"]),
    ]
    events = convert(adapter, raw(parts))
    started = [(e.call_id, e.name) for e in events if isinstance(e, ev.ToolCallStarted)]
    assert started == [("call_a", "roll_dice"), ("call_b", "flip_coin")]
    arguments = [(e.call_id, e.delta) for e in events if isinstance(e, ev.ToolArgumentsDelta)]
    assert "".join(d for c, d in arguments if c == "call_a") == '{"sides": 20}'
    assert "".join(d for c, d in arguments if c == "call_b") == "{}"
    # the run item that follows issues the call, without announcing it again
    raw_call = ResponseFunctionToolCall(
        type="function_call", call_id="call_a", name="roll_dice", arguments='{"sides": 20}'
    )
    issued = adapter.convert(
        RunItemStreamEvent(name="tool_called", item=ToolCallItem(agent=AGENT, raw_item=raw_call)),
        99,
    )
    assert issued == [ev.ToolCallIssued("call_a", "roll_dice", '{"sides": 20}', 99, "")]


def test_a_call_seen_first_as_a_run_item_is_announced_then_issued():
    raw_call = ResponseFunctionToolCall(
        type="function_call", call_id="call_z", name="magic_answer", arguments="{}"
    )
    item = ToolCallItem(agent=AGENT, raw_item=raw_call)
    got = StreamAdapter().convert(RunItemStreamEvent(name="tool_called", item=item), 5)
    assert [type(e).__name__ for e in got] == ["ToolCallStarted", "ToolCallIssued"]


def test_tool_outputs_say_whether_the_tool_failed():
    adapter = StreamAdapter()

    def output(text: str) -> ev.ToolCallFinished:
        item = ToolCallOutputItem(
            agent=AGENT,
            raw_item={"type": "function_call_output", "call_id": "call_a", "output": text},
            output=text,
        )
        [finished] = adapter.convert(RunItemStreamEvent(name="tool_output", item=item), 1)
        assert isinstance(finished, ev.ToolCallFinished)
        return finished

    assert output("17") == ev.ToolCallFinished("call_a", "17", False, 1)
    assert output("Tool failed: ValueError: a die needs at least 1 side").failed
    assert output("An error occurred while running the tool. Please try again.").failed


def test_agents_handoffs_and_finished_messages():
    adapter = StreamAdapter()
    billing = Agent(name="Billing")
    assert adapter.convert(AgentUpdatedStreamEvent(new_agent=billing), 3) == [
        ev.AgentSwitched("Billing", 3)
    ]
    handoff = HandoffOutputItem(
        agent=AGENT,
        raw_item={"type": "function_call_output", "call_id": "h1", "output": "{}"},
        source_agent=AGENT,
        target_agent=billing,
    )
    assert adapter.convert(RunItemStreamEvent(name="handoff_occured", item=handoff), 4) == [
        ev.HandoffCompleted("Game Master", "Billing", 4)
    ]
    message = ResponseOutputMessage(
        id="m1",
        type="message",
        role="assistant",
        status="completed",
        content=[ResponseOutputText(type="output_text", text="The rope holds!", annotations=[])],
    )
    item = MessageOutputItem(agent=AGENT, raw_item=message)
    assert adapter.convert(RunItemStreamEvent(name="message_output_created", item=item), 6) == [
        ev.MessageCompleted("The rope holds!", 6)
    ]
    assert adapter.convert(RunItemStreamEvent(name="reasoning_item_created", item=item), 7) == []
