"""What a slash command may use of the app: the panes, the conversation, the runner, and
the app's own key actions. The app implements it (structurally); the handlers in
``tui.slash_handlers`` are written against it, so they never import the app. The chat
screen reaches the app through ``ScreenHost`` the same way."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from textual.app import App
    from textual.widgets import TextArea

    from tui.core.config import Settings
    from tui.core.turn.conversation import Conversation, Message, Playback
    from tui.core.turn.journal import ReplayRunner
    from tui.core.observe.metrics import SessionMetrics
    from tui.core.turn.runner import TurnRunner
    from tui.core.store import Store
    from tui.widgets.approval_bar import ApprovalBar
    from tui.widgets.chat import ChatPane
    from tui.widgets.metrics import MetricsSidebar
    from tui.widgets.status_line import StatusLine
    from tui.widgets.timeline import TimelinePane


class CommandContext(Protocol):
    @property
    def app(self) -> App[object]: ...  # Textual's App: notify, timers, workers, themes

    @property
    def chat(self) -> ChatPane: ...

    @property
    def timeline(self) -> TimelinePane: ...

    @property
    def status(self) -> StatusLine: ...

    @property
    def prompt_input(self) -> TextArea: ...  # the prompt (a TextArea: the draft, the cursor)

    @property
    def runner(self) -> TurnRunner | ReplayRunner | None: ...

    @property
    def store(self) -> Store | None: ...

    @property
    def conversation(self) -> Conversation | None: ...

    @property
    def conversation_id(self) -> str | None: ...

    def history(self) -> list[Message]: ...

    @property
    def settings(self) -> Settings: ...

    @property
    def turn_running(self) -> bool: ...

    def update_header(self) -> None: ...

    def open_conversation(
        self, conversation_id: str | None = None, *, note: tuple[str, str] | None = None
    ) -> None: ...

    def connect_mcp(self) -> Any: ...

    async def action_quit(self) -> None: ...

    def action_help(self) -> None: ...

    def action_cancel_turn(self) -> None: ...

    def action_sessions(self) -> None: ...

    def action_copy_last(self) -> None: ...

    def action_dashboard(self) -> None: ...


class ScreenHost(CommandContext, Protocol):
    """What the chat screen uses of the app to present turns: the panes, the turns'
    owner (the conversation, or a replay's playback), and the app-wide turn state."""

    @property
    def playback(self) -> Playback | None: ...

    @property
    def sidebar(self) -> MetricsSidebar: ...

    @property
    def approval_bar(self) -> ApprovalBar: ...

    @property
    def session_metrics(self) -> SessionMetrics: ...

    @property
    def model_ready(self) -> bool: ...

    @property
    def agent_name(self) -> str: ...

    @property
    def turn_running(self) -> bool: ...

    @turn_running.setter
    def turn_running(self, running: bool) -> None: ...
