"""The turn runner against the SDK's ScriptedModel: order, context, cancel, errors, retries."""

import asyncio

from agents.exceptions import ModelBehaviorError

from tests.scripts import (
    broken_step,
    connection_error,
    game_master_steps,
    runner_for,
    text_step,
)
from tui.core import events as ev
from tui.core.turn.attempt import compact_input_item
from tui.core.turn.runner import CONTINUE_INSTRUCTION


async def test_game_master_turn_events_in_order_with_live_arguments():
    runner, _ = runner_for(game_master_steps(), agent="game-master")
    seen: list = []
    outcome = await runner.run("I climb the cliff", seen.append)
    kinds = [type(e).__name__ for e in seen]
    assert kinds[0] == "TurnStarted" and kinds[-1] == "TurnFinished"
    a_started = next(
        i for i, e in enumerate(seen) if isinstance(e, ev.ToolCallStarted) and e.call_id == "call_a"
    )
    a_args = [
        i
        for i, e in enumerate(seen)
        if isinstance(e, ev.ToolArgumentsDelta) and e.call_id == "call_a"
    ]
    a_issued = next(
        i for i, e in enumerate(seen) if isinstance(e, ev.ToolCallIssued) and e.call_id == "call_a"
    )
    a_done = next(
        i
        for i, e in enumerate(seen)
        if isinstance(e, ev.ToolCallFinished) and e.call_id == "call_a"
    )
    assert a_started < a_args[0] < a_args[-1] < a_issued < a_done
    assert len(a_args) == 3
    assert "".join(seen[i].delta for i in a_args) == '{"sides": 20}'
    outputs = {e.call_id: e.output for e in seen if isinstance(e, ev.ToolCallFinished)}
    assert outputs["call_b"] in ("heads", "tails")
    assert 1 <= int(outputs["call_a"]) <= 20
    assert outcome.status == "completed"
    assert outcome.text == "I roll for the climb.\n\nThe rope holds!"


async def test_context_carries_from_turn_to_turn():
    runner, model = runner_for([text_step(["Hi ", "Ann"]), text_step(["Yes"])])
    await runner.run("My name is Ann", lambda e: None)
    await runner.run("Do you remember me?", lambda e: None)
    second_input = model.calls[1].input
    texts = str(second_input)
    assert "My name is Ann" in texts and "Hi Ann" in texts and "Do you remember me?" in texts


async def test_replies_are_remembered_as_plain_assistant_messages():
    """The second turn's model input carries the first reply as one small message (the SDK
    copies the whole input every turn), and tool calls stay whole."""
    runner, model = runner_for([*game_master_steps(), text_step(["Again"])], agent="game-master")
    await runner.run("I climb the cliff", lambda e: None)
    await runner.run("and again", lambda e: None)
    second_input = model.calls[len(game_master_steps())].input
    replies = [i for i in second_input if isinstance(i, dict) and i.get("role") == "assistant"]
    assert replies and all(set(r) == {"role", "content"} for r in replies)
    assert isinstance(replies[-1]["content"], str) and replies[-1]["content"]
    kinds = [i.get("type") for i in second_input if isinstance(i, dict)]
    assert "function_call" in kinds and "function_call_output" in kinds
    assert runner.history[-1] == {"role": "assistant", "content": "Again"}


def test_only_plain_replies_are_compacted():
    plain = {
        "id": "__fake_id__",
        "type": "message",
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": "Hi", "annotations": [], "logprobs": []}],
        "provider_data": {"model": "m", "response_id": "r"},
    }
    assert compact_input_item(plain) == {"role": "assistant", "content": "Hi"}
    part = plain["content"][0]
    kept = [
        {**plain, "content": [{**part, "annotations": [{"type": "url_citation"}]}]},
        {**plain, "content": [{**part, "logprobs": [{"token": "Hi"}]}]},
        {**plain, "content": [part, part]},
        {**plain, "content": [{"type": "refusal", "refusal": "no"}]},
        {**plain, "provider_data": {"model": "m", "thought_signature": "x"}},
        {**plain, "phase": "commentary"},
        {**plain, "role": "user"},
        {"type": "function_call", "call_id": "c", "name": "f", "arguments": "{}"},
        {"role": "user", "content": "plain already"},
    ]
    for item in kept:
        assert compact_input_item(item) is item


async def test_cancel_mid_stream_keeps_partial_text_and_context():
    runner, model = runner_for(
        [text_step([f"w{i} " for i in range(200)], rate=200), text_step(["next"])]
    )
    seen: list = []

    def emit(event):
        seen.append(event)
        if sum(isinstance(e, ev.TextDelta) for e in seen) == 5:
            runner.cancel()

    outcome = await runner.run("long story", emit)
    assert outcome.status == "interrupted"
    streamed = "".join(e.text for e in seen if isinstance(e, ev.TextDelta))
    assert outcome.text == streamed and streamed.startswith("w0 w1 w2 w3 w4")
    assert len(streamed.split()) < 200
    finished = seen[-1]
    assert isinstance(finished, ev.TurnFinished) and finished.status == "interrupted"
    # the next turn works and remembers the interrupted one
    outcome2 = await runner.run("go on", lambda e: None)
    assert outcome2.text == "next"
    assert "w0 w1" in str(model.calls[1].input)


