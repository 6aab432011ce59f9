"""Every message the run worker and the setup worker post to the app, and the turn's
messages to the chat screen (messages up). The chat screen presents the turn: its messages
do not bubble on to the app (``bubble=False``, a class keyword Textual reads when the class
is made).

Each message is a dataclass with typed fields, as Toad's ``acp/messages.py`` writes them:
Textual's ``Message.__post_init__`` runs its own ``__init__`` for a dataclass. ``eq=False``
keeps Textual's identity semantics (a message equals only itself, and stays hashable).
The core's types are imported for the type checker only: posting a message imports nothing.
"""

from __future__ import annotations

import asyncio
from dataclasses import KW_ONLY, dataclass
from typing import TYPE_CHECKING

from textual.message import Message

from tui.core.events import RunEvent

if TYPE_CHECKING:
    from tui.core.models.providers import Backend
    from tui.core.store import TurnRow
    from tui.core.turn.approvals import ApprovalDecision, ApprovalRequest
    from tui.core.turn.runner import TurnRunner


@dataclass(eq=False)
class RunEventPosted(Message, bubble=False):
    """One app event from the running turn, already timestamped by the core."""

    event: RunEvent


@dataclass(eq=False)
class RemoteItemPosted(Message, bubble=False):
    """What only a session of a running service has (``tui.remote.decode``): who said what,
    the link's state, the service's own figures for the turn."""

    item: object


@dataclass(eq=False)
class TextArrived(Message, bubble=False):
    """Reply text from the running turn: every delta that arrived since this message was
    posted (``parts`` grows until it is handled), so a fast stream costs one message per
    frame, not one per delta. Other events close the batch, so order is kept."""

    parts: list[str]


@dataclass(eq=False)
class TurnEnded(Message, bubble=False):
    """The turn's stream is over (after its last event): the conversation is free for the
    next prompt."""


@dataclass(eq=False)
class BackendReady(Message):
    """The agent and backend are built; turns can run (the local model may still load).
    The runner was built by the setup thread and is adopted on the UI loop."""

    label: str
    agent_name: str
    runner: TurnRunner
    backend: Backend


@dataclass(eq=False)
class ModelLoaded(Message):
    """The local model is loaded and warm (``seconds`` 0: there was none to load)."""

    seconds: float


@dataclass(eq=False)
class BackendFailed(Message):
    """The agent or backend cannot be built; ``reason`` is one line with the fix."""

    reason: str


@dataclass(eq=False)
class ConversationOpened(Message, bubble=False):
    """A stored conversation is now the current one; ``turns`` are its past turns.
    ``replace``: switching conversations, so what is shown is cleared first; ``note`` is a
    (title, text) shown once the conversation is on screen."""

    conversation_id: str
    turns: list[TurnRow]
    _: KW_ONLY
    replace: bool
    note: tuple[str, str] | None = None


@dataclass(eq=False)
class PromptSubmitted(Message):
    """The person pressed Enter on a prompt (or a slash command); Ctrl+Enter / Alt+Enter
    (``interrupt``) stops the running reply and sends it next."""

    text: str
    interrupt: bool = False


@dataclass(eq=False)
class ApprovalAsked(Message, bubble=False):
    """The run waits for the person: show the approval bar, answer through ``answer``."""

    request: ApprovalRequest
    answer: asyncio.Future[ApprovalDecision]


@dataclass(eq=False)
class McpConnected(Message):
    """The agent's MCP servers are connected; ``problems`` names the ones that failed."""

    problems: list[str]
    count: int
