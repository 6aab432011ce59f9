"""The conversation's one queue: prompts to one conversation never overlap, in order."""

import asyncio

from agents import Agent, RunConfig
from agents.testing import ModelStep, ScriptedModel

from tui.core import events as ev
from tui.core.store import Store
from tui.core.turn.conversation import Conversation, Queued
from tui.core.turn.runner import TurnRunner
from tui.testing.scripted import Text, response_events


def slow_reply(words: list[str]):
    async def stream(_call):
        for event in response_events([Text(words)]):
            await asyncio.sleep(0.005)
            yield event

    return ModelStep.stream(stream)


async def test_two_prompts_at_once_run_one_after_the_other_in_the_order_they_came(tmp_path):
    model = ScriptedModel([slow_reply(["first ", "reply"]), slow_reply(["second ", "reply"])])
    runner = TurnRunner(Agent(name="A", model=model), run_config=RunConfig(tracing_disabled=True))
    conversation = Conversation(Store(tmp_path / "s.db"), runner, record=False)
    seen: list[str] = []

    async def send(prompt: str) -> None:
        async for event in conversation.turn(prompt):
            if isinstance(event, Queued):
                seen.append(f"{prompt} queued at {event.position}")
            elif isinstance(event, ev.TurnStarted):
                seen.append(f"start {event.prompt}")
            elif isinstance(event, ev.TurnFinished):
                seen.append(f"end {event.final_text}")

    first = asyncio.create_task(send("one"))
    await asyncio.sleep(0)
    second = asyncio.create_task(send("two"))
    await asyncio.sleep(0)
    assert conversation.busy and conversation.waiting == 1
    await asyncio.gather(first, second)
    assert seen == [
        "two queued at 1",
        "start one",
        "end first reply",
        "start two",
        "end second reply",
    ]
    assert conversation.waiting == 0 and not conversation.busy
    roles = [item.get("role") for item in await runner.session.get_items() if item.get("role")]
    assert roles == ["user", "assistant", "user", "assistant"]  # never two users in a row
    conversation.close()


async def test_a_prompt_cancelled_while_it_waits_never_runs(tmp_path):
    model = ScriptedModel([slow_reply(["only ", "this"])])
    runner = TurnRunner(Agent(name="A", model=model), run_config=RunConfig(tracing_disabled=True))
    conversation = Conversation(Store(tmp_path / "s.db"), runner, record=False)

    async def send(prompt: str) -> None:
        async for _event in conversation.turn(prompt):
            pass

    first = asyncio.create_task(send("one"))
    await asyncio.sleep(0)
    second = asyncio.create_task(send("two"))
    await asyncio.sleep(0)
    second.cancel()
    await first
    assert conversation.waiting == 0 and not conversation.busy
    assert [t.prompt for t in conversation.turns()] == ["one"]
    conversation.close()
