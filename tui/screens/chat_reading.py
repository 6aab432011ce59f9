"""The chat screen's panes and reading them from the keyboard. The panes: the chat column
(search, chat, status line, approval bar, prompt, hint), the timeline and the metrics
sidebar, composed here and laid out by ``chat.tcss``. The keys, whatever has focus: the page
keys, the first and the newest message, and search (Ctrl+F); what they move is the chat
pane's view and its window of records. The chat screen (``tui.screens.chat``) is built on it
and presents the turns in these panes."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widget import AwaitMount
from textual.widgets import Footer, Header, Static

from tui.core.i18n import N_, _
from tui.widgets.approval_bar import ApprovalBar
from tui.widgets.chat import ChatPane
from tui.widgets.metrics import MetricsSidebar
from tui.widgets.prompt import PromptInput
from tui.widgets.search_bar import SearchBar
from tui.widgets.status_line import StatusLine
from tui.widgets.timeline import TimelinePane

if TYPE_CHECKING:
    from tui.core.observe.metrics import SessionMetrics

Completions = Callable[[str], list[str]]  # the commands a prompt's text may complete to


class ChatReading(Screen[None]):
    """The chat screen's panes, and the keys that scroll and search the chat pane."""

    CSS_PATH = "chat.tcss"

    # The chat scrolls from the keyboard whatever has focus (the prompt, usually): the
    # prompt is one line or a few, so its own page keys are worth less than the chat's.
    BINDINGS = [
        Binding("pageup", "chat_page(-1)", N_("page up"), show=False, priority=True),
        Binding("pagedown", "chat_page(1)", N_("page down"), show=False, priority=True),
        Binding("ctrl+home", "chat_first", N_("first message"), show=False, priority=True),
        Binding("ctrl+end", "chat_newest", N_("newest"), show=False, priority=True),
        Binding("ctrl+f", "find", N_("find"), show=False, priority=True),
    ]
    _search: tuple[str, int] = ("", -1)  # the query and the position among its matches

    def __init__(self, session_metrics: SessionMetrics, completions: Completions) -> None:
        super().__init__()
        self._session_metrics = session_metrics  # what the sidebar draws
        self._completions = completions  # the prompt's (the app's slash commands)

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        with Horizontal(id="body"):
            with Vertical(id="chat-column"):
                yield SearchBar(id="search")
                yield ChatPane(id="chat")
                yield StatusLine(id="status")
                yield ApprovalBar(id="approval")
                yield PromptInput(self._completions, id="prompt")
                yield Static("", id="hint")
            yield TimelinePane(id="timeline")
            yield MetricsSidebar(self._session_metrics, id="sidebar")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(PromptInput).focus()

    def mounted(self) -> AwaitMount:
        """Awaits this screen's compose and mount: its panes are there once it returns (the
        app's own start waits for them; Textual composes the screen in its own task)."""
        return AwaitMount(self, [self])

    def action_find(self) -> None:
        self.query_one(SearchBar).open()

    def on_search_bar_step(self, message: SearchBar.Step) -> None:
        chat, bar = self._chat(), self.query_one(SearchBar)
        hits = chat.matches(message.query)
        if not hits:
            bar.show_count(_("no match"))
            self._search = (message.query, -1)
            return
        query, position = self._search
        if query != message.query:
            position = -1 if message.direction > 0 else 0  # start from the first / last
        position = (position + message.direction) % len(hits)
        self._search = (message.query, position)
        if not chat.reveal(hits[position], message.query):
            bar.show_count(_("wait for the reply to finish"))
            return
        bar.show_count(_("{n} of {total}").format(n=position + 1, total=len(hits)))

    def on_search_bar_closed(self, _message: SearchBar.Closed) -> None:
        self._chat().unmark()
        self._search = ("", -1)
        self.query_one("#prompt").focus()

    def _chat(self) -> ChatPane:
        return self.query_one(ChatPane)

    def action_chat_page(self, direction: int) -> None:
        chat = self._chat()
        if direction < 0 and round(chat.scroll_y) <= 0 and chat.earlier:
            chat.load_earlier()  # at the top of what is mounted: the page before it
            return
        if direction > 0 and round(chat.scroll_y) >= round(chat.max_scroll_y) and chat.later:
            chat.load_later()
            return
        step = max(1, chat.scrollable_content_region.height - 1)
        chat.scroll_to(y=chat.scroll_y + direction * step, animate=False, immediate=True)

    def action_chat_first(self) -> None:
        self._chat().show_first()

    def action_chat_newest(self) -> None:
        chat = self._chat()
        chat.show_newest()
        chat.follow_again()
