"""Every message the run worker and the setup worker post to the app, and the turn's
messages to the chat screen (messages up). The chat screen presents the turn: its messages
do not bubble on to the app."""

from __future__ import annotations

from typing import Any

from textual.message import Message

from tui.core.events import RunEvent


class RunEventPosted(Message, bubble=False):
    """One app event from the running turn, already timestamped by the core."""

    def __init__(self, event: RunEvent) -> None:
        super().__init__()
        self.event = event


class TextArrived(Message, bubble=False):
    """Reply text from the running turn: every delta that arrived since this message was
    posted (``parts`` grows until it is handled), so a fast stream costs one message per
    frame, not one per delta. Other events close the batch, so order is kept."""

    def __init__(self, parts: list[str]) -> None:
        super().__init__()
        self.parts = parts


class BackendReady(Message):
    """The agent and backend are built; turns can run (the local model may still load)."""

    def __init__(self, label: str, agent_name: str, runner: Any, backend: Any) -> None:
        super().__init__()
        self.label = label
        self.agent_name = agent_name
        self.runner = runner  # built by the setup thread, adopted on the UI loop
        self.backend = backend


class ModelLoaded(Message):
    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds


class BackendFailed(Message):
    """The agent or backend cannot be built; ``reason`` is one line with the fix."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


class ConversationOpened(Message, bubble=False):
    """A stored conversation is now the current one; ``turns`` are its past turns."""

    def __init__(
        self,
        conversation_id: str,
        turns: list[Any],
        *,
        replace: bool,
        note: tuple[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.conversation_id = conversation_id
        self.turns = turns
        self.replace = replace  # switching conversations: clear what is shown first
        self.note = note  # (title, text) shown once the conversation is on screen


class PromptSubmitted(Message):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class ApprovalAsked(Message, bubble=False):
    """The run waits for the person: show the approval bar, answer through ``answer``."""

    def __init__(self, request: Any, answer: Any) -> None:
        super().__init__()
        self.request = request  # tui.core.turn.approvals.ApprovalRequest
        self.answer = answer  # asyncio.Future[ApprovalDecision]


class McpConnected(Message):
    """The agent's MCP servers are connected; ``problems`` names the ones that failed."""

    def __init__(self, problems: list[str], count: int) -> None:
        super().__init__()
        self.problems = problems
        self.count = count
