"""How the app gets a model: after the first frame (``import agents`` takes ~2 s) a thread
builds the agent, the backend and the runner; the UI loop adopts them and opens the
conversation; another thread loads and warms the local model, and the agent's MCP servers
connect in the background. The threads change no app state: they post messages
(``tui.messages``), handled here on the UI loop.

``BackendStartup`` is the app's base class (``tui.app.AgentsTuiApp``), so its handlers are
the app's; what it uses of the app (the panes, the header, the chat screen) is declared
below for the type checker and provided by the app.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on, work
from textual.app import App

from tui.core.i18n import _, ngettext
from tui.messages import BackendFailed, BackendReady, McpConnected, ModelLoaded

if TYPE_CHECKING:
    from tui.core.config import Settings
    from tui.core.models.providers import Backend
    from tui.core.turn.recording import ReplayRunner
    from tui.core.turn.runner import TurnRunner
    from tui.heap_policy import HeapPolicy
    from tui.screens.chat import ChatScreen
    from tui.widgets.chat import ChatPane
    from tui.widgets.status_line import StatusLine
    from tui.widgets.timeline import TimelinePane


class BackendStartup(App[None]):
    """The backend's start: built, adopted, loaded, connected; or a failure shown once."""

    if TYPE_CHECKING:  # provided by the app (``tui.app.AgentsTuiApp``)
        settings: Settings
        runner: TurnRunner | ReplayRunner | None
        backend_label: str
        model_ready: bool
        heap: HeapPolicy

        @property
        def chat_screen(self) -> ChatScreen: ...

        @property
        def chat(self) -> ChatPane: ...

        @property
        def timeline(self) -> TimelinePane: ...

        @property
        def status(self) -> StatusLine: ...

        def update_header(self) -> None: ...

        def open_conversation(
            self, conversation_id: str | None = None, *, note: tuple[str, str] | None = None
        ) -> None: ...

    @work(thread=True, exclusive=True, group="setup", exit_on_error=False)
    def _setup_backend(self) -> None:
        from tui.core.agents import AgentLoadError
        from tui.core.models.providers import ProviderError, build_runner

        try:
            runner, backend = build_runner(self.settings)
        except (AgentLoadError, ProviderError) as error:
            self.post_message(BackendFailed(str(error)))
            return
        except Exception as error:  # an unexpected failure still gets one line, no traceback
            self.post_message(BackendFailed(f"{type(error).__name__}: {error}"))
            return
        # Handed back to the UI loop, which adopts the runner and opens the conversation
        # (``_backend_ready``); this thread changes no app state.
        self.post_message(BackendReady(backend.label, runner.agent_name, runner, backend))

    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def _load_model(self, runner: TurnRunner, backend: Backend) -> None:
        """The local model loads and warms off the UI loop; only messages come back."""
        if backend.engine is None:
            self.post_message(ModelLoaded(0.0))
            return
        try:
            backend.engine.load()
            warm = getattr(getattr(runner.run_config, "model", None), "warm_for", None)
            if warm is not None:
                warm(runner.agent)  # the first tool-using turn starts warm
        except Exception as error:
            self.post_message(BackendFailed(str(error)))
            return
        self.post_message(ModelLoaded(backend.engine.load_seconds or 0.0))

    @work(exclusive=False, group="mcp", exit_on_error=False)
    async def connect_mcp(self) -> None:
        """MCP servers start in the background (at start-up, and the new ones after an
        agent switch); the first turn that needs them waits."""
        from tui.core.turn.runner import TurnRunner

        runner = self.runner
        if not isinstance(runner, TurnRunner):
            return
        problems = await runner.prepare()
        self.post_message(McpConnected(problems, len(runner.mcp.alive) + len(problems)))

    @on(McpConnected)
    def _mcp_connected(self, message: McpConnected) -> None:
        working = message.count - len(message.problems)
        for problem in message.problems:
            self.chat.add_note(_("MCP server unavailable"), problem, kind="error")
            self.timeline.note("error", _("MCP server failed"), detail=problem)
        if working:
            self.notify(
                ngettext("{n} MCP server connected.", "{n} MCP servers connected.", working).format(
                    n=working
                )
            )

    @on(BackendReady)
    def _backend_ready(self, message: BackendReady) -> None:
        self.runner = message.runner
        self.backend_label = message.label
        self.chat_screen.agent_shown = message.agent_name
        self.update_header()
        self.status.show(_("loading the model…"))
        self.open_conversation()
        if message.runner.mcp is not None:
            self.connect_mcp()
        self._load_model(message.runner, message.backend)

    @on(ModelLoaded)
    def _model_loaded(self, message: ModelLoaded) -> None:
        self.model_ready = True
        self.heap.settle()
        if message.seconds:
            self.notify(_("Local model loaded and warmed in {s:.1f} s").format(s=message.seconds))
        self.status.show(_("ready"), busy=False)
        self.screen.refresh()  # frames written while it loaded were lost: docs/upstream.md
        self.chat_screen.start_next_queued()

    @on(BackendFailed)
    def _backend_failed(self, message: BackendFailed) -> None:
        self.backend_label = _("unavailable")
        self.update_header()
        self.status.show(_("backend unavailable: see the message above"), busy=False)
        self.chat.add_note(_("Cannot start the model backend"), message.reason, kind="error")
        self.screen.refresh()  # as after a load: what was drawn meanwhile may be lost
