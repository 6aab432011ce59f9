"""F1: every key and every slash command."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.slash import COMMANDS

KEYS = [
    ("Enter", "send the prompt (queued if a reply is streaming)"),
    ("Shift+Enter / Ctrl+J", "new line in the prompt"),
    ("Up / Down", "recall earlier prompts"),
    ("Tab", "complete a slash command"),
    ("Esc", "cancel the running reply (keeps the partial text)"),
    ("Ctrl+C", "cancel the running reply; when idle, ask to quit"),
    ("Ctrl+P", "command palette"),
    ("PageUp / PageDown", "scroll the chat a page (also while typing)"),
    ("Ctrl+Home / Ctrl+End", "first message / newest line (follow the stream again)"),
    ("Ctrl+F", "find in the conversation: Enter next, Shift+Enter previous, Esc closes"),
    ("Ctrl+T", "show / hide the timeline"),
    ("Ctrl+B", "show / hide the metrics sidebar"),
    ("Ctrl+S", "stored conversations: search, open, rename (Ctrl+R), delete (Ctrl+D)"),
    ("Ctrl+Y", "copy the last reply"),
    ("F1", "this help"),
    ("F2", "performance dashboard (a: this conversation / all turns)"),
    ("Approval bar: y / n / a", "approve / reject / always approve this tool"),
    ("Approval bar: Y / N", "approve / reject every call pending at once"),
    ("Ctrl+Q", "quit"),
    ("Timeline: Up/Down, Enter, click", "select a row; expand its full arguments and output"),
]


class HelpScreen(ModalScreen[None]):
    CSS_PATH = "help.tcss"
    BINDINGS = [Binding("escape,f1,q", "dismiss", "close")]

    def compose(self) -> ComposeResult:
        keys = Table(title="Keys", show_header=False, expand=True)
        keys.add_column(style="bold")
        keys.add_column()
        for key, what in KEYS:
            keys.add_row(key, what)
        commands = Table(title="Slash commands", show_header=False, expand=True)
        commands.add_column(style="bold")
        commands.add_column()
        for command in COMMANDS:
            commands.add_row(command.name, command.help)
        with VerticalScroll(id="help-body"):
            yield Static(keys)
            yield Static(commands)
            yield Static("Esc closes this help.", id="help-foot")

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
