"""The default general-purpose assistant."""

from __future__ import annotations

from typing import Any

INSTRUCTIONS = (
    "You are a friendly, helpful assistant in a terminal chat. Answer clearly and "
    "concisely. Use Markdown (lists, code fences, tables) when it helps."
)


def build_assistant() -> Any:
    from agents import Agent

    return Agent(name="Assistant", instructions=INSTRUCTIONS)
