"""The agent the scale benchmark and the multi-process tests serve (``--agent
tui.bench.scale_agent:echo``): the SDK's ``ScriptedModel`` streaming "You said: PROMPT"
then numbered filler, one delta at a time at a steady rate. Its text is known in advance
from the prompt, so a client can check every stream is exact."""

from __future__ import annotations

import os
from typing import Any

RATE = 10.0  # deltas per second (AGENTS_TUI_ECHO_RATE)
DELTAS = 30  # deltas per reply, at least (AGENTS_TUI_ECHO_DELTAS)
TURNS = 3_000  # replies the model holds (one process's whole run; each is copied at start)


def reply_deltas(prompt: str, deltas: int = DELTAS) -> list[str]:
    words = [f"{word} " for word in f"You said: {prompt}".split()]
    return words + [f"#{i} " for i in range(max(0, deltas - len(words)))]


def last_user_text(call: Any) -> str:
    """The newest user message of a model call's input."""
    items = call.input if isinstance(call.input, list) else [call.input]
    for item in reversed(items):
        if isinstance(item, dict) and item.get("role") == "user":
            return str(item.get("content"))
    return ""


def echo() -> Any:
    from agents import Agent
    from agents.testing import ModelStep, ScriptedModel

    from tui.testing.scripted import Text, paced, response_events

    rate = float(os.environ.get("AGENTS_TUI_ECHO_RATE", RATE))
    deltas = int(os.environ.get("AGENTS_TUI_ECHO_DELTAS", DELTAS))

    def step() -> Any:
        return ModelStep.stream(
            lambda call: paced(
                response_events([Text(reply_deltas(last_user_text(call), deltas))]), rate
            )
        )

    return Agent(name="Echo", model=ScriptedModel([step() for _ in range(TURNS)]))
