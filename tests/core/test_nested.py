"""Agents used as tools: their model calls and tool calls become rows under the parent call."""

from agents import Agent, RunConfig, function_tool
from agents.testing import ModelStep, ScriptedModel, assistant_message, function_call
from agents.usage import Usage

from tui.core import events as ev
from tui.core.turn import nested
from tui.core.turn.runner import TurnRunner
from tui.testing.scripted import Call, Text, response_events


@function_tool
def lookup_word(word: str) -> str:
    """Look a word up."""
    return f"{word}: a greeting"


def translator() -> Agent:
    """Run without streaming (a plain ``as_tool``), as the SDK runs a nested agent."""
    steps = [
        ModelStep(
            output=[function_call("lookup_word", {"word": "hola"}, call_id="n1")],
            usage=Usage(requests=1, input_tokens=12, output_tokens=3, total_tokens=15),
        ),
        ModelStep(
            output=[assistant_message("hello")],
            usage=Usage(requests=1, input_tokens=20, output_tokens=1, total_tokens=21),
        ),
    ]
    model = ScriptedModel(steps, emit_traces=True)
    return Agent(name="Translator", tools=[lookup_word], model=model)


async def test_nested_agent_rows_and_tokens_reach_the_parent_call():
    sub = translator()
    parent_steps = [
        ModelStep.stream(
            response_events(
                [Call("translate", "p1", ['{"input": "hola"}'])], input_tokens=30, output_tokens=5
            )
        ),
        ModelStep.stream(
            response_events([Text(["It ", "means hello."])], input_tokens=40, output_tokens=3)
        ),
    ]
    parent = Agent(
        name="Triage",
        tools=[sub.as_tool(tool_name="translate", tool_description="Translate to English")],
        model=ScriptedModel(parent_steps),
    )
    runner = TurnRunner(parent, run_config=RunConfig(tracing_disabled=True))
    runner.tracer = nested.install(keep_upload=False)
    seen: list = []
    outcome = await runner.run("what is hola?", seen.append)
    assert outcome.status == "completed" and outcome.text == "It means hello."
    issued = next(e for e in seen if isinstance(e, ev.ToolCallIssued))
    assert issued.source == "agent:Translator"
    rows = [(e.parent_call_id, e.kind, e.title) for e in seen if isinstance(e, ev.NestedActivity)]
    assert ("p1", "agent", "agent: Translator") in rows
    assert ("p1", "tool", "tool: lookup_word") in rows
    # The sub-agent's tokens are counted with the parent's.
    used = [e for e in seen if isinstance(e, ev.UsageReported)]
    assert sum(e.input_tokens for e in used) == 30 + 40 + 12 + 20
    assert sum(e.output_tokens for e in used) == 5 + 3 + 3 + 1
    tool_row = next(e for e in seen if isinstance(e, ev.NestedActivity) and e.kind == "tool")
    assert "hola: a greeting" in tool_row.detail
    # Nested rows arrive while the parent call runs: after it is issued, before it finishes.
    order = [type(e).__name__ for e in seen]
    assert order.index("ToolCallIssued") < order.index("NestedActivity")
    assert order.index("NestedActivity") < order.index("ToolCallFinished")
