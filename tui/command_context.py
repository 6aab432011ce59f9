"""What a slash command may use of the app: the panes, the conversation, the runner, and
the app's own key actions. The app implements it (structurally); the handlers in
``tui.slash_handlers`` are written against it, so they never import the app. The chat
screen reaches the app through ``ScreenHost`` the same way."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from textual.app import App
    from textual.widgets import TextArea

    from tui.core.config import Settings
    from tui.core.observe.metrics import SessionMetrics
    from tui.core.store import Store
    from tui.core.turn.conversation import Conversation, Message, Playback
    from tui.core.turn.recording import ReplayRunner
    from tui.core.turn.runner import TurnRunner
    from tui.heap_policy import HeapPolicy
    from tui.remote.session import RemoteTable
    from tui.widgets.approval_bar import ApprovalBar
    from tui.widgets.chat import ChatPane
    from tui.widgets.metrics import MetricsSidebar
    from tui.widgets.status_line import StatusLine
    from tui.widgets.timeline import TimelinePane


class Notes(Protocol):
    """What a command does to the chat pane: add a note, clear it."""

    def add_note(self, title: str, body: str, *, kind: str = "info") -> object: ...

    def clear(self) -> None: ...


class TimelineNotes(Protocol):
    """What a command does to the timeline: note a row, clear the rows."""

    def note(self, kind: str, title: str, detail: str = "") -> object: ...

    def clear_rows(self) -> None: ...


class Alerts(Protocol):
    """What a command does to the status line: set (or clear) its alert."""

    def set_alert(self, alert: str) -> None: ...


class PromptHost(Protocol):
    """What answering a mistyped command uses: the app's notices and the prompt's draft."""

    @property
    def app(self) -> App[object]: ...  # Textual's App: notify, timers, workers, themes

    @property
    def prompt_input(self) -> TextArea: ...  # the prompt (a TextArea: the draft, the cursor)


class Pacing(Protocol):
    """The chat's reply pacing (``tui.screens.chat_pacing``), as ``/pace`` uses it."""

    def set_pace(self, pace: float | None) -> None: ...

    def describe(self) -> str: ...


class PacedChat(Protocol):
    """The chat screen, as far as ``/pace`` uses it."""

    @property
    def pacing(self) -> Pacing: ...


class CommandContext(PromptHost, Protocol):
    """What the slash handlers use of the app, and no more."""

    @property
    def chat(self) -> Notes: ...

    @property
    def timeline(self) -> TimelineNotes: ...

    @property
    def status(self) -> Alerts: ...

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
    def chat_screen(self) -> PacedChat: ...

    @property
    def settings(self) -> Settings: ...

    @property
    def turn_running(self) -> bool: ...

    def update_header(self) -> None: ...

    def open_conversation(
        self, conversation_id: str | None = None, *, note: tuple[str, str] | None = None
    ) -> None: ...

    def connect_mcp(self) -> object: ...  # a worker: MCP servers start in the background

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
    def chat(self) -> ChatPane: ...

    @property
    def timeline(self) -> TimelinePane: ...

    @property
    def status(self) -> StatusLine: ...

    @property
    def playback(self) -> Playback | None: ...

    @property
    def turns(self) -> Conversation | Playback | RemoteTable | None: ...

    @property
    def remote(self) -> RemoteTable | None: ...

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
    def turn_running(self) -> bool: ...  # the conversation's busy state

    @property
    def heap(self) -> HeapPolicy: ...
