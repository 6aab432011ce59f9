"""Built-in agents and the loader for a user's own ``package.module:attribute`` agent."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agents import Agent

# The source tutorial's six agents (``tui.core.agents.tutorial``), in its order.
BUILTIN_AGENTS = (
    "storyteller",
    "game-master",
    "assistant",
    "web-assistant",
    "resilient-assistant",
    "performance-assistant",
)


class AgentLoadError(Exception):
    """A one-line, user-facing reason why ``--agent`` could not be loaded."""


def load_agent(spec: str, *, seed: int | None = None) -> Agent:
    """Return an ``agents.Agent`` for a built-in name or a ``module:attribute`` spec."""
    from tui.core.agents.tutorial import PLAIN_AGENTS, build

    if spec in PLAIN_AGENTS:
        return build(spec)
    if spec in ("game-master", "game_master", "gm"):
        from tui.core.agents.game_master import build_game_master

        return build_game_master(seed=seed)
    if ":" not in spec:
        known = ", ".join(BUILTIN_AGENTS)
        raise AgentLoadError(
            f"unknown agent {spec!r}: use one of {known}, or package.module:attribute"
        )
    module_name, _, attribute = spec.partition(":")
    if str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    try:
        module = importlib.import_module(module_name)
    except Exception as error:
        raise AgentLoadError(
            f"cannot import module {module_name!r} for --agent {spec}: "
            f"{type(error).__name__}: {error}"
        ) from None
    target: object = module
    for part in attribute.split("."):
        if not part or not hasattr(target, part):
            raise AgentLoadError(f"module {module_name!r} has no attribute {attribute!r}")
        target = getattr(target, part)
    from agents import Agent

    if callable(target) and not isinstance(target, Agent):
        try:
            target = target()
        except Exception as error:
            raise AgentLoadError(
                f"calling {spec} failed: {type(error).__name__}: {error}"
            ) from None
    if not isinstance(target, Agent):
        raise AgentLoadError(f"{spec} is a {type(target).__name__}, not an agents.Agent")
    return target
