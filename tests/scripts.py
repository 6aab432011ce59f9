"""Deterministic runs for tests: the SDK's own ScriptedModel fed exact Responses streams."""

from __future__ import annotations

import asyncio
from typing import Any

from agents import RunConfig
from agents.testing import ModelStep, ScriptedModel

from tui.core.agents import load_agent
from tui.core.turn.runner import RetryPolicy, TurnRunner
from tui.testing.scripted import Call, Text, paced, response_events


def text_step(deltas: list[str], *, rate: float = 0.0, **kw: Any) -> ModelStep:
    events = response_events([Text(deltas)], **kw)
    if rate:
        return ModelStep.stream(lambda _call: paced(events, rate))
    return ModelStep.stream(events)


def parts_step(parts: list[Any], *, rate: float = 0.0) -> ModelStep:
    events = response_events(parts)
    if rate:
        return ModelStep.stream(lambda _call: paced(events, rate))
    return ModelStep.stream(events)


def game_master_steps(rate: float = 0.0) -> list[ModelStep]:
    """Two tool calls with streamed arguments, then a streamed narration."""
    return [
        parts_step(
            [
                Text(["I roll ", "for the climb."]),
                Call("roll_dice", "call_a", ['{"sid', 'es": ', "20}"]),
                Call("flip_coin", "call_b", ["{}"]),
            ],
            rate=rate,
        ),
        text_step(["The ", "rope ", "holds!"], rate=rate),
    ]


def runner_for(
    steps: list[Any], agent: str = "assistant", **kw: Any
) -> tuple[TurnRunner, ScriptedModel]:
    model = ScriptedModel(steps)
    built = load_agent(agent, seed=7).clone(model=model)
    kw.setdefault("run_config", RunConfig(tracing_disabled=True))
    kw.setdefault("retry", RetryPolicy(max_attempts=3, base_delay_s=0.01, max_delay_s=0.05))
    return TurnRunner(built, **kw), model


__all__ = ["Call", "Text", "game_master_steps", "parts_step", "runner_for", "text_step"]


def broken_step(deltas: list[str], error: Exception) -> ModelStep:
    """A stream that sends the start of a reply, then fails like a cut connection."""
    events = response_events([Text(deltas)])
    cut = next(i for i, e in enumerate(events) if e.type == "response.output_text.done")

    async def stream(_call: Any) -> Any:
        for event in events[:cut]:
            await asyncio.sleep(0.002)  # a real stream arrives over time
            yield event
        await asyncio.sleep(0.01)
        raise error

    return ModelStep.stream(stream)


def connection_error() -> Exception:
    import httpx2 as httpx
    from openai import APIConnectionError

    return APIConnectionError(request=httpx.Request("POST", "http://127.0.0.1/v1/chat/completions"))
