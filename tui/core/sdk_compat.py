"""The OpenAI Agents SDK's private attributes the app reads, each behind one named function.

The SDK gives no public way to reach these; each function says what it reads, why, and
the SDK version it was checked on (``CHECKED_ON``). Under another version the read is
still tried (with the same fallback as before) and a warning is logged once, so an
upgrade that moves an attribute shows up in the log rather than as a silent change.
Nothing here imports the SDK at module import: the objects passed in come from it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agents import Agent, RunState
    from agents.items import TResponseInputItem

CHECKED_ON = "0.24."  # agents.__version__ prefix every read below was checked against

_seen: set[str] = set()  # reads whose version was checked


def _checked(read: str) -> None:
    """Log once per read when the SDK is not the version the read was checked on."""
    if read in _seen:
        return
    _seen.add(read)
    from agents import __version__

    if not __version__.startswith(CHECKED_ON):
        logging.getLogger("agents_tui").warning(
            "the SDK's private %s was checked on openai-agents %sx; this is %s",
            read,
            CHECKED_ON,
            __version__,
        )


def original_input(state: RunState) -> str | list[TResponseInputItem]:
    """The input a paused run started from: ``RunState._original_input``.

    A turn stored while it waited for approvals is restored with ``RunState.from_json``;
    the runner needs the input list it was started with to rebuild the conversation's
    history when the turn ends. ``RunState`` keeps it only in this private field (its
    serialized form is ``to_json()["original_input"]``, before ``from_json`` normalizes
    the items). No upstream issue found.
    """
    _checked("RunState._original_input")
    return state._original_input


def agent_of_tool(tool: object) -> Agent | None:
    """The agent behind a tool made by ``Agent.as_tool``: ``FunctionTool._agent_instance``;
    None for any other tool.

    MCP servers of an agent used as a tool must be connected before a run, and ``/tools``
    and the nested-run tracer need to know a tool is an agent. ``as_tool`` returns a plain
    ``FunctionTool`` whose only link to its agent is this private field (the SDK's own
    run-state code reads it the same way, with ``getattr``). No upstream issue found.
    """
    _checked("FunctionTool._agent_instance")
    agent: Agent | None = getattr(tool, "_agent_instance", None)
    return agent


def handoff_agent(handoff: object) -> Agent | None:
    """The agent a ``Handoff`` object hands off to: ``Handoff._agent_ref``, a weak
    reference; None when the handoff has none (or its agent is gone).

    ``Handoff`` exposes only ``agent_name`` and the ``on_invoke_handoff`` coroutine, so
    walking an agent graph (to connect every MCP server in it) needs this private field,
    as the SDK's own visualization extension does. Upstream question:
    https://github.com/openai/openai-agents-python/issues/2421
    """
    _checked("Handoff._agent_ref")
    ref = getattr(handoff, "_agent_ref", None)
    return ref() if callable(ref) else None
