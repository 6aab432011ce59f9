"""The agents-tui application: app-wide things (the backend, the conversation it opens,
themes, key bindings, screens); the chat screen composes the panes and presents the turns."""

from __future__ import annotations

import asyncio
import contextlib
from functools import cached_property
from typing import TYPE_CHECKING

from textual import events, on
from textual.app import App
from textual.binding import Binding
from textual.widgets import Static

from tui import slash
from tui.app_remote import Connect, RemoteStartup
from tui.app_startup import BackendStartup
from tui.core.config import Settings
from tui.core.i18n import N_, _
from tui.core.observe.metrics import SessionMetrics
from tui.core.sanitize import safe_text
from tui.core.turn.recording import ReplayRunner
from tui.core.turn.runner import TurnRunner
from tui.heap_policy import HeapPolicy
from tui.localized import localized
from tui.messages import (
    BackendFailed,
    ConversationOpened,
    PromptSubmitted,
)
from tui.screens.chat import ChatScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.help import HelpScreen
from tui.themes import apply_themes
from tui.widgets.approval_bar import ApprovalBar
from tui.widgets.chat import ChatPane
from tui.widgets.metrics import MetricsSidebar
from tui.widgets.prompt import PromptInput
from tui.widgets.status_line import StatusLine
from tui.widgets.timeline import TimelinePane
from tui.widgets.user_message import UserMessage

if TYPE_CHECKING:
    from tui.commands import SlashCommandProvider
    from tui.core.store import Store
    from tui.core.turn.conversation import Conversation, Message, Playback
    from tui.remote.session import RemoteTable

NARROW_BELOW = 110


def _slash_commands() -> type[SlashCommandProvider]:
    """The palette's provider, imported when the palette first opens (not at start-up)."""
    from tui.commands import SlashCommandProvider

    return SlashCommandProvider


