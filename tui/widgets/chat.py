"""The chat pane: user and assistant turns, errors and notes, anchored to the newest."""

from __future__ import annotations

from textual.containers import Vertical, VerticalScroll
from textual.widget import Widget

from tui.widgets.assistant_message import AssistantMessage
from tui.widgets.note_block import NoteBlock
from tui.widgets.user_message import UserMessage


class ChatPane(VerticalScroll):
    can_focus = True

    def on_mount(self) -> None:
        self.anchor()

    def add_user(self, text: str, *, queued: bool = False) -> UserMessage:
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

    @property
    def last_assistant(self) -> AssistantMessage | None:
        found = self.query(AssistantMessage)
        return found.last() if found else None

    def show_past(self, turns: list[list[Widget]]) -> None:
        """Stored turns go above anything already typed in this run."""
        history = Vertical(*[w for turn in turns for w in turn], classes="past-turns")
        if self.children:
            self.mount(history, before=0)
        else:
            self.mount(history)

    def clear(self) -> None:
        self.remove_children()