async def test_model_exception_becomes_a_failed_turn_not_a_crash():
    runner, _ = runner_for([ModelBehaviorError("the model called a tool that does not exist")])
    seen: list = []
    outcome = await runner.run("hi", seen.append)
    assert outcome.status == "failed"
    assert outcome.error is not None and outcome.error.kind == "model_behavior"
    assert "does not exist" in outcome.error.message
    assert isinstance(seen[-1], ev.TurnFinished) and seen[-1].error_kind == "model_behavior"


async def test_cut_stream_is_retried_and_continued_without_losing_text():
    runner, model = runner_for(
        [
            broken_step(["The quick ", "brown "], connection_error()),
            text_step(["fox ", "jumps."]),
        ]
    )
    seen: list = []
    outcome = await runner.run("tell me", seen.append)
    assert outcome.status == "completed" and outcome.recovered
    assert outcome.text == "The quick brown fox jumps."
    assert "".join(e.text for e in seen if isinstance(e, ev.TextDelta)) == outcome.text
    retry = next(e for e in seen if isinstance(e, ev.RetryScheduled))
    assert retry.error_kind == "network" and retry.attempt == 2
    second = model.calls[1].input
    assert {"role": "assistant", "content": "The quick brown "} in second
    assert {"role": "user", "content": CONTINUE_INSTRUCTION} in second
    # the retry scaffolding is not kept in the conversation's memory
    assert CONTINUE_INSTRUCTION not in str(runner.history)


async def test_all_attempts_failing_keeps_the_partial_text():
    runner, _ = runner_for([broken_step(["part "], connection_error()) for _ in range(3)])
    seen: list = []
    outcome = await runner.run("tell me", seen.append)
    assert outcome.status == "failed" and outcome.error.kind == "network"
    assert outcome.text.startswith("part ")
    assert sum(isinstance(e, ev.RetryScheduled) for e in seen) == 2


async def test_cancel_during_backoff_stops_waiting():
    runner, _ = runner_for([broken_step(["x"], connection_error()), text_step(["never"])])
    from tui.core.turn.runner import RetryPolicy

    runner.retry = RetryPolicy(max_attempts=3, base_delay_s=30)
    seen: list = []

    def emit(event):
        seen.append(event)
        if isinstance(event, ev.RetryScheduled):
            asyncio.get_running_loop().call_later(0.05, runner.cancel)

    outcome = await asyncio.wait_for(runner.run("x", emit), timeout=5)
    assert outcome.status == "interrupted" and outcome.text == "x"


def _slow_tool_runner(tool_s: float, stall_s: float, second_step):
    from agents import Agent, RunConfig, function_tool
    from agents.testing import ScriptedModel

    from tests.scripts import Call, parts_step
    from tui.core.turn.runner import RetryPolicy, TurnRunner

    @function_tool
    async def look_up_archive() -> str:
        """Search the archive (slow)."""
        await asyncio.sleep(tool_s)
        return "found the map"

    model = ScriptedModel([parts_step([Call("look_up_archive", "call_s", ["{}"])]), second_step])
    agent = Agent(name="Archivist", model=model, tools=[look_up_archive])
    runner = TurnRunner(
        agent,
        run_config=RunConfig(tracing_disabled=True),
        stall_timeout_s=stall_s,
        retry=RetryPolicy(max_attempts=2, base_delay_s=0.01, max_delay_s=0.05),
    )
    return runner


async def test_a_tool_slower_than_the_stall_timeout_is_not_a_stall():
    runner = _slow_tool_runner(0.6, 0.2, text_step(["The map ", "is here."]))
    seen: list = []
    outcome = await runner.run("find the map", seen.append)
    assert outcome.status == "completed" and outcome.text == "The map is here."
    assert not any(isinstance(e, ev.RetryScheduled) for e in seen)
    finished = next(e for e in seen if isinstance(e, ev.ToolCallFinished))
    assert finished.output == "found the map" and not finished.failed


async def test_a_silent_model_after_a_tool_is_still_a_stall():
    async def silent(_call):
        await asyncio.sleep(5)
        yield  # pragma: no cover

    from agents.testing import ModelStep

    runner = _slow_tool_runner(0.05, 0.2, ModelStep.stream(silent))
    seen: list = []
    await asyncio.wait_for(runner.run("find the map", seen.append), 3)
    assert any(isinstance(e, ev.ToolCallFinished) for e in seen)
    assert any(isinstance(e, ev.RetryScheduled) and e.error_kind == "stall" for e in seen)


async def test_a_broken_memory_fails_the_turn_without_raising():
    """The store behind the model's memory can fail (a deleted conversation): the turn
    fails with a message, in order, and ``run`` keeps its promise never to raise."""

    class BrokenSession:
        async def get_items(self):
            import sqlite3

            raise sqlite3.IntegrityError("FOREIGN KEY constraint failed")

    runner, model = runner_for([text_step(["never"])])
    runner.session = BrokenSession()
    seen: list = []
    outcome = await runner.run("hello", seen.append)
    assert outcome.status == "failed"
    assert [type(e).__name__ for e in seen] == ["TurnStarted", "RunFailed", "TurnFinished"]
    assert "FOREIGN KEY" in seen[1].message
    assert len(model.calls) == 0
