"""The agents-tui application: composes the panes, routes run events, owns key bindings."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from textual import events, on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Header, Static
from textual.worker import Worker, WorkerState

from tui import slash
from tui.core import events as ev
from tui.core import heap
from tui.core.approvals import ApprovalDecision, ApprovalRequest
from tui.core.config import Settings
from tui.core.i18n import N_, _, ngettext
from tui.core.journal import ReplayRunner
from tui.core.metrics import SessionMetrics, TurnMetrics
from tui.core.run import TurnRunner
from tui.localized import localized
from tui.messages import (
    ApprovalAsked,
    BackendFailed,
    BackendReady,
    ConversationOpened,
    McpConnected,
    ModelLoaded,
    PromptSubmitted,
    RunEventPosted,
    TextArrived,
)
from tui.screens.chat import ChatScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.help import HelpScreen
from tui.text_batch import TextBatcher
from tui.transcript_entry import TranscriptEntry
from tui.widgets.approval_bar import ApprovalBar
from tui.widgets.assistant_message import AssistantMessage
from tui.widgets.chat import ChatPane
from tui.widgets.metrics import MetricsSidebar
from tui.widgets.prompt import PromptInput
from tui.widgets.record import Record
from tui.widgets.search_bar import SearchBar
from tui.widgets.status_line import StatusLine
from tui.widgets.timeline import TimelinePane
from tui.widgets.user_message import UserMessage

if TYPE_CHECKING:
    from tui.core.conversation import Conversation, PausedTurn, Playback
    from tui.core.store import Store, TurnRow

NARROW_BELOW = 110


def _slash_commands() -> Any:
    """The palette's provider, imported when the palette first opens (not at start-up)."""
    from tui.commands import SlashCommandProvider

    return SlashCommandProvider


# How a turn ended, as the status line says it.
ENDED = {"completed": N_("ready"), "interrupted": N_("interrupted"), "failed": N_("failed")}


