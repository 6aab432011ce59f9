"""User-style agents for tests that run in a child process (``--agent tests.fixtures_agents:X``)."""

from __future__ import annotations

import json

from agents import Agent
from agents.testing import ModelStep, ScriptedModel, assistant_message

from tui.testing.scripted import Text, paced, response_events


def _texts(items) -> list[str]:
    out = []
    for item in items if isinstance(items, list) else [items]:
        content = item.get("content") if isinstance(item, dict) else None
        if isinstance(content, str):
            out.append(f"{item.get('role')}: {content}")
        elif isinstance(content, list):
            text = "".join(p.get("text", "") for p in content if isinstance(p, dict))
            out.append(f"{item.get('role')}: {text}")
    return out


def echo() -> Agent:
    """Replies with the conversation it was sent, so a test can see the model's input."""
    steps = [
        ModelStep.respond(
            lambda call: [assistant_message("SEEN " + json.dumps(_texts(call.input)))]
        )
        for _ in range(20)
    ]
    return Agent(name="Echo", model=ScriptedModel(steps))


def slow() -> Agent:
    """Streams 200 words at 20 words/s: long enough to be killed mid-turn."""
    events = response_events([Text([f"word{i} " for i in range(200)])])
    return Agent(name="Slow", model=ScriptedModel([ModelStep.stream(lambda _c: paced(events, 20))]))


def dice() -> Agent:
    """The game master with a scripted model: one roll_dice call, then a streamed narration."""
    from tui.core.agents import load_agent
    from tui.testing.scripted import Call

    steps = []
    for _ in range(10):
        steps.append(
            ModelStep.stream(
                lambda _c: paced(
                    response_events(
                        [
                            Text(["Rolling ", "for you."]),
                            Call("roll_dice", "call_web", ['{"sides": ', "20}"]),
                        ]
                    ),
                    20,
                )
            )
        )
        steps.append(
            ModelStep.stream(
                lambda _c: paced(
                    response_events([Text(["The ", "die ", "lands ", "and ", "you ", "climb!"])]),
                    20,
                )
            )
        )
    return load_agent("game-master", seed=5).clone(model=ScriptedModel(steps))
