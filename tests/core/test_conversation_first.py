"""A prompt sent ``first`` (smart interruption) passes the prompts waiting in this process;
withdrawn before it starts, it holds nobody up."""

import asyncio

from agents import Agent, RunConfig
from agents.testing import ModelStep, ScriptedModel

from tui.core import events as ev
from tui.core.store import Store
from tui.core.turn.conversation import Conversation, Queued
from tui.core.turn.runner import TurnRunner
from tui.testing.scripted import Text, response_events


def slow_reply(words: list[str]) -> ModelStep:
    async def stream(_call):
        for event in response_events([Text(words)]):
            await asyncio.sleep(0.005)
            yield event

    return ModelStep.stream(stream)


def conversation_of(tmp_path, replies: list[list[str]]) -> Conversation:
    model = ScriptedModel([slow_reply(words) for words in replies])
    runner = TurnRunner(Agent(name="A", model=model), run_config=RunConfig(tracing_disabled=True))
    return Conversation(Store(tmp_path / "s.db"), runner, record=False)


async def run(conversation: Conversation, prompt: str, seen: list[str], first=False) -> None:
    async for event in conversation.turn(prompt, first=first):
        if isinstance(event, Queued):
            seen.append(f"{prompt} queued at {event.position}")
        elif isinstance(event, ev.TurnStarted):
            seen.append(f"start {event.prompt}")


async def test_a_prompt_sent_first_runs_before_the_ones_waiting(tmp_path):
    conversation = conversation_of(tmp_path, [["a"], ["b"], ["c"], ["d"]])
    seen: list[str] = []
    tasks = [asyncio.create_task(run(conversation, "one", seen))]
    await asyncio.sleep(0)
    tasks.append(asyncio.create_task(run(conversation, "two", seen)))
    tasks.append(asyncio.create_task(run(conversation, "three", seen)))
    await asyncio.sleep(0)
    tasks.append(asyncio.create_task(run(conversation, "jump", seen, first=True)))
    await asyncio.gather(*tasks)
    starts = [line for line in seen if line.startswith("start")]
    assert starts == ["start one", "start jump", "start two", "start three"]
    assert "jump queued at 1" in seen
    assert not conversation.busy and conversation.waiting == 0
    conversation.close()


async def test_a_first_prompt_withdrawn_while_it_waits_holds_nobody_up(tmp_path):
    conversation = conversation_of(tmp_path, [["a"], ["b"]])
    seen: list[str] = []
    running = asyncio.create_task(run(conversation, "one", seen))
    await asyncio.sleep(0)
    waiting = asyncio.create_task(run(conversation, "two", seen))
    jumping = asyncio.create_task(run(conversation, "jump", seen, first=True))
    await asyncio.sleep(0.001)
    jumping.cancel()  # its client went away before it ran
    await asyncio.wait_for(asyncio.gather(running, waiting), 10)
    assert [line for line in seen if line.startswith("start")] == ["start one", "start two"]
    assert not conversation.busy
    conversation.close()
