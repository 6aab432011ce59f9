"""The chat pane: user and assistant turns, errors and notes, anchored to the newest."""

from __future__ import annotations

from typing import Any

from textual.containers import Vertical, VerticalScroll
from textual.widget import AwaitMount, Widget
from textual.widgets import Static

from tui.widgets.assistant_message import AssistantMessage
from tui.widgets.note_block import NoteBlock
from tui.widgets.user_message import UserMessage

# Only the newest widgets stay mounted: layout cost grows with every child, and what is
# trimmed stays in the store (Ctrl+S, /history, /export).
MAX_MOUNTED = 150


class ChatPane(VerticalScroll):
    can_focus = True
    hidden_count = 0

    def mount(self, *widgets: Widget, **kwargs: Any) -> AwaitMount:
        result = super().mount(*widgets, **kwargs)
        if len(self.children) + len(widgets) > MAX_MOUNTED:
            self.call_after_refresh(self._trim)
        return result

    def _trim(self) -> None:
        extra = len(self.children) - MAX_MOUNTED
        if extra <= 0:
            return
        old = [c for c in self.children[:extra] if not c.has_class("trim-note")]
        self.hidden_count += len(old)
        self.remove_children(old)
        note = self.query(".trim-note")
        text = (
            f"{self.hidden_count:,} earlier messages are hidden here; "
            "Ctrl+S, /history and /export have them."
        )
        if note:
            note.first(Static).update(text)
        else:
            super().mount(Static(text, classes="trim-note"), before=0)

    def on_mount(self) -> None:
        self.anchor()

    greeting: Static | None = None

    def greet(self, agent: str, backend: str) -> None:
        """The tutorial's console header, until the first message."""
        from rich.text import Text

        from tui.core.sanitize import safe_text

        text = Text()
        text.append("agents-tui", style="bold")
        text.append(f"  ·  agent {safe_text(agent)}  ·  model {safe_text(backend)}\n\n")
        text.append("Type a message and press Enter. ", style="")
        text.append("Esc cancels a reply · Ctrl+S conversations · Ctrl+T / Ctrl+B panes · ")
        text.append("F1 every key\n")
        text.append(
            "Commands: /help /history /stats /tools /clear /sessions /export /retry "
            "/agent /theme /quit",
            style="dim",
        )
        if self.greeting is None:
            self.greeting = Static(text, classes="greeting")
            self.mount(self.greeting)
        else:
            self.greeting.update(text)

    def _drop_greeting(self) -> None:
        if self.greeting is not None:
            self.greeting.remove()
            self.greeting = None

    def add_user(self, text: str, *, queued: bool = False) -> UserMessage:
        self._drop_greeting()
        message = UserMessage(text, queued=queued)
        self.mount(message)
        return message

    def start_assistant(self, agent_name: str) -> AssistantMessage:
        message = AssistantMessage(agent_name)
        self.mount(message)
        return message

    def add_note(self, title: str, body: str, *, kind: str = "info") -> NoteBlock:
        note = NoteBlock(title, body, kind=kind)
        self.mount(note)
        return note

    def show_past(self, turns: list[list[Widget]]) -> None:
        """Stored turns go above anything already typed in this run."""
        self._drop_greeting()
        history = Vertical(*[w for turn in turns for w in turn], classes="past-turns")
        if self.children:
            self.mount(history, before=0)
        else:
            self.mount(history)

    def clear(self) -> None:
        self.greeting = None
        self.remove_children()
