"""Agents with tools that need approval, for tests (also loaded by child processes)."""

from __future__ import annotations

from pathlib import Path

from agents import Agent, function_tool
from agents.testing import ModelStep, ScriptedModel

from tui.testing.scripted import Call, Text, response_events

DELETED: list[str] = []


@function_tool(needs_approval=True)
def delete_file(path: str) -> str:
    """Delete a file (the person must approve)."""
    DELETED.append(path)
    marker = Path(path)
    if marker.parent.exists() and marker.name.startswith("marker"):
        marker.write_text("deleted")
    return f"deleted {path}"


def two_calls_then_text(
    paths: tuple[str, ...] = ("a.txt", "b.txt"), reply: str = "All done."
) -> list:
    calls = [
        Call("delete_file", f"call_{i}", [f'{{"path": "{p}"}}']) for i, p in enumerate(paths, 1)
    ]
    return [
        ModelStep.stream(response_events([Text(["Let me ", "clean up."]), *calls])),
        ModelStep.stream(response_events([Text([w + " " for w in reply.split()])])),
    ]


def cleaner(steps: list | None = None, turns: int = 1) -> Agent:
    scripted = []
    for _ in range(turns):
        scripted += steps or two_calls_then_text()
    return Agent(name="Cleaner", tools=[delete_file], model=ScriptedModel(scripted))


def cleaner_for_child() -> Agent:
    """For a child process: one call to delete the marker file named by the env."""
    import os

    path = os.environ.get("MARKER_PATH", "marker.txt")
    return cleaner(two_calls_then_text((path,), "Deleted it."), turns=3)


def cleaner_without_model() -> Agent:
    """For a real server (``--base-url``): the app's backend supplies the model."""
    return Agent(name="Cleaner", instructions="Clean up files.", tools=[delete_file])
