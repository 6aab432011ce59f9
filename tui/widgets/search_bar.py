"""Ctrl+F: find text in the whole open conversation (mounted or not)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Input, Static

from tui.core.i18n import N_, _
from tui.localized import localized


@localized
class SearchBar(Horizontal):
    """Hidden until Ctrl+F. Enter / Shift+Enter ask for the next / previous match."""

    DEFAULT_CSS = """
    SearchBar { height: auto; display: none; padding: 0 1; }
    SearchBar.-open { display: block; }
    SearchBar Input { width: 1fr; }
    SearchBar #search-count { width: auto; padding: 1 1 0 1; color: $text-muted; }
    """
    BINDINGS = [
        Binding("shift+enter", "step(-1)", N_("previous match"), show=False),
        Binding("escape", "close", N_("close search"), show=False),
    ]

    class Step(Message):
        """Go to the next (``+1``) or previous (``-1``) match of ``query``."""

        def __init__(self, query: str, direction: int) -> None:
            super().__init__()
            self.query = query
            self.direction = direction

    class Closed(Message):
        pass

    def compose(self) -> ComposeResult:
        yield Input(placeholder=_("find in this conversation (Enter next, Shift+Enter previous)"))
        yield Static("", id="search-count")

    def open(self) -> None:
        self.add_class("-open")
        self.query_one(Input).focus()

    def show_count(self, text: str) -> None:
        self.query_one("#search-count", Static).update(text)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.value.strip():
            self.post_message(self.Step(event.value, 1))

    def action_step(self, direction: int) -> None:
        value = self.query_one(Input).value
        if value.strip():
            self.post_message(self.Step(value, direction))

    def action_close(self) -> None:
        self.remove_class("-open")
        self.post_message(self.Closed())