@localized
class AgentsTuiApp(App[None]):
    TITLE = "agents-tui"
    CSS_PATH = "app.tcss"
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
    ) -> None:
        super().__init__()
        self.requested_session = session_id
        self.resume = resume
        self.autoplay = list(autoplay or [])
        self.store: Store | None = None  # opened off the first frame
        self.conversation_id: str | None = None
        self.conversation: Conversation | None = None
        self.playback: Playback | None = None  # a replay runs its turns here, storing nothing
        self.settings = settings or Settings()
        # Built after the first frame when not given; a ReplayRunner plays a recording.
        self.runner: TurnRunner | ReplayRunner | None = runner
        self.backend_label = backend_label or (_("injected runner") if runner else _("starting…"))
        self.session_metrics = SessionMetrics()
        self.text = TextBatcher(lambda parts: self.post_message(TextArrived(parts)))
        self.turn_metrics: TurnMetrics | None = None
        self.queue: deque[tuple[str, UserMessage]] = deque()
        self.transcript: list[TranscriptEntry] = []
        self.current_reply: AssistantMessage | None = None
        self._turn_running = False
        self.model_ready = runner is not None
        self.heap_settled = False  # the one full collection after start-up has run
        self._initial_agent = ""
        # A stored turn that waits for approvals, taken up once the model is ready.
        self._paused: tuple[Any, str] | None = None

    @property
    def agent_name(self) -> str:
        return self.runner.agent_name if self.runner is not None else self.settings.agent

    # --- layout -----------------------------------------------------------------------------
    def get_default_screen(self) -> ChatScreen:
        return ChatScreen()

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        with Horizontal(id="body"):
            with Vertical(id="chat-column"):
                yield SearchBar(id="search")
                yield ChatPane(id="chat")
                yield StatusLine(id="status")
                yield ApprovalBar(id="approval")
                yield PromptInput(id="prompt")
                yield Static("", id="hint")
            yield TimelinePane(id="timeline")
            yield MetricsSidebar(self.session_metrics, id="sidebar")
        yield Footer()

    # The panes, looked up once: events keep arriving while the app shuts down.
    @cached_property
    def chat(self) -> ChatPane:
        return self.query_one(ChatPane)

    @cached_property
    def timeline(self) -> TimelinePane:
        return self.query_one(TimelinePane)

    @cached_property
    def sidebar(self) -> MetricsSidebar:
        return self.query_one(MetricsSidebar)

    @cached_property
    def hint(self) -> Static:
        return self.query_one("#hint", Static)

    @cached_property
    def status(self) -> StatusLine:
        return self.query_one(StatusLine)

    @cached_property
    def approval_bar(self) -> ApprovalBar:
        return self.query_one(ApprovalBar)

    @cached_property
    def prompt_input(self) -> PromptInput:
        return self.query_one(PromptInput)

    def _apply_themes(self) -> None:
        from tui.themes import DEFAULT_THEME, discover, remembered_theme

        themes, problems = discover()
        for theme in themes:
            self.register_theme(theme)
        for problem in problems:
            self.notify(str(problem), severity="warning", timeout=10)
        wanted = remembered_theme() or self.settings.theme
        if wanted not in self.available_themes:
            if wanted != DEFAULT_THEME:
                self.notify(
                    _("Theme {wanted!r} is not available; using {default}.").format(
                        wanted=wanted, default=DEFAULT_THEME
                    ),
                    severity="warning",
                )
            wanted = DEFAULT_THEME if DEFAULT_THEME in self.available_themes else "textual-dark"
        self.theme = wanted
        self.theme_changed_signal.subscribe(self, self._theme_changed)

    def _theme_changed(self, theme: Any) -> None:
        from tui.themes import remember_theme

        try:
            remember_theme(theme.name)
        except OSError as error:
            self.notify(
                _("Could not remember the theme: {error}").format(error=error), severity="warning"
            )

    @property
    def turn_running(self) -> bool:
        return self._turn_running

    @turn_running.setter
    def turn_running(self, running: bool) -> None:
        """A turn starts or ends: full collections wait for its end (see core.heap)."""
        if running != self._turn_running:
            self._turn_running = running
            if running:
                heap.hold_full_collections(True)
            else:
                self._collect_when_quiet(time.monotonic())

    _last_key_at = 0.0

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key):
            self._last_key_at = time.monotonic()
        await super().on_event(event)

    def _collect_when_quiet(self, turn_ended: float) -> None:
        """The full collection held during the turn, once nobody is typing (core.heap)."""
        if self._turn_running:
            return  # a new turn holds it again; its end schedules it
        if heap.quiet_enough(time.monotonic(), self._last_key_at, turn_ended):
            heap.hold_full_collections(False)
            self.call_after_refresh(heap.collect_if_due)
        else:
            self.set_timer(0.05, lambda: self._collect_when_quiet(turn_ended))

    def on_mount(self) -> None:
        self._apply_themes()
        self.query_one(PromptInput).focus()
        self.update_header()
        self._apply_width(self.size.width)
        if self.runner is None:
            self.status.show(_("starting: loading the Agents SDK…"))
            self.call_after_refresh(self._setup_backend)
        else:
            self._initial_agent = self.runner.agent_name
            self.status.show(_("ready"), busy=False)
            self.call_after_refresh(self._settle_heap)
            if self.autoplay:  # a replay: its prompts are "typed" in order
                from tui.core.conversation import Playback

                self.playback = Playback(self.runner)
                for prompt in self.autoplay:
                    self.queue.append((prompt, self.chat.add_user(prompt, queued=True)))
                self.call_after_refresh(self._start_next_queued)  # timing starts after frame 1
            else:
                self.open_conversation()

    def on_resize(self, event: events.Resize) -> None:
        self._apply_width(event.size.width)

    def _apply_width(self, width: int) -> None:
        self.screen.set_class(width < NARROW_BELOW, "-narrow")

    def update_header(self) -> None:
        agent = self.runner.agent_name if self.runner is not None else self.settings.agent
        self.sub_title = f"{agent} · {self.backend_label}"
        if self.settings.inject_faults:  # the tutorial's demo: never mistaken for real trouble
            self.sub_title += " · " + _("⚡ injecting faults: {rate:.0%} of events").format(
                rate=self.settings.inject_faults
            )
        if not self.transcript and not self.chat.query(UserMessage):
            self.chat.greet(agent, self.backend_label)

    # --- backend setup (after the first frame: `import agents` takes ~2 s) ------------------
    @work(thread=True, exclusive=True, group="setup", exit_on_error=False)
    def _setup_backend(self) -> None:
        from tui.core.agents import AgentLoadError
        from tui.core.providers import ProviderError, build_runner

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
    def _load_model(self, runner: TurnRunner, backend: Any) -> None:
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

    async def _ask_person(self, request: ApprovalRequest) -> ApprovalDecision:
        """The runner's approver: the approval bar answers through a future (already
        asked, for a stored turn, from the moment its pending calls were shown)."""
        early = self._early_answers.pop(request.call_id, None)
        if early is not None and not early.cancelled():
            return await early
        answer: asyncio.Future[ApprovalDecision] = asyncio.get_running_loop().create_future()
        self.post_message(ApprovalAsked(request, answer))
        return await answer

    @on(ApprovalAsked)
    def _approval_asked(self, message: ApprovalAsked) -> None:
        if self.approval_bar.ask(message.request, message.answer):
            self.status.show(_("waiting for your approval (y / n / a)…"))

    async def action_quit(self) -> None:
        """Quitting leaves a pending approval stored; MCP servers are cleaned up first."""
        close = getattr(self.runner, "close", None)
        if close is not None:
            # A server that will not stop must not keep the app open.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(close(), 5)
        self.exit()

    def open_conversation(self, conversation_id: str | None = None) -> None:
        """Open (or create) the stored conversation: memory, approvals, journal (core)."""
        from tui.core.conversation import Conversation
        from tui.core.store import Store

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
            self.conversation = Conversation(
                store, self.runner, chosen, model_label=self.backend_label
            )
        except Exception as error:
            self.post_message(BackendFailed(f"cannot open the conversation store: {error}"))
            return
        self.conversation_id = self.conversation.id
        if isinstance(self.runner, TurnRunner):
            self.runner.approver = self._ask_person
        self.post_message(
            ConversationOpened(self.conversation.id, self.conversation.turns(), replace=switching)
        )

    @on(ConversationOpened)
    def _conversation_opened(self, message: ConversationOpened) -> None:
        if message.replace:
            self.chat.clear()
            self.timeline.clear_rows()
            self.transcript.clear()
            self.update_header()
        paused = self.conversation.paused() if self.conversation is not None else None
        past = [t for t in message.turns if paused is None or t.id != paused.turn.id]
        if past:
            self.chat.show_past([r for turn in past for r in self._past_turn_records(turn)])
        if paused is not None:
            self._show_paused(paused.turn, paused.state)
        recovered = self.store.recovered if self.store is not None else []
        if any(t.conversation_id == message.conversation_id for t in recovered):
            self.notify(
                _("The last turn was cut off when the app stopped; its partial reply is kept."),
                severity="warning",
            )
        if message.turns:
            self.notify(_("Reopened a conversation with {n} turns.").format(n=len(message.turns)))

    def _show_paused(self, turn: TurnRow, state: str) -> None:
        """A turn stored while it waited for approvals: shown live, asked again."""
        bubble = self.chat.add_user(turn.prompt, queued=True)
        self._paused = (turn, state)
        self._paused_bubble = bubble
        pending = []
        for tool in turn.tools:
            row = self.timeline.past_tool(tool)
            if tool.get("approval") == "pending":
                row.set_status("approval")
                row.refresh_row()
                pending.append(tool)
        self.notify(
            _("A turn is waiting for your approval; it is asked again."), severity="warning"
        )
        self._ask_stored(pending)
        self._start_next_queued()

    _early_answers: dict[str, asyncio.Future[ApprovalDecision]] = {}

    def _ask_stored(self, tools: list[dict[str, Any]]) -> None:
        """The bar takes the keys as soon as a stored turn's pending calls are on screen,
        not once the model is loaded and the run restored: a ``y`` typed then is an answer,
        kept until the resumed run asks for it."""
        requests = [
            ApprovalRequest(
                str(tool.get("call_id", "")),
                str(tool.get("name", "")),
                str(tool.get("arguments") or ""),
                str(tool.get("agent") or ""),
                index,
                len(tools),
            )
            for index, tool in enumerate(tools, 1)
        ]
        loop = asyncio.get_running_loop()
        self._early_answers = {request.call_id: loop.create_future() for request in requests}
        for request in requests:
            answer = self._early_answers[request.call_id]
            answer.add_done_callback(lambda _answer: self._ask_next_stored(requests))
        self._ask_next_stored(requests)

    def _ask_next_stored(self, requests: list[ApprovalRequest]) -> None:
        if any(answer.cancelled() for answer in self._early_answers.values()):
            self._early_answers = {}  # the turn ended (Esc, quit): ask nothing more
            return
        if self.approval_bar.asking:
            return
        for request in requests:
            answer = self._early_answers.get(request.call_id)
            if answer is not None and not answer.done() and self.approval_bar.ask(request, answer):
                self.status.show(_("waiting for your approval (y / n / a)…"))
                return
        if not self.approval_bar.asking:
            self.prompt_input.focus()

    def _past_turn_records(self, turn: TurnRow) -> list[Record]:
        status: ev.TurnStatus = "failed"
        if turn.status == "completed":
            status = "completed"
        elif turn.status == "interrupted":
            status = "interrupted"
        started = datetime.fromtimestamp(turn.started_at)
        finished = datetime.fromtimestamp(turn.finished_at or turn.started_at)
        self.transcript.append(TranscriptEntry(started, "user", turn.prompt))
        self.transcript.append(TranscriptEntry(finished, "assistant", turn.reply, status))
        for tool in turn.tools:
            self.timeline.past_tool(tool)
        return [
            Record("user", turn.prompt),
            Record("assistant", turn.reply, status, turn.error, turn.metrics),
        ]

    @on(BackendReady)
    def _backend_ready(self, message: BackendReady) -> None:
        self.runner = message.runner
        self.backend_label = message.label
        self._initial_agent = message.agent_name
        self.update_header()
        self.status.show(_("loading the model…"))
        self.open_conversation()
        if message.runner.mcp is not None:
            self.connect_mcp()
        self._load_model(message.runner, message.backend)

    @on(ModelLoaded)
    def _model_loaded(self, message: ModelLoaded) -> None:
        self.model_ready = True
        self._settle_heap()
        if message.seconds:
            self.notify(_("Local model loaded and warmed in {s:.1f} s").format(s=message.seconds))
        self.status.show(_("ready"), busy=False)
        self._start_next_queued()

    def _settle_heap(self) -> None:
        """Collect once, then exempt everything alive now (Textual, the SDK, the model
        wrapper: ~1 M objects) from later collections. Without this the collector
        rescans that heap every few seconds while a reply streams: ~130 ms stalls."""
        gc.collect()
        gc.freeze()
        self.heap_settled = True

    @on(BackendFailed)
    def _backend_failed(self, message: BackendFailed) -> None:
        self.backend_label = _("unavailable")
        self.update_header()
        self.status.show(_("backend unavailable: see the message above"), busy=False)
        self.chat.add_note(_("Cannot start the model backend"), message.reason, kind="error")

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
        if self.turn_running or not self.model_ready:
            if self.runner is None and self.backend_label == _("unavailable"):
                self.notify(
                    _("No model backend: fix the problem shown in the chat and restart."),
                    severity="error",
                )
                return
            bubble = self.chat.add_user(text, queued=True)
            self.queue.append((text, bubble))
            return
        self._start_turn(text, self.chat.add_user(text))

    @on(PromptInput.Changed)
    def _prompt_changed(self, event: PromptInput.Changed) -> None:
        matches = slash.completions(event.text_area.text)
        hint = "   ".join(f"{m} — {slash.BY_NAME[m].help}" for m in matches) if matches else ""
        self.hint.update(hint)

    def run_slash_command(self, command: str) -> None:
        """Every command is in ``tui.slash``; ``tui.slash_handlers`` carries it out."""
        slash.run(self, command)

    def action_copy_last(self) -> None:
        replies = [e for e in self.transcript if e.role != "user"]
        if not replies:
            self.notify(_("No reply to copy yet."), severity="warning")
            return
        self.copy_to_clipboard(replies[-1].text)
        self.notify(_("Copied the last reply ({n:,} characters).").format(n=len(replies[-1].text)))

    def action_sessions(self) -> None:
        from tui.screens.sessions import SessionsScreen

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

    # --- running turns ----------------------------------------------------------------------
    def _start_turn(self, prompt: str, bubble: UserMessage) -> None:
        bubble.mark_sent()
        self.turn_running = True
        self.transcript.append(TranscriptEntry(datetime.now(), "user", prompt))
        self.current_reply = self.chat.start_assistant(self.agent_name)
        self.status.show(_("thinking…"))
        self._run_turn(prompt)

    def _start_next_queued(self) -> None:
        if self.turn_running or not self.model_ready or self.runner is None:
            return
        if self._paused is not None and isinstance(self.runner, TurnRunner):
            turn, state = self._paused
            self._paused = None
            self._paused_bubble.mark_sent()
            self.turn_running = True
            self.transcript.append(TranscriptEntry(datetime.now(), "user", turn.prompt))
            self.current_reply = self.chat.start_assistant(self.runner.agent_name)
            if turn.reply:
                self.current_reply.append(turn.reply)
            from tui.core.conversation import PausedTurn

            self._resume_turn(PausedTurn(turn, state))
            return
        if self.queue:
            prompt, bubble = self.queue.popleft()
            self._start_turn(prompt, bubble)

    # The conversation (tui.core.conversation) runs the turn for every front end: it
    # journals each event, then hands it to ``_emit``, which only presents it.
    @work(exclusive=True, group="run", exit_on_error=False)
    async def _run_turn(self, prompt: str) -> None:
        turns = self.conversation or self.playback
        if turns is not None:
            await turns.run(prompt, self._emit)

    @work(exclusive=True, group="run", exit_on_error=False)
    async def _resume_turn(self, paused: PausedTurn) -> None:
        if self.conversation is not None:
            await self.conversation.resume(paused, self._emit)

    def _emit(self, event: ev.RunEvent) -> None:
        """Called by the core for every event, already journaled, in delivery order, on the
        app's loop."""
        if isinstance(event, ev.TurnStarted):
            # the conversation's own metrics for this turn: nothing here counts them again
            turns = self.conversation or self.playback
            self.turn_metrics = turns.metrics if turns is not None else None
            self._rate_checked = False
            self.sidebar.turn = self.turn_metrics
            self.sidebar.live = True
        if isinstance(event, ev.TextDelta):
            self.text.add(event.text)
            return
        self.text.before_event()
        self.post_message(RunEventPosted(event))

    _rate_checked = False

    def _take_unposted_text(self) -> str:
        return self.text.take()

    def _while_on_screen(self, handle: Callable[[Any], None], message: Any) -> None:
        """Runs a handler of the turn's messages; once the app is quitting its screen and
        widgets go before the turn's last messages arrive, and there is nothing left to draw
        them on (``run_test`` and ``q`` mid-turn both get here)."""
        from textual.app import ScreenStackError
        from textual.css.query import NoMatches

        try:
            handle(message)
        except (NoMatches, ScreenStackError):
            if self.is_running and self.return_code is None and not self._closing:
                raise

    @on(TextArrived)
    def _text_arrived(self, message: TextArrived) -> None:
        self._while_on_screen(self._show_text, message)

    def _show_text(self, message: TextArrived) -> None:
        self.text.drawn(message.parts)
        if not message.parts:
            return  # taken by the reply it belonged to (see ``_take_unposted_text``)
        reply = self.current_reply
        if reply is not None:
            reply.append("".join(message.parts))
        self.status.show(_("writing…"))
        tokens = self.turn_metrics.tokens if self.turn_metrics is not None else 0
        if tokens == len(message.parts) or (tokens >= 40 and not self._rate_checked):
            self._rate_checked = tokens >= 40
            self._check_thresholds()  # at the first token (TTFT), and once the rate is real

    @on(RunEventPosted)
    def _route(self, message: RunEventPosted) -> None:
        self._while_on_screen(self._route_event, message)

    def _route_event(self, message: RunEventPosted) -> None:
        """Each pane draws the events it shows; the app keeps what concerns the reply, the
        prompt's focus and the header."""
        event = message.event
        self.timeline.show(event)
        self.status.show_event(event)
        reply = self.current_reply
        if isinstance(event, ev.ReasoningDelta) and reply is not None:
            reply.append_reasoning(event.text)
        elif isinstance(event, ev.ApprovalRequested) and reply is not None:
            reply.pause()
        elif isinstance(event, ev.ApprovalResolved) and not self.approval_bar.asking:
            self.prompt_input.focus()
        elif isinstance(event, ev.AgentSwitched) and event.name != self._initial_agent:
            self.timeline.note("agent", _("agent: {name}").format(name=event.name))
            self._initial_agent = event.name
            self.update_header()
        elif isinstance(event, ev.RetryScheduled):
            self.notify(
                _("Retrying after {kind}: attempt {attempt}").format(
                    kind=event.error_kind, attempt=event.attempt
                ),
                severity="warning",
            )
        elif isinstance(event, ev.TurnStarted):
            self._alerted_this_turn = False
        elif isinstance(event, ev.TurnFinished):
            self._turn_finished(event)

    def _check_thresholds(self) -> None:
        """The tutorial's thresholds, shown in the status line whatever the layout (the
        sidebar may be hidden or too narrow to show), with one notification per turn."""
        from tui.core.metrics import assess

        now = time.perf_counter_ns()
        turn = self.turn_metrics
        if getattr(self.runner, "clock", time.perf_counter_ns) is not time.perf_counter_ns and turn:
            # A run on a clock of its own (tests) is judged at its latest event: the
            # screen's clock would make it look stalled.
            now = turn.finished_ns or turn.last_token_ns or turn.started_ns
        issues = assess(turn, self.session_metrics, now)
        self.status.set_alert("; ".join(issues))
        if issues and not getattr(self, "_alerted_this_turn", False):
            self._alerted_this_turn = True
            self.notify("; ".join(issues), title=_("Performance"), severity="warning")

    def _turn_finished(self, event: ev.TurnFinished) -> None:
        reply = self.current_reply
        if self.approval_bar.asking:
            self.approval_bar.dismiss()
            self.prompt_input.focus()
        summary = self.turn_metrics.summary(event.at_ns) if self.turn_metrics else None
        if reply is not None and event.structured:
            # The agent's structured output replaces the raw JSON it streamed.
            formatted = AssistantMessage.finished(
                event.final_text, event.status, None, summary or {}
            )
            self.chat.mount(formatted, after=reply)
            reply.remove()
        elif reply is not None:
            reply.finish(event.status, event.error, summary)
        if event.status == "failed":
            self.chat.add_note(
                _("The reply failed ({kind})").format(kind=event.error_kind),
                event.error or "",
                kind="error",
            )
        self.timeline.fail_running()
        self.transcript.append(
            TranscriptEntry(datetime.now(), self.agent_name, event.final_text, event.status)
        )
        if self.turn_metrics is not None:
            self.session_metrics.add(self.turn_metrics)
            self._check_thresholds()
            if event.status == "completed" and self.turn_metrics.retries:
                retries = self.turn_metrics.retries
                self.timeline.note(
                    "done",
                    ngettext(
                        "recovered after {n} retry", "recovered after {n} retries", retries
                    ).format(n=retries),
                )
        self.sidebar.live = False
        self.sidebar.render_now()
        self.turn_running = False
        self.current_reply = None
        self.status.show(_(ENDED.get(event.status, event.status)), busy=False)
        self._start_next_queued()

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        """The one place worker failures are handled: a message, never a traceback."""
        if event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        if event.worker.group == "run":
            pending = self._take_unposted_text()
            if self.current_reply is not None:
                if pending:
                    self.current_reply.append(pending)  # its message would find no reply
                self.current_reply.finish("failed", str(error))
            self.turn_running = False
            self.current_reply = None
            self.status.show(_("failed"), busy=False)
        self.chat.add_note(_("Internal error"), f"{type(error).__name__}: {error}", kind="error")

    # --- actions ----------------------------------------------------------------------------
    def action_cancel_turn(self) -> None:
        turns = self.conversation or self.playback
        if self.turn_running and turns is not None:
            turns.cancel()
            self.status.show(_("cancelling…"))

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

        if self.store is None:
            self.notify(_("The conversation store is not open yet."), severity="warning")
            return
        if isinstance(self.screen, DashboardScreen):
            return
        live = self.session_metrics.turns[-1].gaps_s if self.session_metrics.turns else None
        self.push_screen(DashboardScreen(self.store.path, self.conversation_id, live))

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_toggle_timeline(self) -> None:
        self.timeline.toggle_class("hidden")

    def action_toggle_sidebar(self) -> None:
        if self.screen.has_class("-narrow"):
            self.sidebar.toggle_class("-forced")
        else:
            self.sidebar.toggle_class("hidden")