@localized
class AgentsTuiApp(RemoteStartup, BackendStartup):
    TITLE = "agents-tui"
    CSS_PATH = "app.tcss"  # app-wide rules; the chat screen's are in screens/chat.tcss
    MODES = {"chat": "chat"}  # the installed chat screen (``__init__``)
    DEFAULT_MODE = "chat"
    COMMANDS = App.COMMANDS | {_slash_commands}
    BINDINGS = [
        Binding("escape", "cancel_turn", N_("cancel reply"), show=True),
        Binding("ctrl+c", "interrupt", N_("cancel / quit"), priority=True, show=False),
        Binding("f1", "help", N_("help")),
        Binding("f2", "dashboard", N_("dashboard"), show=False),
        Binding("ctrl+t", "toggle_timeline", N_("timeline")),
        Binding("ctrl+b", "toggle_sidebar", N_("metrics")),
        Binding("ctrl+s", "sessions", N_("sessions")),
        Binding("ctrl+y", "copy_last", N_("copy reply"), show=False),
        Binding("ctrl+q", "quit", N_("quit")),
    ]

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        runner: TurnRunner | ReplayRunner | None = None,
        backend_label: str | None = None,
        session_id: str | None = None,
        resume: bool = False,
        autoplay: list[str] | None = None,
        connect: Connect | None = None,
    ) -> None:
        super().__init__()
        self.connect = connect  # a running service's session to attach to (``--connect``)
        self.remote: RemoteTable | None = None
        self.requested_session = session_id
        self.resume = resume
        self.autoplay = list(autoplay or [])
        self.store: Store | None = None  # opened off the first frame
        self.conversation_id: str | None = None
        self.conversation: Conversation | None = None
        self.playback: Playback | None = None  # a replay runs its turns here, storing nothing
        self.settings = settings or Settings()
        from tui.core.turn.cache import response_cache

        self.response_cache = response_cache(self.settings.cache_ttl)  # --cache-ttl; None: off
        # Built after the first frame when not given; a ReplayRunner plays a recording.
        self.runner: TurnRunner | ReplayRunner | None = runner
        self.backend_label = backend_label or (_("injected runner") if runner else _("starting…"))
        self.session_metrics = SessionMetrics()
        self.heap = HeapPolicy(self)  # full collections wait for a quiet moment
        self.model_ready = runner is not None
        if connect is not None:
            from tui.remote.client import shown_url

            self.backend_label = shown_url(connect.url)
        self.install_screen(self.chat_screen, "chat")

    @property
    def agent_name(self) -> str:
        if self.remote is not None:
            return self.remote.decoder.agent or self.remote.agent
        return self.runner.agent_name if self.runner is not None else self.settings.agent

    @property
    def turns(self) -> Conversation | Playback | RemoteTable | None:
        """Where the turns come from: a running service's session, the stored conversation,
        or a replay's playback."""
        return self.remote or self.conversation or self.playback

    # --- layout -----------------------------------------------------------------------------
    @cached_property
    def chat_screen(self) -> ChatScreen:
        """The main screen: it composes the panes and presents the conversation and its
        running turn. Installed as the app's one mode (``MODES``), so Textual starts on it
        and loads its own ``chat.tcss`` as it does a pushed screen's."""
        return ChatScreen(self.session_metrics, slash.completions)

    # The chat screen's panes, looked up once: events keep arriving while the app shuts down.
    @cached_property
    def chat(self) -> ChatPane:
        return self.chat_screen.query_one(ChatPane)

    @cached_property
    def timeline(self) -> TimelinePane:
        return self.chat_screen.query_one(TimelinePane)

    @cached_property
    def sidebar(self) -> MetricsSidebar:
        return self.chat_screen.query_one(MetricsSidebar)

    @cached_property
    def hint(self) -> Static:
        return self.chat_screen.query_one("#hint", Static)

    @cached_property
    def status(self) -> StatusLine:
        return self.chat_screen.query_one(StatusLine)

    @cached_property
    def approval_bar(self) -> ApprovalBar:
        return self.chat_screen.query_one(ApprovalBar)

    @cached_property
    def prompt_input(self) -> PromptInput:
        return self.chat_screen.query_one(PromptInput)

    @property
    def turn_running(self) -> bool:
        """The one busy state: the conversation's (or the playback's, or the session's)."""
        turns = self.turns
        return turns is not None and turns.busy

    @property
    def heap_settled(self) -> bool:
        return self.heap.settled

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key):
            self.heap.key_pressed()
        await super().on_event(event)

    async def on_mount(self) -> None:
        # Textual starts the chat screen's task as the app composes; the panes are its own
        # compose's, so what follows (the header, the status, the conversation) waits for it.
        await self.chat_screen.mounted()
        apply_themes(self, self.settings.theme)
        self.update_header()
        self._apply_width(self.size.width)
        if self.connect is not None:
            self.attach(self.connect)
        elif self.runner is None:
            self.status.show(_("starting: loading the Agents SDK…"))
            self.call_after_refresh(self._setup_backend)
        else:
            self.chat_screen.agent_shown = self.runner.agent_name
            self.status.show(_("ready"), busy=False)
            self.call_after_refresh(self.heap.settle)
            if isinstance(self.runner, ReplayRunner):  # its prompts are "typed" in order
                from tui.core.turn.conversation import Playback

                self.playback = Playback(self.runner)
                for prompt in self.autoplay:
                    self.chat_screen.queue_prompt(prompt)
                # timing starts after the first frame
                self.call_after_refresh(self.chat_screen.start_next_queued)
            else:
                self.open_conversation()

    def on_resize(self, event: events.Resize) -> None:
        self._apply_width(event.size.width)

    def _apply_width(self, width: int) -> None:
        self.chat_screen.set_class(width < NARROW_BELOW, "-narrow")

    def update_header(self) -> None:
        agent = self.agent_name
        self.sub_title = safe_text(f"{agent} · {self.backend_label}")  # a service names them
        if self.settings.inject_faults:  # the tutorial's demo: never mistaken for real trouble
            self.sub_title += " · " + _("⚡ injecting faults: {rate:.0%} of events").format(
                rate=self.settings.inject_faults
            )
        if not self.chat.message_count() and not self.chat.query(UserMessage):
            self.chat.greet(agent, self.backend_label)

    async def action_quit(self) -> None:
        """Quitting leaves a pending approval stored; MCP servers are cleaned up first."""
        if self.remote is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.remote.close(), 5)
        close = getattr(self.runner, "close", None)
        if close is not None:
            # A server that will not stop must not keep the app open.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(close(), 5)
        self.exit()

    def open_conversation(
        self, conversation_id: str | None = None, *, note: tuple[str, str] | None = None
    ) -> None:
        """Open (or create) the stored conversation: memory, approvals, journal (core)."""
        from tui.core.store import Store
        from tui.core.turn.conversation import Conversation

        try:
            if self.store is None:
                self.store = Store()
            store = self.store
            chosen = conversation_id or self.requested_session
            if chosen is None and self.resume:
                chosen = store.latest_conversation()
            switching = self.conversation is not None
            if self.conversation is not None:
                self.conversation.close()
            if not isinstance(self.runner, TurnRunner):
                raise TypeError("a replay has no stored conversation")
            self.conversation = Conversation(
                store,
                self.runner,
                chosen,
                model_label=self.backend_label,
                cache=self.response_cache,
            )
        except Exception as error:
            self.post_message(BackendFailed(f"cannot open the conversation store: {error}"))
            return
        self.conversation_id = self.conversation.id
        self.conversation.ask_with(self.chat_screen.ask_person)
        # the last reply's paced tail (--pace), shown before the panes are cleared, not after
        self.chat_screen.pacing.release_all()
        self.chat_screen.post_message(
            ConversationOpened(
                self.conversation.id, self.conversation.turns(), replace=switching, note=note
            )
        )

    # --- prompts and commands ---------------------------------------------------------------
    @on(PromptSubmitted)
    def _prompt_submitted(self, message: PromptSubmitted) -> None:
        text = message.text
        if text.startswith("/") and text.split()[0] in slash.BY_NAME:
            self.run_slash_command(text.strip())
            return
        if slash.looks_like_command(text):
            slash.unknown_command(self, text.split()[0])
            return
        if self.runner is None and self.backend_label == _("unavailable"):
            self.notify(
                _("No model backend: fix the problem shown in the chat and restart."),
                severity="error",
            )
            return
        self.chat_screen.submit(text, interrupt=message.interrupt)

    @on(PromptInput.Changed)
    def _prompt_changed(self, event: PromptInput.Changed) -> None:
        matches = slash.completions(event.text_area.text)
        hint = "   ".join(f"{m} — {slash.BY_NAME[m].help}" for m in matches) if matches else ""
        self.hint.update(hint)

    def history(self) -> list[Message]:
        """The conversation's prompts and replies (a replay's, when one plays)."""
        turns = self.playback or self.remote or self.conversation
        return turns.history() if turns is not None else []

    def run_slash_command(self, command: str) -> None:
        """Every command is in ``tui.slash``; ``tui.slash_handlers`` carries it out."""
        slash.run(self, command)

    def action_copy_last(self) -> None:
        replies = [m for m in self.history() if m.role != "user"]
        if not replies:
            self.notify(_("No reply to copy yet."), severity="warning")
            return
        self.copy_to_clipboard(replies[-1].text)
        self.notify(_("Copied the last reply ({n:,} characters).").format(n=len(replies[-1].text)))

    def action_sessions(self) -> None:
        from tui.screens.sessions import SessionsScreen

        if self.connect is not None:
            self.remote_sessions()
            return
        if self.store is None:
            self.notify(_("The conversation store is not open yet."), severity="warning")
            return
        if self.turn_running:
            self.notify(_("A reply is streaming: press Esc first."), severity="warning")
            return

        def chosen(conversation_id: str | None) -> None:
            if conversation_id and conversation_id != self.conversation_id:
                self.open_conversation(conversation_id)
            elif (
                self.conversation_id
                and self.store is not None
                and self.store.conversation(self.conversation_id) is None
            ):
                # The open conversation was deleted: what is shown and the model's memory
                # went with it, so a fresh one takes its place.
                from tui.core.store import new_conversation_id

                self.open_conversation(new_conversation_id())
                self.notify(_("The open conversation was deleted; this is a fresh one."))

        self.push_screen(SessionsScreen(self.store, self.conversation_id), chosen)

    # --- actions ----------------------------------------------------------------------------
    def action_cancel_turn(self) -> None:
        self.chat_screen.cancel_turn()

    def action_interrupt(self) -> None:
        if self.turn_running:
            self.action_cancel_turn()
            return

        def answered(quit_now: bool | None) -> None:
            if quit_now:
                self.call_next(self.action_quit)

        if not isinstance(self.screen, ConfirmScreen):
            self.push_screen(ConfirmScreen(_("Quit agents-tui?")), answered)

    def action_dashboard(self) -> None:
        from tui.screens.dashboard import DashboardScreen

        if self.remote is not None:
            self.notify(_("F2 reads this machine's store; attached, see the service's /v1/stats."))
            return
        if self.store is None:
            self.notify(_("The conversation store is not open yet."), severity="warning")
            return
        if isinstance(self.screen, DashboardScreen):
            return
        live = self.session_metrics.turns[-1].gaps_s if self.session_metrics.turns else None
        self.push_screen(DashboardScreen(self.store, self.conversation_id, live))

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_toggle_timeline(self) -> None:
        self.timeline.toggle_class("hidden")

    def action_toggle_sidebar(self) -> None:
        if self.chat_screen.has_class("-narrow"):
            self.sidebar.toggle_class("-forced")
        else:
            self.sidebar.toggle_class("hidden")
