"""F1: every key and every slash command."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.core.i18n import N_, _
from tui.localized import localized
from tui.slash import COMMANDS

KEYS = [
    ("Enter", N_("send the prompt (queued if a reply is streaming)")),
    ("Ctrl+Enter / Alt+Enter", N_("stop the reply and send this prompt now")),
    ("Shift+Enter / Ctrl+J", N_("new line in the prompt")),
    ("Up / Down", N_("recall earlier prompts")),
    ("Tab", N_("complete a slash command")),
    ("Esc", N_("cancel the running reply (keeps the partial text)")),
    ("Ctrl+C", N_("cancel the running reply; when idle, ask to quit")),
    ("Ctrl+P", N_("command palette")),
    ("PageUp / PageDown", N_("scroll the chat a page (also while typing)")),
    ("Ctrl+Home / Ctrl+End", N_("first message / newest line (follow the stream again)")),
    ("Ctrl+F", N_("find in the conversation: Enter next, Shift+Enter previous, Esc closes")),
    ("Ctrl+T", N_("show / hide the timeline")),
    ("Ctrl+B", N_("show / hide the metrics sidebar")),
    ("Ctrl+S", N_("stored conversations: search, open, rename (Ctrl+R), delete (Ctrl+D)")),
    ("Ctrl+Y", N_("copy the last reply")),
    ("F1", N_("this help")),
    ("F2", N_("performance dashboard (a: this conversation / all turns)")),
    (N_("Approval bar: y / n / a"), N_("approve / reject / always approve this tool")),
    (N_("Approval bar: Y / N"), N_("approve / reject every call pending at once")),
    ("Ctrl+Q", N_("quit")),
    (
        N_("Timeline: Up/Down, Enter, click"),
        N_("select a row; expand its whole arguments and output, or fold it again"),
    ),
]


@localized
class HelpScreen(ModalScreen[None]):
    CSS_PATH = "help.tcss"
    BINDINGS = [Binding("escape,f1,q", "dismiss", N_("close"))]

    def compose(self) -> ComposeResult:
        keys = Table(title=_("Keys"), show_header=False, expand=True)
        keys.add_column(style="bold")
        keys.add_column()
        for key, what in KEYS:
            keys.add_row(_(key), _(what))
        commands = Table(title=_("Slash commands"), show_header=False, expand=True)
        commands.add_column(style="bold")
        commands.add_column()
        for command in COMMANDS:
            commands.add_row(command.name, command.help)
        with VerticalScroll(id="help-body"):
            yield Static(keys)
            yield Static(commands)
            yield Static(_("Esc closes this help."), id="help-foot")

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
